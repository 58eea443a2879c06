/* SPDX-License-Identifier: Apache-2.0 */
/* From a vector's Go-shaped input to a mesh document, and JSON comparison. */
#include "runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void check_text(struct check *c, const char *what, const char *expected, const char *actual)
{
	size_t i = 0;

	if (actual && strcmp(expected, actual) == 0)
		return;
	if (!actual) {
		check_fail(c, "%s: no output", what);
		return;
	}
	while (expected[i] && expected[i] == actual[i])
		i++;
	check_fail(c, "%s differs at byte %zu: expected \"%.60s\", got \"%.60s\"", what, i, expected + i, actual + i);
}

/* Compact JSON text of v for messages, in a buffer of the caller's. */
static const char *dump(json_t *v, char *buf, size_t size)
{
	char *text = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;

	snprintf(buf, size, "%s", text ? text : "nothing");
	free(text);
	return buf;
}

static bool is_empty(json_t *v)
{
	return !v || json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0) ||
	       (json_is_object(v) && json_object_size(v) == 0);
}

void check_json(struct check *c, const char *path, json_t *expected, json_t *actual)
{
	char sub[512], e[400], a[400];

	if (!c->ok)
		return;
	if (json_is_null(expected)) {
		if (!is_empty(actual))
			check_fail(c, "%s: expected null, got %s", path, dump(actual, a, sizeof(a)));
		return;
	}
	if (json_is_object(expected)) {
		const char *key;
		json_t *value;

		if (!json_is_object(actual)) {
			check_fail(c, "%s: expected an object", path);
			return;
		}
		json_object_foreach(expected, key, value) {
			snprintf(sub, sizeof(sub), "%s.%s", path, key);
			check_json(c, sub, value, json_object_get(actual, key));
		}
		return;
	}
	if (json_is_array(expected)) {
		size_t i;
		json_t *value;

		if (!json_is_array(actual) || json_array_size(actual) != json_array_size(expected)) {
			check_fail(c, "%s: expected %zu entries %s, got %s", path, json_array_size(expected),
				   dump(expected, e, sizeof(e)), dump(actual, a, sizeof(a)));
			return;
		}
		json_array_foreach(expected, i, value) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			check_json(c, sub, value, json_array_get(actual, i));
		}
		return;
	}
	if (!actual || !json_equal(expected, actual))
		check_fail(c, "%s: expected %s, got %s", path, dump(expected, e, sizeof(e)), dump(actual, a, sizeof(a)));
}

json_t *vector_endpoint_text(json_t *endpoint)
{
	json_t *ip = json_object_get(endpoint, "ip"), *dns = json_object_get(endpoint, "dns");
	char text[300];

	if (json_is_string(dns))
		return json_string(json_string_value(dns));
	if (!json_is_string(ip))
		return json_null();
	snprintf(text, sizeof(text), strchr(json_string_value(ip), ':') ? "[%s]:%lld" : "%s:%lld",
		 json_string_value(ip), (long long)json_integer_value(json_object_get(endpoint, "port")));
	return json_string(text);
}

json_int_t vector_seconds(json_t *ns)
{
	return json_integer_value(ns) / 1000000000;
}

/* Copies a string-valued field under a new name when it is set. */
static void copy_string(json_t *to, const char *to_key, json_t *from, const char *from_key)
{
	json_t *v = json_object_get(from, from_key);

	if (json_is_string(v))
		json_object_set_new(to, to_key, json_string(json_string_value(v)));
}

static void copy_list(json_t *to, const char *to_key, json_t *from, const char *from_key)
{
	json_t *v = json_object_get(from, from_key);

	if (json_is_array(v) && json_array_size(v) > 0)
		json_object_set(to, to_key, v);
}

static void set_endpoint(json_t *to, json_t *endpoint)
{
	json_t *text = vector_endpoint_text(endpoint);

	if (json_is_string(text))
		json_object_set(to, "endpoint", text);
	json_decref(text);
}

