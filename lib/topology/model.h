/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A solved topology. It points into the mesh it was solved from (which
 * must outlive it) and owns the rest through its arena.
 */
#ifndef KILO_LIB_TOPOLOGY_MODEL_H
#define KILO_LIB_TOPOLOGY_MODEL_H

#include <kilo/topology.h>

#include "../core/arena.h"
#include "../mesh/model.h"

struct kilo_segment {
	const char *location;      /* "location:<name>" or "node:<name>" */
	const char *node_location; /* cross granularity: "location:<name>" of the node; else == location */
	const struct kilo_node **nodes; /* sorted by name */
	size_t n_nodes;
	size_t leader;             /* index into nodes */
	/* The leader's endpoint, key and keepalive. */
	const struct kilo_endpoint *endpoint; /* points into the mesh */
	struct kilo_key key;
	uint32_t persistent_keepalive;
	/* Per node: pod CIDRs (parallel to nodes) and CNI compatibility IPs (parallel, may be none). */
	struct kilo_cidr *cidrs;
	struct kilo_cidr *cni_compatibility_ips;
	struct kilo_cidr *secondary_cidrs; /* dual stack: parallel to nodes, family 0: none */
	/*
	 * Internal IPs of the nodes that have one, in node order (Kilo's
	 * privateIPs); a dual-stack node's secondary one follows its first.
	 */
	struct kilo_addr *private_ips;
	size_t n_private_ips;
	/* Pod CIDRs, private /32s, then the WireGuard /32, in Kilo's order (a node's secondaries after each). */
	struct kilo_cidr *allowed_ips;
	size_t n_allowed_ips;
	/* Sorted by text, then filtered against the rest of the mesh. */
	struct kilo_cidr *allowed_location_ips;
	size_t n_allowed_location_ips;
	struct kilo_addr wireguard_ip;
};

struct kilo_topology_peer {
	const struct kilo_peer *peer;
	/* The peer's allowed IPs after de-duplication across peers. */
	struct kilo_cidr *allowed_ips;
	size_t n_allowed_ips;
};

struct kilo_topology {
	const struct kilo_mesh *mesh;
	enum kilo_granularity granularity;
	const char *hostname;      /* "" when solved from outside the mesh */
	const char *location;      /* the local segment's location ("" when none) */
	const char *node_location; /* cross: the local node's "location:<name>" */
	bool leader;               /* the local node leads its segment */
	struct kilo_cidr subnet;   /* the local pod CIDR; family 0: none */
	struct kilo_cidr private_ip; /* the local internal IP; family 0: none */
	struct kilo_cidr secondary_subnet;     /* dual stack: the local pod CIDR of the other family */
	struct kilo_cidr secondary_private_ip; /* dual stack: the local internal IP of the other family */
	struct kilo_cidr wireguard_cidr; /* leader: its WireGuard IP with the pool's mask; else the pool */
	struct kilo_cidr kilo_subnet;    /* the WireGuard IP pool */
	struct kilo_key key;       /* the local private key (zero for kgctl) */
	uint16_t port;
	uint32_t persistent_keepalive;
	struct kilo_segment *segments; /* sorted by location */
	size_t n_segments;
	struct kilo_topology_peer *peers; /* sorted by name */
	size_t n_peers;
	/* The local node (NULL from outside) and its segment (n_segments from outside). */
	const struct kilo_node *local_node;
	size_t local_segment;
	/*
	 * Endpoints seen behind NAT, sorted by key. Where several nodes report
	 * one key, the first in merge order wins: the local node, then the
	 * segments in order and their nodes by name.
	 */
	struct kilo_discovered_endpoint *discovered;
	size_t n_discovered;
	struct kilo_arena arena;
};

/*
 * Kilo's updateEndpoint: with a non-zero keepalive, the endpoint that was
 * discovered for key replaces the advertised one. Returns advertised or a
 * pointer into t.
 */
const struct kilo_endpoint *kilo_topology_nat_endpoint(const struct kilo_topology *t,
							const struct kilo_endpoint *advertised,
							const struct kilo_key *key, uint32_t keepalive);

/*
 * Whether segment s is of the local node's own location, both with a
 * private IP (full granularity): the tunnel to it runs inside one private
 * network, through no NAT.
 */
bool kilo_topology_same_private_network(const struct kilo_topology *t, const struct kilo_segment *s);

/*
 * The endpoint at which the local node reaches segment s: Kilo's
 * updateEndpoint, except that a segment of the local node's own location
 * (full granularity) keeps its advertised endpoint when both sides have a
 * private IP.
 */
const struct kilo_endpoint *kilo_topology_segment_endpoint(const struct kilo_topology *t,
							    const struct kilo_segment *s);

/* The index of the local segment, or n_segments when the view is from outside. */
size_t kilo_topology_local_segment(const struct kilo_topology *t);

#endif
