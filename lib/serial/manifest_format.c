// SPDX-License-Identifier: Apache-2.0
/*
 * Stored objects as `kubectl get` prints them: a table of the columns
 * kubectl shows for the kind (every namespace at once, as with -A; no
 * AGE, which the store does not keep), or JSON and YAML, a list of
 * several as a List.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kilo/manifest.h>

#include "../core/error.h"
#include "../core/strbuf.h"
#include "manifest_check.h"
#include "mesh_json.h"
#include "yaml.h"

#define MAX_COLUMNS 6
/* kubectl's ENDPOINTS column shows this many addresses, then "+ N more...". */
#define SHOWN_ADDRESSES 3

typedef void (*row_fn)(json_t *object, struct kilo_strbuf cells[MAX_COLUMNS]);

static const char *str(json_t *object, const char *key)
{
	return json_string_value(json_object_get(object, key)) ?: "";
}

static json_t *metadata(json_t *object)
{
	return json_object_get(object, "metadata");
}

/* Appends item to a comma-separated cell. */
static void list_add(struct kilo_strbuf *cell, const char *item)
{
	kilo_strbuf_printf(cell, "%s%s", cell->len ? "," : "", item);
}

static void none_if_empty(struct kilo_strbuf cells[MAX_COLUMNS])
{
	for (size_t i = 0; i < MAX_COLUMNS; i++)
		if (!cells[i].len)
			kilo_strbuf_append(&cells[i], "<none>");
}

static void service_row(json_t *object, struct kilo_strbuf cells[MAX_COLUMNS])
{
	json_t *spec = json_object_get(object, "spec"), *port;
	size_t i;

	kilo_strbuf_append(&cells[0], str(metadata(object), "namespace"));
	kilo_strbuf_append(&cells[1], str(metadata(object), "name"));
	kilo_strbuf_append(&cells[2], str(spec, "type"));
	kilo_strbuf_append(&cells[3], str(spec, "clusterIP"));
	json_array_foreach(json_object_get(spec, "ports"), i, port) {
		char item[64];
		json_t *node_port = json_object_get(port, "nodePort");

		if (node_port)
			snprintf(item, sizeof(item), "%lld:%lld/%s", (long long)json_integer_value(json_object_get(port, "port")),
				 (long long)json_integer_value(node_port), str(port, "protocol"));
		else
			snprintf(item, sizeof(item), "%lld/%s", (long long)json_integer_value(json_object_get(port, "port")),
				 str(port, "protocol"));
		list_add(&cells[5], item);
	}
}

static void endpointslice_row(json_t *object, struct kilo_strbuf cells[MAX_COLUMNS])
{
	json_t *v, *address;
	size_t i, j, n = 0;

	kilo_strbuf_append(&cells[0], str(metadata(object), "namespace"));
	kilo_strbuf_append(&cells[1], str(metadata(object), "name"));
	kilo_strbuf_append(&cells[2], str(object, "addressType"));
	json_array_foreach(json_object_get(object, "ports"), i, v) {
		char item[24];

		snprintf(item, sizeof(item), "%lld", (long long)json_integer_value(json_object_get(v, "port")));
		list_add(&cells[3], item);
	}
	json_array_foreach(json_object_get(object, "endpoints"), i, v) {
		json_array_foreach(json_object_get(v, "addresses"), j, address) {
			if (n++ < SHOWN_ADDRESSES)
				list_add(&cells[4], json_string_value(address));
		}
	}
	if (n > SHOWN_ADDRESSES)
		kilo_strbuf_printf(&cells[4], " + %zu more...", n - SHOWN_ADDRESSES);
}

static void pod_row(json_t *object, struct kilo_strbuf cells[MAX_COLUMNS])
{
	kilo_strbuf_append(&cells[0], str(metadata(object), "namespace"));
	kilo_strbuf_append(&cells[1], str(metadata(object), "name"));
	kilo_strbuf_append(&cells[2], str(json_object_get(object, "spec"), "nodeName"));
	kilo_strbuf_append(&cells[3], str(json_object_get(object, "status"), "podIP"));
}

static void namespace_row(json_t *object, struct kilo_strbuf cells[MAX_COLUMNS])
{
	const char *key;
	json_t *v;

	kilo_strbuf_append(&cells[0], str(metadata(object), "name"));
	json_object_foreach(json_object_get(metadata(object), "labels"), key, v) {
		kilo_strbuf_printf(&cells[1], "%s%s=%s", cells[1].len ? "," : "", key, json_string_value(v));
	}
}

static void networkpolicy_row(json_t *object, struct kilo_strbuf cells[MAX_COLUMNS])
{
	json_t *labels = json_object_get(json_object_get(json_object_get(object, "spec"), "podSelector"), "matchLabels");
	const char *key;
	json_t *v;

	kilo_strbuf_append(&cells[0], str(metadata(object), "namespace"));
	kilo_strbuf_append(&cells[1], str(metadata(object), "name"));
	json_object_foreach(labels, key, v) {
		kilo_strbuf_printf(&cells[2], "%s%s=%s", cells[2].len ? "," : "", key, json_string_value(v));
	}
}

static void node_row(json_t *object, struct kilo_strbuf cells[MAX_COLUMNS])
{
	kilo_strbuf_append(&cells[0], str(object, "name"));
	kilo_strbuf_append(&cells[1], str(object, "location"));
	kilo_strbuf_append(&cells[2], str(object, "endpoint"));
	kilo_strbuf_append(&cells[3], str(object, "internalIP"));
	kilo_strbuf_append(&cells[4], str(object, "podCIDR"));
}

