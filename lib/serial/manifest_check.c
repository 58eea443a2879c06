// SPDX-License-Identifier: Apache-2.0
/*
 * What every kind shares: the kinds themselves, apiVersion, metadata
 * (names, labels, annotations), and the field checks each kind's own
 * rules are written with.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../core/error.h"
#include "../mesh/model.h"
#include "manifest_check.h"
#include "mesh_json.h"

static const struct kilo_object_kind kinds[] = {
	{ "Node", "v1", "nodes", { "node", "nodes", "no" }, false, NULL },
	{ "Peer", "kilo.squat.ai/v1alpha1", "peers", { "peer", "peers" }, false, NULL },
	{ "Service", "v1", "services", { "service", "services", "svc" }, true, kilo_check_service },
	{ "EndpointSlice", "discovery.k8s.io/v1", "endpointslices", { "endpointslice", "endpointslices" }, true,
	  kilo_check_endpointslice },
	{ "Pod", "v1", "pods", { "pod", "pods", "po" }, true, kilo_check_pod },
	{ "Namespace", "v1", "namespaces", { "namespace", "namespaces", "ns" }, false, kilo_check_namespace },
	{ "NetworkPolicy", "networking.k8s.io/v1", "networkpolicies", { "networkpolicy", "networkpolicies", "netpol" },
	  true, kilo_check_networkpolicy },
};

#define KIND_NAMES "Node, Peer, Service, EndpointSlice, Pod, Namespace, NetworkPolicy"

/* Annotations kubectl writes for itself: a copy of the whole object, of no use to the store. */
static const char last_applied[] = "kubectl.kubernetes.io/last-applied-configuration";

const struct kilo_object_kind *kilo_object_kind_lookup(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (!strcmp(name, kinds[i].kind))
			return &kinds[i];
		for (size_t j = 0; j < sizeof(kinds[i].aliases) / sizeof(kinds[i].aliases[0]); j++)
			if (kinds[i].aliases[j] && !strcmp(name, kinds[i].aliases[j]))
				return &kinds[i];
	}
	return NULL;
}

static const char *string_or_empty(json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : "";
}

void kilo_object_identify(json_t *object, const char **kind, const char **ns, const char **name)
{
	json_t *metadata = json_object_get(object, "metadata");
	const struct kilo_object_kind *k;

	*kind = string_or_empty(json_object_get(object, "kind"));
	*name = string_or_empty(json_object_get(metadata, "name"));
	*ns = string_or_empty(json_object_get(metadata, "namespace"));
	k = kilo_object_kind_lookup(*kind);
	if (k && !k->namespaced)
		*ns = "";
	else if (k && !**ns)
		*ns = "default";
}

static void __attribute__((format(printf, 3, 0)))
vfail(const struct kilo_object_check *c, const char *path, const char *fmt, va_list ap)
{
	char message[KILO_ERROR_MESSAGE_MAX];

	vsnprintf(message, sizeof(message), fmt, ap);
	kilo_error_set(c->err, EINVAL, "%s %s%s%.253s: %s%s%s", c->kind->kind, c->ns, c->ns[0] ? "/" : "", c->name,
		       path ? path : "", path ? ": " : "", message);
}

int kilo_check_fail(const struct kilo_object_check *c, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(c, path, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int kilo_check_bad(const struct kilo_object_check *c, const char *path, json_t *value, const char *what)
{
	char text[KILO_JSON_VALUE_MAX];

	kilo_json_value_text(value, text);
	return kilo_check_fail(c, path, "%s is not %s", text, what);
}

static const char *type_name(json_type type)
{
	switch (type) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "a list";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "a value";
	}
}

int kilo_check_member(const struct kilo_object_check *c, json_t *object, const char *key, const char *path,
		      json_type type, bool required, json_t **out)
{
	json_t *v = json_object_get(object, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return required ? kilo_check_fail(c, path, "required") : 0;
	if (json_typeof(v) != type && !(type == JSON_TRUE && json_is_boolean(v)))
		return kilo_check_bad(c, path, v, type_name(type));
	*out = v;
	return 0;
}

int kilo_check_int(const struct kilo_object_check *c, json_t *object, const char *key, const char *path,
		   json_int_t min, json_int_t max, const char *what, bool required, json_int_t *out)
{
	json_t *v;
	int r = kilo_check_member(c, object, key, path, JSON_INTEGER, required, &v);

	if (r < 0 || !v)
		return r;
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return kilo_check_bad(c, path, v, what);
	*out = json_integer_value(v);
	return 0;
}

int kilo_check_enum(const struct kilo_object_check *c, json_t *object, const char *key, const char *path,
		    const char *const *values, size_t n, const char *def, int *index)
{
	char choices[256] = "";
	json_t *v;
	int r = kilo_check_member(c, object, key, path, JSON_STRING, false, &v);

	*index = -1;
	if (r < 0)
		return r;
	if (!v) {
		if (!def)
			return 0;
		if (json_object_set_new(object, key, json_string(def)) < 0)
			return kilo_error_set(c->err, ENOMEM, "out of memory");
		v = json_object_get(object, key);
	}
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(json_string_value(v), values[i])) {
			*index = (int)i;
			return 0;
		}
		snprintf(choices + strlen(choices), sizeof(choices) - strlen(choices), "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ",
			 values[i]);
	}
	return kilo_check_bad(c, path, v, choices);
}

