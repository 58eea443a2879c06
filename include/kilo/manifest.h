/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubernetes objects as users write them: manifests in YAML or JSON (one
 * object, several YAML documents, or a List, as `kubectl get -o json`
 * prints), the kinds libkilo stores (Node, Peer, Service, EndpointSlice,
 * Pod, Namespace, NetworkPolicy), and their output as kubectl prints
 * them. kilo_store_put_object (store.h) checks and stores each object.
 */
#ifndef KILO_MANIFEST_H
#define KILO_MANIFEST_H

#include <kilo/core.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kilo_manifest kilo_manifest;

/* A manifest larger than this is refused. */
#define KILO_MANIFEST_MAX_BYTES (64u << 20)

/* One object of a manifest, as written; the strings live as long as the manifest. */
struct kilo_manifest_object {
	const char *kind;  /* "" when missing */
	const char *ns;    /* the namespace: "default" for a namespaced kind without one, "" for other kinds */
	const char *name;  /* "" when missing */
	const char *json;  /* the object, compact JSON, for kilo_store_put_object */
	size_t document;   /* its YAML document, from 1 */
	size_t line;       /* the line that document starts on */
	size_t item;       /* its index in a List, from 1; 0 when not in one */
	/* The kind as kubectl names it in its messages: "service", "endpointslice.discovery.k8s.io". */
	const char *resource;
};

/*
 * Reads a manifest of len bytes: JSON, or YAML with scalars typed as
 * Kubernetes types them (a plain 80 is a number, true a boolean, a quoted
 * "80" a string). Empty documents are skipped; a List's items are
 * objects of their own. Anchors and aliases are refused. Nothing is
 * checked beyond the syntax and each document being an object: the store
 * checks each object on its own. Errors name the document, the line and
 * the field. Free *out with kilo_manifest_free.
 */
KILO_EXPORT int kilo_manifest_read(const char *text, size_t len, kilo_manifest **out, struct kilo_error *err);
KILO_EXPORT size_t kilo_manifest_count(const kilo_manifest *manifest);
/* Object i (from 0), or NULL past the end. */
KILO_EXPORT const struct kilo_manifest_object *kilo_manifest_object(const kilo_manifest *manifest, size_t i);
KILO_EXPORT void kilo_manifest_free(kilo_manifest *manifest);

/*
 * The kind named as Kubernetes spells it ("Service") or as kubectl also
 * takes it ("svc", "services", "netpol", ...), as Kubernetes spells it;
 * NULL when libkilo does not store that kind.
 */
KILO_EXPORT const char *kilo_object_kind(const char *name);

enum kilo_object_format {
	KILO_OBJECT_TABLE = 0, /* kubectl get's columns */
	KILO_OBJECT_JSON = 1,
	KILO_OBJECT_YAML = 2,
};

/*
 * Objects of kind as `kubectl get` prints them: json is one object (as
 * kilo_store_get_object gives it) or an array of them (as
 * kilo_store_list_objects gives it), which JSON and YAML print as a List.
 * Nodes and peers are the mesh document's objects. A table of no objects
 * is "" (kubectl says "No resources found" instead). Free *out with
 * kilo_free.
 */
KILO_EXPORT int kilo_objects_format(const char *kind, const char *json, enum kilo_object_format format, char **out,
				    struct kilo_error *err);

#ifdef __cplusplus
}
#endif

#endif
