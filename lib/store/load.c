// SPDX-License-Identifier: Apache-2.0
/*
 * Assembling a mesh from a store. Every object is parsed on its own, so a
 * corrupt one costs only itself: it is reported and left out, and the
 * rest of the mesh stands. Conflicts between nodes (an overlapping pod
 * CIDR, a shared public key) are settled by name, so that every agent
 * that reads the same store leaves out the same node.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/error.h"
#include "../mesh/pod_cidrs.h"
#include "store.h"

/* A node that shares another's key cannot be told apart from it on the wire. */
struct key_entry {
	const struct kilo_key *key;
	size_t node;
};

static int compare_key_entries(const void *a, const void *b)
{
	const struct key_entry *x = a, *y = b;
	int r = memcmp(x->key->bytes, y->key->bytes, KILO_KEY_LEN);

	return r ? r : (x->node > y->node) - (x->node < y->node);
}

/*
 * The first node of each run of nodes with one key, as *group per node
 * (SIZE_MAX for a zero key: "not published yet", which many nodes may
 * share). The groups let each node find the accepted one of its key in O(1).
 */
static int key_groups(const struct kilo_node *nodes, size_t n, size_t *group)
{
	struct key_entry *sorted = malloc((n ? n : 1) * sizeof(*sorted));
	size_t m = 0;

	if (!sorted)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		group[i] = SIZE_MAX;
		if (!kilo_key_is_zero(&nodes[i].public_key))
			sorted[m++] = (struct key_entry){ &nodes[i].public_key, i };
	}
	qsort(sorted, m, sizeof(*sorted), compare_key_entries);
	for (size_t i = 0, first = 0; i < m; i++) {
		/* Public keys: no need for a constant-time comparison. */
		if (memcmp(sorted[first].key->bytes, sorted[i].key->bytes, KILO_KEY_LEN))
			first = i;
		group[sorted[i].node] = sorted[first].node;
	}
	free(sorted);
	return 0;
}

/* Sets the conflict of the node of item to the message fmt makes. -ENOMEM. */
static int __attribute__((format(printf, 2, 3))) set_conflict(struct kilo_store_cached *item, const char *fmt, ...)
{
	va_list ap;
	int n;

	free(item->conflict);
	va_start(ap, fmt);
	n = vasprintf(&item->conflict, fmt, ap);
	va_end(ap);
	if (n < 0)
		item->conflict = NULL;
	return n < 0 ? -ENOMEM : 0;
}

/*
 * Which nodes stay: in name order, a node that overlaps the pod CIDR of
 * one kept before it, or has its key, is left out (its item's conflict
 * says why), so every agent that reads the same store leaves out the same
 * node. O(n log n), for stores of 100,000 nodes. items[i] holds nodes[i].
 */
static int settle_conflicts(const struct kilo_node *nodes, struct kilo_store_cached *const *items, size_t n)
{
	struct kilo_pod_cidr_index index;
	struct kilo_pod_cidr_overlap overlap;
	char cidr[KILO_CIDR_STRLEN];
	size_t *group, *holder;
	int r;

	group = malloc((n ? n : 1) * sizeof(*group));
	holder = malloc((n ? n : 1) * sizeof(*holder));
	r = group && holder ? key_groups(nodes, n, group) : -ENOMEM;
	if (r == 0)
		r = kilo_pod_cidr_index_init(&index, nodes, n);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		holder[i] = SIZE_MAX;
	for (size_t i = 0; i < n && r == 0; i++) {
		free(items[i]->conflict);
		items[i]->conflict = NULL;
		if (kilo_pod_cidr_index_overlap(&index, i, &overlap)) {
			kilo_cidr_format(overlap.mine, cidr);
			r = set_conflict(items[i], "%s: \"%s\" overlaps a pod CIDR of node \"%.200s\"; node left out",
					 kilo_pod_cidr_field(&nodes[i], overlap.mine), cidr, nodes[overlap.other].name);
		} else if (group[i] != SIZE_MAX && holder[group[i]] != SIZE_MAX) {
			r = set_conflict(items[i], "publicKey: the same key as node \"%.200s\"; node left out",
					 nodes[holder[group[i]]].name);
		} else {
			kilo_pod_cidr_index_accept(&index, i);
			if (group[i] != SIZE_MAX)
				holder[group[i]] = i;
		}
	}
	kilo_pod_cidr_index_free(&index);
out:
	free(group);
	free(holder);
	return r;
}

