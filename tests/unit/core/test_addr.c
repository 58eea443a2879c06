/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <kilo/core.h>

static void assert_cidr_roundtrip(const char *text, const char *expected)
{
	struct kilo_cidr c;
	char out[KILO_CIDR_STRLEN];

	assert_int_equal(kilo_cidr_parse(text, &c, NULL), 0);
	kilo_cidr_format(&c, out);
	assert_string_equal(out, expected);
}

static void test_cidr_keeps_host_bits(void **state)
{
	(void)state;
	assert_cidr_roundtrip("10.5.0.1/24", "10.5.0.1/24");
	assert_cidr_roundtrip("192.168.0.1/32", "192.168.0.1/32");
	assert_cidr_roundtrip("fd68:da49:09da:b27f::/128", "fd68:da49:9da:b27f::/128");
}

static void test_ipv6_prints_like_go(void **state)
{
	(void)state;
	assert_cidr_roundtrip("2001:db8:0:0:1:0:0:1/64", "2001:db8::1:0:0:1/64");
	assert_cidr_roundtrip("2001:db8:0:1:1:1:1:1/64", "2001:db8:0:1:1:1:1:1/64");
	assert_cidr_roundtrip("::/0", "::/0");
	assert_cidr_roundtrip("::1/128", "::1/128");
}

/* Go prints ::ffff:1.2.3.4 as 1.2.3.4: accepted, it would come back as another address. */
static void test_ipv4_mapped_addresses_are_refused(void **state)
{
	const char *cidrs[] = { "::ffff:1.2.3.4/128", "::ffff:10.0.0.0/120", "::FFFF:0102:0304/96", "0:0:0:0:0:ffff:1.2.3.4/128" };
	const char *addrs[] = { "::ffff:1.2.3.4", "::ffff:0.0.0.0", "0::ffff:102:304" };
	struct kilo_cidr c;
	struct kilo_addr a;

	(void)state;
	for (size_t i = 0; i < sizeof(cidrs) / sizeof(cidrs[0]); i++)
		assert_int_equal(kilo_cidr_parse(cidrs[i], &c, NULL), -EAFNOSUPPORT);
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++)
		assert_int_equal(kilo_addr_parse(addrs[i], &a, NULL), -EAFNOSUPPORT);
	assert_non_null(strstr(kilo_addr_refusal(-EAFNOSUPPORT, "not a CIDR"), "IPv4-mapped"));
	assert_string_equal(kilo_addr_refusal(-EINVAL, "not a CIDR"), "not a CIDR");
	/* Its neighbours are ordinary IPv6 addresses. */
	assert_int_equal(kilo_addr_parse("::fffe:1.2.3.4", &a, NULL), 0);
	assert_int_equal(kilo_addr_parse("::1.2.3.4", &a, NULL), 0);
	assert_int_equal(kilo_addr_parse("64:ff9b::1.2.3.4", &a, NULL), 0);
}

static void test_cidr_rejects_bad_input(void **state)
{
	const char *bad[] = { "", "10.0.0.1", "10.0.0.1/33", "10.0.0.1/", "10.0.0.1/-1", "10.0.0.1/ 8",
			      "10.0.0.256/8", "foo/8", "::/129", "010.0.0.1/8", "10.0.0.1/0008", "/8" };
	struct kilo_cidr c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(kilo_cidr_parse(bad[i], &c, NULL), -EINVAL);
}

static void test_cidr_contains_and_masks(void **state)
{
	struct kilo_cidr net, masked;
	struct kilo_addr in, out;
	char text[KILO_CIDR_STRLEN];

	(void)state;
	assert_int_equal(kilo_cidr_parse("10.4.7.9/16", &net, NULL), 0);
	assert_int_equal(kilo_addr_parse("10.4.255.1", &in, NULL), 0);
	assert_int_equal(kilo_addr_parse("10.5.0.1", &out, NULL), 0);
	assert_true(kilo_cidr_contains(&net, &in));
	assert_false(kilo_cidr_contains(&net, &out));
	masked = kilo_cidr_masked(&net);
	kilo_cidr_format(&masked, text);
	assert_string_equal(text, "10.4.0.0/16");
}

static void test_public_addresses_follow_kilo(void **state)
{
	struct {
		const char *ip;
		bool public;
	} cases[] = {
		{ "10.0.0.1", false },   { "172.16.0.1", false }, { "172.31.255.255", false }, { "172.32.0.1", true },
		{ "192.168.0.0", false }, { "127.0.0.1", true },   { "100.64.0.1", true },       { "169.254.1.1", true },
		{ "fd00::1", false },     { "fd01::1", true },     { "fc00::1", true },          { "::1", true },
		{ "8.8.8.8", true },
	};
	struct kilo_addr a;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(kilo_addr_parse(cases[i].ip, &a, NULL), 0);
		assert_int_equal(kilo_addr_is_public(&a), cases[i].public);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_keeps_host_bits),
		cmocka_unit_test(test_ipv6_prints_like_go),
		cmocka_unit_test(test_ipv4_mapped_addresses_are_refused),
		cmocka_unit_test(test_cidr_rejects_bad_input),
		cmocka_unit_test(test_cidr_contains_and_masks),
		cmocka_unit_test(test_public_addresses_follow_kilo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
