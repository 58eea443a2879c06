/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mesh document (JSON, version 1; docs/mesh-document.md). Each object
 * is described by a table of fields, which both the reader and the writer
 * walk, so that the two cannot drift apart.
 */
#include "mesh_json.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/error.h"
#include "../core/io.h"
#include "../core/strbuf.h"
#include "jsonval.h"

#define KEEPALIVE_MAX 65535

enum field_type {
	FIELD_NAME,        /* const char *; checked with the whole mesh */
	FIELD_STRING,      /* const char *; "" is empty */
	FIELD_BOOL,
	FIELD_ENDPOINT,
	FIELD_CIDR,        /* host bits kept */
	FIELD_CIDR_MASKED, /* host bits cleared, as Go's ParseCIDR does */
	FIELD_CIDR_LIST,   /* struct kilo_cidr *, count at aux */
	FIELD_KEY,
	FIELD_SECRET_KEY,  /* struct kilo_key, bool "has" at aux */
	FIELD_KEEPALIVE,   /* uint32_t seconds */
	FIELD_UNIX_TIME,   /* int64_t seconds */
	FIELD_PORT,        /* uint16_t */
	FIELD_GRANULARITY,
	FIELD_DISCOVERED,  /* struct kilo_discovered_endpoint *, count at aux */
	FIELD_VERSION,
	FIELD_SETTINGS,
	FIELD_NODES,
	FIELD_PEERS,
	FIELD_RESERVED,    /* a list that a later version fills; must be empty */
};

struct field {
	const char *name;
	enum field_type type;
	size_t offset, aux;
	bool required;
};

#define NODE_FIELD(n, t, m) { n, t, offsetof(struct kilo_node, m), 0, false }
#define NODE_LIST(n, t, m, c) { n, t, offsetof(struct kilo_node, m), offsetof(struct kilo_node, c), false }

static const struct field node_fields[] = {
	{ "name", FIELD_NAME, offsetof(struct kilo_node, name), 0, true },
	NODE_FIELD("location", FIELD_STRING, location),
	NODE_FIELD("endpoint", FIELD_ENDPOINT, endpoint),
	NODE_FIELD("internalIP", FIELD_CIDR, internal_ip),
	NODE_FIELD("podCIDR", FIELD_CIDR_MASKED, pod_cidr),
	NODE_FIELD("publicKey", FIELD_KEY, public_key),
	NODE_FIELD("leader", FIELD_BOOL, leader),
	NODE_FIELD("persistentKeepalive", FIELD_KEEPALIVE, persistent_keepalive),
	NODE_LIST("allowedLocationIPs", FIELD_CIDR_LIST, allowed_location_ips, n_allowed_location_ips),
	NODE_LIST("discoveredEndpoints", FIELD_DISCOVERED, discovered_endpoints, n_discovered_endpoints),
	NODE_FIELD("lastSeen", FIELD_UNIX_TIME, last_seen),
	NODE_FIELD("wireGuardIP", FIELD_CIDR, wireguard_ip),
	NODE_FIELD("cniCompatibilityIP", FIELD_CIDR, cni_compatibility_ip),
	NODE_FIELD("secondaryPodCIDR", FIELD_CIDR_MASKED, secondary_pod_cidr),
	NODE_FIELD("secondaryInternalIP", FIELD_CIDR, secondary_internal_ip),
};

static const struct field peer_fields[] = {
	{ "name", FIELD_NAME, offsetof(struct kilo_peer, name), 0, true },
	{ "publicKey", FIELD_KEY, offsetof(struct kilo_peer, public_key), 0, true },
	{ "allowedIPs", FIELD_CIDR_LIST, offsetof(struct kilo_peer, allowed_ips), offsetof(struct kilo_peer, n_allowed_ips),
	  false },
	{ "endpoint", FIELD_ENDPOINT, offsetof(struct kilo_peer, endpoint), 0, false },
	{ "persistentKeepalive", FIELD_KEEPALIVE, offsetof(struct kilo_peer, persistent_keepalive), 0, false },
	{ "presharedKey", FIELD_SECRET_KEY, offsetof(struct kilo_peer, preshared_key),
	  offsetof(struct kilo_peer, has_preshared_key), false },
};

