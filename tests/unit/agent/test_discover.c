/* SPDX-License-Identifier: Apache-2.0 */
/* Kilo's choice of a node's private and public IPs among the candidates (getIP). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "agent/internal.h"

#define MAX 8

struct list {
	struct kilo_cidr items[MAX];
	size_t n;
};

/* A NULL-terminated list of CIDR texts. */
static struct list cidrs(const char *first, ...)
{
	struct list l = { 0 };
	va_list ap;

	va_start(ap, first);
	for (const char *t = first; t; t = va_arg(ap, const char *))
		assert_int_equal(kilo_cidr_parse(t, &l.items[l.n++], NULL), 0);
	va_end(ap);
	return l;
}

struct choice {
	char priv[KILO_CIDR_STRLEN];
	char pub[KILO_CIDR_STRLEN];
	char secondary[KILO_CIDR_STRLEN];
	int r;
};

static struct choice choose(const struct list *by_name, const struct list *by_route, const struct list *all,
			    const struct list *internal)
{
	struct kilo_ip_candidates c = {
		.hostname = by_name->items, .n_hostname = by_name->n,
		.default_route = by_route->items, .n_default_route = by_route->n,
		.all = all->items, .n_all = all->n,
	};
	struct kilo_host_ips ips;
	struct choice out = { 0 };

	out.r = kilo_agent_select_ips(&c, internal ? internal->items : NULL, internal ? internal->n : 0, &ips);
	if (out.r == 0) {
		if (ips.private_ip.addr.family)
			kilo_cidr_format(&ips.private_ip, out.priv);
		if (ips.secondary_private_ip.addr.family)
			kilo_cidr_format(&ips.secondary_private_ip, out.secondary);
		kilo_cidr_format(&ips.public_ip, out.pub);
	}
	return out;
}

static void test_private_host_advertises_its_private_ip(void **state)
{
	struct list none = { 0 }, route = cidrs("192.168.0.5/24", NULL), all = cidrs("192.168.0.5/24", "127.0.0.1/8", NULL);
	struct choice c = choose(&none, &route, &all, NULL);

	(void)state;
	assert_int_equal(c.r, 0);
	assert_string_equal(c.priv, "192.168.0.5/24");
	assert_string_equal(c.pub, "192.168.0.5/24");
}

static void test_dual_stack_host_finds_a_private_ip_of_each_family(void **state)
{
	struct list none = { 0 }, route = cidrs("192.168.0.5/24", "fd00::5/64", NULL),
		    all = cidrs("192.168.0.5/24", "fd00::5/64", "fd00:9::5/64", "fe80::1/64", NULL),
		    internal = cidrs("192.168.0.0/16", "fd00::/64", NULL);
	struct choice c = choose(&none, &route, &all, &internal);

	(void)state;
	assert_int_equal(c.r, 0);
	assert_string_equal(c.priv, "192.168.0.5/24");
	assert_string_equal(c.secondary, "fd00::5/64");
	/* Only a private IP of the other family counts: a single-stack host has none. */
	c = choose(&none, &route, &route, &(struct list){ 0 });
	assert_string_equal(c.secondary, "fd00::5/64");
	all = cidrs("192.168.0.5/24", "192.168.1.5/24", NULL);
	c = choose(&none, &all, &all, NULL);
	assert_string_equal(c.secondary, "");
}

static void test_public_ip_comes_from_any_source(void **state)
{
	struct list none = { 0 }, route = cidrs("10.0.0.2/16", NULL),
		    all = cidrs("10.0.0.2/16", "203.0.113.9/24", "fe80::1/64", NULL);
	struct choice c = choose(&none, &route, &all, NULL);

	(void)state;
	assert_string_equal(c.priv, "10.0.0.2/16");
	assert_string_equal(c.pub, "203.0.113.9/24");
}

static void test_hostname_source_comes_first(void **state)
{
	struct list name = cidrs("172.16.3.3/24", NULL), route = cidrs("10.0.0.2/16", NULL), all = cidrs("10.0.0.2/16", "172.16.3.3/24", NULL);
	struct choice c = choose(&name, &route, &all, NULL);

	(void)state;
	assert_string_equal(c.priv, "172.16.3.3/24");
}

static void test_sources_sort_ipv4_first_then_by_text(void **state)
{
	/* "10.2.1.1/24" sorts before "10.200.0.1/24" by text, and IPv6 after both. */
	struct list none = { 0 }, all = cidrs("fd00::5/64", "10.200.0.1/24", "10.2.1.1/24", "2001:db8::1/64", "198.51.100.7/24", NULL);
	struct choice c = choose(&none, &none, &all, NULL);

	(void)state;
	assert_string_equal(c.priv, "10.2.1.1/24");
	assert_string_equal(c.pub, "198.51.100.7/24");
}

static void test_internal_cidrs_filter_private_ips(void **state)
{
	struct list none = { 0 }, all = cidrs("10.2.1.1/24", "192.168.77.1/24", NULL), internal = cidrs("192.168.0.0/16", NULL);
	struct choice c = choose(&none, &none, &all, &internal);

	(void)state;
	assert_string_equal(c.priv, "192.168.77.1/24");
	assert_string_equal(c.pub, "192.168.77.1/24");
}

static void test_public_only_host_has_no_private_ip(void **state)
{
	struct list none = { 0 }, all = cidrs("203.0.113.9/24", NULL);
	struct choice c = choose(&none, &none, &all, NULL);

	(void)state;
	assert_int_equal(c.r, 0);
	assert_string_equal(c.priv, "");
	assert_string_equal(c.pub, "203.0.113.9/24");
}

static void test_loopback_and_link_local_are_no_candidates(void **state)
{
	struct list none = { 0 }, all = cidrs("127.0.0.1/8", "::1/128", "169.254.1.1/16", "fe80::1/64", NULL);
	struct choice c = choose(&none, &none, &all, NULL);

	(void)state;
	assert_int_equal(c.r, -EADDRNOTAVAIL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_private_host_advertises_its_private_ip),
		cmocka_unit_test(test_dual_stack_host_finds_a_private_ip_of_each_family),
		cmocka_unit_test(test_public_ip_comes_from_any_source),
		cmocka_unit_test(test_hostname_source_comes_first),
		cmocka_unit_test(test_sources_sort_ipv4_first_then_by_text),
		cmocka_unit_test(test_internal_cidrs_filter_private_ips),
		cmocka_unit_test(test_public_only_host_has_no_private_ip),
		cmocka_unit_test(test_loopback_and_link_local_are_no_candidates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
