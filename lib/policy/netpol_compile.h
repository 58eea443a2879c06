/* SPDX-License-Identifier: Apache-2.0 */
/* The compile's parts (netpol_compile.c: ipcache and order; netpol_rules.c: endpoints, rules, ipBlocks). */
#ifndef KILO_LIB_POLICY_NETPOL_COMPILE_H
#define KILO_LIB_POLICY_NETPOL_COMPILE_H

#include "netpol.h"
#include "netpol_ids.h"

struct kilo_np_state {
	struct kilo_np_names endpoints; /* by "NAMESPACE/POD" */
	struct kilo_np_names rules;     /* by rule name */
	struct kilo_np_names locations; /* by location name */
};

/* The identities a rule's peer (SELECTOR or VPN) matches: indices into the model's identities. */
struct np_peer_match {
	bool done;
	size_t *identities;
	size_t n;
};

struct np_build {
	struct kilo_np_state *state;
	const struct kilo_np_model *model;
	const char *self;
	struct kilo_np_desired *out;
	struct kilo_lb_report *report;
	uint32_t *numbers; /* by identity index; 0: none */
	size_t cap_ipcache, cap_endpoints, cap_rules, cap_cidrs, cap_rule_names;
	/* This computation's: each policy's rule ids and its peers' matches, made when first needed. */
	uint32_t **rule_ids;         /* [policy * 2 + direction][rule] */
	struct np_peer_match **matches; /* [policy * 2 + direction][offset of the rule's peers + peer] */
	size_t *pods_of;             /* pods by identity: pods_of[first[i] .. first[i + 1]) */
	size_t *first;
};

int kilo_np_build_endpoints(struct np_build *b);
void kilo_np_build_release(struct np_build *b);

#endif