int kilo_check_bool(const struct kilo_object_check *c, json_t *object, const char *key, const char *path)
{
	json_t *v;

	return kilo_check_member(c, object, key, path, JSON_TRUE, false, &v);
}

int kilo_check_protocol(const struct kilo_object_check *c, json_t *object, const char *path)
{
	static const char *const protocols[] = { "TCP", "UDP" };
	json_t *v = json_object_get(object, "protocol");
	int index;

	if (json_is_string(v) && !strcmp(json_string_value(v), "SCTP"))
		return kilo_check_fail(c, path, "\"SCTP\" is not supported (TCP or UDP)");
	return kilo_check_enum(c, object, "protocol", path, protocols, 2, "TCP", &index);
}

static bool is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

bool kilo_dns_label_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 63 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

bool kilo_port_name_valid(const char *s)
{
	size_t n = strlen(s);
	bool letter = false;

	if (n < 1 || n > 15 || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_alnum(s[i]) && s[i] != '-')
			return false;
		letter |= s[i] >= 'a' && s[i] <= 'z';
	}
	return letter;
}

/* A label's name part, or a label value when empty_ok: 63 of [A-Za-z0-9-_.], alphanumeric at both ends. */
static bool label_name_valid(const char *s, size_t n, bool empty_ok)
{
	if (n == 0)
		return empty_ok;
	if (n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');

		if (!alnum && ((i == 0 || i == n - 1) || !strchr("-_.", ch)))
			return false;
	}
	return true;
}

bool kilo_label_value_valid(const char *value)
{
	return label_name_valid(value, strlen(value), true);
}

bool kilo_label_key_valid(const char *key)
{
	const char *slash = strchr(key, '/');
	char prefix[254];

	if (!slash)
		return label_name_valid(key, strlen(key), false);
	if ((size_t)(slash - key) >= sizeof(prefix))
		return false;
	memcpy(prefix, key, (size_t)(slash - key));
	prefix[slash - key] = '\0';
	return kilo_mesh_name_valid(prefix) && label_name_valid(slash + 1, strlen(slash + 1), false);
}

int kilo_check_string_map(const struct kilo_object_check *c, json_t *object, const char *key, const char *path)
{
	const char *k;
	json_t *map, *v;
	int r = kilo_check_member(c, object, key, path, JSON_OBJECT, false, &map);

	if (r < 0 || !map)
		return r;
	json_object_foreach(map, k, v) {
		char item[200];

		snprintf(item, sizeof(item), "%s[\"%.80s\"]", path, k);
		if (!json_is_string(v))
			return kilo_check_bad(c, item, v, "a string (quote it in YAML)");
	}
	return 0;
}

/* Labels and annotations: keys as Kubernetes allows them, label values too. */
static int check_map_keys(const struct kilo_object_check *c, json_t *metadata, const char *key, bool labels)
{
	char path[32];
	const char *k;
	json_t *v;
	int r;

	snprintf(path, sizeof(path), "metadata.%s", key);
	r = kilo_check_string_map(c, metadata, key, path);
	if (r < 0)
		return r;
	json_object_foreach(json_object_get(metadata, key), k, v) {
		if (!kilo_label_key_valid(k))
			return kilo_check_fail(c, path, "\"%.80s\" is not a valid key ([DNS subdomain/]name of 63 characters)",
					       k);
		if (labels && !label_name_valid(json_string_value(v), json_string_length(v), true))
			return kilo_check_fail(c, path, "\"%.80s\": \"%.80s\" is not a valid label value", k,
					       json_string_value(v));
	}
	return 0;
}

