/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stable small numbers for names (endpoints by "NAMESPACE/POD", rules by
 * their name, locations): a name keeps its number as long as every
 * computation asks for it; a new name takes the lowest free number, so
 * that rule ids stay below the per-rule counters' KILO_POLICY_MAX_RULE_IDS.
 */
#ifndef KILO_LIB_POLICY_NETPOL_IDS_H
#define KILO_LIB_POLICY_NETPOL_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kilo_np_name_id {
	char *name;
	uint32_t id;
	bool asked; /* in the current computation */
};

struct kilo_np_names {
	struct kilo_np_name_id *items; /* by name (strcmp) */
	size_t n, cap;
	/* Names new in the current computation, merged in at commit. */
	struct kilo_np_name_id *added;
	size_t n_added, cap_added;
	/* The free numbers of the current computation: gaps, then from above. */
	uint32_t *gaps;
	size_t n_gaps, cap_gaps, next_gap;
	uint32_t above;
	bool gaps_found;
};

/* The number of name (asked for this computation; a new one if name had none); 0 when out of memory. */
uint32_t kilo_np_names_get(struct kilo_np_names *names, const char *name);
/* Ends a computation: names it did not ask for are freed. -ENOMEM (then nothing is freed). */
int kilo_np_names_commit(struct kilo_np_names *names);
/* Forgets the current computation's new names (after a failure). */
void kilo_np_names_abort(struct kilo_np_names *names);
void kilo_np_names_release(struct kilo_np_names *names);

#endif
