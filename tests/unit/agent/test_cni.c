/* SPDX-License-Identifier: Apache-2.0 */
/* Kilo's CNI configuration list with the node's pod CIDR. */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/internal.h"

static const struct kilo_cidr none;

static json_t *config_of(const char *pod_cidr, uint32_t mtu)
{
	struct kilo_cidr cidr;
	json_t *root;
	char *text;

	assert_int_equal(kilo_cidr_parse(pod_cidr, &cidr, NULL), 0);
	assert_int_equal(kilo_agent_cni_config(&cidr, &none, mtu, &text), 0);
	root = json_loads(text, 0, NULL);
	kilo_free(text);
	assert_non_null(root);
	return root;
}

static void test_bridge_with_host_local_ranges_of_the_pod_cidr(void **state)
{
	json_t *root = config_of("10.2.3.0/24", 0), *bridge, *ranges;

	(void)state;
	assert_string_equal(json_string_value(json_object_get(root, "name")), "kilo");
	assert_string_equal(json_string_value(json_object_get(root, "cniVersion")), "0.3.1");
	bridge = json_array_get(json_object_get(root, "plugins"), 0);
	assert_string_equal(json_string_value(json_object_get(bridge, "type")), "bridge");
	assert_string_equal(json_string_value(json_object_get(bridge, "bridge")), "kube-bridge");
	assert_true(json_is_true(json_object_get(bridge, "isDefaultGateway")));
	assert_int_equal(json_integer_value(json_object_get(bridge, "mtu")), KILO_DEFAULT_MTU);
	assert_string_equal(json_string_value(json_object_get(json_object_get(bridge, "ipam"), "type")), "host-local");
	ranges = json_object_get(json_object_get(bridge, "ipam"), "ranges");
	assert_int_equal(json_array_size(ranges), 1);
	assert_int_equal(json_array_size(json_array_get(ranges, 0)), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_array_get(ranges, 0), 0), "subnet")),
			    "10.2.3.0/24");
	json_decref(root);
}

static void test_dual_stack_node_gets_a_range_set_per_family(void **state)
{
	struct kilo_cidr v4, v6;
	json_t *root, *ranges;
	char *text;

	(void)state;
	assert_int_equal(kilo_cidr_parse("10.2.3.0/24", &v4, NULL), 0);
	assert_int_equal(kilo_cidr_parse("fd02:3::9/64", &v6, NULL), 0);
	assert_int_equal(kilo_agent_cni_config(&v4, &v6, 0, &text), 0);
	root = json_loads(text, 0, NULL);
	kilo_free(text);
	ranges = json_object_get(json_object_get(json_array_get(json_object_get(root, "plugins"), 0), "ipam"), "ranges");
	assert_int_equal(json_array_size(ranges), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_array_get(ranges, 0), 0), "subnet")),
			    "10.2.3.0/24");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_array_get(ranges, 1), 0), "subnet")),
			    "fd02:3::/64");
	json_decref(root);
}

static void test_subnet_is_the_network_and_mtu_follows(void **state)
{
	json_t *root = config_of("10.2.3.77/24", 1380), *bridge;

	(void)state;
	bridge = json_array_get(json_object_get(root, "plugins"), 0);
	assert_int_equal(json_integer_value(json_object_get(bridge, "mtu")), 1380);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_array_get(json_object_get(json_object_get(bridge, "ipam"), "ranges"), 0), 0),
				    "subnet")),
			    "10.2.3.0/24");
	json_decref(root);
}

static void test_write_replaces_the_file_readable_by_the_runtime(void **state)
{
	char dir[] = "/tmp/kt-cni-XXXXXX", path[64];
	struct kilo_error err = { 0 };
	struct kilo_cidr cidr;
	struct stat st;
	json_t *root;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/10-kilo.conflist", dir);
	assert_int_equal(kilo_cidr_parse("10.2.9.0/24", &cidr, NULL), 0);
	assert_int_equal(kilo_agent_cni_write(path, &cidr, &none, 0, &err), 0);
	assert_int_equal(kilo_cidr_parse("10.2.8.0/24", &cidr, NULL), 0);
	assert_int_equal(kilo_agent_cni_write(path, &cidr, &none, 0, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	root = json_load_file(path, 0, NULL);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_array_get(json_object_get(json_object_get(json_array_get(
										json_object_get(root, "plugins"), 0),
									"ipam"),
							"ranges"),
						0),
					0),
				    "subnet")),
			    "10.2.8.0/24");
	json_decref(root);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

static void test_write_names_a_missing_folder(void **state)
{
	struct kilo_error err = { 0 };
	struct kilo_cidr cidr;

	(void)state;
	assert_int_equal(kilo_cidr_parse("10.2.9.0/24", &cidr, NULL), 0);
	assert_int_equal(kilo_agent_cni_write("/nonexistent-kt/10-kilo.conflist", &cidr, &none, 0, &err), -ENOENT);
	assert_non_null(strstr(err.message, "/nonexistent-kt/10-kilo.conflist"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bridge_with_host_local_ranges_of_the_pod_cidr),
		cmocka_unit_test(test_dual_stack_node_gets_a_range_set_per_family),
		cmocka_unit_test(test_subnet_is_the_network_and_mtu_follows),
		cmocka_unit_test(test_write_replaces_the_file_readable_by_the_runtime),
		cmocka_unit_test(test_write_names_a_missing_folder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
