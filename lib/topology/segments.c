/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The solver's segments: which nodes are ready, how they group, in Kilo's
 * segment order, and who leads each segment.
 *
 * A mesh's node is large (its endpoint holds a whole DNS name: 488 bytes)
 * and 100,000 of them (48 MB) are far more than the cache holds, so the
 * solve is bound by memory, and how often it reads each node decides how
 * it grows: reading every node in array order, then several times in
 * location order, made 10 times the nodes cost 30 times the time. Here a
 * node is read once, in segment order: whether it is ready and all its
 * segment takes of it are copied into the segment arrays at once; the
 * rest works on those arrays.
 */
#include "internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define LOCATION_PREFIX "location:"
#define NODE_PREFIX "node:"
/* How many nodes ahead of the one it reads take_nodes asks the memory for the next (see prefetch_ahead). */
#define PREFETCH_DISTANCE 8

/* What the segments keep of a ready node besides its fields, in segment order. */
struct node_tag {
	bool first;       /* the first node of its segment */
	bool by_location; /* its segment is "location:<its location>", else "node:<its name>" */
	uint8_t rank;     /* leader_rank */
	uint8_t n_private_ips;
	uint8_t n_allowed_ips; /* pod CIDRs and private IPs */
};

/* The segments' per-node arrays, filled one ready node at a time in segment order. */
struct segment_arrays {
	const struct kilo_node **nodes;
	struct kilo_cidr *cidrs, *secondary, *cni, *allowed;
	struct kilo_addr *private_ips;
	struct node_tag *tags;
	size_t n, n_allowed, n_private, n_segments;
};

/* Kilo's preference: marked and public, marked, public, anything. */
static int leader_rank(bool marked, const struct kilo_endpoint *endpoint)
{
	bool public = kilo_addr_is_public(&endpoint->addr);

	if (marked)
		return public ? 0 : 1;
	return public ? 2 : 3;
}

static int candidate_rank(const void *items, size_t i)
{
	const struct kilo_leader_candidate *c = (const struct kilo_leader_candidate *)items + i;

	return leader_rank(c->leader, &c->endpoint);
}

static int tag_rank(const void *items, size_t i)
{
	return ((const struct node_tag *)items)[i].rank;
}

/* The first of n items with the best rank. */
static size_t first_best(const void *items, size_t n, int (*rank_of)(const void *items, size_t i))
{
	size_t best = 0;
	int best_rank = 4;

	for (size_t i = 0; i < n; i++) {
		int rank = rank_of(items, i);

		if (rank < best_rank) {
			best = i;
			best_rank = rank;
		}
	}
	return best;
}

size_t kilo_find_leader(const struct kilo_leader_candidate *candidates, size_t n)
{
	return first_best(candidates, n, candidate_rank);
}

static char *prefixed(struct kilo_arena *arena, const char *prefix, const char *s)
{
	size_t lp = strlen(prefix), ls = strlen(s);
	char *out = kilo_arena_alloc(arena, lp + ls + 1);

	if (out) {
		memcpy(out, prefix, lp);
		memcpy(out + lp, s, ls + 1);
	}
	return out;
}

static void add_private_ip(struct segment_arrays *a, const struct kilo_cidr *ip)
{
	if (ip->addr.family == 0)
		return;
	a->allowed[a->n_allowed++] = kilo_cidr_host(&ip->addr);
	a->private_ips[a->n_private++] = ip->addr;
}

/* Appends the next ready node in segment order. */
static void take_node(struct segment_arrays *a, const struct kilo_node *node, bool by_location, bool first,
		      struct kilo_ready_totals *totals)
{
	struct node_tag *tag = &a->tags[a->n];
	size_t allowed = a->n_allowed, private = a->n_private;

