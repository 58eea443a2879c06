/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

struct rule_set {
	struct kilo_nat_rule *rules;
	size_t n;
};

static struct rule_set solve_rules(struct kilo_mesh *mesh, const char *hostname, const struct kilo_nat_opts *opts)
{
	kilo_topology *t = fixture_solve(mesh, hostname);
	struct rule_set set = { 0 };

	assert_int_equal(kilo_topology_nat_rules(t, opts, &set.rules, &set.n, NULL), 0);
	kilo_topology_free(t);
	return set;
}

static void assert_rule(const struct kilo_nat_rule *rule, enum kilo_nat_list list, const char *text)
{
	char *out = NULL;

	assert_int_equal(kilo_nat_rule_format(rule, &out, NULL), 0);
	assert_string_equal(out, text);
	assert_int_equal(rule->list, list);
	kilo_free(out);
}

static void test_nat_chain_is_created_and_masquerades_in_both_families(void **state)
{
	const struct kilo_nat_opts opts = { .sz = sizeof(opts) };
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	struct rule_set set = solve_rules(mesh, "a", &opts);

	(void)state;
	assert_rule(&set.rules[0], KILO_NAT_APPEND, "nat -N KILO-NAT");
	assert_int_equal(set.rules[0].family, 4);
	assert_rule(&set.rules[1], KILO_NAT_APPEND, "nat -N KILO-NAT");
	assert_int_equal(set.rules[1].family, 6);
	assert_rule(&set.rules[2], KILO_NAT_APPEND,
		    "nat -A KILO-NAT -m comment --comment \"Kilo: NAT remaining packets\" -j MASQUERADE");
	assert_int_equal(set.rules[3].family, 6);
	kilo_free(set.rules);
	fixture_mesh_free(mesh);
}

static void test_nat_rules_skip_known_destinations_in_kilo_order(void **state)
{
	static const char *const head[] = {
		"nat -A POSTROUTING -s 10.2.1.0/24 -m comment --comment \"Kilo: jump to KILO-NAT chain\" -j KILO-NAT",
		"nat -A KILO-NAT -d 10.4.0.1/32 -m comment --comment \"Kilo: do not NAT packets destined for WireGuared IPs\" -j RETURN",
		"nat -A KILO-NAT -d 10.2.1.0/24 -m comment --comment \"Kilo: do not NAT packets destined for known IPs\" -j RETURN",
	};
	const struct kilo_nat_opts opts = { .sz = sizeof(opts) };
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	struct rule_set set = solve_rules(mesh, "a", &opts);

	(void)state;
	/* 4 appended, 1 jump, 3 segments with 4 + 6 + 3 rules, 3 peer IPs with 2 each. */
	assert_int_equal(set.n, 4 + 1 + 13 + 6);
	for (size_t i = 0; i < 3; i++)
		assert_rule(&set.rules[4 + i], KILO_NAT_PREPEND, head[i]);
	assert_rule(&set.rules[set.n - 1], KILO_NAT_PREPEND,
		    "nat -A KILO-NAT -d 10.5.0.3/24 -m comment --comment \"Kilo: do not NAT packets destined for peers\" -j RETURN");
	kilo_free(set.rules);
	fixture_mesh_free(mesh);
}

static void test_forward_rules_name_the_comment_first(void **state)
{
	const struct kilo_nat_opts opts = { .sz = sizeof(opts), .forward_rules = true };
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	struct rule_set leader = solve_rules(mesh, "b", &opts);
	struct rule_set follower = solve_rules(mesh, "c", &opts);

	(void)state;
	assert_rule(&leader.rules[5], KILO_NAT_PREPEND,
		    "filter -A FORWARD -m comment --comment \"Kilo: forward packets from the pod subnet\" -s 10.2.2.0/24 -j ACCEPT");
	/* A leader forwards for both pod CIDRs, the allowed-location IP and both private IPs. */
	assert_rule(&leader.rules[9], KILO_NAT_PREPEND,
		    "filter -A FORWARD -m comment --comment \"Kilo: forward packets from allowed location IPs\" -s 192.168.178.3/32 -j ACCEPT");
	assert_rule(&leader.rules[14], KILO_NAT_PREPEND,
		    "filter -A FORWARD -m comment --comment \"Kilo: forward packets to private IPs\" -d 192.168.0.2/32 -j ACCEPT");
	assert_rule(&follower.rules[6], KILO_NAT_PREPEND,
		    "filter -A FORWARD -m comment --comment \"Kilo: forward packets to the node's pod subnet\" -d 10.2.3.0/24 -j ACCEPT");
	assert_string_equal(follower.rules[7].chain, "KILO-NAT");
	kilo_free(leader.rules);
	kilo_free(follower.rules);
	fixture_mesh_free(mesh);
}

