/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A node's plan: the host state a solved topology asks of one node (its
 * WireGuard configuration and address, routes, ip rules, NAT rules, and
 * whether it needs the IPIP tunnel), computed without looking at the host.
 * The links a route leaves by are named by their role; the host's indices
 * for them are given when the routes are asked for, because an applier
 * knows them only at apply time (it may create the device and the tunnel).
 * kilo_applier_apply_plan (agent.h) applies a plan; nothing here does I/O.
 */
#ifndef KILO_PLAN_H
#define KILO_PLAN_H

#include <kilo/core.h>
#include <kilo/topology.h>
#include <kilo/wgconf.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kilo_plan kilo_plan;

struct kilo_plan_opts {
	size_t sz;
	/* How the node routes, and the WireGuard link's name; the link indices in it are not read. NULL: the defaults. */
	const struct kilo_routes_opts *routes;
	/* NULL: the defaults, with Kilo's IPIP rules for the routes asked for (kilo_topology_ipip_rules). */
	const struct kilo_nat_opts *nat;
};

/*
 * The host's indices of the links a plan's routes leave by; 0: the link
 * does not exist (yet).
 */
struct kilo_plan_links {
	int wireguard;            /* the WireGuard device */
	int private_ip;           /* the link holding the private IP */
	int secondary_private_ip; /* dual stack: the link holding the secondary private IP; 0: private_ip */
	int tunnel;               /* the IPIP (or flannel/cilium) link */
};

/*
 * The plan of the topology's local node (from outside the mesh: a plan
 * that leads nothing, with no private IP and no tunnel). The topology must
 * outlive the plan: the routes are computed from it when asked for. A peer endpoint that is still a DNS name is left out of the
 * WireGuard configuration, as a device takes only addresses. Bad options
 * are -EINVAL or -E2BIG, naming the struct.
 */
KILO_EXPORT int kilo_plan_new(const kilo_topology *topology, const struct kilo_plan_opts *opts, kilo_plan **out,
			      struct kilo_error *err);
/* NULL is a no-op. */
KILO_EXPORT void kilo_plan_free(kilo_plan *plan);

/* Whether the node leads its segment: only a leader's device is configured and up. */
KILO_EXPORT bool kilo_plan_is_leader(const kilo_plan *plan);
/* The WireGuard link's name that the rules use (KILO_DEFAULT_INTERFACE unless the options name one). */
KILO_EXPORT const char *kilo_plan_interface(const kilo_plan *plan);
/* The leader's WireGuard configuration, owned by the plan; NULL on any other node. */
KILO_EXPORT const kilo_wg_config *kilo_plan_wg_config(const kilo_plan *plan);
/*
 * The address of the leader's device (its WireGuard IP with the pool's
 * mask), the node's private IP, its secondary private IP (dual stack) and
 * its pod CIDR: each false, with *out zeroed, when there is none.
 */
KILO_EXPORT bool kilo_plan_wireguard_ip(const kilo_plan *plan, struct kilo_cidr *out);
KILO_EXPORT bool kilo_plan_private_ip(const kilo_plan *plan, struct kilo_cidr *out);
KILO_EXPORT bool kilo_plan_secondary_private_ip(const kilo_plan *plan, struct kilo_cidr *out);
KILO_EXPORT bool kilo_plan_pod_cidr(const kilo_plan *plan, struct kilo_cidr *out);
/*
 * Whether the routes may leave by the IPIP tunnel, so that an applier
 * makes it: Kilo encapsulates inside a location only on a node with a
 * private IP that routes there itself (not no_local, not encapsulate never).
 */
KILO_EXPORT bool kilo_plan_needs_tunnel(const kilo_plan *plan);
/* The NAT and forward rules (see kilo_topology_nat_rules), owned by the plan; *n their count. */
KILO_EXPORT const struct kilo_nat_rule *kilo_plan_nat_rules(const kilo_plan *plan, size_t *n);
/*
 * The routes and ip rules for the given link indices (NULL: all 0), in
 * Kilo's order. Free *routes and *rules with kilo_free.
 */
KILO_EXPORT int kilo_plan_routes(const kilo_plan *plan, const struct kilo_plan_links *links,
				 struct kilo_route **routes, size_t *n_routes, struct kilo_rule **rules,
				 size_t *n_rules, struct kilo_error *err);

#ifdef __cplusplus
}
#endif

#endif
