/* SPDX-License-Identifier: Apache-2.0 */
/* The model's identities (netpol_identity.c), and the orders and search the model's reader shares with them. */
#ifndef KILO_LIB_POLICY_NETPOL_IDENTITY_H
#define KILO_LIB_POLICY_NETPOL_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "../core/arena.h"
#include "netpol.h"
#include "netpol_order.h"

/*
 * A pod's identity as made at a read with a state, kept with the pod as
 * read (its text unchanged) for the next: it stays right while the
 * namespaces and the nodes' locations do, which the state's epoch counts.
 * Its memory is its arena's but the labels of the pod and its namespace,
 * which live as long as they do.
 */
struct kilo_np_pod_memo {
	uint64_t epoch; /* the state's when made; 0: none */
	uint64_t hash;  /* of identity.label_set */
	struct kilo_np_identity identity;
	struct kilo_arena arena;
};

/* qsort and bsearch orders: labels by key, namespaces and nodes by name. */
int kilo_np_label_cmp(const void *a, const void *b);
int kilo_np_namespace_cmp(const void *a, const void *b);
int kilo_np_node_cmp(const void *a, const void *b);
/* bsearch, but for no items. */
const void *kilo_np_find(const void *items, size_t n, size_t size, const void *key,
			 int (*cmp)(const void *, const void *));

/*
 * The identities of pods with addresses and of VPN peers, distinct by
 * label set, sorted (order: the last model's, may be NULL); each owner
 * gets its index. epoch: a state's (0: none), whose pods keep their
 * identities while it stays. -ENOMEM.
 */
int kilo_np_build_identities(struct kilo_np_model *model, const struct kilo_np_namespace *peer_objects,
			     size_t n_peer_objects, uint64_t epoch, struct kilo_np_label_order *order);

#endif
