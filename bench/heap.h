/* SPDX-License-Identifier: Apache-2.0 */
/* The heap of a long-running agent, for the benchmarks that time what it repeats. */
#ifndef KILO_BENCH_HEAP_H
#define KILO_BENCH_HEAP_H

/*
 * Keeps freed memory for the next run, as kg does (cli/kg/main.c): no
 * block is mapped on its own, and up to 256 MiB of free heap stays.
 * Without it glibc gives large blocks back at once and every run pays
 * the kernel for fresh pages.
 */
void bench_keep_heap_warm(void);

#endif
