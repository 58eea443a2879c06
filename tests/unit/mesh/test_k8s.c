/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include <kilo/mesh.h>

#define KEY1 "a2V5MQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define KEY2 "a2V5MgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define ZERO "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static void assert_json_equal(const char *actual, const char *expected)
{
	json_t *a = json_loads(actual, 0, NULL), *e = json_loads(expected, 0, NULL);
	bool same = a && e && json_equal(a, e);

	if (!same)
		fprintf(stderr, "expected %s\n     got %s\n", expected, actual);
	json_decref(a);
	json_decref(e);
	assert_true(same);
}

static void assert_node(const char *object, const char *expected)
{
	struct kilo_error err = { 0 };
	char *out = NULL;

	assert_int_equal(kilo_node_from_kubernetes(object, NULL, &out, &err), 0);
	assert_json_equal(out, expected);
	kilo_free(out);
}

static void assert_peer(const char *object, const char *expected)
{
	struct kilo_error err = { 0 };
	char *out = NULL;

	assert_int_equal(kilo_peer_from_kubernetes(object, &out, &err), 0);
	assert_json_equal(out, expected);
	kilo_free(out);
}

static void test_complete_node_with_ipv6_takes_every_annotation(void **state)
{
	(void)state;
	assert_node("{\"metadata\": {\"name\": \"n\", \"annotations\": {"
		    "\"kilo.squat.ai/endpoint\": \"10.0.0.1:51820\", \"kilo.squat.ai/force-endpoint\": \"[1100::10]:51821\", "
		    "\"kilo.squat.ai/force-internal-ip\": \"10.1.0.2/32\", \"kilo.squat.ai/internal-ip\": \"10.1.0.1/32\", "
		    "\"kilo.squat.ai/key\": \"" KEY1 "\", \"kilo.squat.ai/last-seen\": \"1000000000\", "
		    "\"kilo.squat.ai/leader\": \"\", \"kilo.squat.ai/location\": \"b\", "
		    "\"kilo.squat.ai/persistent-keepalive\": \"25\", \"kilo.squat.ai/wireguard-ip\": \"10.4.0.1/16\"}, "
		    "\"labels\": {\"topology.kubernetes.io/region\": \"a\"}}, \"spec\": {\"podCIDR\": \"10.2.1.0/24\"}}",
		    "{\"name\": \"n\", \"location\": \"b\", \"endpoint\": \"[1100::10]:51821\", \"internalIP\": \"10.1.0.2/32\", "
		    "\"podCIDR\": \"10.2.1.0/24\", \"publicKey\": \"" KEY1 "\", \"leader\": true, "
		    "\"persistentKeepalive\": 25, \"lastSeen\": 1000000000, \"wireGuardIP\": \"10.4.0.1/16\"}");
}

static void test_dual_stack_node_takes_its_second_pod_cidr_of_the_other_family(void **state)
{
	(void)state;
	assert_node("{\"metadata\": {\"name\": \"n\"}, \"spec\": {\"podCIDR\": \"10.2.1.0/24\", "
		    "\"podCIDRs\": [\"10.2.1.0/24\", \"fd02:1::5/64\"]}}",
		    "{\"name\": \"n\", \"podCIDR\": \"10.2.1.0/24\", \"secondaryPodCIDR\": \"fd02:1::/64\"}");
	/* A second CIDR of the same family is not dual stack; Kilo's single pod CIDR stays. */
	assert_node("{\"metadata\": {\"name\": \"n\"}, \"spec\": {\"podCIDR\": \"10.2.1.0/24\", "
		    "\"podCIDRs\": [\"10.2.1.0/24\", \"10.3.1.0/24\"]}}",
		    "{\"name\": \"n\", \"podCIDR\": \"10.2.1.0/24\"}");
}

static void test_invalid_force_endpoint_falls_back_to_endpoint(void **state)
{
	(void)state;
	assert_node("{\"metadata\": {\"name\": \"n\", \"annotations\": {\"kilo.squat.ai/endpoint\": \"10.0.0.1:51820\", "
		    "\"kilo.squat.ai/force-endpoint\": \"-10.0.0.2:51821\"}}}",
		    "{\"name\": \"n\", \"endpoint\": \"10.0.0.1:51820\"}");
}

static void test_force_internal_ip_dash_means_no_internal_ip(void **state)
{
	(void)state;
	assert_node("{\"metadata\": {\"name\": \"n\", \"annotations\": {\"kilo.squat.ai/internal-ip\": \"10.1.0.1/24\", "
		    "\"kilo.squat.ai/force-internal-ip\": \"-\"}}}",
		    "{\"name\": \"n\"}");
}

