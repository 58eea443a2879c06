// SPDX-License-Identifier: Apache-2.0
/*
 * A node's plan (plan.h) as an embedder reads it: the plan of
 * examples/meshes/three-clouds.json for its nodes, against what the
 * topology gives for the same options. Only the WireGuard peers are read
 * through the internal model, for their endpoints.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <kilo/plan.h>

#include "../../../lib/core/wgconf.h"

static kilo_mesh *mesh;

static int setup(void **state)
{
	const char *data = getenv("KILO_TEST_DATA");
	struct kilo_error err = { 0 };
	char path[4096];

	(void)state;
	snprintf(path, sizeof(path), "%s/three-clouds.json", data ? data : "examples/meshes");
	if (kilo_mesh_load_file(path, &mesh, &err) < 0) {
		fprintf(stderr, "setup: %s\n", err.message);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kilo_mesh_free(mesh);
	return 0;
}

static kilo_topology *solve(const char *hostname)
{
	struct kilo_solve_opts opts = { .sz = sizeof(opts), .hostname = hostname };
	kilo_topology *t = NULL;

	assert_int_equal(kilo_topology_solve(mesh, &opts, &t, NULL), 0);
	return t;
}

static kilo_plan *plan_of(const kilo_topology *t, const struct kilo_routes_opts *routes)
{
	struct kilo_plan_opts opts = { .sz = sizeof(opts), .routes = routes };
	kilo_plan *plan = NULL;

	assert_int_equal(kilo_plan_new(t, &opts, &plan, NULL), 0);
	assert_non_null(plan);
	return plan;
}

static void assert_cidr(bool has, const struct kilo_cidr *cidr, const char *text)
{
	char out[KILO_CIDR_STRLEN];

	assert_true(has);
	kilo_cidr_format(cidr, out);
	assert_string_equal(out, text);
}

static const struct kilo_wg_peer *find_peer(const kilo_wg_config *config, const char *public_key)
{
	struct kilo_key key;

	assert_int_equal(kilo_key_parse(public_key, &key, NULL), 0);
	for (size_t i = 0; i < config->n_peers; i++)
		if (!memcmp(&config->peers[i].public_key, &key, sizeof(key)))
			return &config->peers[i];
	fail_msg("no peer %s", public_key);
	return NULL;
}

static void test_leader_plan_holds_its_addresses_and_config(void **state)
{
	kilo_topology *t = solve("aws-eu-1");
	kilo_plan *plan = plan_of(t, NULL);
	const kilo_wg_config *config = kilo_plan_wg_config(plan);
	struct kilo_cidr cidr;

	(void)state;
	assert_true(kilo_plan_is_leader(plan));
	assert_string_equal(kilo_plan_interface(plan), "kilo0");
	assert_cidr(kilo_plan_wireguard_ip(plan, &cidr), &cidr, "10.4.0.1/16");
	assert_cidr(kilo_plan_private_ip(plan, &cidr), &cidr, "172.31.16.11/20");
	assert_cidr(kilo_plan_pod_cidr(plan, &cidr), &cidr, "10.244.0.0/24");
	assert_false(kilo_plan_secondary_private_ip(plan, &cidr));
	assert_int_equal(cidr.addr.family, 0);
	assert_true(kilo_plan_needs_tunnel(plan));
	/* Three other locations and two VPN peers. */
	assert_non_null(config);
	assert_int_equal(config->n_peers, 5);
	assert_int_equal(config->listen_port, 51820);
	assert_true(kilo_endpoint_is_set(&find_peer(config, "S/eqrpdDhWjPy0CB7EUN7+iT0ww7YZInwWdkZzhiWGw=")->endpoint));
	kilo_plan_free(plan);
	kilo_topology_free(t);
}