/* Settles the conflicts of the cache's nodes again; nodes has room for all of them. */
static int settle(struct kilo_store_cache *cache, struct kilo_node *nodes)
{
	struct kilo_store_cached **items = malloc((cache->kept.n ? cache->kept.n : 1) * sizeof(*items));
	size_t n = 0;
	int r;

	if (!items)
		return -ENOMEM;
	for (size_t i = 0; i < cache->kept.n; i++) {
		if (kilo_store_cached_at(cache, i)->problem)
			continue;
		items[n] = kilo_store_cached_at(cache, i);
		nodes[n++] = kilo_store_cached_at(cache, i)->object.node;
	}
	r = settle_conflicts(nodes, items, n);
	free(items);
	cache->settled = r == 0;
	return r;
}

/*
 * Each cached object is an allocation of its own: at 100,000 nodes a load
 * waited on memory for each in turn, far longer than it took to copy
 * them. Asking for the ones a few steps ahead overlaps those waits.
 */
#define LOAD_PREFETCH_AHEAD 8

static void prefetch_cached(const struct kilo_store_cache *cache, size_t i)
{
	const struct kilo_store_cached *c;

	if (i >= cache->kept.n)
		return;
	c = kilo_store_cached_at(cache, i);
	__builtin_prefetch(c);
	__builtin_prefetch(&c->object.node);
	__builtin_prefetch((const char *)&c->object.node + 128);
	__builtin_prefetch(c->object.node.name);
}

static int load_nodes(kilo_store *store, struct kilo_mesh *mesh, struct kilo_store_report *report,
		      struct kilo_error *err)
{
	struct kilo_store_cache *cache;
	struct kilo_node *nodes;
	size_t n = 0;
	int r;

	r = kilo_store_cache_refresh(store, KILO_STORE_NODE, report, err);
	if (r < 0)
		return r;
	cache = store->cache[KILO_STORE_NODE];
	/* Raw: the nodes kept are written whole below, and the mesh has no others. */
	nodes = mesh->nodes = kilo_arena_array_raw(&mesh->arena, cache->kept.n ? cache->kept.n : 1, sizeof(*nodes));
	if (!nodes)
		return -ENOMEM;
	if (!cache->settled && (r = settle(cache, nodes)) < 0)
		return r;
	mesh->known_without_names = mesh->known_without_keepalives = true;
	/* Problems and conflicts are reported in name order, as the cache holds the objects. */
	for (size_t i = 0; i < cache->kept.n && r == 0; i++) {
		const struct kilo_store_cached *c = kilo_store_cached_at(cache, i);

		prefetch_cached(cache, i + LOAD_PREFETCH_AHEAD);

		if (c->problem || c->conflict) {
			kilo_store_report_add(report, c->source, "%s", c->problem ? c->problem : c->conflict);
			continue;
		}
		/* The cache keeps its objects: the mesh gets copies that live as long as it does. */
		r = kilo_node_copy(&mesh->arena, &c->object.node, &nodes[n++]);
		mesh->known_without_names &= !c->object.node.endpoint.dns[0];
		mesh->known_without_keepalives &= !c->object.node.persistent_keepalive;
	}
	mesh->n_nodes = n;
	return r;
}

/*
 * The orders of the mesh's nodes: by name as they come, by location as
 * the cache kept it since the last node that came, went or moved.
 */
