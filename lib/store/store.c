// SPDX-License-Identifier: Apache-2.0
/*
 * The store interface: the URI's scheme picks the kind, and every object
 * that goes in or comes out is validated here, the same for every kind.
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../core/opts.h"
#include "../core/strbuf.h"
#include "../serial/mesh_json.h"
#include "store.h"

static int open_file(const char *uri, const struct kilo_store_opts *opts, kilo_store **out, struct kilo_error *err)
{
	(void)opts;
	return kilo_file_store_open(uri + strlen("file:"), out, err);
}

struct scheme {
	const char *prefix;
	int (*open)(const char *uri, const struct kilo_store_opts *opts, kilo_store **out, struct kilo_error *err);
};

static const struct scheme schemes[] = {
	{ "file:", open_file },
	{ "etcd://", kilo_etcd_store_open },
	{ "etcds://", kilo_etcd_store_open },
};

const char *kilo_store_kind_name(enum kilo_store_kind kind)
{
	static const char *const names[KILO_STORE_KINDS] = {
		[KILO_STORE_NODE] = "nodes",
		[KILO_STORE_PEER] = "peers",
		[KILO_STORE_SERVICE] = "services",
		[KILO_STORE_ENDPOINTSLICE] = "endpointslices",
		[KILO_STORE_POD] = "pods",
		[KILO_STORE_NAMESPACE] = "namespaces",
		[KILO_STORE_NETWORKPOLICY] = "networkpolicies",
		[KILO_STORE_IDENTITY] = "identities",
		[KILO_STORE_IDENTITY_LABELS] = "identity-labels",
	};

	return names[kind];
}

bool kilo_store_kind_namespaced(enum kilo_store_kind kind)
{
	return kind == KILO_STORE_SERVICE || kind == KILO_STORE_ENDPOINTSLICE || kind == KILO_STORE_POD ||
	       kind == KILO_STORE_NETWORKPOLICY;
}

void kilo_store_report_add(struct kilo_store_report *report, const char *source, const char *fmt, ...)
{
	struct kilo_store_problem *p;
	char message[sizeof(p->message)];
	va_list ap;

	if (!report)
		return;
	if (report->n_problems < sizeof(report->problems) / sizeof(report->problems[0])) {
		p = &report->problems[report->n_problems];
		/* A file name is anyone's text: it reaches logs and terminals escaped. */
		kilo_escape(source, p->path, sizeof(p->path));
		va_start(ap, fmt);
		vsnprintf(message, sizeof(message), fmt, ap);
		va_end(ap);
		kilo_escape(message, p->message, sizeof(p->message));
	}
	report->n_problems++;
}

void kilo_store_entries_free(struct kilo_store_entry *entries, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(entries[i].source);
		free(entries[i].name);
		if (entries[i].text)
			sodium_memzero(entries[i].text, entries[i].len);
		free(entries[i].text);
	}
	free(entries);
}

int kilo_store_open_opts(const char *uri, const struct kilo_store_opts *opts_in, kilo_store **out,
			 struct kilo_error *err)
{
	struct kilo_store_opts opts;
	int r;

	*out = NULL;
	r = KILO_OPTS_COPY(&opts, opts_in, kilo_store_opts, err);
	if (r < 0)
		return r;
	if (!uri)
		return kilo_error_set(err, EINVAL, "store: no URI given (expected file:DIR or etcd://HOST:PORT)");
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (!strncmp(uri, schemes[i].prefix, strlen(schemes[i].prefix))) {
			r = schemes[i].open(uri, &opts, out, err);
			if (r == 0)
				(*out)->ready_window = opts.ready_window ? opts.ready_window : KILO_DEFAULT_READY_WINDOW;
			return r;
		}
	}
	return kilo_error_set(err, EINVAL,
			      "store: \"%.200s\" is not a store URI (expected file:DIR or etcd://HOST:PORT)", uri);
}

int kilo_store_open(const char *uri, kilo_store **out, struct kilo_error *err)
{
	return kilo_store_open_opts(uri, NULL, out, err);
}