static const struct field settings_fields[] = {
	{ "granularity", FIELD_GRANULARITY, offsetof(struct kilo_settings, granularity), 0, false },
	{ "subnet", FIELD_CIDR_MASKED, offsetof(struct kilo_settings, subnet), 0, false },
	{ "port", FIELD_PORT, offsetof(struct kilo_settings, port), 0, false },
	{ "serviceCIDRs", FIELD_CIDR_LIST, offsetof(struct kilo_settings, service_cidrs),
	  offsetof(struct kilo_settings, n_service_cidrs), false },
};

static const struct field document_fields[] = {
	{ "version", FIELD_VERSION, 0, 0, true },
	{ "settings", FIELD_SETTINGS, offsetof(struct kilo_mesh, settings), 0, false },
	{ "nodes", FIELD_NODES, 0, 0, false },
	{ "peers", FIELD_PEERS, 0, 0, false },
	{ "services", FIELD_RESERVED, 0, 0, false },
	{ "policies", FIELD_RESERVED, 0, 0, false },
};

#define N(fields) (sizeof(fields) / sizeof((fields)[0]))

void kilo_json_value_text(json_t *value, char out[KILO_JSON_VALUE_MAX])
{
	char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
	size_t len;

	if (!text) {
		snprintf(out, KILO_JSON_VALUE_MAX, "(value)");
		return;
	}
	len = strlen(text);
	if (len < KILO_JSON_VALUE_MAX) {
		memcpy(out, text, len + 1);
	} else {
		memcpy(out, text, KILO_JSON_VALUE_MAX - 4);
		memcpy(out + KILO_JSON_VALUE_MAX - 4, "...", 4);
	}
	free(text);
}

void kilo_json_wipe_string(json_t *string)
{
	if (json_is_string(string))
		sodium_memzero((char *)json_string_value(string), json_string_length(string));
}

static int bad_value(struct kilo_error *err, const char *path, json_t *value, const char *what)
{
	char text[KILO_JSON_VALUE_MAX];

	kilo_json_value_text(value, text);
	return kilo_error_set(err, EINVAL, "%s: %s is %s", path, text, what);
}

/* Paths are for people: a truncated one is still useful. */
static void __attribute__((format(printf, 2, 3))) path_printf(char out[KILO_JSON_PATH_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, KILO_JSON_PATH_MAX, fmt, ap);
	va_end(ap);
}

static void join_path(char out[KILO_JSON_PATH_MAX], const char *path, const char *key)
{
	if (path[0])
		path_printf(out, "%s.%.64s", path, key);
	else
		path_printf(out, "%.64s", key);
}

static const char *string_of(json_t *value, const char *path, struct kilo_error *err, int *r)
{
	if (!json_is_string(value)) {
		*r = bad_value(err, path, value, "not a string");
		return NULL;
	}
	*r = 0;
	return json_string_value(value);
}

static int read_cidr(json_t *value, const char *path, bool masked, struct kilo_cidr *out, struct kilo_error *err)
{
	const char *text;
	int r;

	text = string_of(value, path, err, &r);
	if (!text)
		return r;
	r = kilo_cidr_parse(text, out, NULL);
	if (r < 0)
		return bad_value(err, path, value, kilo_addr_refusal(r, "not a CIDR"));
	if (masked)
		*out = kilo_cidr_masked(out);
	return 0;
}

static int read_key(json_t *value, const char *path, struct kilo_key *out, struct kilo_error *err)
{
	const char *text;
	int r;

	text = string_of(value, path, err, &r);
	if (!text)
		return r;
	if (kilo_key_parse(text, out, NULL) < 0)
		return bad_value(err, path, value, "not a WireGuard key");
	return 0;
}

static int read_integer(json_t *value, const char *path, json_int_t min, json_int_t max, const char *what,
			json_int_t *out, struct kilo_error *err)
{
	if (!json_is_integer(value) || json_integer_value(value) < min || json_integer_value(value) > max)
		return bad_value(err, path, value, what);
	*out = json_integer_value(value);
	return 0;
}

static int read_cidr_list(json_t *value, const char *path, struct kilo_arena *arena, struct kilo_cidr **out,
			  size_t *n_out, struct kilo_error *err)
{
	char item[KILO_JSON_PATH_MAX];
	struct kilo_cidr *cidrs;
	json_t *v;
	size_t i;
	int r;

	if (!json_is_array(value))
		return bad_value(err, path, value, "not an array");
	cidrs = kilo_arena_array(arena, json_array_size(value), sizeof(*cidrs));
	if (!cidrs)
		return -ENOMEM;
	json_array_foreach(value, i, v) {
		path_printf(item, "%s[%zu]", path, i);
		r = read_cidr(v, item, false, &cidrs[i], err);
		if (r < 0)
			return r;
	}
	*out = cidrs;
	*n_out = json_array_size(value);
	return 0;
}