/* The metadata the store keeps, checked; *out is new. */
static int check_metadata(const struct kilo_object_check *c, json_t *metadata, json_t **out)
{
	static const char *const kept[] = { "name", "namespace", "labels", "annotations", "uid" };
	const struct kilo_object_kind *kind = c->kind;
	json_t *uid, *given_ns;
	int r;

	if (!strcmp(kind->kind, "Service") ? !kilo_dns_label_valid(c->name) || !(c->name[0] >= 'a' && c->name[0] <= 'z')
	    : !strcmp(kind->kind, "Namespace") ? !kilo_dns_label_valid(c->name)
					       : !kilo_mesh_name_valid(c->name))
		return kilo_check_bad(c, "metadata.name", json_object_get(metadata, "name"),
				      !strcmp(kind->kind, "Service") ? "a DNS label that starts with a letter"
				      : !strcmp(kind->kind, "Namespace") ? "a DNS label"
									 : "a DNS subdomain");
	/* `namespace: y` is YAML 1.1's true, as Kubernetes reads it: not a namespace, and not the default either. */
	if ((r = kilo_check_member(c, metadata, "namespace", "metadata.namespace", JSON_STRING, false, &given_ns)) < 0)
		return r;
	if (kind->namespaced && !kilo_dns_label_valid(c->ns))
		return kilo_check_fail(c, "metadata.namespace", "\"%.80s\" is not a DNS label", c->ns);
	if ((r = check_map_keys(c, metadata, "labels", true)) < 0 ||
	    (r = check_map_keys(c, metadata, "annotations", false)) < 0 ||
	    (r = kilo_check_member(c, metadata, "uid", "metadata.uid", JSON_STRING, false, &uid)) < 0)
		return r;
	*out = json_object();
	for (size_t i = 0; *out && i < sizeof(kept) / sizeof(kept[0]); i++) {
		json_t *v = json_object_get(metadata, kept[i]);
		bool ns = !strcmp(kept[i], "namespace");

		/* The namespace the object is in, default or given; none for a kind without. */
		if (ns && !kind->namespaced)
			continue;
		if (!ns && (!v || json_is_null(v)))
			continue;
		if (json_object_set_new(*out, kept[i], ns ? json_string(c->ns) : json_deep_copy(v)) < 0) {
			json_decref(*out);
			*out = NULL;
		}
	}
	if (!*out)
		return kilo_error_set(c->err, ENOMEM, "out of memory");
	json_object_del(json_object_get(*out, "annotations"), last_applied);
	if (json_object_size(json_object_get(*out, "annotations")) == 0)
		json_object_del(*out, "annotations");
	return 0;
}

/* The object the store keeps: apiVersion, kind, metadata, and the kind's own fields (copied, checked below). */
static json_t *kept_object(const struct kilo_object_kind *kind, json_t *object, json_t *metadata)
{
	static const char *const fields[] = { "spec", "addressType", "endpoints", "ports", "status" };
	json_t *out = json_pack("{s:s,s:s,s:o}", "apiVersion", kind->api_version, "kind", kind->kind, "metadata",
				metadata);

	for (size_t i = 0; out && i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_t *v = json_object_get(object, fields[i]);
		bool slice = !strcmp(kind->kind, "EndpointSlice");

		/* An EndpointSlice has no spec; of status only a Pod keeps anything (its IPs). */
		if (!v || (i == 0 && slice) || (i >= 1 && i <= 3 && !slice) || (i == 4 && strcmp(kind->kind, "Pod")))
			continue;
		if (json_object_set_new(out, fields[i], json_deep_copy(v)) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

int kilo_object_canonical(json_t *object, const struct kilo_object_kind **kind_out, json_t **out,
			  struct kilo_error *err)
{
	struct kilo_object_check c = { .err = err };
	const char *kind_name, *ns, *name;
	json_t *metadata, *api, *kept = NULL;
	int r;

	*out = NULL;
	if (!json_is_object(object))
		return kilo_error_set(err, EINVAL, "not an object");
	kilo_object_identify(object, &kind_name, &ns, &name);
	c.kind = kilo_object_kind_lookup(kind_name);
	/* Only the Kubernetes name: an alias is for the command line. */
	if (!c.kind || strcmp(c.kind->kind, kind_name))
		return kilo_error_set(err, EINVAL, "%s%s%.253s: kind: \"%.80s\" is not one libkilo stores (" KIND_NAMES ")",
				      kind_name[0] ? kind_name : "object", name[0] ? " " : "", name, kind_name);
	c.ns = ns;
	c.name = name;
	*kind_out = c.kind;
	api = json_object_get(object, "apiVersion");
	if (!json_is_string(api) || strcmp(json_string_value(api), c.kind->api_version))
		return api ? kilo_check_bad(&c, "apiVersion", api, c.kind->api_version)
			   : kilo_check_fail(&c, "apiVersion", "required (%s)", c.kind->api_version);
	if ((r = kilo_check_member(&c, object, "metadata", "metadata", JSON_OBJECT, true, &metadata)) < 0 ||
	    (r = kilo_check_member(&c, metadata, "name", "metadata.name", JSON_STRING, true, &api)) < 0)
		return r;
	if (!c.kind->check) {
		*out = json_incref(object);
		return 0;
	}
	r = check_metadata(&c, metadata, &metadata);
	if (r < 0)
		return r;
	kept = kept_object(c.kind, object, metadata);
	if (!kept)
		return kilo_error_set(err, ENOMEM, "out of memory");
	r = c.kind->check(&c, kept);
	if (r < 0) {
		json_decref(kept);
		return r;
	}
	*out = kept;
	return 0;
}