	/* A slot for the WireGuard IP of the segment before, which ends there (allocate_wireguard_ips). */
	if (first && a->n)
		allowed = ++a->n_allowed;
	a->nodes[a->n] = node;
	a->cidrs[a->n] = node->pod_cidr;
	a->secondary[a->n] = node->secondary_pod_cidr;
	a->cni[a->n] = node->cni_compatibility_ip;
	if (node->pod_cidr.addr.family)
		a->allowed[a->n_allowed++] = node->pod_cidr;
	if (node->secondary_pod_cidr.addr.family)
		a->allowed[a->n_allowed++] = node->secondary_pod_cidr;
	add_private_ip(a, &node->internal_ip);
	add_private_ip(a, &node->secondary_internal_ip);
	*tag = (struct node_tag){
		.first = first,
		.by_location = by_location,
		.rank = (uint8_t)leader_rank(node->leader, &node->endpoint),
		.n_private_ips = (uint8_t)(a->n_private - private),
		.n_allowed_ips = (uint8_t)(a->n_allowed - allowed),
	};
	a->n++;
	a->n_segments += first;
	totals->n_allowed_location_ips += node->n_allowed_location_ips;
	totals->n_discovered_endpoints += node->n_discovered_endpoints;
}

/* As many nodes as the mesh has: the ready ones are counted as they are taken. */
static int alloc_arrays(struct kilo_arena *arena, size_t n, struct segment_arrays *a)
{
	/* Raw: every item up to a segment's count is written. */
	a->nodes = kilo_arena_array_raw(arena, n, sizeof(*a->nodes));
	a->cidrs = kilo_arena_array_raw(arena, n, sizeof(*a->cidrs));
	a->secondary = kilo_arena_array_raw(arena, n, sizeof(*a->secondary));
	a->cni = kilo_arena_array_raw(arena, n, sizeof(*a->cni));
	a->private_ips = kilo_arena_array_raw(arena, 2 * n, sizeof(*a->private_ips));
	/* Two pod CIDRs (dual stack), two private IPs and a WireGuard IP a node at most. */
	a->allowed = kilo_arena_array_raw(arena, 5 * n, sizeof(*a->allowed));
	a->tags = malloc(n * sizeof(*a->tags));
	return a->nodes && a->cidrs && a->secondary && a->cni && a->private_ips && a->allowed && a->tags ? 0 : -ENOMEM;
}

static bool node_ready(const struct kilo_node *node, const struct kilo_node *viewer, const struct kilo_solve_opts *opts)
{
	return kilo_node_ready(node, opts->now,
			       kilo_node_window(node, viewer, opts->ready_window, opts->remote_ready_grace));
}

/*
 * The orders jump around the mesh's array, so each node read is a cache
 * miss, but they say which node comes next: the memory is asked for a
 * node's fields (all but the most of its endpoint's DNS name) a few nodes
 * ahead, and for its location's text, whose address is in the node, once
 * the node has had time to arrive. At 100,000 nodes that takes a fifth off
 * the walk, which otherwise waits for one node at a time.
 */
static void prefetch_ahead(const struct kilo_mesh *mesh, const size_t *order, size_t i)
{
	if (i + 2 * PREFETCH_DISTANCE < mesh->n_nodes) {
		const char *node = (const char *)&mesh->nodes[order[i + 2 * PREFETCH_DISTANCE]];

		/* Every cache line from the node's start to the DNS name's first byte, the last one too. */
		for (size_t offset = 0; offset < offsetof(struct kilo_node, endpoint.dns); offset += 64)
			__builtin_prefetch(node + offset);
		__builtin_prefetch(node + offsetof(struct kilo_node, endpoint.dns));
	}
	if (i + PREFETCH_DISTANCE < mesh->n_nodes)
		__builtin_prefetch(mesh->nodes[order[i + PREFETCH_DISTANCE]].location);
}

/*
 * Takes the ready nodes in Kilo's segment order: "location:<name>"
 * segments sort before "node:<name>" ones, so first the nodes grouped by
 * location (by location, then name), then those that are segments of
 * their own, by name (names are unique: each is a segment). A node without
 * a private IP cannot be reached inside its location: it stands alone.
 */
