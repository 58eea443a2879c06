/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

struct routes {
	struct kilo_route *routes;
	size_t n;
	struct kilo_rule *rules;
	size_t n_rules;
};

static struct routes solve_routes(struct kilo_mesh *mesh, const char *hostname, bool local,
				  enum kilo_encapsulate encapsulate, enum kilo_compatibility compatibility)
{
	const struct kilo_routes_opts opts = {
		.sz = sizeof(opts),
		.no_local = !local,
		.encapsulate = encapsulate,
		.compatibility = compatibility,
		.wg_interface = "kilo0",
		.wg_ifindex = 0,
		.private_ifindex = 1,
		.tunnel_ifindex = 2,
	};
	kilo_topology *t = fixture_solve(mesh, hostname);
	struct routes r = { 0 };

	assert_int_equal(kilo_topology_routes(t, &opts, &r.routes, &r.n, &r.rules, &r.n_rules, NULL), 0);
	kilo_topology_free(t);
	return r;
}

static void assert_routes(const struct routes *r, const char *const *expected, size_t n)
{
	for (size_t i = 0; i < n && i < r->n; i++)
		assert_string_equal(fixture_route(&r->routes[i]), expected[i]);
	assert_int_equal(r->n, n);
}

static void free_routes(struct routes *r)
{
	kilo_free(r->routes);
	kilo_free(r->rules);
}

static void test_follower_sends_everything_through_its_leader(void **state)
{
	static const char *const expected[] = {
		"10.4.0.1/32 via 192.168.0.1 dev 1 onlink", "10.2.1.0/24 via 192.168.0.1 dev 1 onlink",
		"192.168.0.1/32 via 192.168.0.1 dev 1 onlink", "10.4.0.2/32 via 192.168.0.1 dev 1 onlink",
		"10.4.0.3/32 via 192.168.0.1 dev 1 onlink", "10.2.4.0/24 via 192.168.0.1 dev 1 onlink",
		"10.5.0.1/24 via 192.168.0.1 dev 1 onlink", "10.5.0.2/24 via 192.168.0.1 dev 1 onlink",
		"10.5.0.3/24 via 192.168.0.1 dev 1 onlink",
	};
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	struct routes r = solve_routes(mesh, "c", false, KILO_ENCAPSULATE_NEVER, KILO_COMPATIBILITY_NONE);

	(void)state;
	assert_routes(&r, expected, sizeof(expected) / sizeof(expected[0]));
	assert_int_equal(r.n_rules, 0);
	free_routes(&r);
	fixture_mesh_free(mesh);
}

static void test_full_granularity_routes_every_node_over_wireguard(void **state)
{
	static const char *const expected[] = {
		"10.2.1.0/24 via 10.4.0.1 src 192.168.0.2 dev 0 onlink",
		"192.168.0.1/32 via 10.4.0.1 src 192.168.0.2 dev 0 onlink",
		"10.2.2.0/24 via 10.4.0.2 src 192.168.0.2 dev 0 onlink",
		"192.168.0.1/32 via 10.4.0.2 src 192.168.0.2 dev 0 onlink",
		"192.168.178.3/32 via 10.4.0.2 src 192.168.0.2 dev 0 onlink",
		"10.2.4.0/24 via 10.4.0.4 src 192.168.0.2 dev 0 onlink",
		"10.5.0.1/24 src 192.168.0.2 dev 0",
		"10.5.0.2/24 src 192.168.0.2 dev 0",
		"10.5.0.3/24 src 192.168.0.2 dev 0",
	};
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_FULL);
	struct routes r = solve_routes(mesh, "c", true, KILO_ENCAPSULATE_NEVER, KILO_COMPATIBILITY_NONE);

	(void)state;
	assert_routes(&r, expected, sizeof(expected) / sizeof(expected[0]));
	free_routes(&r);
	fixture_mesh_free(mesh);
}

