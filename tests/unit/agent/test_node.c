/* SPDX-License-Identifier: Apache-2.0 */
/* This node as kg publishes it, from kg's flags (addresses forced, so no host is read). */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/internal.h"

static int build(const char *pod_cidr, const char *internal_ip, json_t **node, struct kilo_error *err)
{
	const struct kilo_agent_opts opts = {
		.sz = sizeof(opts),
		.hostname = "n1",
		.pod_cidr = pod_cidr,
		.force_endpoint = "192.0.2.1:51820",
		.force_internal_ip = internal_ip,
	};
	struct kilo_key key = { .bytes = { 1 } };

	return kilo_agent_node_build(&opts, &key, 1000, node, err);
}

static const char *field(json_t *node, const char *name)
{
	return json_string_value(json_object_get(node, name));
}

static void test_dual_stack_flags_give_a_pod_cidr_and_internal_ip_of_each_family(void **state)
{
	struct kilo_error err = { 0 };
	json_t *node = NULL;

	(void)state;
	assert_int_equal(build("10.2.1.5/24,fd02:1::5/64", "192.168.0.1/24,fd00::1/64", &node, &err), 0);
	assert_string_equal(field(node, "podCIDR"), "10.2.1.0/24");
	assert_string_equal(field(node, "secondaryPodCIDR"), "fd02:1::/64");
	assert_string_equal(field(node, "internalIP"), "192.168.0.1/24");
	assert_string_equal(field(node, "secondaryInternalIP"), "fd00::1/64");
	json_decref(node);
}

static void test_single_stack_flags_publish_no_secondary(void **state)
{
	struct kilo_error err = { 0 };
	json_t *node = NULL;

	(void)state;
	assert_int_equal(build("10.2.1.0/24", "192.168.0.1/24", &node, &err), 0);
	assert_null(json_object_get(node, "secondaryPodCIDR"));
	assert_null(json_object_get(node, "secondaryInternalIP"));
	json_decref(node);
}

static void test_two_cidrs_must_be_one_of_each_family(void **state)
{
	static const char *const bad[] = { "10.2.1.0/24,10.3.1.0/24", "10.2.1.0/24,", ",fd02:1::/64", "10.2.1.0/24,x" };
	struct kilo_error err;
	json_t *node = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(build(bad[i], "192.168.0.1/24", &node, &err), -EINVAL);
		assert_null(node);
		assert_non_null(strstr(err.message, "pod-cidr: \""));
		assert_non_null(strstr(err.message, "is not a CIDR or two CIDRs (one IPv4, one IPv6)"));
	}
	memset(&err, 0, sizeof(err));
	assert_int_equal(build("10.2.1.0/24", "fd00::1/64,fd00::2/64", &node, &err), -EINVAL);
	assert_non_null(strstr(err.message, "force-internal-ip: \"fd00::1/64,fd00::2/64\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dual_stack_flags_give_a_pod_cidr_and_internal_ip_of_each_family),
		cmocka_unit_test(test_single_stack_flags_publish_no_secondary),
		cmocka_unit_test(test_two_cidrs_must_be_one_of_each_family),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