static void test_invalid_force_internal_ip_falls_back_to_internal_ip(void **state)
{
	(void)state;
	assert_node("{\"metadata\": {\"name\": \"n\", \"annotations\": {\"kilo.squat.ai/internal-ip\": \"10.1.0.1/24\", "
		    "\"kilo.squat.ai/force-internal-ip\": \"-10.1.0.2/24\"}}}",
		    "{\"name\": \"n\", \"internalIP\": \"10.1.0.1/24\"}");
}

static void test_invalid_values_are_dropped_like_kilo_drops_them(void **state)
{
	(void)state;
	assert_node("{\"metadata\": {\"name\": \"n\", \"annotations\": {\"kilo.squat.ai/endpoint\": \"10.0.0.1\", "
		    "\"kilo.squat.ai/internal-ip\": \"foo\", \"kilo.squat.ai/key\": \"nope\", "
		    "\"kilo.squat.ai/persistent-keepalive\": \"25s\", \"kilo.squat.ai/last-seen\": \"x\", "
		    "\"kilo.squat.ai/discovered-endpoints\": \"{\\\"" KEY1 "\\\": {\\\"IP\\\": \\\"bad\\\"}}\"}}, "
		    "\"spec\": {\"podCIDR\": \"\"}}",
		    "{\"name\": \"n\"}");
}

static void test_location_annotation_overrides_topology_label(void **state)
{
	(void)state;
	assert_node("{\"metadata\": {\"name\": \"n\", \"annotations\": {\"kilo.squat.ai/location\": \"b\"}, "
		    "\"labels\": {\"topology.kubernetes.io/region\": \"a\"}}}",
		    "{\"name\": \"n\", \"location\": \"b\"}");
	assert_node("{\"metadata\": {\"name\": \"n\", \"labels\": {\"topology.kubernetes.io/region\": \"a\"}}}",
		    "{\"name\": \"n\", \"location\": \"a\"}");
}

static void test_custom_topology_label_gives_the_location(void **state)
{
	char *out = NULL;

	(void)state;
	assert_int_equal(kilo_node_from_kubernetes("{\"metadata\": {\"name\": \"n\", \"labels\": {\"zone\": \"z1\"}}}",
						   "zone", &out, NULL),
			 0);
	assert_json_equal(out, "{\"name\": \"n\", \"location\": \"z1\"}");
	kilo_free(out);
}

static void test_pod_cidr_is_masked_and_allowed_location_ips_are_not_trimmed(void **state)
{
	(void)state;
	assert_node("{\"metadata\": {\"name\": \"n\", \"annotations\": {"
		    "\"kilo.squat.ai/allowed-location-ips\": \"10.9.0.1/24,172.16.0.0/16, 192.168.0.0/16\"}}, "
		    "\"spec\": {\"podCIDR\": \"10.2.1.7/24\"}}",
		    "{\"name\": \"n\", \"podCIDR\": \"10.2.1.0/24\", \"allowedLocationIPs\": [\"10.9.0.1/24\", \"172.16.0.0/16\"]}");
}

static void test_discovered_endpoints_are_read_from_kilo_json(void **state)
{
	(void)state;
	assert_node("{\"metadata\": {\"name\": \"n\", \"annotations\": {\"kilo.squat.ai/discovered-endpoints\": "
		    "\"{\\\"" KEY1 "\\\": {\\\"IP\\\": \\\"1.2.3.4\\\", \\\"Port\\\": 4000, \\\"Zone\\\": \\\"\\\"}}\"}}}",
		    "{\"name\": \"n\", \"discoveredEndpoints\": {\"" KEY1 "\": \"1.2.3.4:4000\"}}");
}

static void test_malformed_node_object_is_an_error(void **state)
{
	struct kilo_error err = { 0 };
	char *out = NULL;

	(void)state;
	assert_int_equal(kilo_node_from_kubernetes("{\"metadata\": {\"annotations\": {\"kilo.squat.ai/key\": 1}, "
						   "\"name\": \"n\"}}",
						   NULL, &out, &err),
			 -EINVAL);
	assert_null(out);
	assert_string_equal(err.message, "metadata.annotations[\"kilo.squat.ai/key\"]: not a string");
	memset(&err, 0, sizeof(err));
	assert_int_equal(kilo_node_from_kubernetes("{\"spec\": {}}", NULL, &out, &err), -EINVAL);
	assert_string_equal(err.message, "node object: metadata.name: a non-empty string is required");
}

