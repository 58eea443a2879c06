/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The topology solver: from a mesh and the local node's view, the segments
 * (groups of nodes that appear as one WireGuard peer), their leaders and
 * WireGuard IPs, and from those the WireGuard configuration, routes, ip
 * rules and NAT rules that the node needs, exactly as Kilo computes them.
 * Nothing here does I/O.
 */
#ifndef KILO_TOPOLOGY_H
#define KILO_TOPOLOGY_H

#include <kilo/core.h>
#include <kilo/mesh.h>
#include <kilo/wgconf.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kilo_topology kilo_topology;

/* Liveness window of Kilo: a node not seen for this long is not ready. */
#define KILO_READY_WINDOW_SECONDS 60
/* Kilo's routing table for encapsulated routes inside a location. */
#define KILO_ROUTE_TABLE 1107
#define KILO_DEFAULT_PORT 51820
#define KILO_DEFAULT_INTERFACE "kilo0"

struct kilo_solve_opts {
	size_t sz; /* sizeof(struct kilo_solve_opts) */
	/*
	 * The local node's name; NULL: the view from outside the mesh (what
	 * `kgctl graph` and `kgctl connect` need). A name that is no node of
	 * the mesh is an error (-ENOENT naming it); a node of the mesh that
	 * is not ready is left out, and the view is then from outside.
	 */
	const char *hostname;
	/* The local private key; NULL: the zero key, never printed. */
	const struct kilo_key *private_key;
	/* Listen port; 0: the mesh settings' port. */
	uint16_t port;
	/* Keepalive for every peer of the local config, in seconds. */
	bool override_keepalive; /* false: the local node's own keepalive */
	uint32_t persistent_keepalive;
	/*
	 * When not 0, nodes last seen ready_window seconds or more before now
	 * are left out. 0: for a mesh a store loaded, the time of its load
	 * (and the store's window when ready_window is 0); for a mesh
	 * document, a snapshot, no node is left out for its lastSeen.
	 */
	int64_t now;
	/* Overrides the mesh's granularity when override_granularity is set. */
	bool override_granularity;
	enum kilo_granularity granularity;
	/* The liveness window in seconds; 0: Kilo's KILO_READY_WINDOW_SECONDS. */
	uint32_t ready_window;
	/*
	 * Seconds a node of another location than the local node's stays
	 * ready past the window: when a leader dies, its location's next
	 * leader is then set up before the other locations turn to it.
	 */
	uint32_t remote_ready_grace;
};

/*
 * Solves the mesh for one node. Nodes that are not ready (see
 * kilo_mesh_node_ready) and peers without allowed IPs are left out, as
 * Kilo does. The mesh must outlive
 * the topology. Returns -ENOSPC, named in err, when the WireGuard subnet
 * has fewer addresses than segments, and -ENOENT, naming it, for a
 * hostname that is no node of the mesh.
 */
KILO_EXPORT int kilo_topology_solve(const kilo_mesh *mesh, const struct kilo_solve_opts *opts, kilo_topology **out,
				    struct kilo_error *err);
KILO_EXPORT void kilo_topology_free(kilo_topology *topology);

/* Whether the local node leads its segment (only leaders run tunnels). */
KILO_EXPORT bool kilo_topology_is_leader(const kilo_topology *topology);
KILO_EXPORT size_t kilo_topology_segment_count(const kilo_topology *topology);

/* The node's WireGuard configuration (Kilo's Topology.Conf). */
KILO_EXPORT int kilo_topology_conf(const kilo_topology *topology, kilo_wg_config **out, struct kilo_error *err);
/*
 * The configuration for the peer named peer_name (Kilo's PeerConf): every
 * segment, then every other peer. NULL or "" names no peer. -ENOENT,
 * naming it, if the name is not a peer of the mesh.
 */
KILO_EXPORT int kilo_topology_peer_conf(const kilo_topology *topology, const char *peer_name, kilo_wg_config **out,
					struct kilo_error *err);
/*
 * The local segment as one peer (Kilo's AsPeer), with extra_allowed_ips
 * appended and duplicates removed: what `kgctl showconf node --as-peer` prints.
 */
KILO_EXPORT int kilo_topology_as_peer(const kilo_topology *topology, const struct kilo_cidr *extra_allowed_ips,
				      size_t n_extra, kilo_wg_config **out, struct kilo_error *err);

/*
 * The mesh peer named peer_name as one peer, with its own allowed IPs,
 * extra_allowed_ips appended and duplicates removed, its endpoint,
 * keepalive and preshared key: what `kgctl showconf peer --as-peer`
 * prints. -ENOENT, naming it, if the name is not a peer of the mesh.
 */
