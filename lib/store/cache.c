// SPDX-License-Identifier: Apache-2.0
/*
 * The parsed objects of a store, kept between loads. An agent of a mesh
 * of 10,000 nodes loads again at every check-in of any node; parsing every
 * file each time would cost far more than the solve. The store says which
 * objects changed (the file store from its inotify events) and only those
 * are read and parsed again.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/error.h"
#include "store.h"

/* Most objects fit their first chunk; a cache of 100,000 of them stays small. */
#define OBJECT_ARENA_CHUNK 256

static void cached_free(struct kilo_store_cached *c)
{
	if (!c)
		return;
	sodium_memzero(&c->object, sizeof(c->object));
	kilo_arena_release(&c->arena);
	free(c->name);
	free(c->source);
	free(c->problem);
	free(c->conflict);
	free(c);
}

void kilo_store_cache_free(struct kilo_store_cache *cache)
{
	if (!cache)
		return;
	for (size_t i = 0; i < cache->n; i++)
		cached_free(cache->items[i]);
	free(cache->items);
	free(cache->by_location);
	free(cache);
}

/* Whether b, which replaces a, can change which nodes conflict or the location order. */
static bool unsettles(const struct kilo_store_cached *a, const struct kilo_store_cached *b)
{
	const struct kilo_node *x = &a->object.node, *y = &b->object.node;

	if (a->problem || b->problem)
		return true;
	return !kilo_key_equal(&x->public_key, &y->public_key) || !kilo_cidr_equal(&x->pod_cidr, &y->pod_cidr) ||
	       !kilo_cidr_equal(&x->secondary_pod_cidr, &y->secondary_pod_cidr) || strcmp(x->location, y->location);
}

static void unsettle(struct kilo_store_cache *cache)
{
	cache->settled = false;
	free(cache->by_location);
	cache->by_location = NULL;
}

/* The parsed object of entry, or the problem that leaves it out; NULL when out of memory. */
static struct kilo_store_cached *parse_entry(enum kilo_store_kind kind, struct kilo_store_entry *entry)
{
	struct kilo_store_cached *c = calloc(1, sizeof(*c));
	struct kilo_error problem = { 0 };
	int r;

	if (!c)
		return NULL;
	c->arena.first_chunk = OBJECT_ARENA_CHUNK;
	c->name = entry->name;
	c->source = entry->source;
	entry->name = entry->source = NULL;
	if (!entry->text) {
		r = asprintf(&c->problem, "cannot read: %s", entry->unreadable) < 0 ? -ENOMEM : -EINVAL;
	} else if (kind == KILO_STORE_NODE) {
		r = kilo_store_parse_node(entry->text, entry->len, c->name, &c->arena, &c->object.node, &problem);
	} else {
		r = kilo_store_parse_peer(entry->text, entry->len, c->name, &c->arena, &c->object.peer, &problem);
	}
	if (r < 0 && r != -ENOMEM && !c->problem)
		c->problem = strdup(problem.message);
	if (r == -ENOMEM || (r < 0 && !c->problem)) {
		cached_free(c);
		return NULL;
	}
	return c;
}

