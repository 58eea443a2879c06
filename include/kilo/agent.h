/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Applying a node's plan to the host: its WireGuard device, the device's
 * address and state, routes, ip rules and NAT rules, changing only what
 * differs from what is there.
 */
#ifndef KILO_AGENT_H
#define KILO_AGENT_H

#include <kilo/core.h>
#include <kilo/net.h>
#include <kilo/topology.h>
#include <kilo/wg.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILO_DEFAULT_INTERFACE "kilo0"
#define KILO_DEFAULT_TUNNEL "tunl0"
#define KILO_DEFAULT_MTU 1420

struct kilo_apply_opts {
	size_t sz;
	const char *interface;        /* the WireGuard link; NULL: KILO_DEFAULT_INTERFACE */
	struct kilo_wg_opts wg;       /* which WireGuard implementation to use */
	bool local;                   /* routes inside the location (kg's --local) */
	enum kilo_encapsulate encapsulate;
	enum kilo_compatibility compatibility;
	const char *tunnel_interface; /* NULL: KILO_DEFAULT_TUNNEL */
	bool cni;                     /* kg's --cni: NAT the local pods' traffic */
	bool forward_rules;           /* kg's --iptables-forward-rules */
	uint32_t mtu;                 /* of the WireGuard link; 0: KILO_DEFAULT_MTU */
};

/* What kilo_apply changed; all zero when the host already matched the plan. */
struct kilo_apply_report {
	bool device_created;
	unsigned wg_peers_changed;    /* peers in the change sent to the device */
	bool wg_interface_changed;    /* private key, listen port */
	struct kilo_net_changes link; /* up/down, MTU */
	struct kilo_net_changes addresses;
	struct kilo_net_changes routes;
	struct kilo_net_changes rules;
	struct kilo_net_changes nat;  /* NAT and filter rules added and removed */
};

/*
 * Applies the plan of topology (solved with the node's private key) to the
 * host, as Kilo's agent does: NAT rules; on a leader the WireGuard
 * configuration, the device's address and state up; on any other node the
 * device down; then routes and rules. Everything is computed and checked
 * before anything is applied. Returns the first error, named in err; what
 * was applied before it is in report.
 */
KILO_EXPORT int kilo_apply(const kilo_topology *topology, const struct kilo_apply_opts *opts,
			   struct kilo_apply_report *report, struct kilo_error *err);

/* Removes what kilo_apply made: NAT tables, owned routes and rules, the WireGuard device. */
KILO_EXPORT int kilo_apply_clean_up(const struct kilo_apply_opts *opts, struct kilo_error *err);

#ifdef __cplusplus
}
#endif

#endif
