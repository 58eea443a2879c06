/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mesh: nodes, peers and settings, read from and written to the mesh
 * document (JSON, version 1; see docs/mesh-document.md), and translated
 * from and to Kilo's Kubernetes node annotations and Peer objects.
 */
#ifndef KILO_MESH_H
#define KILO_MESH_H

#include <kilo/core.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kilo_mesh kilo_mesh;

enum kilo_granularity {
	KILO_GRANULARITY_LOCATION = 0, /* one segment per location (Kilo's default) */
	KILO_GRANULARITY_FULL = 1,     /* one segment per node */
	KILO_GRANULARITY_CROSS = 2,    /* one segment per node, no tunnels inside a location */
};

/* "location", "full" or "cross" <-> the enum. parse returns -EINVAL if unknown. */
KILO_EXPORT int kilo_granularity_parse(const char *text, enum kilo_granularity *out, struct kilo_error *err);
KILO_EXPORT const char *kilo_granularity_name(enum kilo_granularity granularity);

/*
 * Reads a mesh document of len bytes. The document is validated whole:
 * unknown fields, bad addresses, keys or endpoints, and duplicate node or
 * peer names are errors named in err. On success *out is a new mesh.
 */
KILO_EXPORT int kilo_mesh_from_json(const char *text, size_t len, kilo_mesh **out, struct kilo_error *err);
/* The largest mesh document kilo_mesh_load_file reads: 64 MiB, some 100,000 nodes. */
#define KILO_MESH_MAX_BYTES (64u << 20)
/* Reads the mesh document at path, as kilo_mesh_from_json; errors name path. */
KILO_EXPORT int kilo_mesh_load_file(const char *path, kilo_mesh **out, struct kilo_error *err);
/* Writes the mesh as a document (pretty-printed); free *out with kilo_free. */
KILO_EXPORT int kilo_mesh_to_json(const kilo_mesh *mesh, char **out, struct kilo_error *err);
KILO_EXPORT void kilo_mesh_free(kilo_mesh *mesh);

KILO_EXPORT size_t kilo_mesh_node_count(const kilo_mesh *mesh);
KILO_EXPORT size_t kilo_mesh_peer_count(const kilo_mesh *mesh);
/* Name of node or peer i, or NULL when out of range; owned by the mesh. */
KILO_EXPORT const char *kilo_mesh_node_name(const kilo_mesh *mesh, size_t i);
KILO_EXPORT const char *kilo_mesh_peer_name(const kilo_mesh *mesh, size_t i);
KILO_EXPORT enum kilo_granularity kilo_mesh_granularity(const kilo_mesh *mesh);

/*
 * Kilo's readiness of node i: a ready endpoint, a non-zero key, a pod CIDR
 * and, when now is not 0, a lastSeen less than 60 seconds before now. With
 * now 0, a mesh a store loaded is judged at the time of its load, over the
 * store's window (struct kilo_store_opts); a mesh document is a snapshot,
 * and lastSeen is not looked at.
 */
KILO_EXPORT bool kilo_mesh_node_ready(const kilo_mesh *mesh, size_t i, int64_t now);
/* The same with a liveness window of window seconds (0: Kilo's 60, or the store's), as agents with --ready-window judge it. */
KILO_EXPORT bool kilo_mesh_node_ready_within(const kilo_mesh *mesh, size_t i, int64_t now, uint32_t window);

/*
 * Kubernetes translation, as Kilo's Kubernetes backend does it.
 * node_object is a Kubernetes Node as JSON (metadata.name, .annotations,
 * .labels, spec.podCIDR); topology_label is the label that gives the
 * location when no kilo.squat.ai/location annotation does (NULL:
 * "topology.kubernetes.io/region"). *node_json receives the node in the
 * mesh document's node format. Invalid annotation values are ignored the
 * way Kilo ignores them; only a malformed object is an error.
 */
KILO_EXPORT int kilo_node_from_kubernetes(const char *node_object, const char *topology_label, char **node_json,
					  struct kilo_error *err);
/* A Kilo Peer object (kilo.squat.ai/v1alpha1) as JSON -> a mesh document peer. */
KILO_EXPORT int kilo_peer_from_kubernetes(const char *peer_object, char **peer_json, struct kilo_error *err);
/* A mesh document node -> the kilo.squat.ai/ annotations kg writes, as a JSON object. */
KILO_EXPORT int kilo_node_to_annotations(const char *node_json, char **annotations_json, struct kilo_error *err);

#ifdef __cplusplus
}
#endif

#endif