static int compare_cached(const void *a, const void *b)
{
	return strcmp((*(struct kilo_store_cached *const *)a)->name, (*(struct kilo_store_cached *const *)b)->name);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int kilo_store_list_items(kilo_store *store, enum kilo_store_kind kind, const struct kilo_store_item_ops *ops,
			  void ***items_out, size_t *n_out, struct kilo_store_report *report, struct kilo_error *err)
{
	struct kilo_store_entry *entries = NULL;
	void **items;
	size_t n = 0;
	int r;

	r = store->ops->list(store, kind, &entries, &n, report, err);
	if (r < 0)
		return r;
	items = calloc(n ? n : 1, sizeof(*items));
	for (size_t i = 0; items && i < n; i++) {
		items[i] = ops->make(kind, &entries[i]);
		if (!items[i]) {
			for (size_t j = 0; j < i; j++)
				ops->drop(items[j]);
			free(items);
			items = NULL;
		}
	}
	kilo_store_entries_free(entries, n);
	if (!items)
		return kilo_error_set(err, ENOMEM, "out of memory");
	qsort(items, n, sizeof(*items), ops->compare);
	*items_out = items;
	*n_out = n;
	return 0;
}

static void *make_cached(enum kilo_store_kind kind, struct kilo_store_entry *entry)
{
	return parse_entry(kind, entry);
}

static void drop_cached(void *c)
{
	cached_free(c);
}

/* Every object again, from a fresh list. */
static int reload_all(kilo_store *store, enum kilo_store_kind kind, struct kilo_store_cache *cache,
		      struct kilo_store_report *report, struct kilo_error *err)
{
	static const struct kilo_store_item_ops item_ops = { make_cached, drop_cached, compare_cached, NULL };
	void **items = NULL;
	size_t n = 0;
	int r;

	r = kilo_store_list_items(store, kind, &item_ops, &items, &n, report, err);
	if (r < 0)
		return r;
	unsettle(cache);
	for (size_t i = 0; i < cache->n; i++)
		cached_free(cache->items[i]);
	free(cache->items);
	cache->items = (struct kilo_store_cached **)items;
	cache->n = cache->cap = n;
	return 0;
}

static const char *cached_name(const void *items, size_t i)
{
	return ((struct kilo_store_cached *const *)items)[i]->name;
}

/* Where name sits in the cache, or where it would go (*found false). */
static size_t find(const struct kilo_store_cache *cache, const char *name, bool *found)
{
	return kilo_array_find_name(cache->items, cache->n, cached_name, name, found);
}

/* Reads the object named name again: replaced, added, or gone. */
static int reload_one(kilo_store *store, enum kilo_store_kind kind, struct kilo_store_cache *cache, const char *name,
		      struct kilo_error *err)
{
	struct kilo_store_entry entry = { 0 };
	struct kilo_store_cached *c;
	bool found;
	size_t at = find(cache, name, &found);
	int r;

	r = store->ops->get(store, kind, name, &entry, err);
	if (r == -ENOENT) {
		if (found) {
			unsettle(cache);
			cached_free(cache->items[at]);
			kilo_array_remove(cache->items, &cache->n, at, sizeof(*cache->items));
		}
		return 0;
	}
	if (r < 0)
		return r;
	c = parse_entry(kind, &entry);
	free(entry.name);
	free(entry.source);
	if (entry.text)
		sodium_memzero(entry.text, entry.len);
	free(entry.text);
	if (!c)
		return kilo_error_set(err, ENOMEM, "out of memory");
	if (found) {
		if (kind != KILO_STORE_NODE || unsettles(cache->items[at], c))
			unsettle(cache);
		/* Settled, the node keeps its place: kept, or left out for the same conflict. */
		c->conflict = cache->items[at]->conflict;
		cache->items[at]->conflict = NULL;
		cached_free(cache->items[at]);
		cache->items[at] = c;
		return 0;
	}
	unsettle(cache);
	if (kilo_array_insert((void **)&cache->items, &cache->n, &cache->cap, at, &c, sizeof(c)) < 0) {
		cached_free(c);
		return kilo_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

int kilo_store_cache_refresh(kilo_store *store, enum kilo_store_kind kind, struct kilo_store_report *report,
			     struct kilo_error *err)
{
	struct kilo_store_cache *cache = store->cache[kind];
	char **names = NULL;
	size_t n = 0;
	bool all = false;
	int r;

	r = store->ops->changes(store, kind, &names, &n, &all, err);
	if (r < 0)
		return r;
	if (!cache) {
		cache = store->cache[kind] = calloc(1, sizeof(*cache));
		all = true;
		if (!cache) {
			r = kilo_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	if (all) {
		r = reload_all(store, kind, cache, report, err);
	} else if (n) {
		qsort(names, n, sizeof(*names), compare_names);
		for (size_t i = 0; i < n && r == 0; i++)
			if (i == 0 || strcmp(names[i - 1], names[i]))
				r = reload_one(store, kind, cache, names[i], err);
	}
	/* Half updated, the cache cannot be trusted: the next load reads everything. */
	if (r < 0) {
		kilo_store_cache_free(store->cache[kind]);
		store->cache[kind] = NULL;
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}
