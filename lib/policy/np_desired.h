/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What network policy's maps should hold on one node: computed by lib/policy
 * from the store's Pods, Namespaces, NetworkPolicies, the mesh (nodes,
 * locations, VPN peers) and the identities the store handed out (pure);
 * written to the maps by lib/bpf, which changes only the entries that differ.
 * Endpoint ids and rule ids are stable from one computation to the next, so
 * that one changed policy changes only the entries of the endpoints it selects.
 */
#ifndef KILO_LIB_POLICY_NP_DESIRED_H
#define KILO_LIB_POLICY_NP_DESIRED_H

#include <stddef.h>
#include <stdint.h>

#include "../bpf/progs/policy_maps.h"

struct kilo_np_desired_ipcache {
	struct kilo_ipcache_key key;
	struct kilo_ipcache_value value;
};

struct kilo_np_desired_endpoint {
	struct kilo_policy_endpoint_key key;
	struct kilo_policy_endpoint value;
};

struct kilo_np_desired_rule {
	struct kilo_policy_key key;
	struct kilo_policy_value value;
};

struct kilo_np_desired_cidr {
	struct kilo_policy_cidr_key key;
	struct kilo_policy_cidr_value value;
};

/* What a rule id stands for, for events, /metrics and kgctl observe: "NAMESPACE/NAME ingress[0]". */
struct kilo_np_rule_name {
	__u32 rule_id;
	const char *name;
};

/*
 * What changed since the computation before, of the same state (optional,
 * for the maps' sync): the endpoints whose rules or regions differ from that
 * one's, or may (made again, brought up to date, gone). Every other
 * endpoint's rules and regions are that computation's, byte for byte, so
 * that a sync that wrote it need not compare them. base 0: no computation
 * to compare with (the first, or after a failure), endpoints not listed.
 */
struct kilo_np_desired_changes {
	uint64_t serial; /* this computation's, unique in the process; 0: none (a state not made by the compile) */
	uint64_t base;   /* the serial of the computation compared with */
	size_t n_endpoints;
	uint32_t *endpoints; /* endpoint ids, sorted */
};

/* Each array sorted by its key (memcmp order), so that two states diff in one merge pass. */
struct kilo_np_desired {
	size_t n_ipcache;
	struct kilo_np_desired_ipcache *ipcache; /* cluster-wide */
	size_t n_endpoints;
	struct kilo_np_desired_endpoint *endpoints; /* this node's pods */
	size_t n_rules;
	struct kilo_np_desired_rule *rules;
	size_t n_cidrs;
	struct kilo_np_desired_cidr *cidrs;
	size_t n_rule_names;
	struct kilo_np_rule_name *rule_names; /* by rule id */
	struct kilo_np_desired_changes changes;
};

#endif
