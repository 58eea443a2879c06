/* SPDX-License-Identifier: Apache-2.0 */
/* The nftables expressions of one rule, in libnftnl's text form, checked by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <libnftnl/rule.h>

#include "net/internal.h"

static void assert_rule_text(uint8_t family, const char *chain, const struct nat_plan_rule *planned,
			     const char *golden)
{
	struct nftnl_rule *rule = kilo__nat_rule_build(family, chain, planned);
	char text[2048];

	assert_non_null(rule);
	nftnl_rule_snprintf(text, sizeof(text), rule, NFTNL_OUTPUT_DEFAULT, 0);
	nftnl_rule_free(rule);
	assert_string_equal(text, golden);
}

static void test_ipv4_destination_prefix_return_with_comment(void **state)
{
	/* 10.2.0.0/16 is 0a 02 00 00 and its mask ff ff 00 00, shown as little-endian words. */
	static const char golden[] = "ip kilo KILO-NAT\n"
				     "  [ payload load 4b @ network header + 16 => reg 1 ]\n"
				     "  [ bitwise reg 1 = ( reg 1 & 0x0000ffff ) ^ 0x00000000 ]\n"
				     "  [ cmp eq reg 1 0x0000020a ]\n"
				     "  [ immediate reg 0 return ]\n"
				     "  userdata = { \\x00\\x08Kilo: x\\x00 }";
	struct kilo_nat_rule source = { .kind = KILO_NAT_RULE, .family = 4, .table = "nat", .chain = "KILO-NAT",
					.comment = "Kilo: x", .target = "RETURN" };
	struct nat_plan_rule planned = { .source = &source, .verdict = NAT_RETURN };

	(void)state;
	assert_int_equal(kilo_cidr_parse("10.2.0.0/16", &source.dst, NULL), 0);
	assert_rule_text(4, "KILO-NAT", &planned, golden);
}

static void test_ipv4_host_source_needs_no_mask(void **state)
{
	static const char golden[] = "ip kilo KILO-IPIP\n"
				     "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
				     "  [ cmp eq reg 1 0x0200a8c0 ]\n"
				     "  [ immediate reg 0 accept ]\n";
	struct kilo_nat_rule source = { .kind = KILO_NAT_RULE, .family = 4, .table = "filter", .chain = "KILO-IPIP",
					.target = "ACCEPT" };
	struct nat_plan_rule planned = { .source = &source, .verdict = NAT_ACCEPT };

	(void)state;
	assert_int_equal(kilo_cidr_parse("192.168.0.2/32", &source.src, NULL), 0);
	assert_rule_text(4, "KILO-IPIP", &planned, golden);
}

static void test_ipv6_ipip_source_jump(void **state)
{
	static const char golden[] = "ip6 kilo input\n"
				     "  [ meta load l4proto => reg 1 ]\n"
				     "  [ cmp eq reg 1 0x00000004 ]\n"
				     "  [ payload load 16b @ network header + 8 => reg 1 ]\n"
				     "  [ bitwise reg 1 = ( reg 1 & 0xffffffff 0xffffffff 0x00000000 0x00000000 ) ^ "
				     "0x00000000 0x00000000 0x00000000 0x00000000 ]\n"
				     "  [ cmp eq reg 1 0x010000fd 0x00000000 0x00000000 0x00000000 ]\n"
				     "  [ immediate reg 0 jump -> KILO-IPIP ]\n";
	struct kilo_nat_rule source = { .kind = KILO_NAT_RULE, .family = 6, .table = "filter", .chain = "INPUT",
					.ipip = true, .target = "KILO-IPIP" };
	struct nat_plan_rule planned = { .source = &source, .verdict = NAT_JUMP, .jump = "KILO-IPIP" };

	(void)state;
	assert_int_equal(kilo_cidr_parse("fd00:1::/64", &source.src, NULL), 0);
	assert_rule_text(6, "input", &planned, golden);
}

static void test_masquerade_matches_everything(void **state)
{
	static const char golden[] = "ip kilo KILO-NAT\n"
				     "  [ masq ]\n";
	struct kilo_nat_rule source = { .kind = KILO_NAT_RULE, .family = 4, .table = "nat", .chain = "KILO-NAT",
					.target = "MASQUERADE" };
	struct nat_plan_rule planned = { .source = &source, .verdict = NAT_MASQUERADE };

	(void)state;
	assert_rule_text(4, "KILO-NAT", &planned, golden);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_destination_prefix_return_with_comment),
		cmocka_unit_test(test_ipv4_host_source_needs_no_mask),
		cmocka_unit_test(test_ipv6_ipip_source_jump),
		cmocka_unit_test(test_masquerade_matches_everything),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