static int read_discovered(json_t *value, const char *path, struct kilo_arena *arena,
			   struct kilo_discovered_endpoint **out, size_t *n_out, struct kilo_error *err)
{
	struct kilo_discovered_endpoint *eps;
	char item[KILO_JSON_PATH_MAX];
	const char *key, *text;
	size_t n = 0;
	json_t *v;
	int r;

	if (!json_is_object(value))
		return bad_value(err, path, value, "not an object");
	eps = kilo_arena_array(arena, json_object_size(value), sizeof(*eps));
	if (!eps)
		return -ENOMEM;
	json_object_foreach(value, key, v) {
		path_printf(item, "%s[\"%.60s\"]", path, key);
		if (kilo_key_parse(key, &eps[n].key, NULL) < 0)
			return kilo_error_set(err, EINVAL, "%s: \"%.60s\" is not a WireGuard key", item, key);
		text = string_of(v, item, err, &r);
		if (!text)
			return r;
		/* Kilo records what it saw on the wire: an address, never a name. */
		r = kilo_endpoint_parse(text, &eps[n].endpoint, NULL);
		if (r < 0 || eps[n].endpoint.addr.family == 0)
			return bad_value(err, item, v, kilo_addr_refusal(r, "not an ip:port endpoint"));
		n++;
	}
	*out = eps;
	*n_out = n;
	return 0;
}

static int read_object(json_t *object, const char *path, const struct field *fields, size_t n_fields, void *base,
		       struct kilo_arena *arena, struct kilo_error *err);

static int read_array(json_t *value, const char *path, const struct field *fields, size_t n_fields, size_t size,
		      struct kilo_arena *arena, void **out, size_t *n_out, struct kilo_error *err)
{
	char item[KILO_JSON_PATH_MAX];
	unsigned char *items;
	json_t *v;
	size_t i;
	int r;

	if (!json_is_array(value))
		return bad_value(err, path, value, "not an array");
	items = kilo_arena_array(arena, json_array_size(value), size);
	if (!items)
		return -ENOMEM;
	json_array_foreach(value, i, v) {
		path_printf(item, "%s[%zu]", path, i);
		r = read_object(v, item, fields, n_fields, items + i * size, arena, err);
		if (r < 0)
			return r;
	}
	*out = items;
	*n_out = json_array_size(value);
	return 0;
}

/* A secondary address completes a primary one with the other family (dual stack). */
static int check_secondary(const char *path, const char *field, const struct kilo_cidr *secondary,
			   const char *primary_field, const struct kilo_cidr *primary, struct kilo_error *err)
{
	char sub[KILO_JSON_PATH_MAX], text[KILO_CIDR_STRLEN];

	if (secondary->addr.family == 0)
		return 0;
	join_path(sub, path, field);
	kilo_cidr_format(secondary, text);
	if (primary->addr.family == 0)
		return kilo_error_set(err, EINVAL, "%s: \"%s\" needs %s as well", sub, text, primary_field);
	if (primary->addr.family == secondary->addr.family)
		return kilo_error_set(err, EINVAL, "%s: \"%s\" is IPv%d like %s; it must be of the other family", sub,
				      text, secondary->addr.family, primary_field);
	return 0;
}

/* What one node's fields say together; path names the node. */
static int check_node(const char *path, const struct kilo_node *node, struct kilo_error *err)
{
	int r = check_secondary(path, "secondaryPodCIDR", &node->secondary_pod_cidr, "podCIDR", &node->pod_cidr, err);

	return r < 0 ? r
		     : check_secondary(path, "secondaryInternalIP", &node->secondary_internal_ip, "internalIP",
				       &node->internal_ip, err);
}

static int read_field(const struct field *f, json_t *value, const char *path, unsigned char *base,
		      struct kilo_arena *arena, struct kilo_error *err)
{
	struct kilo_mesh *mesh = (struct kilo_mesh *)base;
	void *dst = base + f->offset;
	const char *text;
	json_int_t n = 0;
	int r = 0;

