/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

static const char *addr_text(const struct kilo_addr *addr)
{
	static char out[KILO_ADDR_STRLEN];

	kilo_addr_format(addr, out);
	return out;
}

static void test_location_granularity_groups_nodes_by_location(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	kilo_topology *t = fixture_solve(mesh, "b");

	(void)state;
	assert_int_equal(kilo_topology_segment_count(t), 3);
	assert_string_equal(t->segments[0].location, "location:1");
	assert_string_equal(t->segments[1].location, "location:2");
	assert_int_equal(t->segments[1].n_nodes, 2);
	assert_string_equal(t->segments[1].nodes[0]->name, "b");
	assert_string_equal(t->segments[1].nodes[1]->name, "c");
	assert_string_equal(t->location, "location:2");
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_node_without_internal_ip_is_its_own_segment(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	kilo_topology *t = fixture_solve(mesh, "d");

	(void)state;
	assert_string_equal(t->segments[2].location, "node:d");
	assert_string_equal(t->location, "node:d");
	assert_true(kilo_topology_is_leader(t));
	assert_string_equal(fixture_cidrs(t->segments[2].allowed_ips, t->segments[2].n_allowed_ips),
			    "10.2.4.0/24, 10.4.0.3/32");
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_allowed_ips_list_pod_cidrs_private_ips_then_wireguard_ip(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	kilo_topology *t = fixture_solve(mesh, "a");

	(void)state;
	assert_string_equal(fixture_cidrs(t->segments[1].allowed_ips, t->segments[1].n_allowed_ips),
			    "10.2.2.0/24, 192.168.0.1/32, 10.2.3.0/24, 192.168.0.2/32, 10.4.0.2/32");
	assert_string_equal(addr_text(&t->segments[1].wireguard_ip), "10.4.0.2");
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_leader_gets_its_wireguard_ip_with_pool_mask(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	kilo_topology *b = fixture_solve(mesh, "b");
	kilo_topology *c = fixture_solve(mesh, "c");

	(void)state;
	assert_true(kilo_topology_is_leader(b));
	assert_string_equal(fixture_cidrs(&b->wireguard_cidr, 1), "10.4.0.2/16");
	assert_false(kilo_topology_is_leader(c));
	assert_string_equal(fixture_cidrs(&c->wireguard_cidr, 1), "10.4.0.0/16");
	kilo_topology_free(b);
	kilo_topology_free(c);
	fixture_mesh_free(mesh);
}

static void test_leader_prefers_marked_node_with_public_endpoint(void **state)
{
	struct kilo_leader_candidate c[5] = { 0 };
	const char *endpoints[5] = { "10.0.0.1:51820", "8.8.8.8:51820", "8.8.8.8:51820", "10.0.0.1:51820",
				     "8.8.8.8:51820" };

	(void)state;
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(kilo_endpoint_parse(endpoints[i], &c[i].endpoint, NULL), 0);
	c[3].leader = true;
	c[4].leader = true;
	assert_int_equal(kilo_find_leader(c, 5), 4);
	/* Without the public one, the first marked node leads. */
	assert_int_equal(kilo_find_leader(c, 4), 3);
	c[3].leader = false;
	assert_int_equal(kilo_find_leader(c, 4), 1);
	assert_int_equal(kilo_find_leader(c, 0), 0);
}

static void test_solver_elects_marked_leader(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	kilo_topology *t;

	(void)state;
	mesh->nodes[2].leader = true; /* c */
	t = fixture_solve(mesh, "c");
	assert_true(kilo_topology_is_leader(t));
	assert_int_equal(t->segments[1].leader, 1);
	assert_string_equal(fixture_cidrs(&t->wireguard_cidr, 1), "10.4.0.2/16");
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_full_granularity_makes_one_segment_per_node(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_FULL);
	kilo_topology *t = fixture_solve(mesh, "c");

	(void)state;
	assert_int_equal(kilo_topology_segment_count(t), 4);
	assert_string_equal(t->segments[2].location, "node:c");
	assert_true(kilo_topology_is_leader(t));
	assert_string_equal(fixture_cidrs(&t->wireguard_cidr, 1), "10.4.0.3/16");
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_cross_granularity_tags_segments_with_their_location(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_CROSS);
	kilo_topology *t = fixture_solve(mesh, "d");

	(void)state;
	assert_int_equal(kilo_topology_segment_count(t), 4);
	assert_string_equal(t->segments[3].location, "node:d");
	assert_string_equal(t->segments[3].node_location, "location:1");
	assert_string_equal(t->segments[1].node_location, "location:2");
	assert_string_equal(t->node_location, "location:1");
	assert_true(kilo_topology_is_leader(t));
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_pool_exhaustion_is_enospc_naming_subnet(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	struct kilo_solve_opts opts = { .sz = sizeof(opts), .hostname = "a" };
	struct kilo_error err = { 0 };
	kilo_topology *t = NULL;

	(void)state;
	assert_int_equal(kilo_cidr_parse("10.4.0.0/31", &mesh->settings.subnet, NULL), 0);
	assert_int_equal(kilo_topology_solve(mesh, &opts, &t, &err), -ENOSPC);
	assert_null(t);
	assert_int_equal(err.code, ENOSPC);
	assert_non_null(strstr(err.message, "\"10.4.0.0/31\""));
	fixture_mesh_free(mesh);
}

static void test_wireguard_ip_stops_at_subnet_end(void **state)
{
	struct kilo_cidr subnet, ip;

	(void)state;
	assert_int_equal(kilo_cidr_parse("10.1.0.0/31", &subnet, NULL), 0);
	assert_int_equal(kilo_wireguard_ip(&subnet, 0, &ip, NULL), 0);
	assert_string_equal(fixture_cidrs(&ip, 1), "10.1.0.1/31");
	assert_int_equal(kilo_wireguard_ip(&subnet, 1, &ip, NULL), -ENOSPC);
	assert_int_equal(kilo_cidr_parse("10.1.0.0/16", &subnet, NULL), 0);
	assert_int_equal(kilo_wireguard_ip(&subnet, 65534, &ip, NULL), 0);
	assert_string_equal(fixture_cidrs(&ip, 1), "10.1.255.255/16");
}

static void test_unready_node_is_left_out(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	struct kilo_solve_opts opts = { .sz = sizeof(opts), .hostname = "a", .now = 1000 };
	kilo_topology *t = NULL;

	(void)state;
	for (size_t i = 0; i < mesh->n_nodes; i++)
		mesh->nodes[i].last_seen = 990;
	mesh->nodes[3].last_seen = 900; /* d: silent for 100 s */
	assert_int_equal(kilo_topology_solve(mesh, &opts, &t, NULL), 0);
	assert_int_equal(kilo_topology_segment_count(t), 2);
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_shorter_liveness_window_leaves_out_a_silent_node(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	struct kilo_solve_opts opts = { .sz = sizeof(opts), .hostname = "a", .now = 1000, .ready_window = 10 };
	kilo_topology *t = NULL;

	(void)state;
	for (size_t i = 0; i < mesh->n_nodes; i++)
		mesh->nodes[i].last_seen = 995;
	mesh->nodes[3].last_seen = 989; /* d: silent for 11 s */
	assert_int_equal(kilo_topology_solve(mesh, &opts, &t, NULL), 0);
	assert_int_equal(kilo_topology_segment_count(t), 2);
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_node_of_another_location_stays_for_the_remote_grace(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	struct kilo_solve_opts opts = {
		.sz = sizeof(opts), .hostname = "a", .now = 1000, .ready_window = 10, .remote_ready_grace = 2
	};
	kilo_topology *t = NULL;

	(void)state;
	for (size_t i = 1; i < mesh->n_nodes; i++)
		mesh->nodes[i].last_seen = 989; /* all but a silent for 11 s */
	mesh->nodes[0].last_seen = 999;
	assert_int_equal(kilo_topology_solve(mesh, &opts, &t, NULL), 0);
	/* d, of a's own location, is out; b and c, of location 2, are in for 2 s more. */
	assert_int_equal(kilo_topology_segment_count(t), 2);
	assert_string_equal(t->segments[1].location, "location:2");
	assert_int_equal(t->segments[1].n_nodes, 2);
	kilo_topology_free(t);
	opts.now = 1002; /* silent for 13 s: past the grace too */
	assert_int_equal(kilo_topology_solve(mesh, &opts, &t, NULL), 0);
	assert_int_equal(kilo_topology_segment_count(t), 1);
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_view_from_outside_has_no_local_segment(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	struct kilo_solve_opts opts = { .sz = sizeof(opts), .hostname = NULL };
	kilo_topology *t = NULL;

	(void)state;
	assert_int_equal(kilo_topology_solve(mesh, &opts, &t, NULL), 0);
	assert_false(kilo_topology_is_leader(t));
	assert_int_equal(kilo_topology_local_segment(t), 3);
	assert_string_equal(t->location, "");
	assert_int_equal(t->port, 51820);
	assert_true(kilo_key_is_zero(&t->key));
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

/* A misspelt node name once gave the view from outside, a configuration with every node as a peer. */
static void test_unknown_hostname_is_an_error_naming_it(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	struct kilo_solve_opts opts = { .sz = sizeof(opts), .hostname = "nobody" };
	struct kilo_error err = { 0 };
	kilo_topology *t = NULL;

	(void)state;
	assert_int_equal(kilo_topology_solve(mesh, &opts, &t, &err), -ENOENT);
	assert_null(t);
	assert_string_equal(err.message, "solve options: hostname \"nobody\": no node of that name in the mesh");
	opts.hostname = "";
	memset(&err, 0, sizeof(err));
	assert_int_equal(kilo_topology_solve(mesh, &opts, &t, &err), -EINVAL);
	assert_non_null(strstr(err.message, "hostname \"\""));
	fixture_mesh_free(mesh);
}

static void test_peers_keep_only_allowed_ips_no_earlier_peer_claimed(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	struct fixture_peer late = { "0-first", "a2V5NgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", { "10.5.0.3/24", "10.6.0.1/32" },
				     NULL, 0, NULL };
	kilo_topology *t;

	(void)state;
	fixture_add_peer(mesh, &late);
	t = fixture_solve(mesh, "a");
	assert_int_equal(t->n_peers, 3);
	assert_string_equal(t->peers[0].peer->name, "0-first");
	assert_string_equal(fixture_cidrs(t->peers[0].allowed_ips, t->peers[0].n_allowed_ips),
			    "10.5.0.3/24, 10.6.0.1/32");
	/* Peer b lost its only IP but stays a peer. */
	assert_string_equal(t->peers[2].peer->name, "b");
	assert_int_equal(t->peers[2].n_allowed_ips, 0);
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_peer_without_allowed_ips_is_left_out(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	struct fixture_peer empty = { "0-empty", "a2V5NgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", { NULL }, NULL, 0, NULL };
	kilo_topology *t;

	(void)state;
	fixture_add_peer(mesh, &empty);
	t = fixture_solve(mesh, "a");
	assert_int_equal(t->n_peers, 2);
	assert_string_equal(t->peers[0].peer->name, "a");
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_dedupe_keeps_first_claim_in_list_order(void **state)
{
	struct kilo_cidr a[3], b[2], c[2];
	struct kilo_cidr_list lists[3] = { { a, 3 }, { b, 2 }, { c, 2 } };

	(void)state;
	kilo_cidr_parse("10.0.0.2/24", &a[0], NULL);
	kilo_cidr_parse("10.0.0.3/24", &a[1], NULL);
	kilo_cidr_parse("10.0.0.1/24", &a[2], NULL);
	kilo_cidr_parse("10.0.0.1/24", &b[0], NULL);
	kilo_cidr_parse("10.0.0.3/24", &b[1], NULL);
	kilo_cidr_parse("10.0.0.4/24", &c[0], NULL);
	kilo_cidr_parse("10.0.0.4/24", &c[1], NULL);
	assert_int_equal(kilo_dedupe_cidr_lists(lists, 3, NULL), 0);
	assert_int_equal(lists[0].n, 3);
	assert_int_equal(lists[1].n, 0);
	assert_string_equal(fixture_cidrs(c, lists[2].n), "10.0.0.4/24");
}

static void test_cidr_sort_puts_ipv4_first_then_text_order(void **state)
{
	const char *in[] = { "192.168.0.1/32", "2001::7/128", "10.0.0.2/32", "fd68:da49:9da:b27f::/128",
			     "10.0.0.1/32" };
	struct kilo_cidr cidrs[5];

	(void)state;
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(kilo_cidr_parse(in[i], &cidrs[i], NULL), 0);
	kilo_cidr_sort(cidrs, 5);
	assert_string_equal(fixture_cidrs(cidrs, 5),
			    "10.0.0.1/32, 10.0.0.2/32, 192.168.0.1/32, 2001::7/128, fd68:da49:9da:b27f::/128");
}

/* Kilo's sequence: set every list, then filter segments 0, 1, 2 in order. */
static void filter_in_order(kilo_topology *t, const char *const lists[3][3])
{
	struct kilo_cidr cidrs[3][3];
	size_t n[3] = { 0 };

	for (size_t k = 0; k < 3; k++) {
		for (; lists[k][n[k]]; n[k]++)
			assert_int_equal(kilo_cidr_parse(lists[k][n[k]], &cidrs[k][n[k]], NULL), 0);
		assert_int_equal(kilo_topology_set_allowed_location_ips(t, k, cidrs[k], n[k], false, NULL), 0);
	}
	for (size_t k = 0; k < 3; k++)
		assert_int_equal(kilo_topology_set_allowed_location_ips(t, k, t->segments[k].allowed_location_ips,
									t->segments[k].n_allowed_location_ips, true, NULL),
				 0);
}

static void test_allowed_location_ip_filter_depends_on_order(void **state)
{
	static const char *const clash[3][3] = {
		{ "192.168.178.4/32", "192.168.178.8/32" },
		{ "192.168.178.5/32" },
		{ "192.168.178.6/32", "192.168.178.4/32" },
	};
	static const char *const wireguard[3][3] = {
		{ "10.4.0.1/32", "192.168.178.8/32" },
		{ "192.168.178.5/32" },
		{ "192.168.178.6/32" },
	};
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	kilo_topology *t = fixture_solve(mesh, "a");

	(void)state;
	filter_in_order(t, clash);
	/* Segment 0 lost .4 to segment 2, which then kept it. */
	assert_string_equal(fixture_cidrs(t->segments[0].allowed_location_ips, t->segments[0].n_allowed_location_ips),
			    "192.168.178.8/32");
	assert_string_equal(fixture_cidrs(t->segments[2].allowed_location_ips, t->segments[2].n_allowed_location_ips),
			    "192.168.178.6/32, 192.168.178.4/32");
	filter_in_order(t, wireguard);
	assert_string_equal(fixture_cidrs(t->segments[0].allowed_location_ips, t->segments[0].n_allowed_location_ips),
			    "192.168.178.8/32");
	assert_int_equal(kilo_topology_set_allowed_location_ips(t, 3, NULL, 0, true, NULL), -ERANGE);
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_location_granularity_groups_nodes_by_location),
		cmocka_unit_test(test_node_without_internal_ip_is_its_own_segment),
		cmocka_unit_test(test_allowed_ips_list_pod_cidrs_private_ips_then_wireguard_ip),
		cmocka_unit_test(test_leader_gets_its_wireguard_ip_with_pool_mask),
		cmocka_unit_test(test_leader_prefers_marked_node_with_public_endpoint),
		cmocka_unit_test(test_solver_elects_marked_leader),
		cmocka_unit_test(test_full_granularity_makes_one_segment_per_node),
		cmocka_unit_test(test_cross_granularity_tags_segments_with_their_location),
		cmocka_unit_test(test_pool_exhaustion_is_enospc_naming_subnet),
		cmocka_unit_test(test_wireguard_ip_stops_at_subnet_end),
		cmocka_unit_test(test_unready_node_is_left_out),
		cmocka_unit_test(test_shorter_liveness_window_leaves_out_a_silent_node),
		cmocka_unit_test(test_node_of_another_location_stays_for_the_remote_grace),
		cmocka_unit_test(test_view_from_outside_has_no_local_segment),
		cmocka_unit_test(test_unknown_hostname_is_an_error_naming_it),
		cmocka_unit_test(test_peers_keep_only_allowed_ips_no_earlier_peer_claimed),
		cmocka_unit_test(test_peer_without_allowed_ips_is_left_out),
		cmocka_unit_test(test_dedupe_keeps_first_claim_in_list_order),
		cmocka_unit_test(test_cidr_sort_puts_ipv4_first_then_text_order),
		cmocka_unit_test(test_allowed_location_ip_filter_depends_on_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