static int take_nodes(struct kilo_topology *t, const struct kilo_solve_opts *opts, const struct kilo_node *viewer,
		      const struct kilo_node_orders *orders, struct segment_arrays *a, struct kilo_ready_totals *totals)
{
	const struct kilo_mesh *mesh = t->mesh;
	bool *alone = NULL;

	if (t->granularity == KILO_GRANULARITY_LOCATION) {
		alone = calloc(mesh->n_nodes, sizeof(*alone));
		if (!alone)
			return -ENOMEM;
		for (size_t i = 0; i < mesh->n_nodes; i++) {
			const struct kilo_node *node = &mesh->nodes[orders->by_location[i]];

			prefetch_ahead(mesh, orders->by_location, i);
			if (!node_ready(node, viewer, opts))
				continue;
			if (!node->internal_ip.addr.family)
				alone[orders->by_location[i]] = true;
			else
				take_node(a, node, true,
					  a->n == 0 || strcmp(a->nodes[a->n - 1]->location, node->location) != 0, totals);
		}
	}
	for (size_t i = 0; i < mesh->n_nodes; i++) {
		const struct kilo_node *node = &mesh->nodes[orders->by_name[i]];

		if (!alone)
			prefetch_ahead(mesh, orders->by_name, i);
		if (alone ? alone[orders->by_name[i]] : node_ready(node, viewer, opts))
			take_node(a, node, false, true, totals);
	}
	free(alone);
	return 0;
}

/* Cuts the arrays into segments and picks each one's leader; viewer is the local node, if it is ready. */
static int cut_segments(struct kilo_topology *t, const struct segment_arrays *a, const struct kilo_node *viewer)
{
	size_t allowed = 0, private = 0;

	t->local_segment = a->n_segments;
	t->n_segments = a->n_segments;
	if (a->n_segments == 0)
		return 0;
	t->segments = kilo_arena_array(&t->arena, a->n_segments, sizeof(*t->segments));
	if (!t->segments)
		return -ENOMEM;
	for (size_t start = 0, k = 0; start < a->n; k++) {
		struct kilo_segment *seg = &t->segments[k];
		const struct kilo_node *first = a->nodes[start], *leader;
		size_t end = start;

		seg->allowed_ips = a->allowed + allowed;
		seg->private_ips = a->private_ips + private;
		do {
			seg->n_allowed_ips += a->tags[end].n_allowed_ips;
			seg->n_private_ips += a->tags[end].n_private_ips;
			if (a->nodes[end] == viewer) {
				t->local_node = viewer;
				t->local_segment = k;
			}
			end++;
		} while (end < a->n && !a->tags[end].first);
		/* The WireGuard IP is appended once allocated. */
		allowed += seg->n_allowed_ips + 1;
		private += seg->n_private_ips;
		seg->nodes = a->nodes + start;
		seg->n_nodes = end - start;
		seg->cidrs = a->cidrs + start;
		seg->secondary_cidrs = a->secondary + start;
		seg->cni_compatibility_ips = a->cni + start;

		if (a->tags[start].by_location)
			seg->location = prefixed(&t->arena, LOCATION_PREFIX, first->location);
		else
			seg->location = prefixed(&t->arena, NODE_PREFIX, first->name);
		if (t->granularity == KILO_GRANULARITY_CROSS)
			seg->node_location = prefixed(&t->arena, LOCATION_PREFIX, first->location);
		else
			seg->node_location = seg->location;
		if (!seg->location || !seg->node_location)
			return -ENOMEM;

		seg->leader = first_best(a->tags + start, seg->n_nodes, tag_rank);
		leader = seg->nodes[seg->leader];
		seg->endpoint = &leader->endpoint;
		seg->key = leader->public_key;
		seg->persistent_keepalive = leader->persistent_keepalive;
		if (k == t->local_segment && leader == t->local_node)
			t->leader = true;
		start = end;
	}
	return 0;
}

int kilo_topology_segments(struct kilo_topology *t, const struct kilo_solve_opts *opts,
			   struct kilo_ready_totals *totals)
{
	const struct kilo_mesh *mesh = t->mesh;
	const struct kilo_node *viewer = NULL;
	struct segment_arrays arrays = { 0 };
	struct kilo_node_orders orders;
	int r;

	*totals = (struct kilo_ready_totals){ 0 };
	t->local_segment = 0;
	t->n_segments = 0;
	if (mesh->n_nodes == 0)
		return t->hostname[0] ? -ENOENT : 0;
	r = kilo_mesh_node_orders(mesh, &t->arena, &orders);
	if (r < 0)
		return r;
	if (t->hostname[0] && !(viewer = kilo_mesh_find_node(mesh, &orders, t->hostname)))
		return -ENOENT;
	r = alloc_arrays(&t->arena, mesh->n_nodes, &arrays);
	if (r == 0)
		r = take_nodes(t, opts, viewer, &orders, &arrays, totals);
	if (r == 0)
		r = cut_segments(t, &arrays, viewer);
	free(arrays.tags);
	return r;
}