	switch (f->type) {
	case FIELD_NAME:
	case FIELD_STRING:
		text = string_of(value, path, err, &r);
		if (!text)
			return r;
		*(const char **)dst = kilo_arena_strdup(arena, text);
		return *(const char **)dst ? 0 : -ENOMEM;
	case FIELD_BOOL:
		if (!json_is_boolean(value))
			return bad_value(err, path, value, "not a boolean");
		*(bool *)dst = json_is_true(value);
		return 0;
	case FIELD_ENDPOINT:
		text = string_of(value, path, err, &r);
		if (!text)
			return r;
		r = kilo_endpoint_parse(text, dst, NULL);
		if (r < 0)
			return bad_value(err, path, value,
					 kilo_addr_refusal(r, "not an endpoint (ip:port, [ipv6]:port or dns-name:port)"));
		return 0;
	case FIELD_CIDR:
	case FIELD_CIDR_MASKED:
		return read_cidr(value, path, f->type == FIELD_CIDR_MASKED, dst, err);
	case FIELD_CIDR_LIST:
		return read_cidr_list(value, path, arena, dst, (size_t *)(base + f->aux), err);
	case FIELD_KEY:
		return read_key(value, path, dst, err);
	case FIELD_SECRET_KEY:
		r = read_key(value, path, dst, err);
		kilo_json_wipe_string(value);
		*(bool *)(base + f->aux) = r == 0;
		return r;
	case FIELD_KEEPALIVE:
		r = read_integer(value, path, 0, KEEPALIVE_MAX, "not a keepalive in whole seconds (0..65535)", &n, err);
		*(uint32_t *)dst = (uint32_t)n;
		return r;
	case FIELD_UNIX_TIME:
		r = read_integer(value, path, 0, INT64_MAX, "not a Unix time in whole seconds", &n, err);
		*(int64_t *)dst = n;
		return r;
	case FIELD_PORT:
		r = read_integer(value, path, 1, 65535, "not a port (1..65535)", &n, err);
		*(uint16_t *)dst = (uint16_t)n;
		return r;
	case FIELD_GRANULARITY:
		text = string_of(value, path, err, &r);
		if (!text)
			return r;
		if (kilo_granularity_parse(text, dst, NULL) < 0)
			return bad_value(err, path, value, "not one of location, full, cross");
		return 0;
	case FIELD_DISCOVERED:
		return read_discovered(value, path, arena, dst, (size_t *)(base + f->aux), err);
	case FIELD_VERSION:
		return read_integer(value, path, 1, 1, "not a supported version (1)", &n, err);
	case FIELD_SETTINGS:
		return read_object(value, path, settings_fields, N(settings_fields), dst, arena, err);
	case FIELD_NODES:
		r = read_array(value, path, node_fields, N(node_fields), sizeof(struct kilo_node), arena,
			       (void **)&mesh->nodes, &mesh->n_nodes, err);
		for (size_t i = 0; r == 0 && i < mesh->n_nodes; i++) {
			char item[KILO_JSON_PATH_MAX];

			path_printf(item, "%s[%zu]", path, i);
			r = check_node(item, &mesh->nodes[i], err);
		}
		return r;
	case FIELD_PEERS:
		return read_array(value, path, peer_fields, N(peer_fields), sizeof(struct kilo_peer), arena,
				  (void **)&mesh->peers, &mesh->n_peers, err);
	case FIELD_RESERVED:
		if (!json_is_array(value))
			return bad_value(err, path, value, "not an array");
		if (json_array_size(value) > 0)
			return kilo_error_set(err, EINVAL, "%s: not supported yet (must be empty)", path);
		return 0;
	}
	return -EINVAL;
}

static void set_empty_strings(const struct field *fields, size_t n_fields, unsigned char *base)
{
	for (size_t i = 0; i < n_fields; i++) {
		if (fields[i].type == FIELD_STRING && !*(const char **)(base + fields[i].offset))
			*(const char **)(base + fields[i].offset) = "";
	}
}

static int read_object(json_t *object, const char *path, const struct field *fields, size_t n_fields, void *base,
		       struct kilo_arena *arena, struct kilo_error *err)
{
	char sub[KILO_JSON_PATH_MAX];
	const struct field *f;
	const char *key;
	json_t *value;
	int r;

	if (!json_is_object(object))
		return bad_value(err, path[0] ? path : "document", object, "not an object");
	json_object_foreach(object, key, value) {
		join_path(sub, path, key);
		for (f = fields; f < fields + n_fields && strcmp(f->name, key) != 0; f++)
			;
		if (f == fields + n_fields)
			return kilo_error_set(err, EINVAL, "%s: unknown field", sub);
		r = read_field(f, value, sub, base, arena, err);
		if (r < 0)
			return r;
	}
	for (f = fields; f < fields + n_fields; f++) {
		if (f->required && !json_object_get(object, f->name)) {
			join_path(sub, path, f->name);
			return kilo_error_set(err, EINVAL, "%s: required field is missing", sub);
		}
	}
	set_empty_strings(fields, n_fields, base);
	return 0;
}

