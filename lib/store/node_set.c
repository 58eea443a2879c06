// SPDX-License-Identifier: Apache-2.0
/*
 * `kgctl node set`: the settings that Kilo reads from a node's annotations
 * and pod CIDR, changed in the store. The keys are kg's flag names, so an
 * operator uses the same words at start and later.
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/error.h"
#include "store.h"

enum value_type {
	VALUE_STRING,
	VALUE_BOOL,
	VALUE_SECONDS,
	VALUE_LIST,
};

struct setting {
	const char *key;   /* as kg's flag */
	const char *field; /* in the mesh document's node */
	enum value_type type;
	/* Dual stack: "A,B" puts B here; a single value removes it. NULL: no second value. */
	const char *secondary_field;
};

static const struct setting settings[] = {
	{ "location", "location", VALUE_STRING, NULL },
	{ "leader", "leader", VALUE_BOOL, NULL },
	{ "force-endpoint", "endpoint", VALUE_STRING, NULL },
	{ "force-internal-ip", "internalIP", VALUE_STRING, "secondaryInternalIP" },
	{ "persistent-keepalive", "persistentKeepalive", VALUE_SECONDS, NULL },
	{ "allowed-location-ips", "allowedLocationIPs", VALUE_LIST, NULL },
	{ "pod-cidr", "podCIDR", VALUE_STRING, "secondaryPodCIDR" },
};

static json_t *list_value(const char *text)
{
	json_t *list = json_array();
	const char *comma;

	while (list && *text) {
		comma = strchr(text, ',');
		if (json_array_append_new(list, json_stringn(text, comma ? (size_t)(comma - text) : strlen(text))) < 0) {
			json_decref(list);
			return NULL;
		}
		if (!comma)
			break;
		text = comma + 1;
	}
	return list;
}

/* The JSON value of text for setting s; NULL with err set when it is not one. */
static json_t *value_of(const struct setting *s, const char *text, struct kilo_error *err)
{
	char *end;
	long long n;

	switch (s->type) {
	case VALUE_STRING:
		return json_string(text);
	case VALUE_BOOL:
		if (!strcmp(text, "true") || !strcmp(text, "false"))
			return json_boolean(!strcmp(text, "true"));
		kilo_error_set(err, EINVAL, "%s: \"%.200s\" is not true or false", s->key, text);
		return NULL;
	case VALUE_SECONDS:
		errno = 0;
		n = strtoll(text, &end, 10);
		if (!errno && end != text && !*end && text[0] != '-' && text[0] != '+')
			return json_integer(n);
		kilo_error_set(err, EINVAL, "%s: \"%.200s\" is not a whole number of seconds", s->key, text);
		return NULL;
	case VALUE_LIST:
		return list_value(text);
	}
	return NULL;
}

static int apply(json_t *node, const char *assignment, struct kilo_error *err)
{
	const char *eq = strchr(assignment, '=');
	const struct setting *s = NULL;
	size_t key_len;
	json_t *value;

	if (!eq)
		return kilo_error_set(err, EINVAL, "\"%.200s\" is not KEY=VALUE", assignment);
	key_len = (size_t)(eq - assignment);
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		if (strlen(settings[i].key) == key_len && !strncmp(settings[i].key, assignment, key_len))
			s = &settings[i];
	}
	if (!s)
		return kilo_error_set(err, EINVAL,
				      "unknown key \"%.*s\" (expected location, leader, force-endpoint, force-internal-ip, "
				      "persistent-keepalive, allowed-location-ips or pod-cidr)",
				      (int)(key_len > 100 ? 100 : key_len), assignment);
	if (s->secondary_field) {
		const char *comma = strchr(eq + 1, ',');

		json_object_del(node, s->secondary_field);
		if (comma && json_object_set_new(node, s->secondary_field, json_string(comma + 1)) < 0)
			return kilo_error_set(err, ENOMEM, "out of memory");
		if (comma && json_object_set_new(node, s->field, json_stringn(eq + 1, (size_t)(comma - eq - 1))) < 0)
			return kilo_error_set(err, ENOMEM, "out of memory");
		if (comma)
			return 0;
	}
	if (!eq[1]) {
		json_object_del(node, s->field);
		return 0;
	}
	value = value_of(s, eq + 1, err);
	if (!value)
		return err && err->code ? -err->code : kilo_error_set(err, ENOMEM, "out of memory");
	if (json_object_set_new(node, s->field, value) < 0)
		return kilo_error_set(err, ENOMEM, "out of memory");
	return 0;
}

/* One read, edit and compare-and-swap; -EAGAIN when another writer came between the read and the write. */
static int set_once(kilo_store *store, const char *name, const char *const *assignments, size_t n,
		    struct kilo_error *err)
{
	char *text = NULL, *edited = NULL;
	json_t *node = NULL;
	int64_t version;
	int r;

	r = kilo_store_get_node_version(store, name, &text, &version, err);
	if (r < 0)
		return r;
	node = json_loads(text, 0, NULL);
	if (!node) {
		r = kilo_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		r = apply(node, assignments[i], err);
		if (r < 0)
			goto out;
	}
	edited = json_dumps(node, JSON_PRESERVE_ORDER);
	if (!edited) {
		r = kilo_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	r = kilo_store_put_if(store, KILO_STORE_NODE, edited, version, err);
out:
	free(edited);
	json_decref(node);
	kilo_free(text);
	return r;
}

/* Two operators (or an operator and the node's agent) may edit one node at once: neither edit is lost. */
int kilo_store_set_node(kilo_store *store, const char *name, const char *const *assignments, size_t n,
			struct kilo_error *err)
{
	int r = -EAGAIN;

	for (unsigned i = 0; i < KILO_STORE_CAS_TRIES && r == -EAGAIN; i++) {
		if (i > 0) {
			/*
			 * A writer in a tight loop wins every race against one that
			 * reads again after losing: a random wait (up to 2, 4 ..
			 * 64 ms) lets the loser in.
			 */
			unsigned ms = randombytes_uniform(1u << (i < 7 ? i : 6)) + 1;
			struct timespec wait = { .tv_nsec = (long)ms * 1000000 };

			nanosleep(&wait, NULL);
		}
		if (err)
			memset(err, 0, sizeof(*err));
		r = set_once(store, name, assignments, n, err);
	}
	return r;
}
