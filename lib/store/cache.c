// SPDX-License-Identifier: Apache-2.0
/*
 * The parsed nodes and peers of a store, kept between loads (kept.c). An
 * agent of a mesh of 10,000 nodes loads again at every check-in of any
 * node; parsing every file each time would cost far more than the solve.
 * The store says which objects changed (the file store from its inotify
 * events) and only those are read and parsed again.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	kilo_store_kept_head_clear(&c->head);
	free(c->source);
	free(c->problem);
	free(c->conflict);
	free(c);
}

void kilo_store_cache_free(struct kilo_store_cache *cache)
{
	if (!cache)
		return;
	kilo_store_kept_clear(&cache->kept);
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

static const struct kilo_store_item_ops cached_ops;

/* The parsed object of entry, or the problem that leaves it out; NULL when out of memory. */
static void *make_cached(enum kilo_store_kind kind, struct kilo_store_entry *entry)
{
	struct kilo_store_cached *c = calloc(1, sizeof(*c));
	struct kilo_error problem = { 0 };
	int r;

	if (!c)
		return NULL;
	c->arena.first_chunk = OBJECT_ARENA_CHUNK;
	if (kilo_store_kept_head_take(&c->head, &cached_ops, kind, entry) < 0) {
		cached_free(c);
		return NULL;
	}
	c->source = entry->source;
	entry->source = NULL;
	if (!entry->text) {
		r = asprintf(&c->problem, "cannot read: %s", entry->unreadable) < 0 ? -ENOMEM : -EINVAL;
	} else if (kind == KILO_STORE_NODE) {
		r = kilo_store_parse_node(entry->text, entry->len, c->head.name, &c->arena, &c->object.node, &problem);
	} else {
		r = kilo_store_parse_peer(entry->text, entry->len, c->head.name, &c->arena, &c->object.peer, &problem);
	}
	if (r < 0 && r != -ENOMEM && !c->problem)
		c->problem = strdup(problem.message);
	if (r == -ENOMEM || (r < 0 && !c->problem)) {
		cached_free(c);
		return NULL;
	}
	return c;
}

static void drop_cached(void *c)
{
	cached_free(c);
}

/*
 * An object read again: nodes settled stay so while none comes or goes and
 * none changes what settling reads; a node read again keeps its place
 * (kept, or left out for the same conflict).
 */
static void cached_changed(struct kilo_store_kept *kept, enum kilo_store_kind kind, void *old, void *item)
{
	struct kilo_store_cache *cache = (struct kilo_store_cache *)kept;
	struct kilo_store_cached *a = old, *b = item;

	if (a && b) {
		b->conflict = a->conflict;
		a->conflict = NULL;
		if (kind == KILO_STORE_NODE && !unsettles(a, b))
			return;
	}
	unsettle(cache);
}

static const struct kilo_store_item_ops cached_ops = { make_cached, drop_cached, kilo_store_kept_compare, NULL,
						       cached_changed };

int kilo_store_cache_refresh(kilo_store *store, enum kilo_store_kind kind, struct kilo_store_report *report,
			     struct kilo_error *err)
{
	struct kilo_store_cache *cache = store->cache[kind];
	int r;

	if (!cache && (cache = store->cache[kind] = calloc(1, sizeof(*cache))))
		cache->kept.ops = &cached_ops;
	if (!cache)
		return kilo_error_set(err, ENOMEM, "out of memory");
	r = kilo_store_kept_refresh(store, kind, &cache->kept, true, report, err);
	/* Half updated, the cache cannot be trusted: the next load reads everything. */
	if (r < 0) {
		kilo_store_cache_free(cache);
		store->cache[kind] = NULL;
	}
	return r;
}
