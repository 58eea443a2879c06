/* SPDX-License-Identifier: Apache-2.0 */
/* Cases of Kilo's Kubernetes translation: node annotations and Peer objects. */
#include "runner.h"

#include <stdio.h>
#include <string.h>

#define ZERO_KEY_PLACEHOLDER "<zero key>"
#define UNRESOLVED_SUFFIX " (unresolved DNS endpoint)"

/*
 * Kilo's tests use keys made at random when they start; the vectors name
 * them "<fooKey: ...>". Every such placeholder becomes one fresh key, the
 * same in the input and in the expected output.
 */
struct placeholders {
	char names[8][128];
	char keys[8][KILO_KEY_B64_LEN + 1];
	size_t n;
};

static const char *placeholder_key(struct placeholders *p, const char *name)
{
	struct kilo_key key;
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->names[i], name) == 0)
			return p->keys[i];
	if (p->n == 8 || kilo_key_generate(&key, NULL) < 0)
		return name;
	snprintf(p->names[p->n], sizeof(p->names[0]), "%s", name);
	kilo_key_format(&key, p->keys[p->n]);
	kilo_key_wipe(&key);
	return p->keys[p->n++];
}

/* A deep copy of v with key placeholders replaced and the unresolved-DNS note dropped. */
static json_t *resolved(json_t *v, struct placeholders *p)
{
	const char *key, *s;
	json_t *item, *copy;
	size_t i;

	if (json_is_object(v)) {
		copy = json_object();
		json_object_foreach(v, key, item)
			json_object_set_new(copy, key, resolved(item, p));
		return copy;
	}
	if (json_is_array(v)) {
		copy = json_array();
		json_array_foreach(v, i, item)
			json_array_append_new(copy, resolved(item, p));
		return copy;
	}
	if (json_is_string(v)) {
		s = json_string_value(v);
		if (s[0] == '<' && strstr(s, "Key") && s[strlen(s) - 1] == '>')
			return json_string(placeholder_key(p, s));
		if (strlen(s) > strlen(UNRESOLVED_SUFFIX) &&
		    strcmp(s + strlen(s) - strlen(UNRESOLVED_SUFFIX), UNRESOLVED_SUFFIX) == 0)
			return json_stringn(s, strlen(s) - strlen(UNRESOLVED_SUFFIX));
	}
	return json_deep_copy(v);
}

static bool is_zero_value(json_t *v)
{
	return !v || json_is_null(v) || json_is_false(v) || (json_is_integer(v) && json_integer_value(v) == 0) ||
	       (json_is_string(v) && json_string_length(v) == 0) || (json_is_array(v) && json_array_size(v) == 0) ||
	       (json_is_object(v) && json_object_size(v) == 0);
}

/*
 * expected lists Go field names with their values; every other field of the
 * translated object must be absent or a zero value.
 */
static void check_fields(struct check *c, json_t *expected, json_t *actual, const char *const (*names)[2])
{
	const char *key;
	json_t *value;

	for (size_t i = 0; names[i][0]; i++) {
		json_t *want = json_object_get(expected, names[i][0]);

		if (!names[i][1])
			continue;
		if (want && !is_zero_value(want) &&
		    !(json_is_string(want) && strcmp(json_string_value(want), ZERO_KEY_PLACEHOLDER) == 0))
			check_json(c, names[i][1], want, json_object_get(actual, names[i][1]));
		else if (!is_zero_value(json_object_get(actual, names[i][1])))
			check_fail(c, "%s: expected the zero value", names[i][1]);
	}
	json_object_foreach(actual, key, value) {
		bool listed = strcmp(key, "name") == 0;

		for (size_t i = 0; names[i][0] && !listed; i++)
			listed = names[i][1] && strcmp(names[i][1], key) == 0;
		if (!listed && !is_zero_value(value))
			check_fail(c, "%s: unexpected field", key);
	}
}

static void check_node(json_t *input, json_t *expected, struct check *c)
{
	/* Kilo's NoInternalIP has no field of its own in the mesh document: it is an absent internalIP. */
	static const char *const names[][2] = {
		{ "endpoint", "endpoint" },
		{ "internal_ip", "internalIP" },
		{ "no_internal_ip", NULL },
		{ "key", "publicKey" },
		{ "last_seen", "lastSeen" },
		{ "leader", "leader" },
		{ "location", "location" },
		{ "persistent_keepalive_s", "persistentKeepalive" },
		{ "subnet", "podCIDR" },
		{ "wireguard_ip", "wireGuardIP" },
		{ "allowed_location_ips", "allowedLocationIPs" },
		{ "discovered_endpoints", "discoveredEndpoints" },
		{ "granularity", "granularity" },
		{ NULL, NULL },
	};
	json_t *object, *spec = json_object(), *got = NULL;
	struct kilo_error err = { 0 };
	char *text = NULL, *out = NULL;
	const char *label = json_string_value(json_object_get(input, "topology_label"));

	if (json_is_string(json_object_get(input, "spec.podCIDR")))
		json_object_set(spec, "podCIDR", json_object_get(input, "spec.podCIDR"));
	object = json_pack("{s:{s:s, s:O, s:O}, s:o}", "metadata", "name", "node", "annotations",
			   json_object_get(input, "annotations"), "labels", json_object_get(input, "labels"), "spec", spec);
	text = json_dumps(object, JSON_COMPACT);
	if (kilo_node_from_kubernetes(text, label, &out, &err) < 0 || !(got = json_loads(out, 0, NULL)))
		check_fail(c, "translation failed: %s", err.message);
	else
		check_fields(c, expected, got, names);
	json_decref(got);
	json_decref(object);
	free(text);
	kilo_free(out);
}

static void check_peer(json_t *input, json_t *expected, struct check *c)
{
	static const char *const names[][2] = {
		{ "allowed_ips", "allowedIPs" },
		{ "endpoint", "endpoint" },
		{ "persistent_keepalive_s", "persistentKeepalive" },
		{ "preshared_key", "presharedKey" },
		{ "public_key", "publicKey" },
		{ NULL, NULL },
	};
	json_t *object, *got = NULL;
	struct kilo_error err = { 0 };
	char *text, *out = NULL;

	object = json_pack("{s:s, s:s, s:{s:s}, s:O}", "apiVersion", "kilo.squat.ai/v1alpha1", "kind", "Peer", "metadata",
			   "name", "peer", "spec", json_object_get(input, "spec"));
	text = json_dumps(object, JSON_COMPACT);
	if (kilo_peer_from_kubernetes(text, &out, &err) < 0 || !(got = json_loads(out, 0, NULL)))
		check_fail(c, "translation failed: %s", err.message);
	else
		check_fields(c, expected, got, names);
	json_decref(got);
	json_decref(object);
	free(text);
	kilo_free(out);
}

bool check_translation_kind(const char *kind, json_t *tc, struct check *c)
{
	struct placeholders p = { .n = 0 };
	json_t *input, *expected;
	bool node = strcmp(kind, "k8s_translate_node") == 0;

	if (!node && strcmp(kind, "k8s_translate_peer") != 0)
		return false;
	input = resolved(json_object_get(tc, "input"), &p);
	expected = resolved(json_object_get(tc, "expected"), &p);
	if (node)
		check_node(input, json_object_get(expected, "node_fields_not_listed_are_zero_values"), c);
	else
		check_peer(input, json_object_get(expected, "peer"), c);
	json_decref(input);
	json_decref(expected);
	return true;
}
