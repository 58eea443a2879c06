/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <kilo/mesh.h>

#include "helpers.h"

/* Reads doc, which must fail with -EINVAL and exactly message. */
static void assert_rejected(const char *doc, const char *message)
{
	struct kilo_error err = { 0 };
	kilo_mesh *mesh = (kilo_mesh *)&err;

	assert_int_equal(kilo_mesh_from_json(doc, strlen(doc), &mesh, &err), -EINVAL);
	assert_null(mesh);
	assert_int_equal(err.code, EINVAL);
	assert_string_equal(err.message, message);
}

static void test_document_round_trips_byte_for_byte(void **state)
{
	struct kilo_error err = { 0 };
	kilo_mesh *mesh = NULL;
	size_t len;
	char *text = read_fixture("mesh.json", &len), *out = NULL;

	(void)state;
	assert_int_equal(kilo_mesh_from_json(text, len, &mesh, &err), 0);
	assert_int_equal(kilo_mesh_to_json(mesh, &out, NULL), 0);
	assert_string_equal(out, text);
	kilo_free(out);
	kilo_mesh_free(mesh);
	free(text);
}

static void test_accessors_report_what_the_document_says(void **state)
{
	struct kilo_error err = { 0 };
	kilo_mesh *mesh = NULL;
	size_t len;
	char *text = read_fixture("mesh.json", &len);

	(void)state;
	assert_int_equal(kilo_mesh_from_json(text, len, &mesh, &err), 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 3);
	assert_int_equal(kilo_mesh_peer_count(mesh), 1);
	assert_string_equal(kilo_mesh_node_name(mesh, 1), "b.example");
	assert_null(kilo_mesh_node_name(mesh, 3));
	assert_string_equal(kilo_mesh_peer_name(mesh, 0), "laptop");
	assert_null(kilo_mesh_peer_name(mesh, 1));
	assert_int_equal(kilo_mesh_granularity(mesh), KILO_GRANULARITY_CROSS);
	/* a is complete and was seen 10 s ago; b has no pod CIDR; c has no key. */
	assert_true(kilo_mesh_node_ready(mesh, 0, 1764100010));
	assert_false(kilo_mesh_node_ready(mesh, 0, 1764100060));
	assert_false(kilo_mesh_node_ready(mesh, 1, 0));
	assert_false(kilo_mesh_node_ready(mesh, 2, 0));
	assert_false(kilo_mesh_node_ready(mesh, 3, 0));
	kilo_mesh_free(mesh);
	free(text);
}

static void test_defaults_fill_a_minimal_document(void **state)
{
	const char *doc = "{\"version\": 1, \"nodes\": [{\"name\": \"a\"}]}";
	kilo_mesh *mesh = NULL;
	char *out = NULL;

	(void)state;
	assert_int_equal(kilo_mesh_from_json(doc, strlen(doc), &mesh, NULL), 0);
	assert_int_equal(kilo_mesh_to_json(mesh, &out, NULL), 0);
	assert_string_equal(out, "{\n"
				 "  \"version\": 1,\n"
				 "  \"settings\": {\n"
				 "    \"granularity\": \"location\",\n"
				 "    \"subnet\": \"10.4.0.0/16\",\n"
				 "    \"port\": 51820\n"
				 "  },\n"
				 "  \"nodes\": [\n"
				 "    {\n"
				 "      \"name\": \"a\"\n"
				 "    }\n"
				 "  ],\n"
				 "  \"peers\": []\n"
				 "}\n");
	kilo_free(out);
	kilo_mesh_free(mesh);
}

