/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The two orders in which the solver walks a mesh's nodes: by name, and by
 * location then name. Sorting 10,000 names costs more than the rest of a
 * solve, so a mesh read from a document sorts once and every solve reuses it.
 */
#include "model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int compare_names(const void *a, const void *b, void *nodes)
{
	const struct kilo_node *x = (const struct kilo_node *)nodes + *(const size_t *)a;
	const struct kilo_node *y = (const struct kilo_node *)nodes + *(const size_t *)b;

	return strcmp(x->name, y->name);
}

static int compare_locations(const void *a, const void *b, void *nodes)
{
	const struct kilo_node *x = (const struct kilo_node *)nodes + *(const size_t *)a;
	const struct kilo_node *y = (const struct kilo_node *)nodes + *(const size_t *)b;
	int r = strcmp(x->location, y->location);

	return r ? r : strcmp(x->name, y->name);
}

static bool in_name_order(const struct kilo_mesh *mesh)
{
	for (size_t i = 1; i < mesh->n_nodes; i++)
		if (strcmp(mesh->nodes[i - 1].name, mesh->nodes[i].name) > 0)
			return false;
	return true;
}

int kilo_mesh_node_orders(const struct kilo_mesh *mesh, struct kilo_arena *arena, struct kilo_node_orders *out)
{
	size_t *by_name, *by_location;

	if (mesh->orders.by_name || mesh->n_nodes == 0) {
		*out = mesh->orders;
		return 0;
	}
	by_name = kilo_arena_array(arena, mesh->n_nodes, sizeof(*by_name));
	by_location = kilo_arena_array(arena, mesh->n_nodes, sizeof(*by_location));
	if (!by_name || !by_location)
		return -ENOMEM;
	for (size_t i = 0; i < mesh->n_nodes; i++)
		by_name[i] = by_location[i] = i;
	/* A store hands its nodes over in name order already: one pass says so. */
	if (!in_name_order(mesh))
		qsort_r(by_name, mesh->n_nodes, sizeof(*by_name), compare_names, mesh->nodes);
	qsort_r(by_location, mesh->n_nodes, sizeof(*by_location), compare_locations, mesh->nodes);
	out->by_name = by_name;
	out->by_location = by_location;
	return 0;
}

int kilo_mesh_sort_nodes(struct kilo_mesh *mesh)
{
	struct kilo_node_orders orders;
	int r;

	mesh->orders = (struct kilo_node_orders){ 0 };
	r = kilo_mesh_node_orders(mesh, &mesh->arena, &orders);
	if (r == 0)
		mesh->orders = orders;
	return r;
}

const struct kilo_node *kilo_mesh_find_node(const struct kilo_mesh *mesh, const struct kilo_node_orders *orders,
					     const char *name)
{
	size_t lo = 0, hi = mesh->n_nodes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct kilo_node *node = &mesh->nodes[orders->by_name[mid]];
		int c = strcmp(node->name, name);

		if (c == 0)
			return node;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
