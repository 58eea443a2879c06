/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The topology as GraphViz DOT, byte for byte as Kilo prints it. Kilo
 * builds the graph with gographviz, and the output depends on that
 * library's model: one attribute set per node name (so a peer named like
 * a node is merged into it and printed in both subgraphs), edges in
 * insertion order (duplicates included), subgraphs and their children
 * sorted by their quoted names, attributes sorted by name. This file keeps
 * that small model instead of emulating a general graph library.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <kilo/serial.h>

#include "../core/arena.h"
#include "../core/error.h"
#include "../core/strbuf.h"
#include "../topology/model.h"

struct dot_node {
	const char *id; /* quoted name */
	const char *label; /* quoted label */
	bool rank;
	const struct dot_node *linked_from; /* the leader already linked to this node */
	const struct dot_subgraph *last_sub; /* the subgraph it was last made a child of */
};

struct dot_vec {
	void **items;
	size_t n, cap;
};

/* Items by quoted name, so that a graph of 100,000 nodes finds each in O(1). */
struct dot_index {
	void **slots; /* open addressing; each item starts with its const char *id */
	size_t mask;
};

struct dot_subgraph {
	const char *id; /* quoted name */
	const char *label; /* quoted label */
	struct dot_vec children; /* struct dot_node *, no duplicates, sorted by id */
	const struct dot_node *centre; /* of the last segment added */
};

enum dot_edge_style {
	DOT_EDGE_SEGMENT, /* leader to member, and leader to leader */
	DOT_EDGE_PLAIN,   /* cross: nodes of one location, no tunnel */
	DOT_EDGE_PEER,
};

struct dot_edge {
	const struct dot_node *src, *dst;
	enum dot_edge_style style;
};

struct dot_graph {
	struct kilo_arena arena;
	struct dot_index nodes;     /* struct dot_node * */
	struct dot_index subgraph_index;
	struct dot_vec subgraphs;   /* struct dot_subgraph * */
	struct dot_vec edges;       /* struct dot_edge *: the links inside segments */
	/*
	 * The links between leaders and to the peers are written as they are
	 * made, never stored: a mesh of 2,000 locations has 2 million of them.
	 */
	const struct dot_node **leaders; /* per segment */
	struct dot_subgraph *peers;
};

static const char *const edge_attrs[] = {
	[DOT_EDGE_SEGMENT] = "dir=both",
	[DOT_EDGE_PLAIN] = "arrowhead=none, arrowtail=none, dir=both, style=dotted",
	[DOT_EDGE_PEER] = "dir=both, style=dashed",
};

/* Vectors grow inside the arena; the old arrays die with it. */
static int vec_push(struct kilo_arena *arena, struct dot_vec *vec, void *item)
{
	if (vec->n == vec->cap) {
		size_t cap = vec->cap ? 2 * vec->cap : 8;
		void **items = kilo_arena_array(arena, cap, sizeof(*items));

		if (!items)
			return -ENOMEM;
		if (vec->n)
			memcpy(items, vec->items, vec->n * sizeof(*items));
		vec->items = items;
		vec->cap = cap;
	}
	vec->items[vec->n++] = item;
	return 0;
}

/*
 * Kilo wraps names and labels in double quotes without escaping them; a
 * quote or a backslash inside (a location may hold any character) is
 * escaped here so that the output stays valid DOT and shows the text as is.
 */
static void append_escaped(struct kilo_strbuf *sb, const char *s)
{
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\\')
			kilo_strbuf_append(sb, "\\");
		kilo_strbuf_append_len(sb, p, 1);
	}
}

/* The text of sb (a quoted string) in arena; sb is reset. */
static const char *finish(struct kilo_arena *arena, struct kilo_strbuf *sb)
{
	char *text, *copy;

	if (kilo_strbuf_finish(sb, &text) < 0)
		return NULL;
	copy = kilo_arena_strdup(arena, text);
	free(text);
	return copy;
}

static const char *quote(struct kilo_arena *arena, const char *prefix, const char *s)
{
	struct kilo_strbuf sb = { 0 };

	kilo_strbuf_append(&sb, "\"");
	kilo_strbuf_append(&sb, prefix);
	append_escaped(&sb, s);
	kilo_strbuf_append(&sb, "\"");
	return finish(arena, &sb);
}

static size_t hash_id(const char *id)
{
	size_t h = 14695981039346656037ull;

	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return h;
}