static void test_empty_peer_has_only_its_name(void **state)
{
	(void)state;
	assert_peer("{\"metadata\": {\"name\": \"p\"}, \"spec\": {}}", "{\"name\": \"p\"}");
}

static void test_peer_skips_invalid_allowed_ips_and_keeps_host_bits(void **state)
{
	(void)state;
	assert_peer("{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"allowedIPs\": [\"10.0.0.1\", \"10.0.0.1/24\", \"foo\"], "
		    "\"publicKey\": \"" KEY1 "\"}}",
		    "{\"name\": \"p\", \"publicKey\": \"" KEY1 "\", \"allowedIPs\": [\"10.0.0.1/24\"]}");
}

static void test_peer_dns_endpoint_overrides_ip(void **state)
{
	(void)state;
	assert_peer("{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"endpoint\": {\"dnsOrIP\": {\"dns\": \"example.com\", "
		    "\"ip\": \"10.0.0.1\"}, \"port\": 51820}}}",
		    "{\"name\": \"p\", \"endpoint\": \"example.com:51820\"}");
	assert_peer("{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"endpoint\": {\"dnsOrIP\": {\"ip\": \"ff60::2\"}, "
		    "\"port\": 51820}}}",
		    "{\"name\": \"p\", \"endpoint\": \"[ff60::2]:51820\"}");
}

static void test_peer_endpoint_needs_a_port_and_a_valid_ip(void **state)
{
	(void)state;
	assert_peer("{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"endpoint\": {\"dnsOrIP\": {\"ip\": \"10.0.0.1\"}, "
		    "\"port\": 0}}}",
		    "{\"name\": \"p\"}");
	assert_peer("{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"endpoint\": {\"dnsOrIP\": {\"ip\": \"foo\"}, "
		    "\"port\": 51820}}}",
		    "{\"name\": \"p\"}");
}

static void test_peer_negative_keepalive_and_bad_psk_are_dropped(void **state)
{
	(void)state;
	assert_peer("{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"persistentKeepalive\": -1, \"presharedKey\": \"x\"}}",
		    "{\"name\": \"p\"}");
	assert_peer("{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"persistentKeepalive\": 1, \"presharedKey\": \"" KEY2
		    "\"}}",
		    "{\"name\": \"p\", \"persistentKeepalive\": 1, \"presharedKey\": \"" KEY2
		    "\"}");
}

static void test_annotations_are_what_kg_writes(void **state)
{
	char *out = NULL;

	(void)state;
	assert_int_equal(kilo_node_to_annotations("{\"name\": \"a\", \"location\": \"eu\", \"endpoint\": \"1.2.3.4:51820\", "
						  "\"internalIP\": \"192.168.0.1/24\", \"publicKey\": \"" KEY1 "\", "
						  "\"leader\": true, \"persistentKeepalive\": 25, "
						  "\"allowedLocationIPs\": [\"10.9.0.0/24\", \"10.8.0.1/32\"], "
						  "\"discoveredEndpoints\": {\"" KEY2 "\": \"5.6.7.8:4000\"}, "
						  "\"lastSeen\": 1764100000, \"wireGuardIP\": \"10.4.0.1/16\"}",
						  &out, NULL),
			 0);
	assert_json_equal(out, "{\"kilo.squat.ai/endpoint\": \"1.2.3.4:51820\", "
			       "\"kilo.squat.ai/internal-ip\": \"192.168.0.1/24\", \"kilo.squat.ai/key\": \"" KEY1 "\", "
			       "\"kilo.squat.ai/last-seen\": \"1764100000\", \"kilo.squat.ai/wireguard-ip\": \"10.4.0.1/16\", "
			       "\"kilo.squat.ai/cni-compatibility-ip\": \"\", "
			       "\"kilo.squat.ai/discovered-endpoints\": \"{\\\"" KEY2
			       "\\\":{\\\"IP\\\":\\\"5.6.7.8\\\",\\\"Port\\\":4000,\\\"Zone\\\":\\\"\\\"}}\", "
			       "\"kilo.squat.ai/location\": \"eu\", \"kilo.squat.ai/leader\": \"true\", "
			       "\"kilo.squat.ai/force-endpoint\": \"1.2.3.4:51820\", "
			       "\"kilo.squat.ai/persistent-keepalive\": \"25\", "
			       "\"kilo.squat.ai/allowed-location-ips\": \"10.9.0.0/24,10.8.0.1/32\"}");
	kilo_free(out);
}

