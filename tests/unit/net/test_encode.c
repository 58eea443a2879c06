/* SPDX-License-Identifier: Apache-2.0 */
/* rtnetlink requests against hand-checked bytes, and the keys that decide what a sync changes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <linux/rtnetlink.h>

#include "net/internal.h"

static struct kilo_cidr cidr(const char *text)
{
	struct kilo_cidr c;

	assert_int_equal(kilo_cidr_parse(text, &c, NULL), 0);
	return c;
}

static struct kilo_addr addr(const char *text)
{
	struct kilo_addr a;

	assert_int_equal(kilo_addr_parse(text, &a, NULL), 0);
	return a;
}

static void assert_bytes(const struct nlmsghdr *nlh, const uint8_t *golden, size_t len)
{
	assert_int_equal(nlh->nlmsg_len, len);
	assert_memory_equal(nlh, golden, len);
}

static void test_route_message_matches_golden_bytes(void **state)
{
	static const uint8_t golden[] = {
		0x3c, 0x00, 0x00, 0x00, 0x18, 0x00, 0x01, 0x05, /* len 60, RTM_NEWROUTE, REQUEST|REPLACE|CREATE */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* seq, pid */
		0x02, 0x18, 0x00, 0x00, 0x00, 0x4b, 0x00, 0x01, /* AF_INET, /24, table in RTA_TABLE, proto 75, universe, unicast */
		0x04, 0x00, 0x00, 0x00,                         /* RTNH_F_ONLINK */
		0x08, 0x00, 0x01, 0x00, 0x0a, 0x08, 0x00, 0x00, /* RTA_DST 10.8.0.0 */
		0x08, 0x00, 0x0f, 0x00, 0x53, 0x04, 0x00, 0x00, /* RTA_TABLE 1107 */
		0x08, 0x00, 0x05, 0x00, 0x0a, 0x09, 0x00, 0x02, /* RTA_GATEWAY 10.9.0.2 */
		0x08, 0x00, 0x04, 0x00, 0x03, 0x00, 0x00, 0x00, /* RTA_OIF 3 */
	};
	struct kilo_route in = { .dst = cidr("10.8.0.7/24"), .gw = addr("10.9.0.2"), .ifindex = 3, .table = 1107,
				 .onlink = true };
	char buf[NET_REQUEST_SIZE];
	struct net_route r;

	(void)state;
	kilo__net_route_normalise(&in, &r);
	assert_bytes(kilo__net_route_message(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &r), golden, sizeof(golden));
}

static void test_route_message_parses_back_as_owned(void **state)
{
	struct kilo_route in = { .dst = cidr("fd00:8::/64"), .gw = addr("fd00:9::2"), .src = addr("fd00:9::1"),
				 .ifindex = 7, .table = 1107, .onlink = true };
	char buf[NET_REQUEST_SIZE];
	struct net_route want, got;

	(void)state;
	kilo__net_route_normalise(&in, &want);
	assert_int_equal(kilo__net_route_parse(kilo__net_route_message(buf, RTM_NEWROUTE, 0, &want), &got), 1);
	assert_true(kilo__net_route_same(&want, &got));
	assert_int_equal(got.metric, 1024);
}

static void test_route_of_another_protocol_is_not_owned(void **state)
{
	struct kilo_route in = { .dst = cidr("10.1.0.0/16"), .ifindex = 2 };
	char buf[NET_REQUEST_SIZE];
	struct nlmsghdr *nlh;
	struct net_route r;

	(void)state;
	kilo__net_route_normalise(&in, &r);
	nlh = kilo__net_route_message(buf, RTM_NEWROUTE, 0, &r);
	((struct rtmsg *)mnl_nlmsg_get_payload(nlh))->rtm_protocol = RTPROT_STATIC;
	assert_int_equal(kilo__net_route_parse(nlh, &r), 0);
}

static void test_route_keys_separate_tables_and_nexthops(void **state)
{
	struct kilo_route main0 = { .dst = cidr("10.8.0.0/24"), .gw = addr("10.9.0.2"), .ifindex = 3 };
	struct kilo_route main254 = main0, table1107 = main0, other_gw = main0;
	struct net_route a, b;

	(void)state;
	main254.table = RT_TABLE_MAIN;
	table1107.table = 1107;
	other_gw.gw = addr("10.9.0.3");
	kilo__net_route_normalise(&main0, &a);
	kilo__net_route_normalise(&main254, &b);
	assert_true(kilo__net_route_same(&a, &b));
	/* Kilo keys routes without the table; these two would collide there. */
	kilo__net_route_normalise(&table1107, &b);
	assert_false(kilo__net_route_same_slot(&a, &b));
	kilo__net_route_normalise(&other_gw, &b);
	assert_true(kilo__net_route_same_slot(&a, &b));
	assert_false(kilo__net_route_same(&a, &b));
}