/* Room for n items at most half full. */
static int index_init(struct kilo_arena *arena, struct dot_index *index, size_t n)
{
	size_t size = 16;

	while (size < 2 * n)
		size *= 2;
	index->slots = kilo_arena_array(arena, size, sizeof(*index->slots));
	index->mask = size - 1;
	return index->slots ? 0 : -ENOMEM;
}

/* The slot of id: the item there, or the empty slot where it goes. */
static void **index_slot(const struct dot_index *index, const char *id)
{
	size_t i = hash_id(id) & index->mask;

	while (index->slots[i] && strcmp(*(const char *const *)index->slots[i], id))
		i = (i + 1) & index->mask;
	return &index->slots[i];
}

static int by_id(const void *a, const void *b)
{
	const struct dot_node *const *x = a, *const *y = b;

	return strcmp((*x)->id, (*y)->id);
}

static int subgraph_by_id(const void *a, const void *b)
{
	const struct dot_subgraph *const *x = a, *const *y = b;

	return strcmp((*x)->id, (*y)->id);
}

static struct dot_subgraph *add_subgraph(struct dot_graph *g, const char *id, const char *label)
{
	struct dot_subgraph *sub;
	void **slot;

	if (!id || !label)
		return NULL;
	slot = index_slot(&g->subgraph_index, id);
	if (*slot)
		return *slot;
	sub = kilo_arena_alloc(&g->arena, sizeof(*sub));
	if (!sub || vec_push(&g->arena, &g->subgraphs, sub) < 0)
		return NULL;
	sub->id = id;
	sub->label = label;
	*slot = sub;
	return sub;
}