int kilo_json_read_node(json_t *object, const char *path, struct kilo_arena *arena, struct kilo_node *out,
			struct kilo_error *err)
{
	int r;

	memset(out, 0, sizeof(*out));
	r = read_object(object, path, node_fields, N(node_fields), out, arena, err);
	return r < 0 ? r : check_node(path, out, err);
}

int kilo_json_read_peer(json_t *object, const char *path, struct kilo_arena *arena, struct kilo_peer *out,
			struct kilo_error *err)
{
	memset(out, 0, sizeof(*out));
	return read_object(object, path, peer_fields, N(peer_fields), out, arena, err);
}

int kilo_json_read_settings(json_t *object, const char *path, struct kilo_arena *arena, struct kilo_settings *out,
			    struct kilo_error *err)
{
	kilo_settings_init(out);
	return read_object(object, path, settings_fields, N(settings_fields), out, arena, err);
}

/* ---- writing --------------------------------------------------------- */

json_t *kilo_json_key(const struct kilo_key *key)
{
	char text[KILO_KEY_B64_LEN + 1];
	json_t *v;

	kilo_key_format(key, text);
	v = json_string(text);
	sodium_memzero(text, sizeof(text));
	return v;
}

static json_t *discovered_json(const struct kilo_discovered_endpoint *eps, size_t n)
{
	char key[KILO_KEY_B64_LEN + 1];
	json_t *map = json_object();

	for (size_t i = 0; map && i < n; i++) {
		kilo_key_format(&eps[i].key, key);
		if (json_object_set_new(map, key, kilo_jsonval_endpoint(&eps[i].endpoint)) < 0) {
			json_decref(map);
			return NULL;
		}
	}
	return map;
}

/* The value of field f, or json_null() when it is empty and may be left out. */
static json_t *field_json(const struct field *f, const unsigned char *base)
{
	const void *src = base + f->offset;
	size_t count = f->aux ? *(const size_t *)(base + f->aux) : 0;

	switch (f->type) {
	case FIELD_NAME:
		return json_string(*(const char *const *)src);
	case FIELD_STRING:
		return **(const char *const *)src ? json_string(*(const char *const *)src) : json_null();
	case FIELD_BOOL:
		return *(const bool *)src ? json_true() : json_null();
	case FIELD_ENDPOINT:
		return kilo_jsonval_endpoint(src);
	case FIELD_CIDR:
	case FIELD_CIDR_MASKED:
		return kilo_jsonval_cidr(src);
	case FIELD_CIDR_LIST:
		return count ? kilo_jsonval_cidrs(*(struct kilo_cidr *const *)src, count) : json_null();
	case FIELD_KEY:
		return f->required || !kilo_key_is_zero(src) ? kilo_json_key(src) : json_null();
	case FIELD_SECRET_KEY:
		return *(const bool *)(base + f->aux) ? kilo_json_key(src) : json_null();
	case FIELD_KEEPALIVE:
		return *(const uint32_t *)src ? json_integer(*(const uint32_t *)src) : json_null();
	case FIELD_UNIX_TIME:
		return *(const int64_t *)src ? json_integer(*(const int64_t *)src) : json_null();
	case FIELD_PORT:
		return json_integer(*(const uint16_t *)src);
	case FIELD_GRANULARITY:
		return json_string(kilo_granularity_name(*(const enum kilo_granularity *)src));
	case FIELD_DISCOVERED:
		return count ? discovered_json(*(struct kilo_discovered_endpoint *const *)src, count) : json_null();
	default:
		return json_null();
	}
}

static json_t *write_object(const struct field *fields, size_t n_fields, const void *base)
{
	json_t *object = json_object(), *v;

	for (size_t i = 0; object && i < n_fields; i++) {
		v = field_json(&fields[i], base);
		if (!v || (!json_is_null(v) && json_object_set_new(object, fields[i].name, v) < 0)) {
			json_decref(object);
			return NULL;
		}
	}
	return object;
}

json_t *kilo_json_write_node(const struct kilo_node *node)
{
	return write_object(node_fields, N(node_fields), node);
}