static json_t *vector_node(json_t *n)
{
	json_t *node = json_object(), *discovered = json_object_get(n, "discovered_endpoints");

	copy_string(node, "name", n, "name");
	copy_string(node, "location", n, "location");
	set_endpoint(node, json_object_get(n, "endpoint"));
	copy_string(node, "internalIP", n, "internal_ip");
	copy_string(node, "podCIDR", n, "subnet");
	copy_string(node, "publicKey", n, "key");
	copy_string(node, "cniCompatibilityIP", n, "cni_compatibility_ip");
	copy_list(node, "allowedLocationIPs", n, "allowed_location_ips");
	json_object_set_new(node, "leader", json_boolean(json_is_true(json_object_get(n, "leader"))));
	json_object_set_new(node, "persistentKeepalive",
			    json_integer(vector_seconds(json_object_get(n, "persistent_keepalive_ns"))));
	if (json_is_object(discovered) && json_object_size(discovered) > 0) {
		json_t *map = json_object(), *ep;
		const char *key;

		json_object_foreach(discovered, key, ep)
			json_object_set_new(map, key, vector_endpoint_text(ep));
		json_object_set_new(node, "discoveredEndpoints", map);
	}
	return node;
}

static json_t *vector_peer(json_t *p)
{
	json_t *peer = json_object();

	copy_string(peer, "name", p, "name");
	copy_string(peer, "publicKey", p, "public_key");
	copy_list(peer, "allowedIPs", p, "allowed_ips");
	set_endpoint(peer, json_object_get(p, "endpoint"));
	copy_string(peer, "presharedKey", p, "psk");
	if (json_is_integer(json_object_get(p, "pka_ns")))
		json_object_set_new(peer, "persistentKeepalive", json_integer(vector_seconds(json_object_get(p, "pka_ns"))));
	return peer;
}

kilo_mesh *vector_mesh(json_t *input, json_t *fixture, struct check *c)
{
	json_t *doc = json_object(), *settings = json_object(), *nodes = json_array(), *peers = json_array(), *v;
	json_t *source = json_is_array(json_object_get(input, "nodes")) ? input : fixture;
	struct kilo_error err = { 0 };
	kilo_mesh *mesh = NULL;
	char *text;
	size_t i;

	if (!source) {
		check_fail(c, "the case needs Kilo's test fixture and the file has none");
		goto out;
	}
	copy_string(settings, "granularity", input, "granularity");
	copy_string(settings, "subnet", input, "kilo_subnet");
	if (json_integer_value(json_object_get(input, "port")) > 0)
		json_object_set(settings, "port", json_object_get(input, "port"));
	copy_list(settings, "serviceCIDRs", input, "service_cidrs");
	json_array_foreach(json_object_get(source, "nodes"), i, v)
		json_array_append_new(nodes, vector_node(v));
	json_array_foreach(json_object_get(source, "peers"), i, v)
		json_array_append_new(peers, vector_peer(v));
	json_object_set_new(doc, "version", json_integer(1));
	json_object_set(doc, "settings", settings);
	json_object_set(doc, "nodes", nodes);
	json_object_set(doc, "peers", peers);
	text = json_dumps(doc, JSON_COMPACT);
	if (kilo_mesh_from_json(text, strlen(text), &mesh, &err) < 0)
		check_fail(c, "mesh document rejected: %s", err.message);
	free(text);
out:
	json_decref(settings);
	json_decref(nodes);
	json_decref(peers);
	json_decref(doc);
	return mesh;
}

kilo_topology *vector_solve(kilo_mesh *mesh, json_t *input, const char *hostname, struct check *c)
{
	struct kilo_solve_opts opts = { .sz = sizeof(opts), .hostname = hostname };
	struct kilo_error err = { 0 };
	struct kilo_key key;
	kilo_topology *t = NULL;
	json_t *pk = json_object_get(input, "private_key");

	if (json_is_string(pk) && kilo_key_parse(json_string_value(pk), &key, NULL) == 0)
		opts.private_key = &key;
	opts.port = (uint16_t)json_integer_value(json_object_get(input, "port"));
	opts.override_keepalive = true;
	opts.persistent_keepalive = (uint32_t)vector_seconds(json_object_get(input, "persistent_keepalive_ns"));
	if (kilo_topology_solve(mesh, &opts, &t, &err) < 0)
		check_fail(c, "solve failed: %s", err.message);
	kilo_key_wipe(&key);
	return t;
}
