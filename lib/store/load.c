// SPDX-License-Identifier: Apache-2.0
/*
 * Assembling a mesh from a store. Every object is parsed on its own, so a
 * corrupt one costs only itself: it is reported and left out, and the
 * rest of the mesh stands. Conflicts between nodes (an overlapping pod
 * CIDR, a shared public key) are settled by name, so that every agent
 * that reads the same store leaves out the same node.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/error.h"
#include "store.h"

static int compare_entries(const void *a, const void *b)
{
	return strcmp(((const struct kilo_store_entry *)a)->name, ((const struct kilo_store_entry *)b)->name);
}

static int list_sorted(kilo_store *store, enum kilo_store_kind kind, struct kilo_store_entry **entries, size_t *n,
		       struct kilo_store_report *report, struct kilo_error *err)
{
	int r = store->ops->list(store, kind, entries, n, report, err);

	if (r == 0 && *n > 1)
		qsort(*entries, *n, sizeof(**entries), compare_entries);
	return r;
}

/* Whether any pod CIDR of a (one per family for dual stack) overlaps one of b; *which is a's. */
static bool pod_cidrs_overlap(const struct kilo_node *a, const struct kilo_node *b, const struct kilo_cidr **which)
{
	const struct kilo_cidr *mine[] = { &a->pod_cidr, &a->secondary_pod_cidr };
	const struct kilo_cidr *theirs[] = { &b->pod_cidr, &b->secondary_pod_cidr };

	for (size_t i = 0; i < 2; i++) {
		for (size_t j = 0; j < 2; j++) {
			if (mine[i]->addr.family && theirs[j]->addr.family && kilo_cidr_intersects(mine[i], theirs[j])) {
				*which = mine[i];
				return true;
			}
		}
	}
	return false;
}

/* The earlier node of nodes that node conflicts with, or NULL; *cidr is the overlapping pod CIDR, if any. */
static const struct kilo_node *conflict(const struct kilo_node *node, const struct kilo_node *nodes, size_t n,
					const struct kilo_cidr **cidr)
{
	*cidr = NULL;
	for (size_t i = 0; i < n; i++) {
		if (pod_cidrs_overlap(node, &nodes[i], cidr))
			return &nodes[i];
		/* A zero key means "not published yet"; many nodes may share it. */
		if (!kilo_key_is_zero(&node->public_key) && kilo_key_equal(&node->public_key, &nodes[i].public_key))
			return &nodes[i];
	}
	return NULL;
}

static int load_nodes(kilo_store *store, struct kilo_mesh *mesh, struct kilo_store_report *report,
		      struct kilo_error *err)
{
	struct kilo_store_entry *entries = NULL;
	struct kilo_node *nodes = NULL;
	const struct kilo_node *other;
	struct kilo_error problem;
	char cidr[KILO_CIDR_STRLEN];
	size_t n = 0, n_nodes = 0, cap = 0;
	const struct kilo_cidr *overlap;
	int r;

	r = list_sorted(store, KILO_STORE_NODE, &entries, &n, report, err);
	if (r < 0)
		return r;
	r = kilo_array_reserve((void **)&nodes, &cap, n ? n : 1, sizeof(*nodes));
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		memset(&problem, 0, sizeof(problem));
		r = kilo_store_parse_node(entries[i].text, entries[i].len, entries[i].name, &mesh->arena,
					  &nodes[n_nodes], &problem);
		if (r == -ENOMEM)
			goto out;
		if (r < 0) {
			kilo_store_report_add(report, entries[i].source, "%s", problem.message);
			continue;
		}
		other = conflict(&nodes[n_nodes], nodes, n_nodes, &overlap);
		if (other && overlap) {
			kilo_cidr_format(overlap, cidr);
			kilo_store_report_add(report, entries[i].source,
					      "%s: \"%s\" overlaps a pod CIDR of node \"%.200s\"; node left out",
					      overlap == &nodes[n_nodes].pod_cidr ? "podCIDR" : "secondaryPodCIDR", cidr,
					      other->name);
		} else if (other) {
			kilo_store_report_add(report, entries[i].source,
					      "publicKey: the same key as node \"%.200s\"; node left out", other->name);
		} else {
			n_nodes++;
		}
	}
	r = 0;
	if (n_nodes) {
		mesh->nodes = kilo_arena_array(&mesh->arena, n_nodes, sizeof(*nodes));
		if (!mesh->nodes) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(mesh->nodes, nodes, n_nodes * sizeof(*nodes));
		mesh->n_nodes = n_nodes;
	}
out:
	free(nodes);
	kilo_store_entries_free(entries, n);
	return r;
}

static int load_peers(kilo_store *store, struct kilo_mesh *mesh, struct kilo_store_report *report,
		      struct kilo_error *err)
{
	struct kilo_store_entry *entries = NULL;
	struct kilo_peer *peers = NULL;
	struct kilo_error problem;
	size_t n = 0, n_peers = 0, cap = 0;
	int r;

	r = list_sorted(store, KILO_STORE_PEER, &entries, &n, report, err);
	if (r < 0)
		return r;
	r = kilo_array_reserve((void **)&peers, &cap, n ? n : 1, sizeof(*peers));
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		memset(&problem, 0, sizeof(problem));
		r = kilo_store_parse_peer(entries[i].text, entries[i].len, entries[i].name, &mesh->arena,
					  &peers[n_peers], &problem);
		if (r == -ENOMEM)
			goto out;
		if (r < 0)
			kilo_store_report_add(report, entries[i].source, "%s", problem.message);
		else
			n_peers++;
	}
	r = 0;
	if (n_peers) {
		mesh->peers = kilo_arena_array(&mesh->arena, n_peers, sizeof(*peers));
		if (!mesh->peers) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(mesh->peers, peers, n_peers * sizeof(*peers));
		mesh->n_peers = n_peers;
	}
out:
	if (peers)
		sodium_memzero(peers, cap * sizeof(*peers));
	free(peers);
	kilo_store_entries_free(entries, n);
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
	/* Names are unique by construction; this keeps the mesh's own invariants checked in one place. */
	if (r == 0)
		r = kilo_mesh_validate(mesh, err);
	if (r == 0)
		r = kilo_mesh_sort_nodes(mesh);
	if (r == -ENOMEM)
		kilo_error_set(err, ENOMEM, "out of memory");
	if (r < 0) {
		kilo_mesh_free(mesh);
		return r;
	}
	*out = mesh;
	return 0;
}