static int sort_nodes(struct kilo_store_cache *cache, struct kilo_mesh *mesh)
{
	size_t *by_location;
	int r;

	if (cache->by_location && cache->n_kept == mesh->n_nodes && mesh->n_nodes) {
		by_location = kilo_arena_array(&mesh->arena, mesh->n_nodes, sizeof(*by_location));
		mesh->orders.by_name = kilo_arena_array(&mesh->arena, mesh->n_nodes, sizeof(*mesh->orders.by_name));
		if (!by_location || !mesh->orders.by_name)
			return -ENOMEM;
		memcpy(by_location, cache->by_location, mesh->n_nodes * sizeof(*by_location));
		for (size_t i = 0; i < mesh->n_nodes; i++)
			mesh->orders.by_name[i] = i;
		mesh->orders.by_location = by_location;
		return 0;
	}
	r = kilo_mesh_sort_nodes(mesh);
	if (r < 0 || !mesh->n_nodes)
		return r;
	free(cache->by_location);
	cache->by_location = malloc(mesh->n_nodes * sizeof(*cache->by_location));
	cache->n_kept = mesh->n_nodes;
	if (cache->by_location)
		memcpy(cache->by_location, mesh->orders.by_location, mesh->n_nodes * sizeof(*cache->by_location));
	return 0;
}

static int load_peers(kilo_store *store, struct kilo_mesh *mesh, struct kilo_store_report *report,
		      struct kilo_error *err)
{
	const struct kilo_store_cache *cache;
	int r;

	r = kilo_store_cache_refresh(store, KILO_STORE_PEER, report, err);
	if (r < 0)
		return r;
	cache = store->cache[KILO_STORE_PEER];
	mesh->peers = kilo_arena_array(&mesh->arena, cache->kept.n ? cache->kept.n : 1, sizeof(*mesh->peers));
	if (!mesh->peers)
		return -ENOMEM;
	for (size_t i = 0; i < cache->kept.n && r == 0; i++) {
		const struct kilo_store_cached *c = kilo_store_cached_at(cache, i);

		if (c->problem) {
			kilo_store_report_add(report, c->source, "%s", c->problem);
			continue;
		}
		r = kilo_peer_copy(&mesh->arena, &c->object.peer, &mesh->peers[mesh->n_peers++]);
		mesh->known_without_names &= !c->object.peer.endpoint.dns[0];
	}
	return r;
}

static int new_mesh(const char *settings, struct kilo_mesh **out, struct kilo_error *err)
{
	int r;

	if (!settings) {
		*out = kilo_mesh_new();
		return *out ? 0 : -ENOMEM;
	}
	r = kilo_mesh_from_json(settings, strlen(settings), out, err);
	if (r < 0) {
		kilo_error_prefix(err, "settings");
		return r;
	}
	if ((*out)->n_nodes || (*out)->n_peers) {
		kilo_mesh_free(*out);
		*out = NULL;
		return kilo_error_set(err, EINVAL, "settings: the document must hold only settings, no nodes or peers");
	}
	return 0;
}

int kilo_store_load(kilo_store *store, const char *settings, kilo_mesh **out, struct kilo_store_report *report,
		    struct kilo_error *err)
{
	struct kilo_mesh *mesh = NULL;
	int r;

	*out = NULL;
	if (report)
		memset(report, 0, sizeof(*report));
	r = new_mesh(settings, &mesh, err);
	if (r == 0)
		r = load_nodes(store, mesh, report, err);
	if (r == 0)
		r = load_peers(store, mesh, report, err);
	/*
	 * No kilo_mesh_validate: names are unique by construction (one file
	 * each) and valid (parsing checks them), and settle_conflicts left out
	 * shared keys and overlapping pod CIDRs. Sorting all again on every
	 * load would cost more than the solve.
	 */
	if (r == 0)
		r = sort_nodes(store->cache[KILO_STORE_NODE], mesh);
	if (r == 0) {
		mesh->live_at = (int64_t)time(NULL);
		mesh->live_window = store->ready_window;
	}
	/* A store with liveness by presence holds only live nodes: each is seen now. */
	for (size_t i = 0; r == 0 && store->ops->presence && i < mesh->n_nodes; i++)
		mesh->nodes[i].last_seen = mesh->live_at;
	if (r == -ENOMEM)
		kilo_error_set(err, ENOMEM, "out of memory");
	if (r < 0) {
		kilo_mesh_free(mesh);
		return r;
	}
	*out = mesh;
	return 0;
}