void kilo_store_close(kilo_store *store)
{
	if (!store)
		return;
	kilo_store_kept_free_all(store);
	store->ops->close(store);
}

/* The object as the store keeps it: validated, then written back in the document's own form. */
static int canonical(enum kilo_store_kind kind, const char *text, size_t len, const char *name, char **name_out,
		     char **out, struct kilo_error *err)
{
	struct kilo_arena arena = { 0 };
	struct kilo_node node;
	struct kilo_peer peer;
	json_t *object;
	int r;

	if (kind == KILO_STORE_NODE)
		r = kilo_store_parse_node(text, len, name, &arena, &node, err);
	else
		r = kilo_store_parse_peer(text, len, name, &arena, &peer, err);
	if (r < 0)
		goto out;
	object = kind == KILO_STORE_NODE ? kilo_json_write_node(&node) : kilo_json_write_peer(&peer);
	r = object ? kilo_json_dump(object, out) : -ENOMEM;
	if (kind == KILO_STORE_PEER)
		kilo_json_wipe_string(json_object_get(object, "presharedKey"));
	json_decref(object);
	if (r == 0 && name_out && !(*name_out = strdup(kind == KILO_STORE_NODE ? node.name : peer.name))) {
		sodium_memzero(*out, strlen(*out));
		kilo_free(*out);
		*out = NULL;
		r = -ENOMEM;
	}
	if (r == -ENOMEM)
		kilo_error_set(err, ENOMEM, "out of memory");
out:
	if (kind == KILO_STORE_PEER)
		sodium_memzero(&peer, sizeof(peer));
	kilo_arena_release(&arena);
	return r;
}

/* The fields the agent rewrites on every publish (Kilo's handleLocal); an operator owns the rest. */
static const char *const agent_fields[] = { "publicKey", "lastSeen", "wireGuardIP", "discoveredEndpoints" };

int kilo_store_node_take_agent_fields(json_t *base, const json_t *mine)
{
	for (size_t i = 0; i < sizeof(agent_fields) / sizeof(agent_fields[0]); i++) {
		json_t *value = json_object_get(mine, agent_fields[i]);

		if (value && json_object_set(base, agent_fields[i], value) < 0)
			return -ENOMEM;
		if (!value)
			json_object_del(base, agent_fields[i]);
	}
	return 0;
}

int kilo_store_node_merge_self(const char *stored, size_t stored_len, const char *mine, size_t mine_len, char **out,
			       struct kilo_error *err)
{
	json_t *base = json_loadb(stored, stored_len, 0, NULL), *own = json_loadb(mine, mine_len, 0, NULL);
	char *merged = NULL;
	int r;

	*out = NULL;
	if (!own) {
		r = kilo_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	/* An operator's edit that is not a node any more cannot keep the agent's node out of the mesh. */
	if (!json_is_object(base) || kilo_store_node_take_agent_fields(base, own) < 0 ||
	    !(merged = json_dumps(base, JSON_COMPACT)) ||
	    canonical(KILO_STORE_NODE, merged, strlen(merged), NULL, NULL, out, NULL) < 0)
		r = canonical(KILO_STORE_NODE, mine, mine_len, NULL, NULL, out, err);
	else
		r = 0;
out:
	free(merged);
	json_decref(base);
	json_decref(own);
	return r;
}

/*
 * What the store holds under name, as canonical as text is: whether text
 * would change it. -ENOENT when absent.
 */
static int compare_stored(kilo_store *store, enum kilo_store_kind kind, const char *name, const char *text,
			  enum kilo_object_change *change, struct kilo_error *err)
{
	struct kilo_store_entry entry = { 0 };
	char *stored = NULL;
	int r;

