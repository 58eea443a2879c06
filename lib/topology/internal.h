/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the files of the topology layer. */
#ifndef KILO_LIB_TOPOLOGY_INTERNAL_H
#define KILO_LIB_TOPOLOGY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/array.h"
#include "../core/error.h"
#include "model.h"

/*
 * A set of CIDRs compared as Kilo compares them, by their text (address
 * with host bits, and prefix), so that de-duplication is linear.
 */
struct kilo_cidr_set {
	struct kilo_cidr *slots; /* family 0: empty */
	size_t mask;
};

/* A set with room for n entries; -ENOMEM. */
int kilo_cidr_set_init(struct kilo_cidr_set *set, size_t n);
/* Adds cidr; true if it was not in the set yet. */
bool kilo_cidr_set_add(struct kilo_cidr_set *set, const struct kilo_cidr *cidr);
void kilo_cidr_set_free(struct kilo_cidr_set *set);


/* What the ready nodes of a mesh add up to. */
struct kilo_ready_totals {
	size_t n_allowed_location_ips;
	size_t n_discovered_endpoints;
};

/*
 * The ready nodes of t's mesh, grouped into t's segments in Kilo's order,
 * each with its leader; the local node and segment. -ENOMEM; -ENOENT when
 * t's hostname names no node of the mesh.
 */
int kilo_topology_segments(struct kilo_topology *t, const struct kilo_solve_opts *opts,
			   struct kilo_ready_totals *totals);

/* Whether segment s is local to the topology's node (cross: same location). */
bool kilo_segment_is_local(const struct kilo_topology *t, const struct kilo_segment *s);

/* The solved peer named name, or NULL with err naming it (-ENOENT). */
const struct kilo_topology_peer *kilo_topology_find_peer(const struct kilo_topology *t, const char *name,
							 struct kilo_error *err);

#endif