static void test_rule_message_matches_golden_bytes(void **state)
{
	static const uint8_t golden[] = {
		0x40, 0x00, 0x00, 0x00, 0x20, 0x00, 0x01, 0x06, /* len 64, RTM_NEWRULE, REQUEST|EXCL|CREATE */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* seq, pid */
		0x02, 0x00, 0x18, 0x00, 0x00, 0x00, 0x00, 0x01, /* AF_INET, dst /0, src /24, table in FRA_TABLE, FR_ACT_TO_TBL */
		0x00, 0x00, 0x00, 0x00,                         /* flags */
		0x08, 0x00, 0x02, 0x00, 0x0a, 0x02, 0x01, 0x00, /* FRA_SRC 10.2.1.0 */
		0x0a, 0x00, 0x03, 0x00, 'k', 'i', 'l', 'o', '0', 0x00, 0x00, 0x00, /* FRA_IIFNAME */
		0x08, 0x00, 0x0f, 0x00, 0x53, 0x04, 0x00, 0x00, /* FRA_TABLE 1107 */
		0x05, 0x00, 0x15, 0x00, 0x4b, 0x00, 0x00, 0x00, /* FRA_PROTOCOL 75 */
	};
	struct kilo_rule in = { .src = cidr("10.2.1.9/24"), .table = 1107, .iif = "kilo0" };
	char buf[NET_REQUEST_SIZE];
	struct net_rule r;

	(void)state;
	kilo__net_rule_normalise(&in, &r);
	assert_bytes(kilo__net_rule_message(buf, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, &r), golden, sizeof(golden));
}

static void test_rule_message_parses_back_as_owned(void **state)
{
	struct kilo_rule in = { .dst = cidr("fd00:2::/64"), .table = 1107 };
	char buf[NET_REQUEST_SIZE];
	struct net_rule want, got;

	(void)state;
	kilo__net_rule_normalise(&in, &want);
	assert_int_equal(want.family, 6);
	assert_int_equal(kilo__net_rule_parse(kilo__net_rule_message(buf, RTM_NEWRULE, 0, &want), &got), 1);
	assert_true(kilo__net_rule_same(&want, &got));
}

static void test_rule_matching_everything_has_no_address(void **state)
{
	struct kilo_rule any = { .src = cidr("0.0.0.0/0"), .table = 1107 };
	struct kilo_rule none = { .table = 1107 };
	struct net_rule a, b;

	(void)state;
	kilo__net_rule_normalise(&any, &a);
	kilo__net_rule_normalise(&none, &b);
	assert_true(kilo__net_rule_same(&a, &b));
	assert_int_equal(b.family, 4);
}

static void test_address_message_matches_golden_bytes(void **state)
{
	static const uint8_t golden[] = {
		0x28, 0x00, 0x00, 0x00, 0x14, 0x00, 0x01, 0x06, /* len 40, RTM_NEWADDR, REQUEST|EXCL|CREATE */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* seq, pid */
		0x02, 0x10, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, /* AF_INET, /16, flags, scope, index 5 */
		0x08, 0x00, 0x02, 0x00, 0x0a, 0x04, 0x00, 0x01, /* IFA_LOCAL 10.4.0.1 */
		0x08, 0x00, 0x01, 0x00, 0x0a, 0x04, 0x00, 0x01, /* IFA_ADDRESS 10.4.0.1 */
	};
	struct kilo_cidr a = cidr("10.4.0.1/16");
	char buf[NET_REQUEST_SIZE];

	(void)state;
	assert_bytes(kilo__net_address_message(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, 5, &a), golden, sizeof(golden));
}

/* kilo_apply checks routes and rules before the first change, with no host. */
static void test_route_of_mixed_families_is_refused_without_a_host(void **state)
{
	struct kilo_route routes[] = {
		{ .dst = cidr("10.2.2.0/24"), .gw = addr("10.4.0.2"), .ifindex = 5 },
		{ .dst = cidr("fd02:2::/64"), .src = addr("192.168.0.1"), .ifindex = 5 },
	};
	struct kilo_error err = { 0 };

	(void)state;
	assert_int_equal(kilo_net_routes_check(routes, 1, &err), 0);
	assert_int_equal(kilo_net_routes_check(routes, 2, &err), -EINVAL);
	assert_string_equal(err.message, "routes[1]: route fd02:2::/64 dev 5 src 192.168.0.1 table 254: destination, "
					 "gateway and source must be one family");
}

static void test_rule_of_mixed_families_is_refused_without_a_host(void **state)
{
	struct kilo_rule rules[] = { { .src = cidr("10.2.1.0/24"), .dst = cidr("fd02::/64"), .table = 1107 } };
	struct kilo_error err = { 0 };

	(void)state;
	assert_int_equal(kilo_net_rules_check(rules, 1, &err), -EINVAL);
	assert_string_equal(err.message, "rules[0]: source 10.2.1.0/24 and destination fd02::/64 must be one family");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_message_matches_golden_bytes),
		cmocka_unit_test(test_route_message_parses_back_as_owned),
		cmocka_unit_test(test_route_of_another_protocol_is_not_owned),
		cmocka_unit_test(test_route_keys_separate_tables_and_nexthops),
		cmocka_unit_test(test_rule_message_matches_golden_bytes),
		cmocka_unit_test(test_rule_message_parses_back_as_owned),
		cmocka_unit_test(test_rule_matching_everything_has_no_address),
		cmocka_unit_test(test_address_message_matches_golden_bytes),
		cmocka_unit_test(test_route_of_mixed_families_is_refused_without_a_host),
		cmocka_unit_test(test_rule_of_mixed_families_is_refused_without_a_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
