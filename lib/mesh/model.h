/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mesh data model. A kilo_mesh owns everything below it through its
 * arena; the strings and arrays are never modified after validation.
 */
#ifndef KILO_LIB_MESH_MODEL_H
#define KILO_LIB_MESH_MODEL_H

#include <kilo/mesh.h>

#include "../core/arena.h"

struct kilo_discovered_endpoint {
	struct kilo_key key; /* the public key of the node or peer seen */
	struct kilo_endpoint endpoint;
};

struct kilo_node {
	const char *name;
	const char *location;           /* "" when none */
	struct kilo_cidr internal_ip;   /* host bits kept; family 0: none */
	struct kilo_cidr pod_cidr;      /* family 0: none */
	struct kilo_key public_key;
	bool leader;
	uint32_t persistent_keepalive;  /* seconds */
	struct kilo_cidr *allowed_location_ips;
	size_t n_allowed_location_ips;
	struct kilo_cidr cni_compatibility_ip; /* family 0: none */
	struct kilo_discovered_endpoint *discovered_endpoints;
	size_t n_discovered_endpoints;
	int64_t last_seen;              /* Unix seconds; 0: never published */
	struct kilo_cidr wireguard_ip;  /* as published by the node; family 0: none */
	/* Dual stack: the pod CIDR and internal IP of the other address family; family 0: none. */
	struct kilo_cidr secondary_pod_cidr;     /* host bits cleared */
	struct kilo_cidr secondary_internal_ip;  /* host bits kept */
	/*
	 * Last: the room for a DNS name is most of a node, and the solver
	 * reads of it only the address, the port and the name's first byte,
	 * but the fields above of every node, which so share four cache lines
	 * instead of eight. At 100,000 nodes (48 MB) the solve waits on memory.
	 */
	struct kilo_endpoint endpoint;  /* none when !kilo_endpoint_is_set */
};

struct kilo_peer {
	const char *name;
	struct kilo_key public_key;
	struct kilo_cidr *allowed_ips;  /* host bits kept */
	size_t n_allowed_ips;
	struct kilo_endpoint endpoint;  /* none when !kilo_endpoint_is_set */
	uint32_t persistent_keepalive;  /* seconds */
	bool has_preshared_key;
	struct kilo_key preshared_key;
};

struct kilo_settings {
	enum kilo_granularity granularity;
	struct kilo_cidr subnet;        /* the WireGuard IP pool, masked */
	uint16_t port;
	struct kilo_cidr *service_cidrs;
	size_t n_service_cidrs;
};

/* Indexes into kilo_mesh.nodes, n_nodes each. */
struct kilo_node_orders {
	size_t *by_name;     /* byte-wise by name */
	size_t *by_location; /* by location, then name */
};

struct kilo_mesh {
	struct kilo_settings settings;
	struct kilo_node *nodes;
	size_t n_nodes;
	/* Set by kilo_mesh_sort_nodes once the nodes are final; else empty. */
	struct kilo_node_orders orders;
	struct kilo_peer *peers;
	size_t n_peers;
	struct kilo_arena arena;
	/*
	 * Set by a builder that saw every node and peer (a store's load), so
	 * that the agent's passes over 10,000 nodes at every load are skipped
	 * when they would find nothing; false: not known, look.
	 */
	bool known_without_names;      /* no endpoint is a DNS name */
	bool known_without_keepalives; /* no node has a persistent keepalive */
	/*
	 * A mesh a store loaded is live: the time of the load (seconds) and
	 * the store's liveness window, which readiness and the solve use when
	 * given no time of their own. 0 for a document, a snapshot.
	 */
	int64_t live_at;
	uint32_t live_window;
};

/* Defaults of a new mesh: location granularity, 10.4.0.0/16, port 51820. */
void kilo_settings_init(struct kilo_settings *settings);

/* Kilo's node readiness (see kilo_mesh_node_ready), with a liveness window in seconds (0: Kilo's 60). */
bool kilo_node_ready(const struct kilo_node *node, int64_t now, uint32_t window);
/*
 * The liveness window viewer applies to node: window (0: Kilo's 60), and
 * remote_grace seconds more when node is of another location. viewer may
 * be NULL (a view from outside the mesh).
 */
uint32_t kilo_node_window(const struct kilo_node *node, const struct kilo_node *viewer, uint32_t window,
			  uint32_t remote_grace);
/* Kilo's peer readiness: at least one allowed IP and a non-zero key. */
bool kilo_peer_ready(const struct kilo_peer *peer);

/*
 * The node orders of mesh: those kilo_mesh_sort_nodes saved, or else
 * computed now with memory from arena (a mesh built in code). -ENOMEM.
 */
int kilo_mesh_node_orders(const struct kilo_mesh *mesh, struct kilo_arena *arena, struct kilo_node_orders *out);
/* Sorts the nodes once for every later solve; call again after changing nodes. -ENOMEM. */
int kilo_mesh_sort_nodes(struct kilo_mesh *mesh);
/* The node called name, found by a binary search of orders' name order; NULL when none is. */
const struct kilo_node *kilo_mesh_find_node(const struct kilo_mesh *mesh, const struct kilo_node_orders *orders,
					     const char *name);

/* A copy of src in dst whose strings and arrays live in arena (a peer's key too: wipe it). -ENOMEM. */
int kilo_node_copy(struct kilo_arena *arena, const struct kilo_node *src, struct kilo_node *dst);
int kilo_peer_copy(struct kilo_arena *arena, const struct kilo_peer *src, struct kilo_peer *dst);

/* A new empty mesh with default settings; NULL when out of memory. */
struct kilo_mesh *kilo_mesh_new(void);

/*
 * True if name is a Kubernetes object name (an RFC 1123 subdomain: lower
 * case letters, digits, '-' and '.', at most 253 characters, labels that
 * start and end with a letter or digit), which node and peer names must be.
 */
bool kilo_mesh_name_valid(const char *name);

/*
 * Checks what no single field shows: valid, unique node and peer names,
 * unique node public keys and pod CIDRs that do not overlap. Errors name
 * the path, e.g. `nodes[1].name: duplicate node name "b"`.
 */
int kilo_mesh_validate(const struct kilo_mesh *mesh, struct kilo_error *err);

#endif
