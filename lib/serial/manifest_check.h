/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kubernetes kinds libkilo stores and the checks of each. A check
 * takes an object as a user wrote it and gives the canonical object the
 * store keeps: apiVersion, kind, metadata (name, namespace, labels,
 * annotations, uid), the kind's own fields with Kubernetes' defaults
 * filled in, and no status (a Pod keeps its IPs). Errors name the object,
 * the field and the value:
 * `Service default/web: spec.ports[1].port: 70000 is not a port (1-65535)`.
 */
#ifndef KILO_LIB_SERIAL_MANIFEST_CHECK_H
#define KILO_LIB_SERIAL_MANIFEST_CHECK_H

#include <jansson.h>
#include <stdbool.h>

#include <kilo/core.h>

/* The object being checked, for messages. */
struct kilo_object_check {
	const struct kilo_object_kind *kind;
	const char *ns;   /* "" for a kind that is not namespaced */
	const char *name;
	struct kilo_error *err;
};

struct kilo_object_kind {
	const char *kind;        /* as Kubernetes spells it: "EndpointSlice" */
	const char *api_version; /* "discovery.k8s.io/v1" */
	const char *folder;      /* the store's: "endpointslices" */
	const char *aliases[3];  /* lower-case names kubectl also takes: "endpointslice" ... */
	bool namespaced;
	/*
	 * Checks object (a copy the check may change) and leaves in it only
	 * what the store keeps. NULL for Node and Peer, which the store
	 * translates to mesh nodes and peers.
	 */
	int (*check)(const struct kilo_object_check *c, json_t *object);
};

/* The kind named by its Kubernetes name or one of kubectl's aliases (svc, pods, netpol ...); NULL if none. */
const struct kilo_object_kind *kilo_object_kind_lookup(const char *name);

/*
 * The kind, namespace and name of an object as written (each "" when
 * absent or not a string; namespace "default" for a namespaced kind that
 * has none), pointing into object.
 */
void kilo_object_identify(json_t *object, const char **kind, const char **ns, const char **name);

/*
 * Checks object and gives its canonical form (*out, a new reference) and
 * kind. For Node and Peer only apiVersion, kind and metadata.name are
 * checked, and *out is the object as given.
 */
int kilo_object_canonical(json_t *object, const struct kilo_object_kind **kind, json_t **out, struct kilo_error *err);

/* ---- for the checks of each kind ---------------------------------------- */

/* "<Kind> <ns>/<name>: <path>: <message>"; returns -EINVAL. */
int kilo_check_fail(const struct kilo_object_check *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "<Kind> <ns>/<name>: <path>: <value as JSON> is not <what>"; returns -EINVAL. */
int kilo_check_bad(const struct kilo_object_check *c, const char *path, json_t *value, const char *what);

/*
 * The member key of object at path, of the type named (NULL when absent
 * or null, an error when required). Each returns 0 or -EINVAL.
 */
int kilo_check_member(const struct kilo_object_check *c, json_t *object, const char *key, const char *path,
		      json_type type, bool required, json_t **out);
/* An integer member within min..max; *present false (and *out untouched) when absent and not required. */
int kilo_check_int(const struct kilo_object_check *c, json_t *object, const char *key, const char *path,
		   json_int_t min, json_int_t max, const char *what, bool required, json_int_t *out);
/*
 * A string member that must be one of values (n of them), set to def when
 * absent (def NULL: left absent). *index gets its position (-1 when absent).
 */
int kilo_check_enum(const struct kilo_object_check *c, json_t *object, const char *key, const char *path,
		    const char *const *values, size_t n, const char *def, int *index);
/* A member that must be a boolean when present. */
int kilo_check_bool(const struct kilo_object_check *c, json_t *object, const char *key, const char *path);
/* A member that must be an object of strings when present (a selector's matchLabels, say). */
int kilo_check_string_map(const struct kilo_object_check *c, json_t *object, const char *key, const char *path);

/* A port's protocol, TCP by default; SCTP is refused as not supported. */
int kilo_check_protocol(const struct kilo_object_check *c, json_t *object, const char *path);
/* A DNS label (RFC 1123: 1-63 of a-z, 0-9, '-', alphanumeric at both ends). */
bool kilo_dns_label_valid(const char *s);
/* A label or annotation key ([DNS subdomain/]name of 63), a label value (63 of [A-Za-z0-9-_.], alphanumeric ends, or ""). */
bool kilo_label_key_valid(const char *key);
bool kilo_label_value_valid(const char *value);
/* An IANA service name (a port's name): 1-15 of a-z, 0-9, '-', a letter at least, no "--", no '-' at the ends. */
bool kilo_port_name_valid(const char *s);

/* The checks of each kind (manifest_service.c, manifest_pod.c). */
int kilo_check_service(const struct kilo_object_check *c, json_t *object);
int kilo_check_endpointslice(const struct kilo_object_check *c, json_t *object);
int kilo_check_pod(const struct kilo_object_check *c, json_t *object);
int kilo_check_namespace(const struct kilo_object_check *c, json_t *object);
int kilo_check_networkpolicy(const struct kilo_object_check *c, json_t *object);

#endif
