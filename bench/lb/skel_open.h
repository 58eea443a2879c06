/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tc programs' skeleton, loaded with its maps pinned in a directory of
 * its own under bpffs, for the benchmarks that run it through
 * BPF_PROG_TEST_RUN (bench/lb/test_run.c, bench/policy/test_run.c).
 */
#ifndef KILO_BENCH_SKEL_OPEN_H
#define KILO_BENCH_SKEL_OPEN_H

#include "lb.skel.h"

struct bench_skel {
	struct kilo_lb_bpf *skel;
	char pin_dir[128];
};

/* Loads the programs with pins under /sys/fs/bpf/kilo-bench-TAG-PID-N; -errno when it cannot. */
int bench_skel_open(struct bench_skel *b, const char *tag, unsigned n);
/* Unpins the maps, removes the directory and unloads; a closed one is a no-op. */
void bench_skel_close(struct bench_skel *b);
/*
 * A tc program that only returns TC_ACT_OK: what one BPF_PROG_TEST_RUN call
 * costs besides the program (its fd, or -errno).
 */
int bench_empty_prog(void);
/*
 * A tc program that only looks up a random key of the conntrack's shape in
 * map_fd (a miss) and inserts it: what the map itself takes of a new flow
 * (its fd, or -errno).
 */
int bench_insert_prog(int map_fd);

#endif
