/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dual stack: a node with a pod CIDR and an internal IP of each family.
 * Its second family travels in the same tunnels, is routed through the
 * leader's address of that family, and never over IPIP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Location a: a1 leads, a2 follows; location b: b1 alone, at an IPv6 endpoint. */
static struct kilo_mesh *dual_stack_mesh(enum kilo_granularity granularity)
{
	static const struct fixture_node nodes[] = {
		{ .name = "a1", .endpoint = "192.0.2.1:51820", .internal_ip = "192.168.0.1/24", .location = "a",
		  .pod_cidr = "10.2.1.0/24", .key = "a2V5MQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", .leader = true,
		  .secondary_pod_cidr = "fd02:1::/64", .secondary_internal_ip = "fd00::1/64" },
		{ .name = "a2", .endpoint = "192.0.2.2:51820", .internal_ip = "192.168.0.2/24", .location = "a",
		  .pod_cidr = "10.2.2.0/24", .key = "a2V5MgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		  .secondary_pod_cidr = "fd02:2::/64", .secondary_internal_ip = "fd00::2/64" },
		{ .name = "b1", .endpoint = "[2001:db8::b1]:51820", .internal_ip = "192.168.1.1/24", .location = "b",
		  .pod_cidr = "10.2.3.0/24", .key = "a2V5MwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		  .secondary_pod_cidr = "fd02:3::/64", .secondary_internal_ip = "fd00:1::1/64" },
	};
	static const struct fixture_peer peer = {
		"laptop", "a2V5NQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", { "10.5.0.1/32", "fd05::1/128" }, NULL, 0, NULL
	};
	struct kilo_mesh *mesh = fixture_mesh_new(granularity);

	for (size_t i = 0; i < N(nodes); i++)
		fixture_add_node(mesh, &nodes[i]);
	fixture_add_peer(mesh, &peer);
	return mesh;
}

static void assert_routes(kilo_topology *t, const struct kilo_routes_opts *opts, const char *const *expected, size_t n)
{
	struct kilo_route *routes = NULL;
	struct kilo_rule *rules = NULL;
	size_t n_routes = 0, n_rules = 0;

	assert_int_equal(kilo_topology_routes(t, opts, &routes, &n_routes, &rules, &n_rules, NULL), 0);
	for (size_t i = 0; i < n && i < n_routes; i++)
		assert_string_equal(fixture_route(&routes[i]), expected[i]);
	assert_int_equal(n_routes, n);
	kilo_free(routes);
	kilo_free(rules);
}

static void test_both_families_are_allowed_in_the_segment_tunnel(void **state)
{
	struct kilo_mesh *mesh = dual_stack_mesh(KILO_GRANULARITY_LOCATION);
	kilo_topology *t = fixture_solve(mesh, "a1");

	(void)state;
	assert_int_equal(t->n_segments, 2);
	assert_string_equal(fixture_cidrs(t->segments[0].allowed_ips, t->segments[0].n_allowed_ips),
			    "10.2.1.0/24, fd02:1::/64, 192.168.0.1/32, fd00::1/128, "
			    "10.2.2.0/24, fd02:2::/64, 192.168.0.2/32, fd00::2/128, 10.4.0.1/32");
	assert_string_equal(fixture_cidrs(t->segments[1].allowed_ips, t->segments[1].n_allowed_ips),
			    "10.2.3.0/24, fd02:3::/64, 192.168.1.1/32, fd00:1::1/128, 10.4.0.2/32");
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_leader_routes_the_other_family_into_wireguard_without_gateway(void **state)
{
	static const char *const expected[] = {
		/* Its follower: IPv4 over IPIP as Kilo does, IPv6 straight over the private network. */
		"10.2.2.0/24 via 192.168.0.2 src 192.168.0.1 dev 2 onlink",
		"fd02:2::/64 via fd00::2 dev 3 onlink",
		"192.168.0.2/32 via 192.168.0.2 src 192.168.0.1 dev 2 table 1107 onlink",
		/* Location b through the tunnel; IPv6 from the leader's IPv6 private address. */
		"10.2.3.0/24 via 10.4.0.2 src 192.168.0.1 dev 0 onlink",
		"fd02:3::/64 src fd00::1 dev 0",
		"192.168.1.1/32 via 10.4.0.2 src 192.168.0.1 dev 0 onlink",
		"fd00:1::1/128 src fd00::1 dev 0",
		"10.5.0.1/32 src 192.168.0.1 dev 0",
		"fd05::1/128 src fd00::1 dev 0",
	};
	const struct kilo_routes_opts opts = {
		.sz = sizeof(opts), .encapsulate = KILO_ENCAPSULATE_ALWAYS, .wg_interface = "kilo0",
		.wg_ifindex = 0, .private_ifindex = 1, .tunnel_ifindex = 2, .secondary_private_ifindex = 3,
	};
	struct kilo_mesh *mesh = dual_stack_mesh(KILO_GRANULARITY_LOCATION);
	kilo_topology *t = fixture_solve(mesh, "a1");

	(void)state;
	assert_true(t->leader);
	assert_routes(t, &opts, expected, N(expected));
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_follower_routes_each_family_through_the_leader_address_of_that_family(void **state)
{
	static const char *const expected[] = {
		"10.4.0.1/32 via 192.168.0.1 dev 1 onlink",
		"10.4.0.2/32 via 192.168.0.1 dev 1 onlink",
		"10.2.3.0/24 via 192.168.0.1 dev 1 onlink",
		"fd02:3::/64 via fd00::1 dev 3 onlink",
		"192.168.1.1/32 via 192.168.0.1 dev 1 onlink",
		"fd00:1::1/128 via fd00::1 dev 3 onlink",
		"10.5.0.1/32 via 192.168.0.1 dev 1 onlink",
		"fd05::1/128 via fd00::1 dev 3 onlink",
	};
	const struct kilo_routes_opts opts = {
		.sz = sizeof(opts), .no_local = true, .encapsulate = KILO_ENCAPSULATE_NEVER, .wg_interface = "kilo0",
		.wg_ifindex = 0, .private_ifindex = 1, .tunnel_ifindex = 2, .secondary_private_ifindex = 3,
	};
	struct kilo_mesh *mesh = dual_stack_mesh(KILO_GRANULARITY_LOCATION);
	kilo_topology *t = fixture_solve(mesh, "a2");

	(void)state;
	assert_false(t->leader);
	assert_routes(t, &opts, expected, N(expected));
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_single_stack_leader_gives_followers_no_route_of_the_other_family(void **state)
{
	static const char *const expected[] = {
		"10.4.0.1/32 via 192.168.0.1 dev 1 onlink",
		"10.4.0.2/32 via 192.168.0.1 dev 1 onlink",
		"10.2.3.0/24 via 192.168.0.1 dev 1 onlink",
		"192.168.1.1/32 via 192.168.0.1 dev 1 onlink",
		"10.5.0.1/32 via 192.168.0.1 dev 1 onlink",
	};
	const struct kilo_routes_opts opts = {
		.sz = sizeof(opts), .no_local = true, .encapsulate = KILO_ENCAPSULATE_NEVER, .wg_ifindex = 0, .private_ifindex = 1,
	};
	struct kilo_mesh *mesh = dual_stack_mesh(KILO_GRANULARITY_LOCATION);
	kilo_topology *t;

	(void)state;
	/* The leader has no IPv6 private address, so an IPv6 route could only have an IPv4 gateway. */
	memset(&mesh->nodes[0].secondary_internal_ip, 0, sizeof(mesh->nodes[0].secondary_internal_ip));
	t = fixture_solve(mesh, "a2");
	assert_routes(t, &opts, expected, N(expected));
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_peer_routes_reach_both_families(void **state)
{
	static const char *const expected[] = {
		"10.2.1.0/24 via 10.4.0.1 dev 7 onlink", "fd02:1::/64 dev 7",
		"10.2.2.0/24 via 10.4.0.1 dev 7 onlink", "fd02:2::/64 dev 7",
		"192.168.0.1/32 via 10.4.0.1 dev 7 onlink", "fd00::1/128 dev 7",
		"192.168.0.2/32 via 10.4.0.1 dev 7 onlink", "fd00::2/128 dev 7",
		"10.4.0.1/32 dev 7",
		"10.2.3.0/24 via 10.4.0.2 dev 7 onlink", "fd02:3::/64 dev 7",
		"192.168.1.1/32 via 10.4.0.2 dev 7 onlink", "fd00:1::1/128 dev 7",
		"10.4.0.2/32 dev 7",
	};
	struct kilo_mesh *mesh = dual_stack_mesh(KILO_GRANULARITY_LOCATION);
	kilo_topology *t = fixture_solve(mesh, NULL);
	struct kilo_route *routes = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(kilo_topology_peer_routes(t, "laptop", 7, NULL, 0, &routes, &n, NULL), 0);
	for (size_t i = 0; i < N(expected) && i < n; i++)
		assert_string_equal(fixture_route(&routes[i]), expected[i]);
	assert_int_equal(n, N(expected));
	kilo_free(routes);
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static bool has_rule(const struct kilo_nat_rule *rules, size_t n, const char *text)
{
	for (size_t i = 0; i < n; i++) {
		char *out = NULL;
		bool same;

		assert_int_equal(kilo_nat_rule_format(&rules[i], &out, NULL), 0);
		same = strcmp(out, text) == 0;
		kilo_free(out);
		if (same)
			return true;
	}
	return false;
}

static void test_nat_masquerades_and_forwards_both_pod_subnets(void **state)
{
	const struct kilo_nat_opts opts = { .sz = sizeof(opts), .forward_rules = true };
	struct kilo_mesh *mesh = dual_stack_mesh(KILO_GRANULARITY_LOCATION);
	kilo_topology *t = fixture_solve(mesh, "a2");
	struct kilo_nat_rule *rules = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(kilo_topology_nat_rules(t, &opts, &rules, &n, NULL), 0);
	assert_true(has_rule(rules, n, "nat -A POSTROUTING -s 10.2.2.0/24 -m comment --comment \"Kilo: jump to KILO-NAT chain\" -j KILO-NAT"));
	assert_true(has_rule(rules, n, "nat -A POSTROUTING -s fd02:2::/64 -m comment --comment \"Kilo: jump to KILO-NAT chain\" -j KILO-NAT"));
	assert_true(has_rule(rules, n, "filter -A FORWARD -m comment --comment \"Kilo: forward packets from the node's pod subnet\" -s fd02:2::/64 -j ACCEPT"));
	assert_true(has_rule(rules, n, "nat -A KILO-NAT -d fd02:3::/64 -m comment --comment \"Kilo: do not NAT packets destined for known IPs\" -j RETURN"));
	kilo_free(rules);
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static const char *endpoint_text(const struct kilo_endpoint *ep)
{
	static char text[KILO_ENDPOINT_STRLEN];

	kilo_endpoint_format(ep, text);
	return text;
}

static void test_nat_sighting_in_the_advertised_family_comes_first(void **state)
{
	struct kilo_mesh *mesh = dual_stack_mesh(KILO_GRANULARITY_LOCATION);
	struct kilo_discovered_endpoint by_a1, by_b1;
	const struct kilo_endpoint *ep;
	kilo_topology *t;

	(void)state;
	/* The laptop advertises an IPv4 endpoint; a1 (first in order) saw it over IPv6, b1 over IPv4. */
	assert_int_equal(kilo_endpoint_parse("192.0.2.250:51820", &mesh->peers[0].endpoint, NULL), 0);
	mesh->peers[0].persistent_keepalive = 5;
	by_a1.key = by_b1.key = mesh->peers[0].public_key;
	assert_int_equal(kilo_endpoint_parse("[2001:db8::203]:4001", &by_a1.endpoint, NULL), 0);
	assert_int_equal(kilo_endpoint_parse("192.0.2.203:4000", &by_b1.endpoint, NULL), 0);
	mesh->nodes[0].discovered_endpoints = &by_a1;
	mesh->nodes[0].n_discovered_endpoints = 1;
	mesh->nodes[2].discovered_endpoints = &by_b1;
	mesh->nodes[2].n_discovered_endpoints = 1;
	t = fixture_solve(mesh, NULL);
	ep = kilo_topology_nat_endpoint(t, &mesh->peers[0].endpoint, &mesh->peers[0].public_key, 5);
	assert_string_equal(endpoint_text(ep), "192.0.2.203:4000");
	kilo_topology_free(t);
	/* A node's own sighting is what its own packets use, whatever the family. */
	t = fixture_solve(mesh, "a1");
	ep = kilo_topology_nat_endpoint(t, &mesh->peers[0].endpoint, &mesh->peers[0].public_key, 5);
	assert_string_equal(endpoint_text(ep), "[2001:db8::203]:4001");
	kilo_topology_free(t);
	/* With no sighting in its family, the other family's is still better than none. */
	mesh->nodes[2].n_discovered_endpoints = 0;
	t = fixture_solve(mesh, "a2");
	ep = kilo_topology_nat_endpoint(t, &mesh->peers[0].endpoint, &mesh->peers[0].public_key, 5);
	assert_string_equal(endpoint_text(ep), "[2001:db8::203]:4001");
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

static void test_sighting_inside_the_tunnel_is_ignored(void **state)
{
	struct kilo_mesh *mesh = dual_stack_mesh(KILO_GRANULARITY_LOCATION);
	struct kilo_discovered_endpoint by_a1[2];
	const struct kilo_endpoint *ep;
	kilo_topology *t;

	(void)state;
	/* a1 roamed to addresses it would reach only through the tunnel: the laptop's own, b1's private one. */
	mesh->peers[0].persistent_keepalive = 5;
	assert_int_equal(kilo_endpoint_parse("192.0.2.250:51820", &mesh->peers[0].endpoint, NULL), 0);
	by_a1[0].key = mesh->peers[0].public_key;
	assert_int_equal(kilo_endpoint_parse("10.5.0.1:51820", &by_a1[0].endpoint, NULL), 0);
	by_a1[1].key = mesh->nodes[2].public_key;
	assert_int_equal(kilo_endpoint_parse("192.168.1.1:51820", &by_a1[1].endpoint, NULL), 0);
	mesh->nodes[0].discovered_endpoints = by_a1;
	mesh->nodes[0].n_discovered_endpoints = 2;
	mesh->nodes[2].persistent_keepalive = 5;
	t = fixture_solve(mesh, "a2");
	ep = kilo_topology_nat_endpoint(t, &mesh->peers[0].endpoint, &mesh->peers[0].public_key, 5);
	assert_string_equal(endpoint_text(ep), "192.0.2.250:51820");
	ep = kilo_topology_nat_endpoint(t, &mesh->nodes[2].endpoint, &mesh->nodes[2].public_key, 5);
	assert_string_equal(endpoint_text(ep), "[2001:db8::b1]:51820");
	kilo_topology_free(t);
	fixture_mesh_free(mesh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_families_are_allowed_in_the_segment_tunnel),
		cmocka_unit_test(test_leader_routes_the_other_family_into_wireguard_without_gateway),
		cmocka_unit_test(test_follower_routes_each_family_through_the_leader_address_of_that_family),
		cmocka_unit_test(test_single_stack_leader_gives_followers_no_route_of_the_other_family),
		cmocka_unit_test(test_peer_routes_reach_both_families),
		cmocka_unit_test(test_nat_masquerades_and_forwards_both_pod_subnets),
		cmocka_unit_test(test_nat_sighting_in_the_advertised_family_comes_first),
		cmocka_unit_test(test_sighting_inside_the_tunnel_is_ignored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