static void test_always_encapsulation_detours_private_ips_through_table(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	struct routes r = solve_routes(mesh, "c", true, KILO_ENCAPSULATE_ALWAYS, KILO_COMPATIBILITY_NONE);
	char src[KILO_CIDR_STRLEN], dst[KILO_CIDR_STRLEN];

	(void)state;
	assert_int_equal(r.n, 11);
	assert_string_equal(fixture_route(&r.routes[0]), "10.4.0.1/32 via 192.168.0.1 src 192.168.0.2 dev 2 onlink");
	assert_string_equal(fixture_route(&r.routes[4]), "10.2.2.0/24 via 192.168.0.1 src 192.168.0.2 dev 2 onlink");
	assert_string_equal(fixture_route(&r.routes[5]),
			    "192.168.0.1/32 via 192.168.0.1 src 192.168.0.2 dev 2 table 1107 onlink");
	assert_int_equal(r.n_rules, 1);
	kilo_cidr_format(&r.rules[0].src, src);
	kilo_cidr_format(&r.rules[0].dst, dst);
	assert_string_equal(src, "10.2.3.0/24");
	assert_string_equal(dst, "192.168.0.1/32");
	assert_int_equal(r.rules[0].table, KILO_ROUTE_TABLE);
	assert_string_equal(r.rules[0].iif, "");
	free_routes(&r);
	fixture_mesh_free(mesh);
}

static void test_crosssubnet_leader_encapsulates_to_other_subnets(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	struct routes r = solve_routes(mesh, "b", true, KILO_ENCAPSULATE_CROSSSUBNET, KILO_COMPATIBILITY_NONE);

	(void)state;
	assert_int_equal(r.n, 8);
	assert_string_equal(fixture_route(&r.routes[2]), "10.2.3.0/24 via 192.168.0.2 src 192.168.0.1 dev 2 onlink");
	assert_string_equal(fixture_route(&r.routes[3]),
			    "192.168.0.2/32 via 192.168.0.2 src 192.168.0.1 dev 2 table 1107 onlink");
	assert_int_equal(r.n_rules, 2);
	assert_string_equal(r.rules[1].iif, "kilo0");
	assert_int_equal(r.rules[1].src.addr.family, 0);
	free_routes(&r);
	fixture_mesh_free(mesh);
}

static void test_cilium_leader_adds_return_routes_without_local(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	struct routes r;

	(void)state;
	kilo_cidr_parse("10.0.2.7/32", &mesh->nodes[1].cni_compatibility_ip, NULL);
	kilo_cidr_parse("10.0.3.7/32", &mesh->nodes[2].cni_compatibility_ip, NULL);
	r = solve_routes(mesh, "b", false, KILO_ENCAPSULATE_CROSSSUBNET, KILO_COMPATIBILITY_CILIUM);
	assert_int_equal(r.n, 7);
	assert_string_equal(fixture_route(&r.routes[2]), "192.168.0.2/32 via 10.0.3.7 dev 2 table 1107 onlink");
	assert_int_equal(r.n_rules, 1);
	assert_string_equal(r.rules[0].iif, "kilo0");
	free_routes(&r);
	fixture_mesh_free(mesh);
}

static void test_flannel_follower_reaches_leader_through_its_pod_address(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	struct routes r = solve_routes(mesh, "c", false, KILO_ENCAPSULATE_ALWAYS, KILO_COMPATIBILITY_FLANNEL);

	(void)state;
	assert_int_equal(r.n, 9);
	assert_string_equal(fixture_route(&r.routes[0]), "10.4.0.1/32 via 10.2.2.0 src 192.168.0.2 dev 2 onlink");
	free_routes(&r);
	fixture_mesh_free(mesh);
}

static void test_cross_granularity_routes_location_nodes_directly(void **state)
{
	static const char *const expected[] = {
		"10.2.2.0/24 via 10.4.0.2 src 192.168.0.1 dev 0 onlink",
		"192.168.0.1/32 via 10.4.0.2 src 192.168.0.1 dev 0 onlink",
		"192.168.178.3/32 via 10.4.0.2 src 192.168.0.1 dev 0 onlink",
		"10.2.3.0/24 via 10.4.0.3 src 192.168.0.1 dev 0 onlink",
		"192.168.0.2/32 via 10.4.0.3 src 192.168.0.1 dev 0 onlink",
		"10.2.4.0/24 via 10.4.0.4 src 192.168.0.1 dev 0 onlink",
		"10.2.5.0/24 via 192.168.0.5 dev 1 onlink",
		"10.5.0.1/24 src 192.168.0.1 dev 0",
		"10.5.0.2/24 src 192.168.0.1 dev 0",
		"10.5.0.3/24 src 192.168.0.1 dev 0",
	};
	const struct fixture_node e = { "e", "10.1.0.5:51820", "192.168.0.5/24", "1", "10.2.5.0/24",
					"a2V5NgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0, false, NULL, NULL, NULL };
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_CROSS);
	struct routes r;

	(void)state;
	fixture_add_node(mesh, &e);
	r = solve_routes(mesh, "a", true, KILO_ENCAPSULATE_NEVER, KILO_COMPATIBILITY_NONE);
	/* e shares a's location and is reached over its private IP; d has none, so WireGuard. */
	assert_routes(&r, expected, sizeof(expected) / sizeof(expected[0]));
	free_routes(&r);
	fixture_mesh_free(mesh);
}

