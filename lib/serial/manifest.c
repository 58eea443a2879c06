// SPDX-License-Identifier: Apache-2.0
/*
 * Manifests: the objects of a YAML or JSON text, each on its own, so that
 * the store checks and keeps every good one and reports every bad one,
 * as kubectl apply does.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kilo/manifest.h>

#include "../core/array.h"
#include "../core/error.h"
#include "manifest_check.h"
#include "yaml_read.h"

struct entry {
	struct kilo_manifest_object object;
	json_t *root; /* what kind, ns and name point into */
	char *json;
	char *resource; /* of its own: the entries move as they grow */
};

struct kilo_manifest {
	struct entry *entries;
	size_t n, cap;
};

/* Whether value nests no deeper than limit: the writers recurse over what the readers let in. */
static bool depth_within(json_t *value, size_t limit)
{
	const char *key;
	json_t *v;
	size_t i;

	if (!json_is_object(value) && !json_is_array(value))
		return true;
	if (!limit)
		return false;
	if (json_is_object(value)) {
		json_object_foreach(value, key, v)
			if (!depth_within(v, limit - 1))
				return false;
	} else {
		json_array_foreach(value, i, v)
			if (!depth_within(v, limit - 1))
				return false;
	}
	return true;
}

/* kubectl's name of a kind in messages: lower case, with the API group when it has one. */
#define RESOURCE_MAX 128

static void resource_name(const char *kind, char out[RESOURCE_MAX])
{
	const struct kilo_object_kind *k = kilo_object_kind_lookup(kind);
	const char *slash = k ? strchr(k->api_version, '/') : NULL;
	size_t n = 0;

	for (; kind[n] && n < 63; n++)
		out[n] = (char)(kind[n] >= 'A' && kind[n] <= 'Z' ? kind[n] - 'A' + 'a' : kind[n]);
	out[n] = '\0';
	if (slash)
		snprintf(out + n, RESOURCE_MAX - n, ".%.*s", (int)(slash - k->api_version), k->api_version);
}

static int add_object(kilo_manifest *m, json_t *object, size_t document, size_t line, size_t item,
		      struct kilo_error *err)
{
	struct entry *e;

	if (kilo_array_reserve((void **)&m->entries, &m->cap, m->n + 1, sizeof(*m->entries)) < 0)
		return kilo_error_set(err, ENOMEM, "out of memory");
	e = &m->entries[m->n];
	memset(e, 0, sizeof(*e));
	e->json = json_dumps(object, JSON_COMPACT);
	e->resource = malloc(RESOURCE_MAX);
	if (!e->json || !e->resource) {
		free(e->json);
		free(e->resource);
		return kilo_error_set(err, ENOMEM, "out of memory");
	}
	e->root = json_incref(object);
	kilo_object_identify(object, &e->object.kind, &e->object.ns, &e->object.name);
	resource_name(e->object.kind, e->resource);
	e->object.resource = e->resource;
	e->object.json = e->json;
	e->object.document = document;
	e->object.line = line;
	e->object.item = item;
	m->n++;
	return 0;
}

/* A kind of the form FooList (List, NodeList, ...) with items: each item is an object of its own. */
static bool is_list(json_t *root)
{
	const char *kind = json_string_value(json_object_get(root, "kind"));
	size_t n = kind ? strlen(kind) : 0;

	return n >= 4 && !strcmp(kind + n - 4, "List") && json_object_get(root, "items");
}

static int take_document(void *ctx, json_t *root, size_t document, size_t line, struct kilo_error *err)
{
	kilo_manifest *m = ctx;
	json_t *items, *item;
	size_t i;
	int r = 0;

	if (json_is_null(root))
		goto out;
	if (!json_is_object(root)) {
		r = kilo_error_set(err, EINVAL, "document %zu, line %zu: not an object (a Kubernetes object is a mapping)",
				   document, line);
		goto out;
	}
	if (!depth_within(root, KILO_YAML_MAX_DEPTH)) {
		r = kilo_error_set(err, EINVAL, "document %zu, line %zu: nested deeper than %d levels", document, line,
				   KILO_YAML_MAX_DEPTH);
		goto out;
	}
	if (!is_list(root)) {
		r = add_object(m, root, document, line, 0, err);
		goto out;
	}
	items = json_object_get(root, "items");
	if (!json_is_array(items) && !json_is_null(items)) {
		r = kilo_error_set(err, EINVAL, "document %zu, line %zu: items: not a list", document, line);
		goto out;
	}
	json_array_foreach(items, i, item) {
		if (!json_is_object(item)) {
			r = kilo_error_set(err, EINVAL, "document %zu, line %zu: items[%zu]: not an object", document, line, i);
			break;
		}
		r = add_object(m, item, document, line, i + 1, err);
		if (r < 0)
			break;
	}
out:
	json_decref(root);
	return r;
}

/* JSON is read by jansson: its numbers, escapes and errors are JSON's, not YAML's. */
static bool looks_like_json(const char *text, size_t len)
{
	size_t i = 0;

	while (i < len && strchr(" \t\r\n", text[i]) && text[i])
		i++;
	return i < len && (text[i] == '{' || text[i] == '[');
}

int kilo_manifest_read(const char *text, size_t len, kilo_manifest **out, struct kilo_error *err)
{
	kilo_manifest *m;
	json_error_t jerr;
	json_t *root;
	int r;

	*out = NULL;
	if (!text)
		return kilo_error_set(err, EINVAL, "manifest: no text given");
	if (len > KILO_MANIFEST_MAX_BYTES)
		return kilo_error_set(err, EFBIG, "manifest: larger than %u MiB", KILO_MANIFEST_MAX_BYTES >> 20);
	m = calloc(1, sizeof(*m));
	if (!m)
		return kilo_error_set(err, ENOMEM, "out of memory");
	if (looks_like_json(text, len)) {
		root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
		r = root ? take_document(m, root, 1, 1, err)
			 : kilo_error_set(err, EINVAL, "document 1, line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
	} else {
		r = kilo_yaml_read(text, len, take_document, m, err);
	}
	if (r < 0) {
		kilo_manifest_free(m);
		return r;
	}
	*out = m;
	return 0;
}

size_t kilo_manifest_count(const kilo_manifest *manifest)
{
	return manifest ? manifest->n : 0;
}

const struct kilo_manifest_object *kilo_manifest_object(const kilo_manifest *manifest, size_t i)
{
	return manifest && i < manifest->n ? &manifest->entries[i].object : NULL;
}

void kilo_manifest_free(kilo_manifest *manifest)
{
	if (!manifest)
		return;
	for (size_t i = 0; i < manifest->n; i++) {
		json_decref(manifest->entries[i].root);
		/* A Peer's text may hold its preshared key. */
		sodium_memzero(manifest->entries[i].json, strlen(manifest->entries[i].json));
		free(manifest->entries[i].json);
		free(manifest->entries[i].resource);
	}
	free(manifest->entries);
	free(manifest);
}

const char *kilo_object_kind(const char *name)
{
	const struct kilo_object_kind *kind = kilo_object_kind_lookup(name);

	return kind ? kind->kind : NULL;
}