static void test_pod_cidr_and_subnet_are_masked_but_internal_ip_is_not(void **state)
{
	const char *doc = "{\"version\": 1, \"settings\": {\"subnet\": \"10.4.7.1/16\"}, \"nodes\": [{\"name\": \"a\", "
			  "\"podCIDR\": \"10.2.1.7/24\", \"internalIP\": \"192.168.0.5/24\"}]}";
	kilo_mesh *mesh = NULL;
	char *out = NULL;

	(void)state;
	assert_int_equal(kilo_mesh_from_json(doc, strlen(doc), &mesh, NULL), 0);
	assert_int_equal(kilo_mesh_to_json(mesh, &out, NULL), 0);
	assert_non_null(strstr(out, "\"subnet\": \"10.4.0.0/16\""));
	assert_non_null(strstr(out, "\"podCIDR\": \"10.2.1.0/24\""));
	assert_non_null(strstr(out, "\"internalIP\": \"192.168.0.5/24\""));
	kilo_free(out);
	kilo_mesh_free(mesh);
}

static void test_dual_stack_node_round_trips_with_masked_secondary_pod_cidr(void **state)
{
	const char *doc = "{\"version\": 1, \"nodes\": [{\"name\": \"a\", \"internalIP\": \"192.168.0.5/24\", "
			  "\"podCIDR\": \"10.2.1.0/24\", \"secondaryPodCIDR\": \"fd02:1::7/64\", "
			  "\"secondaryInternalIP\": \"fd00::5/64\"}]}";
	kilo_mesh *mesh = NULL;
	char *out = NULL;

	(void)state;
	assert_int_equal(kilo_mesh_from_json(doc, strlen(doc), &mesh, NULL), 0);
	assert_int_equal(kilo_mesh_to_json(mesh, &out, NULL), 0);
	assert_non_null(strstr(out, "\"secondaryPodCIDR\": \"fd02:1::/64\""));
	assert_non_null(strstr(out, "\"secondaryInternalIP\": \"fd00::5/64\""));
	kilo_free(out);
	kilo_mesh_free(mesh);
}

static void test_secondary_address_must_complete_a_primary_of_the_other_family(void **state)
{
	(void)state;
	assert_rejected("{\"version\": 1, \"nodes\": [{\"name\": \"a\", \"podCIDR\": \"10.2.1.0/24\", "
			"\"secondaryPodCIDR\": \"10.3.1.0/24\"}]}",
			"nodes[0].secondaryPodCIDR: \"10.3.1.0/24\" is IPv4 like podCIDR; it must be of the other family");
	assert_rejected("{\"version\": 1, \"nodes\": [{\"name\": \"a\", \"podCIDR\": \"10.2.1.0/24\"}, "
			"{\"name\": \"b\", \"secondaryInternalIP\": \"fd00::5/64\"}]}",
			"nodes[1].secondaryInternalIP: \"fd00::5/64\" needs internalIP as well");
}

static void test_bad_cidr_names_path_and_value(void **state)
{
	(void)state;
	assert_rejected("{\"version\": 1, \"nodes\": [{\"name\": \"a\"}, {\"name\": \"b\"}, {\"name\": \"c\"}, "
			"{\"name\": \"d\", \"podCIDR\": \"10.2.1.0/33\"}]}",
			"nodes[3].podCIDR: \"10.2.1.0/33\" is not a CIDR");
}

static void test_bad_list_entry_names_its_index(void **state)
{
	(void)state;
	assert_rejected("{\"version\": 1, \"peers\": [{\"name\": \"p\", \"publicKey\": "
			"\"a2V5MQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\", \"allowedIPs\": [\"10.5.0.1/32\", \"x\"]}]}",
			"peers[0].allowedIPs[1]: \"x\" is not a CIDR");
}

static void test_duplicate_node_name_is_rejected(void **state)
{
	(void)state;
	assert_rejected("{\"version\": 1, \"nodes\": [{\"name\": \"b\"}, {\"name\": \"b\"}]}",
			"nodes[1].name: duplicate node name \"b\" (also nodes[0])");
}

static void test_duplicate_peer_name_is_rejected(void **state)
{
	(void)state;
	assert_rejected("{\"version\": 1, \"peers\": [{\"name\": \"p\", \"publicKey\": "
			"\"a2V5MQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}, {\"name\": \"p\", \"publicKey\": "
			"\"a2V5MgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}]}",
			"peers[1].name: duplicate peer name \"p\" (also peers[0])");
}

