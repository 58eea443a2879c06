/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <kilo/core.h>

static void assert_endpoint(const char *text, const char *expected)
{
	struct kilo_endpoint ep;
	char out[KILO_ENDPOINT_STRLEN];

	assert_int_equal(kilo_endpoint_parse(text, &ep, NULL), 0);
	kilo_endpoint_format(&ep, out);
	assert_string_equal(out, expected);
	assert_true(kilo_endpoint_ready(&ep));
}

static void test_endpoint_forms(void **state)
{
	(void)state;
	assert_endpoint("10.0.0.1:51820", "10.0.0.1:51820");
	assert_endpoint("[ff50::10]:1000", "[ff50::10]:1000");
	assert_endpoint("vpn.example.com:51820", "vpn.example.com:51820");
}

static void test_endpoint_rejects_bad_input(void **state)
{
	const char *bad[] = { "", ":1000", "ff50::10", "10.0.0.1", "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:x",
			      "-10.0.0.2:51821", "Upper.example.com:1", "a..b:1", "[10.0.0.1:1", "ff50::10:1000",
			      "host-:1", "10.0.0.1:+1" };
	struct kilo_endpoint ep;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(kilo_endpoint_parse(bad[i], &ep, NULL), -EINVAL);
}

static void test_ipv4_mapped_endpoint_is_refused(void **state)
{
	struct kilo_endpoint ep;

	(void)state;
	assert_int_equal(kilo_endpoint_parse("[::ffff:1.2.3.4]:51820", &ep, NULL), -EAFNOSUPPORT);
	assert_int_equal(kilo_endpoint_parse("[::ffff:c000:201]:1", &ep, NULL), -EAFNOSUPPORT);
	assert_int_equal(kilo_endpoint_parse("[::fffe:1.2.3.4]:51820", &ep, NULL), 0);
}

static void test_dns_endpoint_is_not_public(void **state)
{
	struct kilo_endpoint ep;

	(void)state;
	assert_int_equal(kilo_endpoint_parse("example.com:1", &ep, NULL), 0);
	assert_false(kilo_addr_is_public(&ep.addr));
}

static void test_resolved_dns_endpoint_equals_its_ip(void **state)
{
	struct kilo_endpoint ip, resolved, name, other;

	(void)state;
	assert_int_equal(kilo_endpoint_parse("10.0.0.1:1000", &ip, NULL), 0);
	assert_int_equal(kilo_endpoint_parse("example.com:1000", &name, NULL), 0);
	assert_int_equal(kilo_endpoint_parse("example.org:1000", &other, NULL), 0);
	resolved = name;
	resolved.addr = ip.addr;
	assert_true(kilo_endpoint_equal(&ip, &resolved));
	assert_false(kilo_endpoint_equal(&ip, &name));
	assert_false(kilo_endpoint_equal(&name, &other));
	assert_true(kilo_endpoint_equal(&name, &name));
}

/* Kilo compares nodes and peers by name first: two names of one address are two endpoints. */
static void test_names_differ_when_compared_dns_first(void **state)
{
	struct kilo_endpoint a, b, ip;

	(void)state;
	assert_int_equal(kilo_endpoint_parse("a.example.com:1000", &a, NULL), 0);
	assert_int_equal(kilo_endpoint_parse("b.example.com:1000", &b, NULL), 0);
	assert_int_equal(kilo_endpoint_parse("10.0.0.1:1000", &ip, NULL), 0);
	a.addr = ip.addr;
	b.addr = ip.addr;
	assert_true(kilo_endpoint_equal_opt(&a, &b, false));
	assert_false(kilo_endpoint_equal_opt(&a, &b, true));
	assert_false(kilo_endpoint_equal_opt(&a, &ip, true));
	assert_true(kilo_endpoint_equal_opt(&a, &a, true));
	b = a;
	b.port = 1001;
	assert_false(kilo_endpoint_equal_opt(&a, &b, true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoint_forms),
		cmocka_unit_test(test_endpoint_rejects_bad_input),
		cmocka_unit_test(test_dns_endpoint_is_not_public),
		cmocka_unit_test(test_resolved_dns_endpoint_equals_its_ip),
		cmocka_unit_test(test_names_differ_when_compared_dns_first),
		cmocka_unit_test(test_ipv4_mapped_endpoint_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
