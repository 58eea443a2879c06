/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Maglev consistent hashing (Eisenbud et al., NSDI'16): a lookup table of M
 * entries (M prime) in which every backend holds about M/N entries, and
 * removing one of N backends moves little more than that backend's share.
 * Every node builds the same table from the same backends, because each
 * backend's permutation comes from its name alone ("IP:port") through a
 * hash with a fixed key. The caller owns every buffer, libmnl's way.
 */
#ifndef KILO_LIB_POLICY_MAGLEV_H
#define KILO_LIB_POLICY_MAGLEV_H

#include <stddef.h>
#include <stdint.h>

#include <kilo/core.h>

/* Where a backend's permutation of 0..m-1 starts, and its step. */
struct kilo_maglev_permutation {
	uint32_t offset; /* 0..m-1 */
	uint32_t skip;   /* 1..m-1 */
};

/*
 * The permutation of the backend called name (len bytes) in a table of m
 * entries: entry j of it is (offset + j * skip) mod m.
 */
struct kilo_maglev_permutation kilo_maglev_permutation(const char *name, size_t len, uint32_t m);

/* True if m is a table size Maglev can use: a prime of at most KILO_MAGLEV_MAX. */
#define KILO_MAGLEV_MAX 65521u
bool kilo_maglev_size_valid(uint32_t m);

/* The bytes of scratch memory kilo_maglev_fill needs for n backends and m entries. */
size_t kilo_maglev_scratch_size(size_t n, uint32_t m);

/*
 * Fills table (m entries) with values[i] for backend i, the n backends
 * taking turns in the order given, each the next free entry of its
 * permutation perms[i]. scratch holds kilo_maglev_scratch_size(n, m)
 * bytes. -EINVAL (named in err) when n is 0 or larger than m, or m is not
 * a valid size.
 */
int kilo_maglev_fill(const struct kilo_maglev_permutation *perms, const uint32_t *values, size_t n, uint32_t m,
		     void *scratch, uint32_t *table, struct kilo_error *err);

#endif