static void test_overlapping_pod_cidrs_are_rejected_naming_both_nodes(void **state)
{
	(void)state;
	assert_rejected("{\"version\": 1, \"nodes\": [{\"name\": \"a\", \"podCIDR\": \"10.2.1.0/24\"},"
			" {\"name\": \"b\", \"podCIDR\": \"10.2.2.0/24\"}, {\"name\": \"c\", \"podCIDR\": \"10.2.0.0/16\"}]}",
			"nodes[2].podCIDR: \"10.2.0.0/16\" of node \"c\" overlaps podCIDR \"10.2.1.0/24\" of node \"a\" (nodes[0])");
	assert_rejected("{\"version\": 1, \"nodes\": [{\"name\": \"a\", \"podCIDR\": \"10.2.1.0/24\","
			" \"secondaryPodCIDR\": \"fd02::/48\"}, {\"name\": \"b\", \"podCIDR\": \"10.2.2.0/24\","
			" \"secondaryPodCIDR\": \"fd02:0:0:1::/64\"}]}",
			"nodes[1].secondaryPodCIDR: \"fd02:0:0:1::/64\" of node \"b\" overlaps secondaryPodCIDR \"fd02::/48\" of "
			"node \"a\" (nodes[0])");
}

static void test_duplicate_node_key_is_rejected(void **state)
{
	(void)state;
	assert_rejected("{\"version\": 1, \"nodes\": [{\"name\": \"a\", \"publicKey\": "
			"\"a2V5MQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}, {\"name\": \"b\"}, {\"name\": \"c\", \"publicKey\": "
			"\"a2V5MQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}]}",
			"nodes[2].publicKey: duplicate public key \"a2V5MQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\" (also "
			"nodes[0])");
}

static void test_node_name_must_be_a_kubernetes_name(void **state)
{
	(void)state;
	assert_rejected("{\"version\": 1, \"nodes\": [{\"name\": \"Node_1\"}]}",
			"nodes[0].name: \"Node_1\" is not a valid node name (a lower-case RFC 1123 subdomain)");
	assert_rejected("{\"version\": 1, \"nodes\": [{\"name\": \"\"}]}",
			"nodes[0].name: \"\" is not a valid node name (a lower-case RFC 1123 subdomain)");
}

static void test_unknown_field_is_rejected(void **state)
{
	(void)state;
	assert_rejected("{\"version\": 1, \"nodes\": [{\"name\": \"a\", \"colour\": \"red\"}]}",
			"nodes[0].colour: unknown field");
	assert_rejected("{\"version\": 1, \"extra\": 1}", "extra: unknown field");
}

static void test_unknown_granularity_lists_the_choices(void **state)
{
	(void)state;
	assert_rejected("{\"version\": 1, \"settings\": {\"granularity\": \"mesh\"}}",
			"settings.granularity: \"mesh\" is not one of location, full, cross");
}

static void test_wrong_type_is_rejected(void **state)
{
	(void)state;
	assert_rejected("{\"version\": 1, \"nodes\": [{\"name\": \"a\", \"leader\": \"yes\"}]}",
			"nodes[0].leader: \"yes\" is not a boolean");
	assert_rejected("{\"version\": 1, \"nodes\": {}}", "nodes: {} is not an array");
	assert_rejected("[]", "document: [] is not an object");
}

static void test_missing_required_field_is_rejected(void **state)
{
	(void)state;
	assert_rejected("{\"version\": 1, \"nodes\": [{\"location\": \"x\"}]}", "nodes[0].name: required field is missing");
	assert_rejected("{\"version\": 1, \"peers\": [{\"name\": \"p\"}]}", "peers[0].publicKey: required field is missing");
	assert_rejected("{}", "version: required field is missing");
}

static void test_only_version_1_is_read(void **state)
{
	(void)state;
	assert_rejected("{\"version\": 2}", "version: 2 is not a supported version (1)");
}

