/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The order of a model's label sets (strcmp), kept from one model to the
 * next: a cluster's 3,000 label sets share long prefixes, and sorting
 * them again at every change of one pod took some 35,000 comparisons. A
 * set the last order had takes its place from it; only new ones are
 * compared, and merged in.
 */
#ifndef KILO_LIB_POLICY_NETPOL_ORDER_H
#define KILO_LIB_POLICY_NETPOL_ORDER_H

#include <stddef.h>
#include <stdint.h>

/* A label set to put in order, and its hash (kilo_np_hash of its text). */
struct kilo_np_label_key {
	const char *labels;
	uint64_t hash;
};

/* The label sets of the last order, sorted, with a hash table over them. */
struct kilo_np_label_order {
	char **sets; /* owned */
	uint64_t *hashes;
	size_t n;
	size_t *table; /* indices into sets by hash, open addressing; SIZE_MAX: free */
	size_t cap;    /* a power of two, at least twice n */
};

void kilo_np_label_order_release(struct kilo_np_label_order *o);

/*
 * Puts the n distinct keys in strcmp order of their label sets: sorted[k]
 * is the index of the k-th. With o (may be NULL), the last order is the
 * guide, and o is left as this one. -ENOMEM leaves o empty.
 */
int kilo_np_label_order_sort(struct kilo_np_label_order *o, const struct kilo_np_label_key *keys, size_t n,
			     size_t *sorted);

#endif