/* A device takes addresses only: the office router's DNS endpoint waits for a resolver. */
static void test_plan_leaves_out_endpoints_that_are_names(void **state)
{
	static const char office[] = "52+KtV+uYfsQbCzSkVUcIb2LJ+FR9MjrH4Mh9lu5t30=";
	kilo_topology *t = solve("aws-eu-1");
	kilo_plan *plan = plan_of(t, NULL);
	kilo_wg_config *topology_config = NULL;
	const struct kilo_wg_peer *peer = find_peer(kilo_plan_wg_config(plan), office);

	(void)state;
	assert_false(kilo_endpoint_is_set(&peer->endpoint));
	assert_int_equal(peer->n_allowed_ips, 2);
	/* The topology itself is left as it was. */
	assert_int_equal(kilo_topology_conf(t, &topology_config, NULL), 0);
	assert_string_equal(find_peer(topology_config, office)->endpoint.dns, "vpn.office.example.com");
	kilo_wg_config_free(topology_config);
	kilo_plan_free(plan);
	kilo_topology_free(t);
}

static void test_follower_plan_has_no_config_nor_wireguard_ip(void **state)
{
	kilo_topology *t = solve("aws-eu-2");
	kilo_plan *plan = plan_of(t, NULL);
	struct kilo_cidr cidr;

	(void)state;
	assert_false(kilo_plan_is_leader(plan));
	assert_null(kilo_plan_wg_config(plan));
	assert_false(kilo_plan_wireguard_ip(plan, &cidr));
	assert_int_equal(cidr.addr.family, 0);
	assert_cidr(kilo_plan_private_ip(plan, &cidr), &cidr, "172.31.16.12/20");
	kilo_plan_free(plan);
	kilo_topology_free(t);
}

/* Routes as "key table" lines, to compare two route sets. */
static void assert_same_routes(const struct kilo_route *a, size_t n_a, const struct kilo_route *b, size_t n_b)
{
	char ka[KILO_ROUTE_KEY_STRLEN], kb[KILO_ROUTE_KEY_STRLEN];

	assert_int_equal(n_a, n_b);
	for (size_t i = 0; i < n_a; i++) {
		kilo_route_key(&a[i], ka);
		kilo_route_key(&b[i], kb);
		assert_string_equal(ka, kb);
		assert_int_equal(a[i].ifindex, b[i].ifindex);
		assert_int_equal(a[i].table, b[i].table);
	}
}

static void test_routes_leave_by_the_links_given_at_apply_time(void **state)
{
	const struct kilo_plan_links links = { .wireguard = 7, .private_ip = 2, .tunnel = 9 };
	struct kilo_routes_opts routes_opts = {
		.sz = sizeof(routes_opts), .wg_ifindex = 7, .private_ifindex = 2, .tunnel_ifindex = 9
	};
	kilo_topology *t = solve("aws-eu-1");
	kilo_plan *plan = plan_of(t, NULL);
	struct kilo_route *routes = NULL, *expected = NULL;
	struct kilo_rule *rules = NULL, *expected_rules = NULL;
	size_t n_routes, n_rules, n_expected, n_expected_rules;
	bool by_wireguard = false, by_tunnel = false;

	(void)state;
	assert_int_equal(kilo_plan_routes(plan, &links, &routes, &n_routes, &rules, &n_rules, NULL), 0);
	assert_int_equal(kilo_topology_routes(t, &routes_opts, &expected, &n_expected, &expected_rules,
					      &n_expected_rules, NULL),
			 0);
	assert_same_routes(routes, n_routes, expected, n_expected);
	assert_int_equal(n_rules, n_expected_rules);
	for (size_t i = 0; i < n_routes; i++) {
		by_wireguard |= routes[i].ifindex == 7;
		by_tunnel |= routes[i].ifindex == 9;
	}
	/* The other locations through WireGuard, the nodes of its own through the tunnel. */
	assert_true(by_wireguard && by_tunnel);
	kilo_free(routes);
	kilo_free(rules);
	kilo_free(expected);
	kilo_free(expected_rules);
	kilo_plan_free(plan);
	kilo_topology_free(t);
}

/* The ip rules name the WireGuard link by the name the plan was made with. */
static void test_rules_name_the_plans_interface(void **state)
{
	struct kilo_routes_opts routes_opts = { .sz = sizeof(routes_opts), .wg_interface = "wg-mesh" };
	kilo_topology *t = solve("aws-eu-1");
	kilo_plan *plan = plan_of(t, &routes_opts);
	struct kilo_route *routes = NULL;
	struct kilo_rule *rules = NULL;
	size_t n_routes, n_rules, named = 0;

	(void)state;
	assert_string_equal(kilo_plan_interface(plan), "wg-mesh");
	assert_int_equal(kilo_plan_routes(plan, NULL, &routes, &n_routes, &rules, &n_rules, NULL), 0);
	for (size_t i = 0; i < n_rules; i++) {
		if (rules[i].iif[0])
			assert_string_equal(rules[i].iif, "wg-mesh");
		named += rules[i].iif[0] != 0;
	}
	assert_true(named > 0);
	kilo_free(routes);
	kilo_free(rules);
	kilo_plan_free(plan);
	kilo_topology_free(t);
}