static void test_numbers_are_checked_against_their_range(void **state)
{
	(void)state;
	assert_rejected("{\"version\": 1, \"settings\": {\"port\": 0}}", "settings.port: 0 is not a port (1..65535)");
	assert_rejected("{\"version\": 1, \"nodes\": [{\"name\": \"a\", \"persistentKeepalive\": 65536}]}",
			"nodes[0].persistentKeepalive: 65536 is not a keepalive in whole seconds (0..65535)");
	assert_rejected("{\"version\": 1, \"nodes\": [{\"name\": \"a\", \"persistentKeepalive\": 2.5}]}",
			"nodes[0].persistentKeepalive: 2.5 is not a keepalive in whole seconds (0..65535)");
	assert_rejected("{\"version\": 1, \"nodes\": [{\"name\": \"a\", \"lastSeen\": -1}]}",
			"nodes[0].lastSeen: -1 is not a Unix time in whole seconds");
}

static void test_bad_endpoint_and_key_are_rejected(void **state)
{
	(void)state;
	assert_rejected("{\"version\": 1, \"nodes\": [{\"name\": \"a\", \"endpoint\": \"1.2.3.4\"}]}",
			"nodes[0].endpoint: \"1.2.3.4\" is not an endpoint (ip:port, [ipv6]:port or dns-name:port)");
	assert_rejected("{\"version\": 1, \"nodes\": [{\"name\": \"a\", \"publicKey\": \"abc\"}]}",
			"nodes[0].publicKey: \"abc\" is not a WireGuard key");
	assert_rejected("{\"version\": 1, \"nodes\": [{\"name\": \"a\", \"discoveredEndpoints\": "
			"{\"a2V5MQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\": \"host.example:1\"}}]}",
			"nodes[0].discoveredEndpoints[\"a2V5MQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"]: \"host.example:1\" is "
			"not an ip:port endpoint");
}

static void test_services_and_policies_must_be_empty_for_now(void **state)
{
	(void)state;
	assert_rejected("{\"version\": 1, \"services\": [{}]}", "services: not supported yet (must be empty)");
	assert_rejected("{\"version\": 1, \"policies\": [1]}", "policies: not supported yet (must be empty)");
}

static void test_syntax_error_names_line_and_column(void **state)
{
	(void)state;
	assert_rejected("{\"version\": 1,\n\"nodes\": [}", "line 2, column 11: unexpected token near '}'");
	assert_rejected("{\"version\": 1, \"version\": 1}",
			"line 1, column 24: duplicate object key near '\"version\"'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_document_round_trips_byte_for_byte),
		cmocka_unit_test(test_accessors_report_what_the_document_says),
		cmocka_unit_test(test_defaults_fill_a_minimal_document),
		cmocka_unit_test(test_pod_cidr_and_subnet_are_masked_but_internal_ip_is_not),
		cmocka_unit_test(test_dual_stack_node_round_trips_with_masked_secondary_pod_cidr),
		cmocka_unit_test(test_secondary_address_must_complete_a_primary_of_the_other_family),
		cmocka_unit_test(test_bad_cidr_names_path_and_value),
		cmocka_unit_test(test_bad_list_entry_names_its_index),
		cmocka_unit_test(test_duplicate_node_name_is_rejected),
		cmocka_unit_test(test_duplicate_peer_name_is_rejected),
		cmocka_unit_test(test_duplicate_node_key_is_rejected),
		cmocka_unit_test(test_overlapping_pod_cidrs_are_rejected_naming_both_nodes),
		cmocka_unit_test(test_node_name_must_be_a_kubernetes_name),
		cmocka_unit_test(test_unknown_field_is_rejected),
		cmocka_unit_test(test_unknown_granularity_lists_the_choices),
		cmocka_unit_test(test_wrong_type_is_rejected),
		cmocka_unit_test(test_missing_required_field_is_rejected),
		cmocka_unit_test(test_only_version_1_is_read),
		cmocka_unit_test(test_numbers_are_checked_against_their_range),
		cmocka_unit_test(test_bad_endpoint_and_key_are_rejected),
		cmocka_unit_test(test_services_and_policies_must_be_empty_for_now),
		cmocka_unit_test(test_syntax_error_names_line_and_column),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
