/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

static size_t count(const char *haystack, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Whether every DOT string of text ends: a backslash escapes the next character, a quote opens or closes. */
static bool strings_close(const char *text)
{
	bool inside = false;

	for (const char *p = text; *p; p++) {
		if (inside && *p == '\\' && p[1])
			p++;
		else if (*p == '"')
			inside = !inside;
	}
	return !inside;
}

static void test_dot_escapes_backslash_and_quote_in_a_location(void **state)
{
	struct solved s;
	char *dot;

	(void)state;
	solve_data("odd_locations.json", "edge-1", NULL, &s);
	assert_int_equal(kilo_topology_dot(s.topology, &dot, NULL), 0);
	assert_true(strings_close(dot));
	assert_non_null(strstr(dot, "\tsubgraph \"cluster_location_location:dc\\\\\" {\n\tlabel=\"location:dc\\\\\";\n"));
	assert_non_null(strstr(dot, "label=\"location:dc\\\\\\nedge-1\\n10.2.1.0/24"));
	assert_non_null(strstr(dot, "label=\"location:say \\\"aws\\\"\\ncloud-1\\n"));
	kilo_free(dot);
	solved_free(&s);
}

static void test_dot_of_two_locations_a_lone_node_and_a_peer(void **state)
{
	struct solved s;
	char *dot;

	(void)state;
	solve_data("two_locations.json", "edge-2", NULL, &s);
	assert_int_equal(kilo_topology_dot(s.topology, &dot, NULL), 0);
	assert_data_equal(dot, "two_locations.dot");
	kilo_free(dot);
	solved_free(&s);
}

static void test_dot_merges_peer_named_like_a_node(void **state)
{
	const char *merged = "\t\"edge-2\" [ label=\"edge-2\\nvpn.example.com:51820\n\", shape=ellipse ];\n";
	struct solved s;
	char *dot;

	(void)state;
	solve_data("peer_named_like_node.json", "edge-1", NULL, &s);
	assert_int_equal(kilo_topology_dot(s.topology, &dot, NULL), 0);
	/* One attribute set per name: the peer's label wins, in both subgraphs. */
	assert_int_equal(count(dot, merged), 2);
	assert_null(strstr(dot, "location:home\\nedge-2"));
	assert_non_null(strstr(dot, "\t\"edge-1\"->\"edge-2\"[ dir=both, style=dashed ];\n"));
	kilo_free(dot);
	solved_free(&s);
}

static void test_dot_labels_leader_only_with_wireguard_ip_and_endpoint(void **state)
{
	struct solved s;
	char *dot;

	(void)state;
	solve_data("two_locations.json", "edge-1", NULL, &s);
	assert_int_equal(kilo_topology_dot(s.topology, &dot, NULL), 0);
	assert_non_null(strstr(dot, "label=\"location:home\\nedge-1\\n10.2.1.0/24\\n192.168.1.10\\n10.4.0.2\\n"
				    "203.0.113.5:51820\", rank=1,"));
	assert_non_null(strstr(dot, "label=\"location:home\\nedge-2\\n10.2.2.0/24\\n192.168.1.11\", shape"));
	kilo_free(dot);
	solved_free(&s);
}

static void test_dot_labels_a_dual_stack_node_with_both_families(void **state)
{
	struct solved s;
	char *dot;

	(void)state;
	solve_data("dual_stack.json", "cloud-1", NULL, &s);
	assert_int_equal(kilo_topology_dot(s.topology, &dot, NULL), 0);
	assert_non_null(strstr(dot, "label=\"location:home\\nedge-1\\n10.2.1.0/24\\nfd02:1::/64\\n192.168.1.10\\nfd00::10"
				    "\\n10.4.0.1\\n[2001:db8::5]:51820\""));
	kilo_free(dot);
	solved_free(&s);
}

static void test_dot_cross_groups_nodes_by_location(void **state)
{
	struct kilo_solve_opts opts = { .sz = sizeof(opts), .hostname = "edge-1", .override_granularity = true,
					.granularity = KILO_GRANULARITY_CROSS };
	struct kilo_error err = { 0 };
	kilo_topology *topology;
	kilo_mesh *mesh;
	char *text = read_data("two_locations.json"), *dot;

	(void)state;
	assert_int_equal(kilo_mesh_from_json(text, strlen(text), &mesh, &err), 0);
	free(text);
	assert_int_equal(kilo_topology_solve(mesh, &opts, &topology, &err), 0);
	assert_int_equal(kilo_topology_dot(topology, &dot, NULL), 0);
	assert_int_equal(count(dot, "\tsubgraph \"cluster_location_location:home\" {\n"), 1);
	assert_non_null(strstr(dot, "\t\"edge-1\"->\"edge-2\"[ arrowhead=none, arrowtail=none, dir=both, style=dotted ];\n"));
	/* One plain link per pair, and no tunnel drawn inside a location. */
	assert_int_equal(count(dot, "\t\"edge-1\"->\"edge-2\"["), 1);
	assert_null(strstr(dot, "\t\"cloud-1\"->\"cloud-2\"[ dir=both ];\n"));
	assert_non_null(strstr(dot, "\t\"cloud-1\"->\"edge-1\"[ dir=both ];\n"));
	kilo_free(dot);
	kilo_topology_free(topology);
	kilo_mesh_free(mesh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dot_of_two_locations_a_lone_node_and_a_peer),
		cmocka_unit_test(test_dot_escapes_backslash_and_quote_in_a_location),
		cmocka_unit_test(test_dot_merges_peer_named_like_a_node),
		cmocka_unit_test(test_dot_labels_leader_only_with_wireguard_ip_and_endpoint),
		cmocka_unit_test(test_dot_labels_a_dual_stack_node_with_both_families),
		cmocka_unit_test(test_dot_cross_groups_nodes_by_location),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
