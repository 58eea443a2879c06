/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Output formats of a solved topology: the GraphViz graph that `kgctl
 * graph` prints, Kilo Peer objects that `kgctl showconf --as-peer -o
 * yaml|json` prints, and JSON views of the topology and of a node's whole
 * plan. Every function allocates *out; free it with kilo_free.
 */
#ifndef KILO_SERIAL_H
#define KILO_SERIAL_H

#include <kilo/core.h>
#include <kilo/plan.h>
#include <kilo/topology.h>
#include <kilo/wgconf.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The topology as GraphViz DOT, byte for byte as Kilo's Topology.Dot(). */
KILO_EXPORT int kilo_topology_dot(const kilo_topology *topology, char **out, struct kilo_error *err);

/*
 * The DOT text rendered by Graphviz's dot(1) in format (e.g. "svg"), which
 * must be installed (-ENOENT, said in err, when it is not). dot's stderr
 * is /dev/null: its messages never reach the caller's. Free *out with
 * kilo_free; *len is its length.
 */
KILO_EXPORT int kilo_graph_render(const char *dot, const char *format, char **out, size_t *len,
				  struct kilo_error *err);

enum kilo_peer_format {
	KILO_PEER_YAML = 0,
	KILO_PEER_JSON = 1,
};

/*
 * Peer i of config as a kilo.squat.ai/v1alpha1 Peer object named name, as
 * `kgctl showconf --as-peer -o yaml|json` prints it (JSON without a final
 * newline). Keepalive is written in seconds and DNS endpoints as their name
 * (Kilo writes nanoseconds and the port there; see DEVIATIONS.md).
 */
KILO_EXPORT int kilo_peer_object_format(const kilo_wg_config *config, size_t i, const char *name,
					enum kilo_peer_format format, char **out, struct kilo_error *err);

/*
 * The topology as JSON: hostname, location, nodeLocation, leader, subnet, privateIP,
 * wireGuardCIDR, port, segments (location, nodeLocation, hostnames, leader,
 * endpoint, publicKey, persistentKeepalive, cidrs, privateIPs,
 * cniCompatibilityIPs, allowedIPs, allowedLocationIPs, wireGuardIP) and
 * peers (name, publicKey, endpoint, allowedIPs). No private key.
 */
KILO_EXPORT int kilo_topology_to_json(const kilo_topology *topology, char **out, struct kilo_error *err);

/*
 * The node's whole plan (see plan.h) as JSON: "topology", "config" (the
 * WireGuard configuration, without secrets), "routes", "rules" and
 * "natRules" (each rule with its Kilo text), with the link indices of
 * opts->routes.
 */
KILO_EXPORT int kilo_plan_to_json(const kilo_topology *topology, const struct kilo_plan_opts *opts, char **out,
				  struct kilo_error *err);

enum kilo_status_format {
	KILO_STATUS_TEXT = 0, /* the tables `kgctl status` prints */
	KILO_STATUS_JSON = 1, /* the same facts as one JSON object (see kilo_mesh_status) */
};

struct kilo_status_opts {
	size_t sz;
	/* Unix seconds: when LAST-SEEN is measured from, and liveness judged (unless snapshot). */
	int64_t now;
	/* The liveness window in seconds; 0: KILO_READY_WINDOW_SECONDS. */
	uint32_t ready_window;
	/*
	 * The mesh is a snapshot (a mesh document), not a live store: lastSeen
	 * is not judged, so readiness and leaders are those of `kgctl showconf`
	 * and `kgctl graph` on the same document.
	 */
	bool snapshot;
	enum kilo_status_format format;
};

/*
 * The mesh at a glance: every node (location, whether it leads its segment,
 * whether it is ready, endpoint, the segment's WireGuard IP on its leader,
 * last seen), then every peer. Leaders come from the solver. Names and
 * locations are escaped (kilo_escape) in the text. The JSON is, field for
 * field (absent values are null):
 *
 *   {"nodes": [{"name", "location", "leader": bool, "ready": bool,
 *               "endpoint", "wireGuardIP", "lastSeen": Unix seconds}],
 *    "peers": [{"name", "allowedIPs": [CIDR...], "endpoint",
 *               "persistentKeepalive": seconds}]}
 *
 * Free *out with kilo_free.
 */
KILO_EXPORT int kilo_mesh_status(const kilo_mesh *mesh, const struct kilo_status_opts *opts, char **out,
				 struct kilo_error *err);
/* kilo_mesh_status as text of a live mesh, judged at now with ready_window seconds of liveness. */
KILO_EXPORT int kilo_mesh_status_format(const kilo_mesh *mesh, int64_t now, uint32_t ready_window, char **out,
					struct kilo_error *err);

#ifdef __cplusplus
}
#endif

#endif