	r = store->ops->get(store, kind, name, &entry, err);
	if (r == -ENOENT) {
		*change = KILO_OBJECT_CREATED;
		return 0;
	}
	if (r < 0)
		return r;
	/* A stored object that no longer reads is replaced, not compared. */
	*change = KILO_OBJECT_CONFIGURED;
	if (entry.text && canonical(kind, entry.text, entry.len, name, NULL, &stored, NULL) == 0 && !strcmp(stored, text))
		*change = KILO_OBJECT_UNCHANGED;
	if (stored)
		sodium_memzero(stored, strlen(stored));
	kilo_free(stored);
	free(entry.name);
	free(entry.source);
	if (entry.text)
		sodium_memzero(entry.text, entry.len);
	free(entry.text);
	return 0;
}

/*
 * Validates json and writes it: with publish_self (ttl) for the agent's
 * own node, else with write (if_version as write takes it). With change,
 * an object equal to the stored one is not written.
 */
static int put(kilo_store *store, enum kilo_store_kind kind, const char *json, bool self, uint32_t ttl,
	       int64_t if_version, enum kilo_object_change *change, struct kilo_error *err)
{
	char *name = NULL, *text = NULL;
	int r;

	if (!json)
		return kilo_error_set(err, EINVAL, "%s: no object given", kilo_store_kind_name(kind));
	r = canonical(kind, json, strlen(json), NULL, &name, &text, err);
	if (r < 0) {
		kilo_error_prefix(err, "%s", kilo_store_kind_name(kind));
		return r;
	}
	if (change && (r = compare_stored(store, kind, name, text, change, err)) < 0)
		goto out;
	if (change && *change == KILO_OBJECT_UNCHANGED)
		r = 0;
	else if (self && store->ops->publish_self)
		r = store->ops->publish_self(store, name, text, strlen(text), ttl, err);
	else
		r = store->ops->write(store, kind, name, text, strlen(text), if_version, err);
out:
	sodium_memzero(text, strlen(text));
	kilo_free(text);
	free(name);
	return r;
}

int kilo_store_put_node(kilo_store *store, const char *node_json, struct kilo_error *err)
{
	return put(store, KILO_STORE_NODE, node_json, false, 0, KILO_STORE_ANY_VERSION, NULL, err);
}

int kilo_store_publish_self(kilo_store *store, const char *node_json, uint32_t ttl, struct kilo_error *err)
{
	return put(store, KILO_STORE_NODE, node_json, true, ttl, KILO_STORE_ANY_VERSION, NULL, err);
}

bool kilo_store_liveness_by_presence(const kilo_store *store)
{
	return store->ops->presence;
}

int kilo_store_put_peer(kilo_store *store, const char *peer_json, struct kilo_error *err)
{
	return put(store, KILO_STORE_PEER, peer_json, false, 0, KILO_STORE_ANY_VERSION, NULL, err);
}

/* A name that is not valid could name a path outside the store: refused before any lookup. */
static int check_name(enum kilo_store_kind kind, const char *name, struct kilo_error *err)
{
	if (!name || !kilo_mesh_name_valid(name))
		return kilo_error_set(err, EINVAL, "%s: \"%.253s\" is not a valid name (a lower-case RFC 1123 subdomain)",
				      kilo_store_kind_name(kind), name ? name : "");
	return 0;
}

static int delete(kilo_store *store, enum kilo_store_kind kind, const char *name, struct kilo_error *err)
{
	int r = check_name(kind, name, err);

	return r < 0 ? r : store->ops->remove(store, kind, name, err);
}

int kilo_store_delete_node(kilo_store *store, const char *name, struct kilo_error *err)
{
	return delete(store, KILO_STORE_NODE, name, err);
}

int kilo_store_delete_peer(kilo_store *store, const char *name, struct kilo_error *err)
{
	return delete(store, KILO_STORE_PEER, name, err);
}

int kilo_store_put_if(kilo_store *store, enum kilo_store_kind kind, const char *json, int64_t if_version,
		      struct kilo_error *err)
{
	return put(store, kind, json, false, 0, if_version, NULL, err);
}

int kilo_store_put_changed(kilo_store *store, enum kilo_store_kind kind, const char *json,
			   enum kilo_object_change *change, struct kilo_error *err)
{
	return put(store, kind, json, false, 0, KILO_STORE_ANY_VERSION, change, err);
}

int kilo_store_get_node(kilo_store *store, const char *name, char **out, struct kilo_error *err)
{
	int64_t version;

	return kilo_store_get_node_version(store, name, out, &version, err);
}

static int get_version(kilo_store *store, enum kilo_store_kind kind, const char *name, char **out, int64_t *version,
		       struct kilo_error *err)
{
	const char *folder = kilo_store_kind_name(kind);
	struct kilo_store_entry *entry;
	int r;

