/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/wgconf.h"
#include "fixture.h"

static const char *endpoint_text(const struct kilo_endpoint *ep)
{
	static char out[KILO_ENDPOINT_STRLEN];

	kilo_endpoint_format(ep, out);
	return out;
}

static const char *key_text(const struct kilo_key *key)
{
	static char out[KILO_KEY_B64_LEN + 1];

	kilo_key_format(key, out);
	return out;
}

static void test_conf_skips_the_local_segment(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	kilo_topology *t = fixture_solve(mesh, "a");
	kilo_wg_config *c = NULL;

	(void)state;
	assert_int_equal(kilo_topology_conf(t, &c, NULL), 0);
	assert_true(c->has_interface);
	assert_int_equal(c->listen_port, 51820);
	/* location:2, node:d, then peers a and b. */
	assert_int_equal(kilo_wg_config_peer_count(c), 4);
	assert_string_equal(key_text(&c->peers[0].public_key), "a2V5MgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	assert_string_equal(fixture_cidrs(c->peers[0].allowed_ips, c->peers[0].n_allowed_ips),
			    "10.2.2.0/24, 192.168.0.1/32, 10.2.3.0/24, 192.168.0.2/32, 10.4.0.2/32, 192.168.178.3/32");
	assert_string_equal(endpoint_text(&c->peers[0].endpoint), "10.1.0.2:51820");
	assert_string_equal(fixture_cidrs(c->peers[2].allowed_ips, c->peers[2].n_allowed_ips),
			    "10.5.0.1/24, 10.5.0.2/24");
	assert_false(kilo_endpoint_is_set(&c->peers[2].endpoint));
	kilo_wg_config_free(c);
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_conf_gives_every_peer_the_local_keepalive(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_FULL);
	struct kilo_solve_opts opts = { .sz = sizeof(opts), .hostname = "c" };
	kilo_wg_config *c = NULL;
	kilo_topology *t = NULL;

	(void)state;
	mesh->nodes[2].persistent_keepalive = 15; /* c */
	mesh->nodes[0].persistent_keepalive = 40; /* a: its own value does not count */
	assert_int_equal(kilo_topology_solve(mesh, &opts, &t, NULL), 0);
	assert_int_equal(kilo_topology_conf(t, &c, NULL), 0);
	assert_false(c->has_private_key);
	/* But b, of c's location and private network, only if c's key sorts first. */
	for (size_t i = 0; i < c->n_peers; i++) {
		bool b = kilo_key_equal(&c->peers[i].public_key, &mesh->nodes[1].public_key);
		bool c_first = memcmp(mesh->nodes[2].public_key.bytes, mesh->nodes[1].public_key.bytes, KILO_KEY_LEN) < 0;

		assert_int_equal(c->peers[i].persistent_keepalive, !b || c_first ? 15 : 0);
	}
	kilo_wg_config_free(c);
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_discovered_endpoint_replaces_advertised_only_with_keepalive(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_FULL);
	struct kilo_discovered_endpoint seen[2];
	kilo_wg_config *c = NULL;
	kilo_topology *t;

	(void)state;
	/* c saw a and b behind NAT; only a keeps its mapping alive. */
	seen[0].key = mesh->nodes[0].public_key;
	assert_int_equal(kilo_endpoint_parse("5.6.7.8:4000", &seen[0].endpoint, NULL), 0);
	seen[1].key = mesh->nodes[1].public_key;
	assert_int_equal(kilo_endpoint_parse("5.6.7.9:4000", &seen[1].endpoint, NULL), 0);
	mesh->nodes[2].discovered_endpoints = seen;
	mesh->nodes[2].n_discovered_endpoints = 2;
	mesh->nodes[0].persistent_keepalive = 25;
	t = fixture_solve(mesh, "d");
	assert_int_equal(kilo_topology_conf(t, &c, NULL), 0);
	assert_string_equal(endpoint_text(&c->peers[0].endpoint), "5.6.7.8:4000");
	assert_string_equal(endpoint_text(&c->peers[1].endpoint), "10.1.0.2:51820");
	kilo_wg_config_free(c);
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_node_of_the_same_location_keeps_its_advertised_endpoint(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_FULL);
	struct kilo_discovered_endpoint seen[2];
	uint32_t b_to_c, c_to_b = 1;
	kilo_wg_config *c = NULL;
	kilo_topology *t;

	(void)state;
	/* d saw a and c from outside their NATs; b shares c's location and private network. */
	seen[0].key = mesh->nodes[0].public_key;
	assert_int_equal(kilo_endpoint_parse("5.6.7.8:4000", &seen[0].endpoint, NULL), 0);
	seen[1].key = mesh->nodes[2].public_key;
	assert_int_equal(kilo_endpoint_parse("5.6.7.9:4000", &seen[1].endpoint, NULL), 0);
	mesh->nodes[3].discovered_endpoints = seen;
	mesh->nodes[3].n_discovered_endpoints = 2;
	mesh->nodes[0].persistent_keepalive = 25;
	mesh->nodes[2].persistent_keepalive = 25;
	t = fixture_solve(mesh, "b");
	assert_int_equal(kilo_topology_conf(t, &c, NULL), 0);
	assert_string_equal(endpoint_text(&c->peers[0].endpoint), "5.6.7.8:4000");
	/* The NAT's public side would not forward back inside: no hairpin. */
	assert_string_equal(endpoint_text(&c->peers[1].endpoint), "10.1.0.3:51820");
	kilo_wg_config_free(c);
	kilo_topology_free(t);
	/*
	 * b behind the NAT too: it keeps a's mapping open. Between b and c, of
	 * one private network, only one side keeps alive: both at once can
	 * cross their handshakes forever.
	 */
	mesh->nodes[1].persistent_keepalive = 25;
	t = fixture_solve(mesh, "b");
	assert_int_equal(kilo_topology_conf(t, &c, NULL), 0);
	assert_int_equal(c->peers[0].persistent_keepalive, 25);
	b_to_c = c->peers[1].persistent_keepalive;
	kilo_wg_config_free(c);
	kilo_topology_free(t);
	t = fixture_solve(mesh, "c");
	assert_int_equal(kilo_topology_conf(t, &c, NULL), 0);
	for (size_t i = 0; i < c->n_peers; i++) {
		if (kilo_key_equal(&c->peers[i].public_key, &mesh->nodes[1].public_key))
			c_to_b = c->peers[i].persistent_keepalive;
	}
	assert_true((b_to_c == 25 && c_to_b == 0) || (b_to_c == 0 && c_to_b == 25));
	kilo_wg_config_free(c);
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_local_node_report_of_an_endpoint_wins(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_FULL);
	struct kilo_discovered_endpoint by_a, by_d;
	const struct kilo_endpoint *ep;
	kilo_topology *t;

	(void)state;
	by_a.key = by_d.key = mesh->nodes[1].public_key;
	kilo_endpoint_parse("1.1.1.1:1", &by_a.endpoint, NULL);
	kilo_endpoint_parse("4.4.4.4:4", &by_d.endpoint, NULL);
	mesh->nodes[0].discovered_endpoints = &by_a;
	mesh->nodes[0].n_discovered_endpoints = 1;
	mesh->nodes[3].discovered_endpoints = &by_d;
	mesh->nodes[3].n_discovered_endpoints = 1;
	t = fixture_solve(mesh, "d");
	ep = kilo_topology_nat_endpoint(t, &mesh->nodes[1].endpoint, &mesh->nodes[1].public_key, 5);
	assert_string_equal(endpoint_text(ep), "4.4.4.4:4");
	kilo_topology_free(t);
	t = fixture_solve(mesh, "c");
	ep = kilo_topology_nat_endpoint(t, &mesh->nodes[1].endpoint, &mesh->nodes[1].public_key, 5);
	assert_string_equal(endpoint_text(ep), "1.1.1.1:1");
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_cross_granularity_makes_no_tunnel_inside_a_location(void **state)
{
	const struct fixture_node e = { "e", "10.1.0.5:51820", "192.168.0.5/24", "1", "10.2.5.0/24",
					"a2V5NgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0, false, NULL, NULL, NULL };
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_CROSS);
	kilo_wg_config *c = NULL;
	kilo_topology *t;

	(void)state;
	fixture_add_node(mesh, &e);
	t = fixture_solve(mesh, "a");
	assert_int_equal(kilo_topology_conf(t, &c, NULL), 0);
	/* b and c (location 2), d (no private IP to reach it by), the two peers; not e. */
	assert_int_equal(c->n_peers, 5);
	assert_string_equal(key_text(&c->peers[0].public_key), "a2V5MgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	assert_string_equal(key_text(&c->peers[1].public_key), "a2V5MwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	assert_string_equal(key_text(&c->peers[2].public_key), "a2V5NAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	kilo_wg_config_free(c);
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_peer_conf_lists_every_segment_with_the_peer_secrets(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	kilo_topology *t;
	kilo_wg_config *c = NULL;

	(void)state;
	mesh->peers[1].persistent_keepalive = 10;
	mesh->peers[1].has_preshared_key = true;
	mesh->peers[1].preshared_key = fixture_key("a2V5NgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	t = fixture_solve(mesh, NULL);
	assert_int_equal(kilo_topology_peer_conf(t, "b", &c, NULL), 0);
	assert_false(c->has_interface);
	assert_int_equal(c->n_peers, 4);
	for (size_t i = 0; i < 3; i++) {
		assert_true(c->peers[i].has_preshared_key);
		assert_int_equal(c->peers[i].persistent_keepalive, 10);
	}
	/* The other peer gets the keepalive but never the secret. */
	assert_false(c->peers[3].has_preshared_key);
	assert_int_equal(c->peers[3].persistent_keepalive, 10);
	assert_string_equal(fixture_cidrs(c->peers[3].allowed_ips, c->peers[3].n_allowed_ips),
			    "10.5.0.1/24, 10.5.0.2/24");
	kilo_wg_config_free(c);
	assert_int_equal(kilo_topology_peer_conf(t, "nobody", &c, NULL), -ENOENT);
	assert_null(c);
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

/* Without it, a VPN peer that uses a preshared key never completes a handshake with the mesh. */
static void test_conf_carries_each_peer_preshared_key(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	kilo_topology *t;
	kilo_wg_config *c = NULL;

	(void)state;
	mesh->peers[1].has_preshared_key = true;
	mesh->peers[1].preshared_key = fixture_key("a2V5NgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	t = fixture_solve(mesh, "a");
	assert_int_equal(kilo_topology_conf(t, &c, NULL), 0);
	assert_int_equal(c->n_peers, 4);
	/* The segments, then peer a (none), then peer b (its own). */
	assert_false(c->peers[0].has_preshared_key);
	assert_false(c->peers[2].has_preshared_key);
	assert_true(c->peers[3].has_preshared_key);
	assert_string_equal(key_text(&c->peers[3].preshared_key), "a2V5NgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	kilo_wg_config_free(c);
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_as_peer_appends_extra_ips_without_repeats(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	kilo_topology *t = fixture_solve(mesh, "a");
	struct kilo_cidr extra[2];
	kilo_wg_config *c = NULL;

	(void)state;
	kilo_cidr_parse("10.43.0.0/16", &extra[0], NULL);
	kilo_cidr_parse("10.4.0.1/32", &extra[1], NULL);
	assert_int_equal(kilo_topology_as_peer(t, extra, 2, &c, NULL), 0);
	assert_false(c->has_interface);
	assert_int_equal(c->n_peers, 1);
	assert_string_equal(fixture_cidrs(c->peers[0].allowed_ips, c->peers[0].n_allowed_ips),
			    "10.2.1.0/24, 192.168.0.1/32, 10.4.0.1/32, 10.43.0.0/16");
	assert_string_equal(endpoint_text(&c->peers[0].endpoint), "10.1.0.1:51820");
	assert_int_equal(c->peers[0].persistent_keepalive, 0);
	kilo_wg_config_free(c);
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_peer_as_peer_is_the_peer_with_extra_ips(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	kilo_topology *t;
	struct kilo_cidr extra[2];
	kilo_wg_config *c = NULL;

	(void)state;
	mesh->peers[1].persistent_keepalive = 10;
	mesh->peers[1].has_preshared_key = true;
	mesh->peers[1].preshared_key = fixture_key("a2V5NgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	t = fixture_solve(mesh, NULL);
	kilo_cidr_parse("10.5.0.3/24", &extra[0], NULL);
	kilo_cidr_parse("10.43.0.0/16", &extra[1], NULL);
	assert_int_equal(kilo_topology_peer_as_peer(t, "b", extra, 2, &c, NULL), 0);
	assert_false(c->has_interface);
	assert_int_equal(c->n_peers, 1);
	assert_string_equal(fixture_cidrs(c->peers[0].allowed_ips, c->peers[0].n_allowed_ips),
			    "10.5.0.3/24, 10.43.0.0/16");
	assert_string_equal(endpoint_text(&c->peers[0].endpoint), "192.168.0.1:51820");
	assert_int_equal(c->peers[0].persistent_keepalive, 10);
	assert_true(c->peers[0].has_preshared_key);
	assert_true(kilo_key_equal(&c->peers[0].public_key, &mesh->peers[1].public_key));
	kilo_wg_config_free(c);
	assert_int_equal(kilo_topology_peer_as_peer(t, "nobody", NULL, 0, &c, NULL), -ENOENT);
	assert_null(c);
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_skips_the_local_segment),
		cmocka_unit_test(test_conf_gives_every_peer_the_local_keepalive),
		cmocka_unit_test(test_discovered_endpoint_replaces_advertised_only_with_keepalive),
		cmocka_unit_test(test_node_of_the_same_location_keeps_its_advertised_endpoint),
		cmocka_unit_test(test_local_node_report_of_an_endpoint_wins),
		cmocka_unit_test(test_cross_granularity_makes_no_tunnel_inside_a_location),
		cmocka_unit_test(test_peer_conf_lists_every_segment_with_the_peer_secrets),
		cmocka_unit_test(test_conf_carries_each_peer_preshared_key),
		cmocka_unit_test(test_as_peer_appends_extra_ips_without_repeats),
		cmocka_unit_test(test_peer_as_peer_is_the_peer_with_extra_ips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