static void test_allowed_location_ips_jump_to_nat_only_at_home(void **state)
{
	const struct kilo_nat_opts opts = { .sz = sizeof(opts), .no_cni = true };
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	struct rule_set home = solve_rules(mesh, "c", &opts);
	struct rule_set away = solve_rules(mesh, "a", &opts);
	size_t jumps_home = 0, jumps_away = 0;

	(void)state;
	for (size_t i = 0; i < home.n; i++)
		jumps_home += home.rules[i].dst.addr.family && strcmp(home.rules[i].chain, "POSTROUTING") == 0;
	for (size_t i = 0; i < away.n; i++)
		jumps_away += away.rules[i].dst.addr.family && strcmp(away.rules[i].chain, "POSTROUTING") == 0;
	assert_int_equal(jumps_home, 1);
	assert_int_equal(jumps_away, 0);
	kilo_free(home.rules);
	kilo_free(away.rules);
	fixture_mesh_free(mesh);
}

static void test_ipip_rules_come_first_and_accept_the_location(void **state)
{
	const struct kilo_nat_opts opts = { .sz = sizeof(opts), .ipip_rules = true };
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_LOCATION);
	struct rule_set set = solve_rules(mesh, "c", &opts);

	(void)state;
	assert_rule(&set.rules[0], KILO_NAT_APPEND, "filter -N KILO-IPIP");
	assert_rule(&set.rules[2], KILO_NAT_APPEND,
		    "filter -A INPUT -p ipencap -m comment --comment \"Kilo: jump to IPIP chain\" -j KILO-IPIP");
	assert_rule(&set.rules[5], KILO_NAT_APPEND,
		    "filter -A INPUT -p ipencap -m comment --comment \"Kilo: reject other IPIP traffic\" -j DROP");
	assert_int_equal(set.rules[5].family, 6);
	assert_rule(&set.rules[6], KILO_NAT_APPEND, "nat -N KILO-NAT");
	/* Then the prepend lists: the encapsulator's before the topology's. */
	assert_rule(&set.rules[10], KILO_NAT_PREPEND,
		    "filter -A KILO-IPIP -s 192.168.0.1/32 -m comment --comment \"Kilo: allow IPIP traffic\" -j ACCEPT");
	assert_rule(&set.rules[11], KILO_NAT_PREPEND,
		    "filter -A KILO-IPIP -s 192.168.0.2/32 -m comment --comment \"Kilo: allow IPIP traffic\" -j ACCEPT");
	assert_string_equal(set.rules[12].chain, "POSTROUTING");
	kilo_free(set.rules);
	fixture_mesh_free(mesh);
}

static void test_service_cidrs_are_not_masqueraded(void **state)
{
	const struct kilo_nat_opts opts = { .sz = sizeof(opts), .no_cni = true };
	struct kilo_mesh *mesh = fixture_kilo(KILO_GRANULARITY_FULL);
	struct kilo_cidr services[1];
	struct rule_set set;

	(void)state;
	kilo_cidr_parse("fd00:10:96::/112", &services[0], NULL);
	mesh->settings.service_cidrs = services;
	mesh->settings.n_service_cidrs = 1;
	set = solve_rules(mesh, "a", &opts);
	assert_rule(&set.rules[2], KILO_NAT_APPEND,
		    "nat -A KILO-NAT -d fd00:10:96::/112 -m comment --comment \"Kilo: do not NAT packets destined for service CIDRs\" -j RETURN");
	assert_int_equal(set.rules[2].family, 6);
	kilo_free(set.rules);
	fixture_mesh_free(mesh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nat_chain_is_created_and_masquerades_in_both_families),
		cmocka_unit_test(test_nat_rules_skip_known_destinations_in_kilo_order),
		cmocka_unit_test(test_forward_rules_name_the_comment_first),
		cmocka_unit_test(test_allowed_location_ips_jump_to_nat_only_at_home),
		cmocka_unit_test(test_ipip_rules_come_first_and_accept_the_location),
		cmocka_unit_test(test_service_cidrs_are_not_masqueraded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
