// SPDX-License-Identifier: Apache-2.0
/*
 * Kubernetes objects in the store, the same for every store kind: each is
 * checked by its kind's rules (lib/serial/manifest_check.c) and kept in
 * its canonical form, so that what comes out is what Kubernetes would
 * hand out. Nodes and Peers become the mesh's nodes and peers.
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include <kilo/manifest.h>

#include "../core/array.h"
#include "../core/error.h"
#include "../mesh/model.h"
#include "../serial/manifest_check.h"
#include "../serial/mesh_json.h"
#include "store.h"

#define NAME_MAX_LEN 253

static enum kilo_store_kind store_kind(const struct kilo_object_kind *kind)
{
	for (int k = 0; k < KILO_STORE_KINDS; k++)
		if (!strcmp(kilo_store_kind_name((enum kilo_store_kind)k), kind->folder))
			return (enum kilo_store_kind)k;
	return KILO_STORE_KINDS;
}

static int lookup_kind(const char *name, const struct kilo_object_kind **kind, enum kilo_store_kind *sk,
		       struct kilo_error *err)
{
	*kind = kilo_object_kind_lookup(name);
	if (!*kind)
		return kilo_error_set(err, EINVAL,
				      "kind: \"%.80s\" is not one libkilo stores (Node, Peer, Service, EndpointSlice, Pod, "
				      "Namespace, NetworkPolicy)",
				      name ? name : "");
	*sk = store_kind(*kind);
	return 0;
}

/*
 * The name an object is stored under: "NS/NAME" for a namespaced kind (ns
 * NULL or "": default), else NAME. Both are checked before they reach a
 * path or a key.
 */
static int store_name(const struct kilo_object_kind *kind, const char *ns, const char *name,
		      char out[2 * NAME_MAX_LEN + 2], struct kilo_error *err)
{
	if (kind->namespaced && (!ns || !ns[0]))
		ns = "default";
	if (!name || !kilo_mesh_name_valid(name))
		return kilo_error_set(err, EINVAL, "%s: name \"%.253s\" is not a DNS subdomain", kind->kind, name ? name : "");
	if (kind->namespaced && !kilo_dns_label_valid(ns))
		return kilo_error_set(err, EINVAL, "%s: namespace \"%.80s\" is not a DNS label", kind->kind, ns);
	if (kind->namespaced)
		snprintf(out, 2 * NAME_MAX_LEN + 2, "%s/%s", ns, name);
	else
		snprintf(out, 2 * NAME_MAX_LEN + 2, "%s", name);
	return 0;
}

/* The canonical form of a stored or given object, with the kind it must be; *stored_name is its store name. */
static int check_object(json_t *object, const struct kilo_object_kind **kind, json_t **canonical,
			char stored_name[2 * NAME_MAX_LEN + 2], struct kilo_error *err)
{
	json_t *metadata;
	int r;

	r = kilo_object_canonical(object, kind, canonical, err);
	if (r < 0)
		return r;
	metadata = json_object_get(*canonical, "metadata");
	r = store_name(*kind, json_string_value(json_object_get(metadata, "namespace")),
		       json_string_value(json_object_get(metadata, "name")), stored_name, err);
	if (r < 0) {
		json_decref(*canonical);
		*canonical = NULL;
	}
	return r;
}

/* The text the store keeps: sorted keys, two-space indentation, a final newline. */
static char *object_text(json_t *object)
{
	char *text = json_dumps(object, JSON_INDENT(2) | JSON_SORT_KEYS), *line;

	if (!text || asprintf(&line, "%s\n", text) < 0)
		line = NULL;
	free(text);
	return line;
}

/* Node and Peer: translated as Kilo reads them, then kept as the mesh's node or peer. */
static int apply_mesh_object(kilo_store *store, const struct kilo_object_kind *kind, const char *json, const char *name,
			     enum kilo_object_change *change, struct kilo_error *err)
{
	enum kilo_store_kind sk = store_kind(kind);
	char *translated = NULL;
	int r;

	if (sk == KILO_STORE_NODE)
		r = kilo_node_from_kubernetes(json, NULL, &translated, err);
	else
		r = kilo_peer_from_kubernetes(json, &translated, err);
	if (r == 0)
		r = kilo_store_put_changed(store, sk, translated, change, err);
	if (r < 0)
		kilo_error_prefix(err, "%s %s", kind->kind, name);
	if (translated)
		sodium_memzero(translated, strlen(translated));
	kilo_free(translated);
	return r;
}