/* Without NAT options, the NAT rules are Kilo's, with the IPIP rules its encapsulator adds for these routes. */
static void test_nat_rules_are_kilos_for_the_routes(void **state)
{
	struct kilo_routes_opts never = { .sz = sizeof(never), .encapsulate = KILO_ENCAPSULATE_NEVER };
	kilo_topology *t = solve("aws-eu-1");
	kilo_plan *plan = plan_of(t, NULL), *plain = plan_of(t, &never);
	struct kilo_nat_opts nat = { .sz = sizeof(nat), .ipip_rules = true };
	struct kilo_nat_rule *expected = NULL;
	size_t n_expected, n, n_plain;
	const struct kilo_nat_rule *rules = kilo_plan_nat_rules(plan, &n);
	char *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(kilo_topology_nat_rules(t, &nat, &expected, &n_expected, NULL), 0);
	assert_int_equal(n, n_expected);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(kilo_nat_rule_format(&rules[i], &a, NULL), 0);
		assert_int_equal(kilo_nat_rule_format(&expected[i], &b, NULL), 0);
		assert_string_equal(a, b);
		kilo_free(a);
		kilo_free(b);
	}
	/* Never encapsulating: no tunnel, and none of its IPIP rules. */
	kilo_plan_nat_rules(plain, &n_plain);
	assert_true(n_plain < n);
	assert_false(kilo_plan_needs_tunnel(plain));
	kilo_free(expected);
	kilo_plan_free(plain);
	kilo_plan_free(plan);
	kilo_topology_free(t);
}

/* From outside the mesh (kgctl's view) there is no node to route for: no private IP, no tunnel. */
static void test_plan_from_outside_needs_no_tunnel(void **state)
{
	struct kilo_routes_opts local_off = { .sz = sizeof(local_off), .no_local = true };
	kilo_topology *outside = solve(NULL), *t = solve("aws-eu-1");
	kilo_plan *plan = plan_of(outside, NULL), *no_local = plan_of(t, &local_off);
	struct kilo_cidr cidr;

	(void)state;
	assert_false(kilo_plan_is_leader(plan));
	assert_false(kilo_plan_private_ip(plan, &cidr));
	assert_false(kilo_plan_needs_tunnel(plan));
	assert_false(kilo_plan_needs_tunnel(no_local));
	kilo_plan_free(no_local);
	kilo_plan_free(plan);
	kilo_topology_free(t);
	kilo_topology_free(outside);
}

static void test_accessors_take_null(void **state)
{
	struct kilo_cidr cidr = { .prefix = 9 };
	size_t n = 9;

	(void)state;
	assert_false(kilo_plan_is_leader(NULL));
	assert_null(kilo_plan_interface(NULL));
	assert_null(kilo_plan_wg_config(NULL));
	assert_false(kilo_plan_wireguard_ip(NULL, &cidr));
	assert_int_equal(cidr.prefix, 0);
	assert_false(kilo_plan_needs_tunnel(NULL));
	assert_null(kilo_plan_nat_rules(NULL, &n));
	assert_int_equal(n, 0);
	kilo_plan_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leader_plan_holds_its_addresses_and_config),
		cmocka_unit_test(test_plan_leaves_out_endpoints_that_are_names),
		cmocka_unit_test(test_follower_plan_has_no_config_nor_wireguard_ip),
		cmocka_unit_test(test_routes_leave_by_the_links_given_at_apply_time),
		cmocka_unit_test(test_rules_name_the_plans_interface),
		cmocka_unit_test(test_nat_rules_are_kilos_for_the_routes),
		cmocka_unit_test(test_plan_from_outside_needs_no_tunnel),
		cmocka_unit_test(test_accessors_take_null),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