KILO_EXPORT int kilo_topology_peer_as_peer(const kilo_topology *topology, const char *peer_name,
					   const struct kilo_cidr *extra_allowed_ips, size_t n_extra,
					   kilo_wg_config **out, struct kilo_error *err);

/*
 * Replaces the allowed-location IPs of segment i. With filter, entries that
 * clash with the rest of the topology are dropped as the solver drops them
 * (Kilo's filterAllowedLocationIPs), against the current state of the
 * other segments. -ERANGE if i is out of range.
 */
KILO_EXPORT int kilo_topology_set_allowed_location_ips(kilo_topology *topology, size_t i,
						       const struct kilo_cidr *cidrs, size_t n, bool filter,
						       struct kilo_error *err);

/* ---- routes and rules ----------------------------------------------- */

/* Each enum of an option struct has its default, Kilo's, as 0: a zeroed struct means the defaults. */
enum kilo_encapsulate {
	KILO_ENCAPSULATE_ALWAYS = 0, /* kg's default */
	KILO_ENCAPSULATE_CROSSSUBNET = 1,
	KILO_ENCAPSULATE_NEVER = 2,
};

enum kilo_compatibility {
	KILO_COMPATIBILITY_NONE = 0, /* plain IPIP */
	KILO_COMPATIBILITY_FLANNEL = 1,
	KILO_COMPATIBILITY_CILIUM = 2,
};

KILO_EXPORT int kilo_encapsulate_parse(const char *text, enum kilo_encapsulate *out, struct kilo_error *err);
KILO_EXPORT int kilo_compatibility_parse(const char *text, enum kilo_compatibility *out, struct kilo_error *err);

struct kilo_routes_opts {
	size_t sz;
	/* Leave the routes inside the location alone (kg's --local=false); by default they are managed. */
	bool no_local;
	enum kilo_encapsulate encapsulate;
	enum kilo_compatibility compatibility;
	const char *wg_interface; /* name of the WireGuard link; NULL: KILO_DEFAULT_INTERFACE */
	int wg_ifindex;           /* index of the WireGuard link */
	int private_ifindex;      /* index of the link holding the private IP */
	int tunnel_ifindex;       /* index of the IPIP (or flannel/cilium) link */
	/* Dual stack: the link holding the secondary private IP; 0: private_ifindex. */
	int secondary_private_ifindex;
};

#define KILO_IFNAMSIZ 16
#define KILO_RTPROT_STATIC 4

struct kilo_route {
	struct kilo_cidr dst;
	struct kilo_addr gw;  /* family 0: no gateway */
	struct kilo_addr src; /* family 0: no preferred source */
	int ifindex;
	uint32_t table; /* 0: the main table */
	bool onlink;
	uint8_t protocol; /* always KILO_RTPROT_STATIC */
};

struct kilo_rule {
	struct kilo_cidr src; /* family 0: any */
	struct kilo_cidr dst; /* family 0: any */
	uint32_t table;
	char iif[KILO_IFNAMSIZ]; /* "" for any */
};

/*
 * The routes and ip rules of the local node, in Kilo's order. Free *routes
 * and *rules with kilo_free.
 */
KILO_EXPORT int kilo_topology_routes(const kilo_topology *topology, const struct kilo_routes_opts *opts,
				     struct kilo_route **routes, size_t *n_routes, struct kilo_rule **rules,
				     size_t *n_rules, struct kilo_error *err);
/* Room for the text of kilo_route_key or kilo_rule_key, with the NUL. */
#define KILO_ROUTE_KEY_STRLEN 192
/*
 * Kilo's identity of a route in its route reconciler, which its logs print:
 * "dst: D, via: G, src: S, dev: N", with "-" for no gateway or source; ""
 * for a route without destination. The table is not part of it.
 */
KILO_EXPORT void kilo_route_key(const struct kilo_route *route, char out[KILO_ROUTE_KEY_STRLEN]);
/* The same for an ip rule: "src: S, dst: D, table: T, input: IIF", "-" for no source or destination; "" with neither. */
KILO_EXPORT void kilo_rule_key(const struct kilo_rule *rule, char out[KILO_ROUTE_KEY_STRLEN]);
/*
 * The routes `kgctl connect` sets on a VPN peer named peer_name (Kilo's
 * PeerRoutes), with extra_allowed_ips routed through the first segment.
 * -ENOENT, naming it, if peer_name is not a peer of the mesh; NULL: the
 * routes to every peer.
 */
