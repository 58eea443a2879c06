/* SPDX-License-Identifier: Apache-2.0 */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define CAPACITY 16

static struct kilo_cidr cidr(const char *text)
{
	struct kilo_cidr c = { 0 };

	if (text)
		assert_int_equal(kilo_cidr_parse(text, &c, NULL), 0);
	return c;
}

struct kilo_key fixture_key(const char *base64)
{
	struct kilo_key key = { 0 };

	if (base64)
		assert_int_equal(kilo_key_parse(base64, &key, NULL), 0);
	return key;
}

struct kilo_mesh *fixture_mesh_new(enum kilo_granularity granularity)
{
	struct kilo_mesh *mesh = calloc(1, sizeof(*mesh));

	assert_non_null(mesh);
	kilo_settings_init(&mesh->settings);
	mesh->settings.granularity = granularity;
	mesh->nodes = kilo_arena_array(&mesh->arena, CAPACITY, sizeof(*mesh->nodes));
	mesh->peers = kilo_arena_array(&mesh->arena, CAPACITY, sizeof(*mesh->peers));
	assert_true(mesh->nodes && mesh->peers);
	return mesh;
}

struct kilo_node *fixture_add_node(struct kilo_mesh *mesh, const struct fixture_node *in)
{
	struct kilo_node *node = &mesh->nodes[mesh->n_nodes++];

	assert_true(mesh->n_nodes <= CAPACITY);
	node->name = in->name;
	node->location = in->location ? in->location : "";
	if (in->endpoint)
		assert_int_equal(kilo_endpoint_parse(in->endpoint, &node->endpoint, NULL), 0);
	node->internal_ip = cidr(in->internal_ip);
	node->pod_cidr = cidr(in->pod_cidr);
	node->secondary_pod_cidr = cidr(in->secondary_pod_cidr);
	node->secondary_internal_ip = cidr(in->secondary_internal_ip);
	node->public_key = fixture_key(in->key);
	node->persistent_keepalive = in->keepalive;
	node->leader = in->leader;
	if (in->allowed_location_ip) {
		node->allowed_location_ips = kilo_arena_alloc(&mesh->arena, sizeof(struct kilo_cidr));
		node->allowed_location_ips[0] = cidr(in->allowed_location_ip);
		node->n_allowed_location_ips = 1;
	}
	return node;
}

struct kilo_peer *fixture_add_peer(struct kilo_mesh *mesh, const struct fixture_peer *in)
{
	struct kilo_peer *peer = &mesh->peers[mesh->n_peers++];
	size_t n = 0;

	assert_true(mesh->n_peers <= CAPACITY);
	peer->name = in->name;
	peer->public_key = fixture_key(in->key);
	while (n < 3 && in->allowed_ips[n])
		n++;
	peer->allowed_ips = kilo_arena_array(&mesh->arena, n ? n : 1, sizeof(*peer->allowed_ips));
	for (size_t i = 0; i < n; i++)
		peer->allowed_ips[i] = cidr(in->allowed_ips[i]);
	peer->n_allowed_ips = n;
	if (in->endpoint)
		assert_int_equal(kilo_endpoint_parse(in->endpoint, &peer->endpoint, NULL), 0);
	peer->persistent_keepalive = in->keepalive;
	if (in->psk) {
		peer->has_preshared_key = true;
		peer->preshared_key = fixture_key(in->psk);
	}
	return peer;
}

void fixture_mesh_free(struct kilo_mesh *mesh)
{
	kilo_arena_release(&mesh->arena);
	free(mesh);
}

struct kilo_mesh *fixture_kilo(enum kilo_granularity granularity)
{
	static const struct fixture_node nodes[] = {
		{ "a", "10.1.0.1:51820", "192.168.0.1/32", "1", "10.2.1.0/24",
		  "a2V5MQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0, false, NULL, NULL, NULL },
		{ "b", "10.1.0.2:51820", "192.168.0.1/32", "2", "10.2.2.0/24",
		  "a2V5MgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0, false, "192.168.178.3/32", NULL, NULL },
		{ "c", "10.1.0.3:51820", "192.168.0.2/32", "2", "10.2.3.0/24",
		  "a2V5MwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0, false, NULL, NULL, NULL },
		{ "d", "10.1.0.4:51820", NULL, "1", "10.2.4.0/24", "a2V5NAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0,
		  false, NULL, NULL, NULL },
	};
	static const struct fixture_peer peers[] = {
		{ "a", "a2V5NAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", { "10.5.0.1/24", "10.5.0.2/24" }, NULL, 0, NULL },
		{ "b", "a2V5NQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", { "10.5.0.3/24" }, "192.168.0.1:51820", 0, NULL },
	};
	struct kilo_mesh *mesh = fixture_mesh_new(granularity);

	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++)
		fixture_add_node(mesh, &nodes[i]);
	for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++)
		fixture_add_peer(mesh, &peers[i]);
	return mesh;
}

kilo_topology *fixture_solve(const struct kilo_mesh *mesh, const char *hostname)
{
	struct kilo_key key = fixture_key("cHJpdgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	struct kilo_solve_opts opts = { .sz = sizeof(opts), .hostname = hostname, .private_key = &key };
	struct kilo_error err = { 0 };
	kilo_topology *t = NULL;

	assert_int_equal(kilo_topology_solve(mesh, &opts, &t, &err), 0);
	return t;
}

const char *fixture_cidrs(const struct kilo_cidr *cidrs, size_t n)
{
	static char out[1024];
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char text[KILO_CIDR_STRLEN];

		kilo_cidr_format(&cidrs[i], text);
		len += snprintf(out + len, sizeof(out) - len, "%s%s", i ? ", " : "", text);
		assert_true(len < sizeof(out));
	}
	return out;
}

const char *fixture_route(const struct kilo_route *r)
{
	static char out[256];
	char dst[KILO_CIDR_STRLEN], gw[KILO_ADDR_STRLEN], src[KILO_ADDR_STRLEN];
	size_t len;

	kilo_cidr_format(&r->dst, dst);
	len = snprintf(out, sizeof(out), "%s", dst);
	if (r->gw.family) {
		kilo_addr_format(&r->gw, gw);
		len += snprintf(out + len, sizeof(out) - len, " via %s", gw);
	}
	if (r->src.family) {
		kilo_addr_format(&r->src, src);
		len += snprintf(out + len, sizeof(out) - len, " src %s", src);
	}
	len += snprintf(out + len, sizeof(out) - len, " dev %d", r->ifindex);
	if (r->table)
		len += snprintf(out + len, sizeof(out) - len, " table %u", r->table);
	if (r->onlink)
		snprintf(out + len, sizeof(out) - len, " onlink");
	return out;
}
