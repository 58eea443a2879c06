/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Overlapping pod CIDRs, found in O(n log n) for meshes of 100,000 nodes:
 * the one check behind both the mesh document (any overlap is an error)
 * and the store (a node that overlaps an accepted one is left out).
 */
#ifndef KILO_LIB_MESH_POD_CIDRS_H
#define KILO_LIB_MESH_POD_CIDRS_H

#include <stddef.h>

#include "model.h"

/* The pod CIDRs of nodes, sorted, and which of them are accepted so far. */
struct kilo_pod_cidr_index {
	const struct kilo_node *nodes;
	struct kilo_pod_cidr_item *items; /* sorted by family, network, prefix */
	size_t n_items;
	size_t (*position)[2];            /* per node: where its pod CIDR and secondary one sit; SIZE_MAX: none */
	size_t *accepted;                 /* a Fenwick tree over items: how many are accepted */
};

/* A conflict: the accepted node whose pod CIDR overlaps one of the node's, and both CIDRs. */
struct kilo_pod_cidr_overlap {
	size_t other;                    /* index into nodes */
	const struct kilo_cidr *mine;    /* &nodes[i].pod_cidr or &nodes[i].secondary_pod_cidr */
	const struct kilo_cidr *theirs;  /* the same of nodes[other] */
};

/* Indexes the pod CIDRs of nodes (n of them), none accepted yet. -ENOMEM. */
int kilo_pod_cidr_index_init(struct kilo_pod_cidr_index *index, const struct kilo_node *nodes, size_t n);
void kilo_pod_cidr_index_free(struct kilo_pod_cidr_index *index);
/* Whether a pod CIDR of nodes[i] overlaps one of an accepted node; then *out says which. */
bool kilo_pod_cidr_index_overlap(const struct kilo_pod_cidr_index *index, size_t i,
				 struct kilo_pod_cidr_overlap *out);
/* Accepts nodes[i]: later nodes are checked against its pod CIDRs. */
void kilo_pod_cidr_index_accept(struct kilo_pod_cidr_index *index, size_t i);

/* "podCIDR" or "secondaryPodCIDR": the field of node that cidr points at. */
const char *kilo_pod_cidr_field(const struct kilo_node *node, const struct kilo_cidr *cidr);

#endif