KILO_EXPORT int kilo_topology_peer_routes(const kilo_topology *topology, const char *peer_name, int wg_ifindex,
					  const struct kilo_cidr *extra_allowed_ips, size_t n_extra,
					  struct kilo_route **routes, size_t *n_routes, struct kilo_error *err);

/* ---- NAT and forward rules ------------------------------------------- */

enum kilo_nat_rule_kind {
	KILO_NAT_CHAIN = 0, /* create (and flush) the chain */
	KILO_NAT_RULE = 1,
};

enum kilo_nat_list {
	KILO_NAT_APPEND = 0,  /* appended to its chain, in order */
	KILO_NAT_PREPEND = 1, /* inserted at the head of its chain */
};

struct kilo_nat_rule {
	enum kilo_nat_rule_kind kind;
	enum kilo_nat_list list;
	uint8_t family;        /* 4 or 6 */
	const char *table;     /* "nat" or "filter" */
	const char *chain;     /* "KILO-NAT", "POSTROUTING", "FORWARD", "KILO-IPIP", "INPUT" */
	struct kilo_cidr src;  /* family 0: no -s */
	struct kilo_cidr dst;  /* family 0: no -d */
	bool ipip;             /* matches IPIP packets (-p ipencap) */
	const char *comment;   /* NULL for a chain */
	const char *target;    /* "RETURN", "MASQUERADE", "ACCEPT", "DROP" or a chain; NULL for a chain */
	bool comment_first;    /* Kilo writes "-m comment" before -s/-d in this rule */
};

struct kilo_nat_opts {
	size_t sz;
	bool no_cni;         /* kg's --cni=false; by default pod traffic jumps to KILO-NAT */
	bool forward_rules;  /* kg's --iptables-forward-rules */
	/* Add the encapsulator's IPIP rules in front, as Kilo does: see kilo_topology_ipip_rules. */
	bool ipip_rules;
};

/*
 * Whether Kilo's encapsulator adds its IPIP rules for a node routed with
 * opts: only when kg manages routes inside the location (local) and
 * encapsulates, with the plain IPIP or the cilium encapsulator (flannel's
 * has no rules), and only on a node with a private IP (without one Kilo
 * runs no encapsulator at all). opts NULL: the defaults; false for options
 * that break the rule for sz (see kilo_topology_routes).
 */
KILO_EXPORT bool kilo_topology_ipip_rules(const kilo_topology *topology, const struct kilo_routes_opts *opts);

/*
 * Kilo's NAT and forward rule set for the local node: the append list, then
 * the prepend list, each in generation order. Free *rules with kilo_free;
 * the strings in them are static.
 */
KILO_EXPORT int kilo_topology_nat_rules(const kilo_topology *topology, const struct kilo_nat_opts *opts,
					struct kilo_nat_rule **rules, size_t *n_rules, struct kilo_error *err);
/* Kilo's canonical text of a rule: "nat -A KILO-NAT -d ... -j RETURN" or "nat -N KILO-NAT". */
KILO_EXPORT int kilo_nat_rule_format(const struct kilo_nat_rule *rule, char **out, struct kilo_error *err);

/* ---- building blocks, with Kilo's exact behaviour -------------------- */

/*
 * Index of the leader among n candidates in the given order: the first
 * marked leader with a public endpoint IP, else the first marked leader,
 * else the first with a public endpoint IP, else 0.
 */
struct kilo_leader_candidate {
	bool leader;
	struct kilo_endpoint endpoint;
};
KILO_EXPORT size_t kilo_find_leader(const struct kilo_leader_candidate *candidates, size_t n);

struct kilo_cidr_list {
	struct kilo_cidr *cidrs;
	size_t n;
};
/* Keeps each CIDR only in the first list, in order, that holds it (Kilo's peer IP de-duplication). */
KILO_EXPORT int kilo_dedupe_cidr_lists(struct kilo_cidr_list *lists, size_t n_lists, struct kilo_error *err);

/* The i-th WireGuard IP of subnet (i from 0 gives subnet+1); -ENOSPC past its end. */
KILO_EXPORT int kilo_wireguard_ip(const struct kilo_cidr *subnet, size_t i, struct kilo_cidr *out,
				  struct kilo_error *err);

/* Sorts IPv4 before IPv6, then by text (Kilo's order of discovered IPs). */
KILO_EXPORT void kilo_cidr_sort(struct kilo_cidr *cidrs, size_t n);

#ifdef __cplusplus
}
#endif

#endif
