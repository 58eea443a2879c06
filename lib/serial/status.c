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
#include "../core/opts.h"
#include "../core/strbuf.h"
#include "../core/table.h"
#include "../topology/model.h"
#include "jsonval.h"
#include "mesh_json.h"

#define NODE_COLUMNS 7
#define PEER_COLUMNS 4

static const char *const node_header[NODE_COLUMNS] = {
	"NODE", "LOCATION", "LEADER", "READY", "ENDPOINT", "WIREGUARD-IP", "LAST-SEEN",
};

static const char *const peer_header[PEER_COLUMNS] = {
	"PEER", "ALLOWED-IPS", "ENDPOINT", "KEEPALIVE",
};

/* What status says of one node, whatever the format. */
struct node_status {
	const struct kilo_node *node;
	bool in_segment, leader, ready;
	struct kilo_addr wireguard_ip; /* the segment's, on its leader */
};

/* The segment that node belongs to in topology, and whether it leads it. */
static void find_segment(const struct kilo_topology *topology, struct node_status *st)
{
	for (size_t s = 0; s < topology->n_segments; s++) {
		const struct kilo_segment *seg = &topology->segments[s];

		for (size_t i = 0; i < seg->n_nodes; i++) {
			if (seg->nodes[i] == st->node) {
				st->in_segment = true;
				st->leader = i == seg->leader;
				if (st->leader)
					st->wireguard_ip = seg->wireguard_ip;
				return;
			}
		}
	}
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

static int node_rows(const struct node_status *nodes, size_t n, int64_t now, struct kilo_arena *arena,
		     struct kilo_table *t)
{
	char endpoint[KILO_ENDPOINT_STRLEN], ip[KILO_ADDR_STRLEN];
	const char **row;

	for (size_t i = 0; i < n; i++) {
		kilo_endpoint_format(&nodes[i].node->endpoint, endpoint);
		ip[0] = '\0';
		if (nodes[i].wireguard_ip.family)
			kilo_addr_format(&nodes[i].wireguard_ip, ip);
		row = &t->cells[t->n_rows++ * t->columns];
		row[0] = kilo_table_text(arena, nodes[i].node->name);
		row[1] = kilo_table_text(arena, nodes[i].node->location);
		row[2] = !nodes[i].in_segment ? "-" : nodes[i].leader ? "yes" : "no";
		row[3] = nodes[i].ready ? "yes" : "no";
		row[4] = kilo_table_text(arena, endpoint);
		row[5] = kilo_table_text(arena, ip);
		row[6] = age(arena, nodes[i].node->last_seen, now);
		for (size_t c = 0; c < t->columns; c++)
			if (!row[c])
				return -ENOMEM;
	}
	return 0;
}

static int peer_rows(const struct kilo_mesh *mesh, struct kilo_arena *arena, struct kilo_table *t)
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
		row[0] = kilo_table_text(arena, peer->name);
		row[1] = kilo_table_text(arena, joined ? joined : "");
		row[2] = kilo_table_text(arena, endpoint);
		row[3] = kilo_table_text(arena, peer->persistent_keepalive ? keepalive : "");
		kilo_free(joined);
		for (size_t c = 0; c < t->columns; c++)
			if (!row[c])
				return -ENOMEM;
	}
	return 0;
}

static int format_text(const struct kilo_mesh *mesh, const struct node_status *nodes, int64_t now,
		       struct kilo_arena *arena, char **out)
{
	struct kilo_strbuf sb = { 0 };
	struct kilo_table t;
	int r;

	r = kilo_table_init(&t, arena, node_header, NODE_COLUMNS, mesh->n_nodes);
	if (r == 0)
		r = node_rows(nodes, mesh->n_nodes, now, arena, &t);
	if (r < 0)
		goto out;
	kilo_table_print(&t, &sb);
	if (mesh->n_peers) {
		r = kilo_table_init(&t, arena, peer_header, PEER_COLUMNS, mesh->n_peers);
		if (r == 0)
			r = peer_rows(mesh, arena, &t);
		if (r < 0)
			goto out;
		kilo_strbuf_append(&sb, "\n");
		kilo_table_print(&t, &sb);
	}
	r = kilo_strbuf_finish(&sb, out);
out:
	kilo_strbuf_reset(&sb);
	return r;
}

