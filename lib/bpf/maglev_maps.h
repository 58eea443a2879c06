/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Maglev tables in the maps: a HASH_OF_MAPS from the service id to an
 * ARRAY of M backend ids, each table replaced whole by a new ARRAY swapped
 * in (maglev_maps.c). Between syncs a table is kept as a digest and the id
 * of the inner map that holds it, not as its M entries.
 */
#ifndef KILO_LIB_BPF_MAGLEV_MAPS_H
#define KILO_LIB_BPF_MAGLEV_MAPS_H

#include "../policy/lb_desired.h"

struct kilo_bpf_maglev_digest {
	__u32 service_id;
	__u32 m;
	unsigned char digest[16];
	__u32 inner_id; /* the ARRAY that holds it; 0: not written yet */
};

/*
 * Every table the outer map holds, sorted by service id (memcmp). A table
 * still in the inner map that known (sorted, may be empty) says holds it is
 * not read again: only libkilo writes its tables, and only by new maps.
 */
int kilo_bpf_maglev_read(int outer_fd, const struct kilo_bpf_maglev_digest *known, size_t n_known,
			 struct kilo_bpf_maglev_digest **out, size_t *n);

struct kilo_bpf_maglev_plan {
	struct kilo_bpf_maglev_digest *want; /* desired's tables, in its order; inner ids once written */
	size_t *write;                       /* indexes of desired's tables to swap in */
	size_t n_write, n_added;
	__u32 *remove;                       /* services whose table goes */
	size_t n_remove;
};

/* What turns the tables of have into desired's. */
int kilo_bpf_maglev_plan(const struct kilo_lb_desired *desired, const struct kilo_bpf_maglev_digest *have,
			 size_t n_have, struct kilo_bpf_maglev_plan *plan);
void kilo_bpf_maglev_plan_free(struct kilo_bpf_maglev_plan *plan);
/* Swaps in the plan's new tables, many in one update of the outer map. */
int kilo_bpf_maglev_write(int outer_fd, const struct kilo_lb_desired *desired, struct kilo_bpf_maglev_plan *plan);
int kilo_bpf_maglev_remove(int outer_fd, const struct kilo_bpf_maglev_plan *plan);

#endif