static void test_annotations_of_a_bare_node_are_empty_values(void **state)
{
	char *out = NULL;

	(void)state;
	assert_int_equal(kilo_node_to_annotations("{\"name\": \"a\"}", &out, NULL), 0);
	assert_json_equal(out, "{\"kilo.squat.ai/endpoint\": \"\", \"kilo.squat.ai/internal-ip\": \"\", "
			       "\"kilo.squat.ai/key\": \"" ZERO "\", \"kilo.squat.ai/last-seen\": \"0\", "
			       "\"kilo.squat.ai/wireguard-ip\": \"\", \"kilo.squat.ai/cni-compatibility-ip\": \"\", "
			       "\"kilo.squat.ai/discovered-endpoints\": \"\"}");
	kilo_free(out);
}

/* What kg writes, Kilo's translation reads back to the same node. */
static void test_annotations_translate_back_to_the_node(void **state)
{
	const char *node = "{\"name\": \"a\", \"location\": \"eu\", \"endpoint\": \"[fd00::1]:51820\", "
			   "\"internalIP\": \"192.168.0.1/24\", \"publicKey\": \"" KEY1 "\", \"leader\": true, "
			   "\"persistentKeepalive\": 25, \"allowedLocationIPs\": [\"10.9.0.0/24\"], "
			   "\"discoveredEndpoints\": {\"" KEY2 "\": \"[fd00::2]:4000\"}, \"lastSeen\": 1764100000, "
			   "\"wireGuardIP\": \"10.4.0.1/16\", \"cniCompatibilityIP\": \"10.2.1.1/32\"}";
	json_t *object, *annotations;
	char *text = NULL, *object_text, *back = NULL;

	(void)state;
	assert_int_equal(kilo_node_to_annotations(node, &text, NULL), 0);
	annotations = json_loads(text, 0, NULL);
	object = json_pack("{s:{s:s,s:o}}", "metadata", "name", "a", "annotations", annotations);
	object_text = json_dumps(object, 0);
	assert_int_equal(kilo_node_from_kubernetes(object_text, NULL, &back, NULL), 0);
	assert_json_equal(back, node);
	kilo_free(back);
	free(object_text);
	json_decref(object);
	kilo_free(text);
}

static void test_annotations_reject_a_bad_node(void **state)
{
	struct kilo_error err = { 0 };
	char *out = NULL;

	(void)state;
	assert_int_equal(kilo_node_to_annotations("{\"name\": \"a\", \"podCIDR\": \"x\"}", &out, &err), -EINVAL);
	assert_string_equal(err.message, "node.podCIDR: \"x\" is not a CIDR");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete_node_with_ipv6_takes_every_annotation),
		cmocka_unit_test(test_dual_stack_node_takes_its_second_pod_cidr_of_the_other_family),
		cmocka_unit_test(test_invalid_force_endpoint_falls_back_to_endpoint),
		cmocka_unit_test(test_force_internal_ip_dash_means_no_internal_ip),
		cmocka_unit_test(test_invalid_force_internal_ip_falls_back_to_internal_ip),
		cmocka_unit_test(test_invalid_values_are_dropped_like_kilo_drops_them),
		cmocka_unit_test(test_location_annotation_overrides_topology_label),
		cmocka_unit_test(test_custom_topology_label_gives_the_location),
		cmocka_unit_test(test_pod_cidr_is_masked_and_allowed_location_ips_are_not_trimmed),
		cmocka_unit_test(test_discovered_endpoints_are_read_from_kilo_json),
		cmocka_unit_test(test_malformed_node_object_is_an_error),
		cmocka_unit_test(test_empty_peer_has_only_its_name),
		cmocka_unit_test(test_peer_skips_invalid_allowed_ips_and_keeps_host_bits),
		cmocka_unit_test(test_peer_dns_endpoint_overrides_ip),
		cmocka_unit_test(test_peer_endpoint_needs_a_port_and_a_valid_ip),
		cmocka_unit_test(test_peer_negative_keepalive_and_bad_psk_are_dropped),
		cmocka_unit_test(test_annotations_are_what_kg_writes),
		cmocka_unit_test(test_annotations_of_a_bare_node_are_empty_values),
		cmocka_unit_test(test_annotations_translate_back_to_the_node),
		cmocka_unit_test(test_annotations_reject_a_bad_node),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