static json_t *string_or_null(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

static json_t *node_json(const struct node_status *st)
{
	const struct kilo_node *node = st->node;
	json_t *o = json_object();
	int r;

	r = kilo_jsonval_set(o, "name", json_string(node->name));
	r = r ?: kilo_jsonval_set(o, "location", string_or_null(node->location));
	r = r ?: kilo_jsonval_set(o, "leader", json_boolean(st->leader));
	r = r ?: kilo_jsonval_set(o, "ready", json_boolean(st->ready));
	r = r ?: kilo_jsonval_set(o, "endpoint", kilo_jsonval_endpoint(&node->endpoint));
	r = r ?: kilo_jsonval_set(o, "wireGuardIP", kilo_jsonval_addr(&st->wireguard_ip));
	r = r ?: kilo_jsonval_set(o, "lastSeen", node->last_seen ? json_integer(node->last_seen) : json_null());
	if (r < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *peer_json(const struct kilo_peer *peer)
{
	json_t *o = json_object();
	int r;

	r = kilo_jsonval_set(o, "name", json_string(peer->name));
	r = r ?: kilo_jsonval_set(o, "allowedIPs", kilo_jsonval_cidrs(peer->allowed_ips, peer->n_allowed_ips));
	r = r ?: kilo_jsonval_set(o, "endpoint", kilo_jsonval_endpoint(&peer->endpoint));
	r = r ?: kilo_jsonval_set(o, "persistentKeepalive", json_integer(peer->persistent_keepalive));
	if (r < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int format_json(const struct kilo_mesh *mesh, const struct node_status *nodes, char **out)
{
	json_t *root = json_object(), *list = json_array(), *peers = json_array();
	int r;

	r = kilo_jsonval_set(root, "nodes", list);
	r = r ?: kilo_jsonval_set(root, "peers", peers);
	for (size_t i = 0; r == 0 && i < mesh->n_nodes; i++)
		r = kilo_jsonval_append(list, node_json(&nodes[i]));
	for (size_t i = 0; r == 0 && i < mesh->n_peers; i++)
		r = kilo_jsonval_append(peers, peer_json(&mesh->peers[i]));
	if (r == 0)
		r = kilo_json_dump(root, out);
	json_decref(root);
	return r;
}

int kilo_mesh_status(const kilo_mesh *mesh, const struct kilo_status_opts *opts_in, char **out,
		     struct kilo_error *err)
{
	struct kilo_status_opts opts;
	struct kilo_solve_opts solve = { .sz = sizeof(solve) };
	struct kilo_topology *topology = NULL;
	struct kilo_arena arena = { 0 };
	struct node_status *nodes;
	int r;

	*out = NULL;
	r = KILO_OPTS_COPY(&opts, opts_in, kilo_status_opts, err);
	if (r < 0)
		return r;
	if (opts.format != KILO_STATUS_TEXT && opts.format != KILO_STATUS_JSON)
		return kilo_error_set(err, EINVAL, "status format %d is not text or JSON", (int)opts.format);
	/* A snapshot is solved as showconf solves it: without liveness. */
	if (!opts.snapshot) {
		solve.now = opts.now;
		solve.ready_window = opts.ready_window;
	}
	r = kilo_topology_solve(mesh, &solve, &topology, err);
	if (r < 0)
		return r;
	nodes = kilo_arena_array(&arena, mesh->n_nodes + 1, sizeof(*nodes));
	r = nodes ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < mesh->n_nodes; i++) {
		nodes[i] = (struct node_status){ .node = &mesh->nodes[i] };
		find_segment(topology, &nodes[i]);
		nodes[i].ready = kilo_node_ready(nodes[i].node, solve.now, solve.ready_window);
	}
	if (r == 0)
		r = opts.format == KILO_STATUS_JSON ? format_json(mesh, nodes, out)
						    : format_text(mesh, nodes, opts.now, &arena, out);
	if (r == -ENOMEM)
		kilo_error_set(err, ENOMEM, "out of memory");
	kilo_arena_release(&arena);
	kilo_topology_free(topology);
	return r;
}

int kilo_mesh_status_format(const kilo_mesh *mesh, int64_t now, uint32_t ready_window, char **out,
			    struct kilo_error *err)
{
	const struct kilo_status_opts opts = { .sz = sizeof(opts), .now = now, .ready_window = ready_window };

	return kilo_mesh_status(mesh, &opts, out, err);
}