static void peer_row(json_t *object, struct kilo_strbuf cells[MAX_COLUMNS])
{
	json_t *v;
	size_t i;

	kilo_strbuf_append(&cells[0], str(object, "name"));
	json_array_foreach(json_object_get(object, "allowedIPs"), i, v)
		list_add(&cells[1], json_string_value(v));
	kilo_strbuf_append(&cells[2], str(object, "endpoint"));
}

static const struct table {
	const char *kind;
	const char *headers[MAX_COLUMNS];
	row_fn row;
} tables[] = {
	{ "Service", { "NAMESPACE", "NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)" }, service_row },
	{ "EndpointSlice", { "NAMESPACE", "NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS" }, endpointslice_row },
	{ "Pod", { "NAMESPACE", "NAME", "NODE", "IP" }, pod_row },
	{ "Namespace", { "NAME", "LABELS" }, namespace_row },
	{ "NetworkPolicy", { "NAMESPACE", "NAME", "POD-SELECTOR" }, networkpolicy_row },
	{ "Node", { "NAME", "LOCATION", "ENDPOINT", "INTERNAL-IP", "POD-CIDR" }, node_row },
	{ "Peer", { "NAME", "ALLOWED-IPS", "ENDPOINT" }, peer_row },
};

static size_t column_count(const struct table *t)
{
	size_t n = 0;

	while (n < MAX_COLUMNS && t->headers[n])
		n++;
	return n;
}

/* Rows of cells, padded as kubectl pads them: three spaces after the widest cell of each column. */
static void append_table(struct kilo_strbuf *sb, const struct table *t, json_t *list)
{
	size_t columns = column_count(t), n = json_array_size(list), width[MAX_COLUMNS] = { 0 };
	struct kilo_strbuf(*rows)[MAX_COLUMNS] = calloc(n + 1, sizeof(*rows));

	if (!rows) {
		sb->failed = true;
		return;
	}
	for (size_t c = 0; c < columns; c++)
		kilo_strbuf_append(&rows[0][c], t->headers[c]);
	for (size_t i = 0; i < n; i++) {
		t->row(json_array_get(list, i), rows[i + 1]);
		none_if_empty(rows[i + 1]);
	}
	for (size_t i = 0; i <= n; i++)
		for (size_t c = 0; c < columns; c++)
			if (rows[i][c].len > width[c])
				width[c] = rows[i][c].len;
	for (size_t i = 0; i <= n; i++) {
		for (size_t c = 0; c < columns; c++) {
			sb->failed |= rows[i][c].failed;
			if (c + 1 < columns)
				kilo_strbuf_printf(sb, "%-*s   ", (int)width[c], rows[i][c].data ?: "");
			else
				kilo_strbuf_printf(sb, "%s\n", rows[i][c].data ?: "");
		}
		for (size_t c = 0; c < MAX_COLUMNS; c++)
			kilo_strbuf_reset(&rows[i][c]);
	}
	free(rows);
}

int kilo_objects_format(const char *kind, const char *json, enum kilo_object_format format, char **out,
			struct kilo_error *err)
{
	const char *name = kilo_object_kind(kind);
	struct kilo_strbuf sb = { 0 };
	const struct table *t = NULL;
	json_error_t jerr;
	json_t *root, *list = NULL;
	char *text;
	int r;

	*out = NULL;
	if (!name)
		return kilo_error_set(err, EINVAL, "kind: \"%.80s\" is not one libkilo stores", kind ? kind : "");
	if (format != KILO_OBJECT_TABLE && format != KILO_OBJECT_JSON && format != KILO_OBJECT_YAML)
		return kilo_error_set(err, EINVAL, "format: %d is not a table, JSON or YAML", (int)format);
	root = json ? json_loads(json, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	if (!json_is_object(root) && !json_is_array(root)) {
		json_decref(root);
		return kilo_error_set(err, EINVAL, "objects: %s", json ? "not a JSON object or array" : "none given");
	}
	if (format == KILO_OBJECT_TABLE) {
		for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
			if (!strcmp(tables[i].kind, name))
				t = &tables[i];
		list = json_is_array(root) ? json_incref(root) : json_pack("[O]", root);
		/* As kubectl, no header over no rows. */
		kilo_strbuf_append(&sb, "");
		if (list && json_array_size(list))
			append_table(&sb, t, list);
		json_decref(list);
		r = list ? kilo_strbuf_finish_named(&sb, out, "objects", err) : kilo_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if (json_is_array(root)) {
		list = json_pack("{s:s,s:O,s:s,s:{s:s}}", "apiVersion", "v1", "items", root, "kind", "List", "metadata",
				 "resourceVersion", "");
		json_decref(root);
		root = list;
		if (!root)
			return kilo_error_set(err, ENOMEM, "out of memory");
	}
	if (format == KILO_OBJECT_YAML) {
		kilo_yaml_append(&sb, root);
		r = kilo_strbuf_finish_named(&sb, out, "objects", err);
	} else {
		r = kilo_json_dump(root, &text);
		if (r == 0)
			*out = text;
		else
			kilo_error_set(err, ENOMEM, "out of memory");
	}
out:
	json_decref(root);
	return r;
}