json_t *kilo_json_write_peer(const struct kilo_peer *peer)
{
	return write_object(peer_fields, N(peer_fields), peer);
}

json_t *kilo_json_write_settings(const struct kilo_settings *settings)
{
	return write_object(settings_fields, N(settings_fields), settings);
}

static int dump_to_strbuf(const char *buffer, size_t size, void *data)
{
	kilo_strbuf_append_len(data, buffer, size);
	return 0;
}

int kilo_json_dump(json_t *root, char **out)
{
	struct kilo_strbuf sb = { 0 };

	if (json_dump_callback(root, dump_to_strbuf, &sb, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0) {
		kilo_strbuf_reset(&sb);
		return -ENOMEM;
	}
	kilo_strbuf_append(&sb, "\n");
	return kilo_strbuf_finish(&sb, out);
}

/* ---- the document ---------------------------------------------------- */

int kilo_mesh_from_json(const char *text, size_t len, kilo_mesh **out, struct kilo_error *err)
{
	struct kilo_mesh *mesh = NULL;
	json_error_t jerr;
	json_t *root;
	int r;

	*out = NULL;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return kilo_error_set(err, EINVAL, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
	mesh = kilo_mesh_new();
	if (!mesh) {
		r = -ENOMEM;
		goto out;
	}
	r = read_object(root, "", document_fields, N(document_fields), mesh, &mesh->arena, err);
	if (r < 0)
		goto out;
	r = kilo_mesh_validate(mesh, err);
	if (r == 0)
		r = kilo_mesh_sort_nodes(mesh);
	if (r < 0)
		goto out;
	*out = mesh;
	mesh = NULL;
out:
	if (r == -ENOMEM)
		kilo_error_set(err, ENOMEM, "out of memory");
	kilo_mesh_free(mesh);
	json_decref(root);
	return r;
}

int kilo_mesh_load_file(const char *path, kilo_mesh **out, struct kilo_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int fd, r;

	*out = NULL;
	if (!path)
		return kilo_error_set(err, EINVAL, "mesh document: path is NULL");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kilo_error_set(err, errno, "mesh document %s: %s", path, strerror(errno));
	r = kilo_read_all(fd, KILO_MESH_MAX_BYTES, &text, &len);
	close(fd);
	if (r == -EFBIG)
		return kilo_error_set(err, EFBIG, "mesh document %s: larger than %u MiB", path, KILO_MESH_MAX_BYTES >> 20);
	if (r < 0)
		return kilo_error_set(err, -r, "mesh document %s: %s", path, strerror(-r));
	r = kilo_mesh_from_json(text, len, out, err);
	if (r < 0)
		kilo_error_prefix(err, "mesh document %s", path);
	free(text);
	return r;
}

static json_t *write_list(json_t *(*write)(const void *), const void *items, size_t n, size_t size)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < n; i++) {
		if (json_array_append_new(list, write((const unsigned char *)items + i * size)) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

static json_t *write_node_item(const void *node)
{
	return kilo_json_write_node(node);
}

static json_t *write_peer_item(const void *peer)
{
	return kilo_json_write_peer(peer);
}

int kilo_mesh_to_json(const kilo_mesh *mesh, char **out, struct kilo_error *err)
{
	json_t *root = json_object(), *peers, *peer;
	size_t i;
	int r = -ENOMEM;

	if (!mesh || !out) {
		json_decref(root);
		return kilo_error_set(err, EINVAL, "mesh document: %s is NULL", mesh ? "out" : "mesh");
	}
	*out = NULL;
	if (!root || json_object_set_new(root, "version", json_integer(1)) < 0 ||
	    json_object_set_new(root, "settings", kilo_json_write_settings(&mesh->settings)) < 0 ||
	    json_object_set_new(root, "nodes", write_list(write_node_item, mesh->nodes, mesh->n_nodes,
							  sizeof(*mesh->nodes))) < 0 ||
	    json_object_set_new(root, "peers", write_list(write_peer_item, mesh->peers, mesh->n_peers,
							  sizeof(*mesh->peers))) < 0)
		goto out;
	r = kilo_json_dump(root, out);
out:
	if (r < 0)
		kilo_error_set(err, -r, "mesh document of %zu nodes and %zu peers: %s", mesh->n_nodes, mesh->n_peers,
			       strerror(-r));
	peers = json_object_get(root, "peers");
	json_array_foreach(peers, i, peer)
		kilo_json_wipe_string(json_object_get(peer, "presharedKey"));
	json_decref(root);
	return r;
}