	*out = NULL;
	r = check_name(kind, name, err);
	if (r < 0)
		return r;
	entry = calloc(1, sizeof(*entry));
	if (!entry)
		return kilo_error_set(err, ENOMEM, "out of memory");
	r = store->ops->get(store, kind, name, entry, err);
	if (r == -ENOENT)
		r = kilo_error_set(err, ENOENT, "%s/%.253s: not in the store", folder, name);
	else if (r == 0 && !entry->text)
		r = kilo_error_set(err, EIO, "store: cannot read %.400s: %s", entry->source, entry->unreadable);
	else if (r == 0)
		r = canonical(kind, entry->text, entry->len, name, NULL, out, err);
	if (r == 0)
		*version = entry->version;
	if (r < 0 && r != -ENOENT && entry->text)
		kilo_error_prefix(err, "%s/%s", folder, name);
	kilo_store_entries_free(entry, r == -ENOENT ? 0 : 1);
	return r;
}

int kilo_store_get_node_version(kilo_store *store, const char *name, char **out, int64_t *version,
				struct kilo_error *err)
{
	return get_version(store, KILO_STORE_NODE, name, out, version, err);
}

/* A peer's text without its preshared key: printed only when asked for by name (kgctl showconf), never listed. */
static int without_preshared_key(char **text)
{
	json_t *peer = json_loads(*text, 0, NULL);
	int r;

	sodium_memzero(*text, strlen(*text));
	kilo_free(*text);
	*text = NULL;
	kilo_json_wipe_string(json_object_get(peer, "presharedKey"));
	json_object_del(peer, "presharedKey");
	r = peer ? kilo_json_dump(peer, text) : -ENOMEM;
	json_decref(peer);
	return r;
}

int kilo_store_mesh_object_text(enum kilo_store_kind kind, const char *text, size_t len, const char *name, char **out,
				struct kilo_error *err)
{
	int r = canonical(kind, text, len, name, NULL, out, err);

	if (r == 0 && kind == KILO_STORE_PEER && without_preshared_key(out) < 0)
		r = kilo_error_set(err, ENOMEM, "out of memory");
	return r;
}

int kilo_store_get_mesh_object(kilo_store *store, enum kilo_store_kind kind, const char *name, char **out,
			       struct kilo_error *err)
{
	int64_t version;
	int r = get_version(store, kind, name, out, &version, err);

	if (r == 0 && kind == KILO_STORE_PEER && without_preshared_key(out) < 0)
		r = kilo_error_set(err, ENOMEM, "out of memory");
	return r;
}

int kilo_store_fd(const kilo_store *store)
{
	return store->ops->fd(store);
}

int kilo_store_changed(kilo_store *store, bool *changed, struct kilo_error *err)
{
	*changed = false;
	return store->ops->changed(store, changed, err);
}

void kilo_store_health(kilo_store *store, struct kilo_store_health *out)
{
	memset(out, 0, sizeof(*out));
	out->up = true;
	if (store->ops->health)
		store->ops->health(store, out);
}

int kilo_store_describe(kilo_store *store, char **out, struct kilo_error *err)
{
	struct kilo_strbuf text = { 0 };
	int r;

	*out = NULL;
	kilo_strbuf_append(&text, "");
	r = store->ops->describe ? store->ops->describe(store, &text, err) : 0;
	if (r < 0) {
		kilo_strbuf_reset(&text);
		return r;
	}
	return kilo_strbuf_finish(&text, out) < 0 ? kilo_error_set(err, ENOMEM, "out of memory") : 0;
}
