/* SPDX-License-Identifier: Apache-2.0 */
/* The nodes of the benchmarks' meshes, the same for every benchmark. */
#ifndef KILO_BENCH_GENERATE_H
#define KILO_BENCH_GENERATE_H

#include <stdint.h>
#include <stdio.h>

/* Nodes up to here get a /24 of 10.128.0.0/9, the ones after a /27 of 100.64.0.0/10. */
#define BENCH_FIRST_RANGE_NODES 32768u
#define BENCH_MAX_NODES (BENCH_FIRST_RANGE_NODES + (1u << 17))

/*
 * Node i of a mesh of l locations as a mesh document node object: a
 * distinct key, pod CIDR and endpoint (its last octet is 7 + variant, so
 * a variant is a changed node), last seen at last_seen (0: not written).
 */
void bench_node_json(FILE *f, unsigned i, unsigned l, unsigned variant, int64_t last_seen);

#endif