/* Where node goes among the sorted children of sub. */
static size_t child_position(const struct dot_subgraph *sub, const struct dot_node *node)
{
	size_t lo = 0, hi = sub->children.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(((const struct dot_node *)sub->children.items[mid])->id, node->id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The node named id, created if new, and made a child of sub (kept sorted by id). */
static struct dot_node *add_node(struct dot_graph *g, struct dot_subgraph *sub, const char *id)
{
	struct dot_node *node;
	void **slot;
	size_t at;

	if (!id)
		return NULL;
	slot = index_slot(&g->nodes, id);
	node = *slot;
	if (!node) {
		node = kilo_arena_alloc(&g->arena, sizeof(*node));
		if (!node)
			return NULL;
		node->id = id;
		*slot = node;
	}
	/* Names are unique per kind: a node meets a subgraph again only as a peer of the same name. */
	if (node->last_sub == sub)
		return node;
	node->last_sub = sub;
	at = child_position(sub, node);
	if (vec_push(&g->arena, &sub->children, node) < 0)
		return NULL;
	memmove(&sub->children.items[at + 1], &sub->children.items[at],
		(sub->children.n - 1 - at) * sizeof(*sub->children.items));
	sub->children.items[at] = node;
	return node;
}

static int add_edge(struct dot_graph *g, const struct dot_node *src, const struct dot_node *dst,
		    enum dot_edge_style style)
{
	struct dot_edge *edge = kilo_arena_alloc(&g->arena, sizeof(*edge));

	if (!edge)
		return -ENOMEM;
	edge->src = src;
	edge->dst = dst;
	edge->style = style;
	return vec_push(&g->arena, &g->edges, edge);
}

/* Lines of the label joined by a literal backslash-n, as GraphViz reads it. */
static const char *node_label(struct kilo_arena *arena, const char *location, const struct kilo_segment *s,
			      size_t j)
{
	const struct kilo_node *node = s->nodes[j];
	char cidr[KILO_CIDR_STRLEN], addr[KILO_ADDR_STRLEN], ep[KILO_ENDPOINT_STRLEN];
	struct kilo_strbuf sb = { 0 };

	kilo_cidr_format(&s->cidrs[j], cidr);
	kilo_strbuf_append(&sb, "\"");
	append_escaped(&sb, location);
	kilo_strbuf_append(&sb, "\\n");
	append_escaped(&sb, node->name);
	kilo_strbuf_printf(&sb, "\\n%s", cidr);
	if (s->secondary_cidrs[j].addr.family) {
		kilo_cidr_format(&s->secondary_cidrs[j], cidr);
		kilo_strbuf_printf(&sb, "\\n%s", cidr);
	}
	if (node->internal_ip.addr.family) {
		kilo_addr_format(&node->internal_ip.addr, addr);
		kilo_strbuf_printf(&sb, "\\n%s", addr);
	}
	if (node->secondary_internal_ip.addr.family) {
		kilo_addr_format(&node->secondary_internal_ip.addr, addr);
		kilo_strbuf_printf(&sb, "\\n%s", addr);
	}
	if (j == s->leader) {
		kilo_addr_format(&s->wireguard_ip, addr);
		kilo_strbuf_printf(&sb, "\\n%s", addr);
		kilo_endpoint_format(s->endpoint, ep);
		if (ep[0])
			kilo_strbuf_printf(&sb, "\\n%s", ep);
	}
	kilo_strbuf_append(&sb, "\"");
	return finish(arena, &sb);
}

/* Kilo's peer label ends with a real newline, not a GraphViz one. */
static const char *peer_label(struct kilo_arena *arena, const struct kilo_peer *peer)
{
	char ep[KILO_ENDPOINT_STRLEN];
	struct kilo_strbuf sb = { 0 };

	kilo_endpoint_format(&peer->endpoint, ep);
	kilo_strbuf_append(&sb, "\"");
	append_escaped(&sb, peer->name);
	kilo_strbuf_append(&sb, "\\n");
	append_escaped(&sb, ep);
	kilo_strbuf_append(&sb, "\n\"");
	return finish(arena, &sb);
}

/*
 * Adds segment s to its subgraph and connects its leader to the others.
 * Like Kilo, the leader is picked by index among all children of the
 * subgraph so far, which only matters when segments share a subgraph
 * (cross granularity, where every segment has one node and the first node
 * of the location becomes the centre of its plain links). PR #490 adds
 * that star again for every node of the location; each link is drawn once
 * here.
 */
static int add_segment(struct dot_graph *g, const struct kilo_topology *t, const struct kilo_segment *s,
		       const struct dot_node **leader)
{
	bool cross = t->granularity == KILO_GRANULARITY_CROSS;
	const char *location = cross ? s->node_location : s->location;
	struct dot_node *node, *centre, **added, **linked;
	struct dot_subgraph *sub;
	size_t n_linked;
	int r;

	if (s->leader >= s->n_nodes)
		return -EINVAL;
	sub = add_subgraph(g, quote(&g->arena, "cluster_location_", location), quote(&g->arena, "", location));
	added = kilo_arena_array(&g->arena, s->n_nodes, sizeof(*added));
	if (!sub || !added)
		return -ENOMEM;
	for (size_t j = 0; j < s->n_nodes; j++) {
		node = added[j] = add_node(g, sub, quote(&g->arena, "", s->nodes[j]->name));
		if (!node)
			return -ENOMEM;
		if (j == s->leader) {
			node->rank = true;
			*leader = node;
		}
		node->label = node_label(&g->arena, location, s, j);
		if (!node->label)
			return -ENOMEM;
	}
	centre = sub->children.items[s->leader];
	/* The centre of the last segment has every older child linked: only the new ones need links. */
	linked = (struct dot_node **)sub->children.items;
	n_linked = sub->children.n;
	if (centre == sub->centre) {
		qsort(added, s->n_nodes, sizeof(*added), by_id);
		linked = added;
		n_linked = s->n_nodes;
	}
	sub->centre = centre;
	for (size_t j = 0; j < n_linked; j++) {
		node = linked[j];
		if (node == centre || node->linked_from == centre)
			continue;
		r = add_edge(g, centre, node, cross ? DOT_EDGE_PLAIN : DOT_EDGE_SEGMENT);
		if (r < 0)
			return r;
		node->linked_from = centre;
	}
	return 0;
}

static int build(struct dot_graph *g, const struct kilo_topology *t)
{
	const struct dot_node **leaders;
	struct dot_subgraph *peers;
	struct dot_node *node;
	size_t n_nodes = t->n_peers;
	int r;

	for (size_t i = 0; i < t->n_segments; i++)
		n_nodes += t->segments[i].n_nodes;
	leaders = kilo_arena_array(&g->arena, t->n_segments ? t->n_segments : 1, sizeof(*leaders));
	if (!leaders || index_init(&g->arena, &g->nodes, n_nodes) < 0 ||
	    index_init(&g->arena, &g->subgraph_index, t->n_segments + 1) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_segments; i++) {
		r = add_segment(g, t, &t->segments[i], &leaders[i]);
		if (r < 0)
			return r;
	}
	g->leaders = leaders;
	peers = add_subgraph(g, quote(&g->arena, "", "cluster_peers"), quote(&g->arena, "", "peers"));
	if (!peers)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_peers; i++) {
		node = add_node(g, peers, quote(&g->arena, "", t->peers[i].peer->name));
		if (!node)
			return -ENOMEM;
		node->label = peer_label(&g->arena, t->peers[i].peer);
		if (!node->label)
			return -ENOMEM;
	}
	g->peers = peers;
	return 0;
}

static void write_edge(struct kilo_strbuf *sb, const struct dot_node *src, const struct dot_node *dst,
		       enum dot_edge_style style)
{
	kilo_strbuf_append(sb, "\t");
	kilo_strbuf_append(sb, src->id);
	kilo_strbuf_append(sb, "->");
	kilo_strbuf_append(sb, dst->id);
	kilo_strbuf_append(sb, "[ ");
	kilo_strbuf_append(sb, edge_attrs[style]);
	kilo_strbuf_append(sb, " ];\n");
}

/* Kilo's edges: inside segments, then every pair of leaders, then every leader to every peer. */
static void write_edges(struct kilo_strbuf *sb, const struct dot_graph *g, const struct kilo_topology *t)
{
	bool cross = t->granularity == KILO_GRANULARITY_CROSS;

	for (size_t i = 0; i < g->edges.n; i++) {
		const struct dot_edge *edge = g->edges.items[i];

		write_edge(sb, edge->src, edge->dst, edge->style);
	}
	for (size_t i = 0; i < t->n_segments; i++)
		for (size_t j = i + 1; j < t->n_segments; j++) {
			/*
			 * Nodes of one location have no tunnel between them in
			 * cross granularity; PR #490 still draws one for pairs
			 * outside its star.
			 */
			if (cross && !strcmp(t->segments[i].node_location, t->segments[j].node_location))
				continue;
			write_edge(sb, g->leaders[i], g->leaders[j], DOT_EDGE_SEGMENT);
		}
	for (size_t i = 0; i < t->n_segments; i++)
		for (size_t j = 0; j < g->peers->children.n; j++)
			write_edge(sb, g->leaders[i], g->peers->children.items[j], DOT_EDGE_PEER);
}

static void write_graph(struct kilo_strbuf *sb, struct dot_graph *g, const struct kilo_topology *t)
{
	struct kilo_cidr subnet = kilo_cidr_masked(&t->kilo_subnet);
	char cidr[KILO_CIDR_STRLEN];

	kilo_cidr_format(&subnet, cidr);
	kilo_strbuf_printf(sb, "digraph kilo {\n\tlabel=\"%s\";\n\tlabelloc=t;\n\toutputorder=nodesfirst;\n"
			       "\toverlap=false;\n", cidr);
	write_edges(sb, g, t);
	if (g->subgraphs.n > 1)
		qsort(g->subgraphs.items, g->subgraphs.n, sizeof(*g->subgraphs.items), subgraph_by_id);
	for (size_t i = 0; i < g->subgraphs.n; i++) {
		const struct dot_subgraph *sub = g->subgraphs.items[i];

		kilo_strbuf_printf(sb, "\tsubgraph %s {\n\tlabel=%s;\n\tstyle=\"dashed,rounded\";\n", sub->id,
				   sub->label);
		for (size_t j = 0; j < sub->children.n; j++) {
			const struct dot_node *node = sub->children.items[j];

			kilo_strbuf_printf(sb, "\t%s [ label=%s, %sshape=ellipse ];\n", node->id, node->label,
					   node->rank ? "rank=1, " : "");
		}
		kilo_strbuf_append(sb, "\n}\n;\n");
	}
	kilo_strbuf_append(sb, "\n}\n");
}

int kilo_topology_dot(const kilo_topology *topology, char **out, struct kilo_error *err)
{
	struct dot_graph g = { 0 };
	struct kilo_strbuf sb = { 0 };
	int r;

	if (!topology || !out)
		return kilo_error_set(err, EINVAL, "graph: %s is NULL", topology ? "out" : "topology");
	*out = NULL;
	r = build(&g, topology);
	if (r < 0) {
		kilo_error_set(err, -r, "graph of %zu segments: %s", topology->n_segments, strerror(-r));
		goto out;
	}
	write_graph(&sb, &g, topology);
	r = kilo_strbuf_finish_named(&sb, out, "graph", err);
out:
	kilo_strbuf_reset(&sb);
	kilo_arena_release(&g.arena);
	return r;
}