static void test_peer_routes_skip_the_peer_itself(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	kilo_topology *t = fixture_solve(mesh, NULL);
	struct kilo_route *routes = NULL;
	struct kilo_cidr extra;
	size_t n = 0;

	(void)state;
	kilo_cidr_parse("10.43.0.0/16", &extra, NULL);
	assert_int_equal(kilo_topology_peer_routes(t, "a", 7, &extra, 1, &routes, &n, NULL), 0);
	assert_int_equal(n, 13);
	assert_string_equal(fixture_route(&routes[0]), "10.2.1.0/24 via 10.4.0.1 dev 7 onlink");
	assert_string_equal(fixture_route(&routes[2]), "10.4.0.1/32 dev 7");
	assert_string_equal(fixture_route(&routes[11]), "10.5.0.3/24 dev 7");
	assert_string_equal(fixture_route(&routes[12]), "10.43.0.0/16 via 10.4.0.1 dev 7 onlink");
	kilo_free(routes);
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_peer_routes_leave_a_segment_endpoint_outside_the_tunnel(void **state)
{
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	struct kilo_route *routes = NULL;
	kilo_topology *t;
	size_t n = 0;

	(void)state;
	/* a's private IP is also its endpoint: routing it into the tunnel would cut the tunnel. */
	kilo_cidr_parse("10.1.0.1/24", &mesh->nodes[0].internal_ip, NULL);
	t = fixture_solve(mesh, NULL);
	assert_int_equal(kilo_topology_peer_routes(t, "b", 7, NULL, 0, &routes, &n, NULL), 0);
	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(fixture_route(&routes[i]), "10.1.0.1/32 via 10.4.0.1 dev 7 onlink");
	assert_string_equal(fixture_route(&routes[0]), "10.2.1.0/24 via 10.4.0.1 dev 7 onlink");
	assert_string_equal(fixture_route(&routes[1]), "10.4.0.1/32 dev 7");
	kilo_free(routes);
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_encapsulate_and_compatibility_parse_kg_flags(void **state)
{
	enum kilo_encapsulate e;
	enum kilo_compatibility c;

	(void)state;
	assert_int_equal(kilo_encapsulate_parse("crosssubnet", &e, NULL), 0);
	assert_int_equal(e, KILO_ENCAPSULATE_CROSSSUBNET);
	assert_int_equal(kilo_encapsulate_parse("sometimes", &e, NULL), -EINVAL);
	assert_int_equal(kilo_compatibility_parse("cilium", &c, NULL), 0);
	assert_int_equal(c, KILO_COMPATIBILITY_CILIUM);
	assert_int_equal(kilo_compatibility_parse("", &c, NULL), 0);
	assert_int_equal(c, KILO_COMPATIBILITY_NONE);
	assert_int_equal(kilo_compatibility_parse("calico", &c, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_follower_sends_everything_through_its_leader),
		cmocka_unit_test(test_full_granularity_routes_every_node_over_wireguard),
		cmocka_unit_test(test_always_encapsulation_detours_private_ips_through_table),
		cmocka_unit_test(test_crosssubnet_leader_encapsulates_to_other_subnets),
		cmocka_unit_test(test_cilium_leader_adds_return_routes_without_local),
		cmocka_unit_test(test_flannel_follower_reaches_leader_through_its_pod_address),
		cmocka_unit_test(test_cross_granularity_routes_location_nodes_directly),
		cmocka_unit_test(test_peer_routes_skip_the_peer_itself),
		cmocka_unit_test(test_peer_routes_leave_a_segment_endpoint_outside_the_tunnel),
		cmocka_unit_test(test_encapsulate_and_compatibility_parse_kg_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