static int compare_stored(kilo_store *store, enum kilo_store_kind sk, const char *name, const char *text,
			  enum kilo_object_change *change, struct kilo_error *err)
{
	struct kilo_store_entry entry = { 0 };
	int r = store->ops->get(store, sk, name, &entry, err);

	if (r == -ENOENT) {
		*change = KILO_OBJECT_CREATED;
		return 0;
	}
	if (r < 0)
		return r;
	*change = entry.text && !strcmp(entry.text, text) ? KILO_OBJECT_UNCHANGED : KILO_OBJECT_CONFIGURED;
	free(entry.name);
	free(entry.source);
	free(entry.text);
	return 0;
}

int kilo_store_apply_object(kilo_store *store, const char *object_json, enum kilo_object_change *change_out,
			    struct kilo_error *err)
{
	char name[2 * NAME_MAX_LEN + 2], *text = NULL;
	const struct kilo_object_kind *kind;
	enum kilo_object_change change;
	json_t *object, *canonical = NULL;
	json_error_t jerr;
	int r;

	if (!store || !object_json)
		return kilo_error_set(err, EINVAL, "object: %s is NULL", store ? "object_json" : "store");
	object = json_loads(object_json, JSON_REJECT_DUPLICATES, &jerr);
	if (!object)
		return kilo_error_set(err, EINVAL, "object: line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
	r = check_object(object, &kind, &canonical, name, err);
	if (r < 0)
		goto out;
	if (!kind->check) {
		r = apply_mesh_object(store, kind, object_json, name, &change, err);
		goto out;
	}
	text = object_text(canonical);
	if (!text) {
		r = kilo_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if (strlen(text) > KILO_STORE_OBJECT_MAX) {
		r = kilo_error_set(err, EFBIG, "%s %s: larger than %u KiB as stored", kind->kind, name,
				   KILO_STORE_OBJECT_MAX >> 10);
		goto out;
	}
	r = compare_stored(store, store_kind(kind), name, text, &change, err);
	if (r == 0 && change != KILO_OBJECT_UNCHANGED)
		r = store->ops->write(store, store_kind(kind), name, text, strlen(text), KILO_STORE_ANY_VERSION, err);
out:
	if (r == 0 && change_out)
		*change_out = change;
	free(text);
	json_decref(canonical);
	json_decref(object);
	return r;
}

int kilo_store_put_object(kilo_store *store, const char *object_json, struct kilo_error *err)
{
	return kilo_store_apply_object(store, object_json, NULL, err);
}

int kilo_store_delete_object(kilo_store *store, const char *kind_name, const char *ns, const char *name,
			     struct kilo_error *err)
{
	char stored[2 * NAME_MAX_LEN + 2];
	const struct kilo_object_kind *kind;
	struct kilo_store_entry entry = { 0 };
	enum kilo_store_kind sk = KILO_STORE_KINDS;
	int r;

	if (!store)
		return kilo_error_set(err, EINVAL, "object: store is NULL");
	if ((r = lookup_kind(kind_name, &kind, &sk, err)) < 0 || (r = store_name(kind, ns, name, stored, err)) < 0)
		return r;
	r = store->ops->get(store, sk, stored, &entry, err);
	if (r == -ENOENT)
		return kilo_error_set(err, ENOENT, "%s %s: not in the store", kind->kind, stored);
	if (r < 0)
		return r;
	free(entry.name);
	free(entry.source);
	if (entry.text)
		sodium_memzero(entry.text, entry.len);
	free(entry.text);
	return store->ops->remove(store, sk, stored, err);
}

/* The stored text of an object kind checked again (a file may have been edited since), canonical. */
static int read_stored(const struct kilo_object_kind *kind, const char *stored_name, const char *text, size_t len,
		       json_t **out, struct kilo_error *err)
{
	char name[2 * NAME_MAX_LEN + 2];
	const struct kilo_object_kind *found;
	json_error_t jerr;
	json_t *object = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	int r;

	*out = NULL;
	if (!object)
		return kilo_error_set(err, EINVAL, "%s %s: line %d: %s", kind->kind, stored_name, jerr.line, jerr.text);
	r = check_object(object, &found, out, name, err);
	json_decref(object);
	if (r == 0 && (found != kind || strcmp(name, stored_name))) {
		json_decref(*out);
		*out = NULL;
		r = kilo_error_set(err, EINVAL, "%s %s: holds %s %s, not the object stored under its name", kind->kind,
				   stored_name, found->kind, name);
	}
	return r;
}

int kilo_store_get_object(kilo_store *store, const char *kind_name, const char *ns, const char *name, char **out,
			  struct kilo_error *err)
{
	char stored[2 * NAME_MAX_LEN + 2];
	const struct kilo_object_kind *kind;
	struct kilo_store_entry entry = { 0 };
	enum kilo_store_kind sk = KILO_STORE_KINDS;
	json_t *object = NULL;
	int r;

	if (!out)
		return kilo_error_set(err, EINVAL, "object: out is NULL");
	*out = NULL;
	if (!store)
		return kilo_error_set(err, EINVAL, "object: store is NULL");
	if ((r = lookup_kind(kind_name, &kind, &sk, err)) < 0 || (r = store_name(kind, ns, name, stored, err)) < 0)
		return r;
	if (!kind->check)
		return kilo_store_get_mesh_object(store, sk, stored, out, err);
	r = store->ops->get(store, sk, stored, &entry, err);
	if (r == -ENOENT)
		return kilo_error_set(err, ENOENT, "%s %s: not in the store", kind->kind, stored);
	if (r < 0)
		return r;
	if (!entry.text)
		r = kilo_error_set(err, EIO, "store: cannot read %.400s: %s", entry.source, entry.unreadable);
	else
		r = read_stored(kind, stored, entry.text, entry.len, &object, err);
	if (r == 0 && !(*out = object_text(object)))
		r = kilo_error_set(err, ENOMEM, "out of memory");
	json_decref(object);
	free(entry.name);
	free(entry.source);
	free(entry.text);
	return r;
}

/* One listed entry's object (NULL when it does not pass the checks any more). */
static json_t *listed_object(const struct kilo_object_kind *kind, enum kilo_store_kind sk,
			     const struct kilo_store_entry *e)
{
	json_t *object = NULL;
	char *text = NULL;

	if (!e->text)
		return NULL;
	if (kind->check) {
		read_stored(kind, e->name, e->text, e->len, &object, NULL);
		return object;
	}
	if (kilo_store_mesh_object_text(sk, e->text, e->len, e->name, &text, NULL) == 0)
		object = json_loads(text, 0, NULL);
	kilo_free(text);
	return object;
}

int kilo_store_listed_text(enum kilo_store_kind kind, const struct kilo_store_entry *entry, char **text)
{
	const struct kilo_object_kind *object_kind = kilo_object_kind_lookup(kilo_store_kind_name(kind));
	json_t *object = object_kind ? listed_object(object_kind, kind, entry) : NULL;

	*text = NULL;
	if (!object)
		return 0;
	*text = object_text(object);
	json_decref(object);
	return *text ? 0 : -ENOMEM;
}

int kilo_store_list_objects(kilo_store *store, const char *kind_name, char **out, struct kilo_error *err)
{
	return kilo_store_list_objects_in(store, kind_name, NULL, out, err);
}

/* kilo_store_list_objects_in with kilo_store_listing_text's since (NULL: not asked). */
static int list_in(kilo_store *store, const char *kind_name, const char *ns, struct kilo_store_since *since,
		   char **out, struct kilo_error *err)
{
	const struct kilo_object_kind *kind;
	enum kilo_store_kind sk = KILO_STORE_KINDS;
	int r;

	if (!out)
		return kilo_error_set(err, EINVAL, "objects: out is NULL");
	*out = NULL;
	if (!store)
		return kilo_error_set(err, EINVAL, "objects: store is NULL");
	if ((r = lookup_kind(kind_name, &kind, &sk, err)) < 0)
		return r;
	return kilo_store_listing_text(store, sk, kind->namespaced ? ns : NULL, since, out, err);
}

int kilo_store_list_objects_in(kilo_store *store, const char *kind_name, const char *ns, char **out,
			       struct kilo_error *err)
{
	return list_in(store, kind_name, ns, NULL, out, err);
}

int kilo_store_list_objects_since(kilo_store *store, const char *kind_name, struct kilo_store_since *since,
				  char **out, struct kilo_error *err)
{
	return list_in(store, kind_name, NULL, since, out, err);
}
