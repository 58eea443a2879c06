// SPDX-License-Identifier: Apache-2.0
/*
 * The mesh at a glance, as `kgctl status` prints it: who is there, who
 * leads, who is alive. Leaders come from the solver, so the table shows
 * what the agents compute, not a guess.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <kilo/serial.h>

#include "../core/arena.h"
#include "../core/error.h"
#include "../core/strbuf.h"
#include "../topology/model.h"

#define NODE_COLUMNS 7
#define PEER_COLUMNS 4

static const char *const node_header[NODE_COLUMNS] = {
	"NODE", "LOCATION", "LEADER", "READY", "ENDPOINT", "WIREGUARD-IP", "LAST-SEEN",
};

static const char *const peer_header[PEER_COLUMNS] = {
	"PEER", "ALLOWED-IPS", "ENDPOINT", "KEEPALIVE",
};

struct table {
	size_t columns, n_rows;
	const char **cells; /* n_rows * columns, the header first */
	size_t width[NODE_COLUMNS];
};

static int table_init(struct table *t, struct kilo_arena *arena, const char *const *header, size_t columns,
		      size_t n_rows)
{
	t->columns = columns;
	t->n_rows = 0;
	t->cells = kilo_arena_array(arena, (n_rows + 1) * columns, sizeof(*t->cells));
	if (!t->cells)
		return -ENOMEM;
	memset(t->width, 0, sizeof(t->width));
	for (size_t c = 0; c < columns; c++)
		t->cells[c] = header[c];
	t->n_rows = 1;
	return 0;
}

static void table_print(struct table *t, struct kilo_strbuf *sb)
{
	const char *cell;

	for (size_t i = 0; i < t->n_rows * t->columns; i++) {
		if (strlen(t->cells[i]) > t->width[i % t->columns])
			t->width[i % t->columns] = strlen(t->cells[i]);
	}
	for (size_t row = 0; row < t->n_rows; row++) {
		for (size_t c = 0; c < t->columns; c++) {
			cell = t->cells[row * t->columns + c];
			if (c + 1 < t->columns)
				kilo_strbuf_printf(sb, "%-*s  ", (int)t->width[c], cell);
			else
				kilo_strbuf_printf(sb, "%s\n", cell);
		}
	}
}

static const char *text(struct kilo_arena *arena, const char *s)
{
	return kilo_arena_strdup(arena, s[0] ? s : "-");
}

/* The segment that node belongs to in topology, and whether it leads it. */
static const struct kilo_segment *segment_of(const struct kilo_topology *topology, const struct kilo_node *node,
					     bool *leader)
{
	for (size_t s = 0; s < topology->n_segments; s++) {
		const struct kilo_segment *seg = &topology->segments[s];

		for (size_t i = 0; i < seg->n_nodes; i++) {
			if (seg->nodes[i] == node) {
				*leader = i == seg->leader;
				return seg;
			}
		}
	}
	*leader = false;
	return NULL;
}

static const char *age(struct kilo_arena *arena, int64_t last_seen, int64_t now)
{
	char buf[32];

	if (!last_seen)
		return "never";
	if (last_seen > now)
		return "in the future";
	snprintf(buf, sizeof(buf), "%" PRId64 "s ago", now - last_seen);
	return kilo_arena_strdup(arena, buf);
}

static int node_rows(const struct kilo_mesh *mesh, const struct kilo_topology *topology, int64_t now,
		     uint32_t window, struct kilo_arena *arena, struct table *t)
{
	char endpoint[KILO_ENDPOINT_STRLEN], ip[KILO_ADDR_STRLEN];
	const struct kilo_segment *seg;
	const struct kilo_node *node;
	const char **row;
	bool leader;

	for (size_t i = 0; i < mesh->n_nodes; i++) {
		node = &mesh->nodes[i];
		seg = segment_of(topology, node, &leader);
		kilo_endpoint_format(&node->endpoint, endpoint);
		ip[0] = '\0';
		if (seg && leader)
			kilo_addr_format(&seg->wireguard_ip, ip);
		row = &t->cells[t->n_rows++ * t->columns];
		row[0] = node->name;
		row[1] = text(arena, node->location);
		row[2] = !seg ? "-" : leader ? "yes" : "no";
		row[3] = kilo_node_ready(node, now, window) ? "yes" : "no";
		row[4] = text(arena, endpoint);
		row[5] = text(arena, ip);
		row[6] = age(arena, node->last_seen, now);
		for (size_t c = 0; c < t->columns; c++)
			if (!row[c])
				return -ENOMEM;
	}
	return 0;
}

static int peer_rows(const struct kilo_mesh *mesh, struct kilo_arena *arena, struct table *t)
{
	char endpoint[KILO_ENDPOINT_STRLEN], cidr[KILO_CIDR_STRLEN], keepalive[16];
	struct kilo_strbuf ips = { 0 };
	const struct kilo_peer *peer;
	const char **row;
	char *joined;

	for (size_t i = 0; i < mesh->n_peers; i++) {
		peer = &mesh->peers[i];
		for (size_t j = 0; j < peer->n_allowed_ips; j++) {
			kilo_cidr_format(&peer->allowed_ips[j], cidr);
			kilo_strbuf_printf(&ips, "%s%s", j ? "," : "", cidr);
		}
		if (kilo_strbuf_finish(&ips, &joined) < 0)
			return -ENOMEM;
		kilo_endpoint_format(&peer->endpoint, endpoint);
		snprintf(keepalive, sizeof(keepalive), "%" PRIu32 "s", peer->persistent_keepalive);
		row = &t->cells[t->n_rows++ * t->columns];
		row[0] = peer->name;
		row[1] = text(arena, joined ? joined : "");
		row[2] = text(arena, endpoint);
		row[3] = text(arena, peer->persistent_keepalive ? keepalive : "");
		kilo_free(joined);
		for (size_t c = 0; c < t->columns; c++)
			if (!row[c])
				return -ENOMEM;
	}
	return 0;
}

int kilo_mesh_status_format(const kilo_mesh *mesh, int64_t now, uint32_t ready_window, char **out,
			    struct kilo_error *err)
{
	struct kilo_solve_opts opts = { .sz = sizeof(opts), .now = now, .ready_window = ready_window };
	struct kilo_topology *topology = NULL;
	struct kilo_arena arena = { 0 };
	struct kilo_strbuf sb = { 0 };
	struct table t;
	int r;

	*out = NULL;
	r = kilo_topology_solve(mesh, &opts, &topology, err);
	if (r < 0)
		return r;
	r = table_init(&t, &arena, node_header, NODE_COLUMNS, mesh->n_nodes);
	if (r == 0)
		r = node_rows(mesh, topology, now, ready_window, &arena, &t);
	if (r < 0)
		goto out;
	table_print(&t, &sb);
	if (mesh->n_peers) {
		r = table_init(&t, &arena, peer_header, PEER_COLUMNS, mesh->n_peers);
		if (r == 0)
			r = peer_rows(mesh, &arena, &t);
		if (r < 0)
			goto out;
		kilo_strbuf_append(&sb, "\n");
		table_print(&t, &sb);
	}
	r = kilo_strbuf_finish(&sb, out);
out:
	if (r == -ENOMEM)
		kilo_error_set(err, ENOMEM, "out of memory");
	kilo_strbuf_reset(&sb);
	kilo_arena_release(&arena);
	kilo_topology_free(topology);
	return r;
}
