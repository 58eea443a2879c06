/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

#define LAPTOP_KEY "a2V5NQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

/* Peer 0 of a one-peer configuration in wg's format, as a Peer object named name. */
static char *format_peer(const char *conf, const char *name, enum kilo_peer_format format)
{
	struct kilo_error err = { 0 };
	kilo_wg_config *config;
	char *out;

	assert_int_equal(kilo_wg_config_parse(conf, strlen(conf), &config, &err), 0);
	assert_int_equal(kilo_peer_object_format(config, 0, name, format, &out, NULL), 0);
	kilo_wg_config_free(config);
	return out;
}

static char *node_a_as_peer(enum kilo_peer_format format)
{
	struct kilo_cidr extra;
	kilo_wg_config *config;
	struct solved s;
	char *out;

	solve_data("kilo_fixture.json", "a", NULL, &s);
	assert_int_equal(kilo_cidr_parse("10.43.0.0/16", &extra, NULL), 0);
	assert_int_equal(kilo_topology_as_peer(s.topology, &extra, 1, &config, NULL), 0);
	assert_int_equal(kilo_peer_object_format(config, 0, "a", format, &out, NULL), 0);
	kilo_wg_config_free(config);
	solved_free(&s);
	return out;
}

static void test_yaml_peer_matches_kgctl(void **state)
{
	char *yaml = node_a_as_peer(KILO_PEER_YAML);

	(void)state;
	assert_data_equal(yaml, "node_a_as_peer.yaml");
	kilo_free(yaml);
}

static void test_json_peer_matches_kgctl_without_final_newline(void **state)
{
	char *json = node_a_as_peer(KILO_PEER_JSON);

	(void)state;
	assert_data_equal(json, "node_a_as_peer.json");
	kilo_free(json);
}

static void test_json_peer_fields_in_kubernetes_order(void **state)
{
	char *json = node_a_as_peer(KILO_PEER_JSON);
	const char *kind = strstr(json, "\"kind\""), *api = strstr(json, "\"apiVersion\"");
	const char *metadata = strstr(json, "\"metadata\""), *spec = strstr(json, "\"spec\"");

	(void)state;
	assert_true(json == strstr(json, "{\n  \"kind\": \"Peer\",\n"));
	assert_true(kind < api && api < metadata && metadata < spec);
	kilo_free(json);
}

static void test_dns_endpoint_keeps_its_name_and_keepalive_is_in_seconds(void **state)
{
	const char *expected = "apiVersion: kilo.squat.ai/v1alpha1\n"
			       "kind: Peer\n"
			       "metadata:\n"
			       "  name: laptop\n"
			       "spec:\n"
			       "  allowedIPs:\n"
			       "  - 10.5.0.1/32\n"
			       "  endpoint:\n"
			       "    dnsOrIP:\n"
			       "      dns: vpn.example.com\n"
			       "    port: 51820\n"
			       "  persistentKeepalive: 25\n"
			       "  publicKey: " LAPTOP_KEY "\n";
	char *yaml = format_peer("[Peer]\nPublicKey = " LAPTOP_KEY "\nAllowedIPs = 10.5.0.1/32\n"
				 "Endpoint = vpn.example.com:51820\nPersistentKeepalive = 25\n",
				 "laptop", KILO_PEER_YAML);

	(void)state;
	assert_string_equal(yaml, expected);
	kilo_free(yaml);
}

static void test_peer_without_endpoint_has_no_endpoint_field(void **state)
{
	char *json = format_peer("[Peer]\nPublicKey = " LAPTOP_KEY "\nAllowedIPs = 10.5.0.1/32\n", "laptop",
				 KILO_PEER_JSON);

	(void)state;
	assert_null(strstr(json, "endpoint"));
	assert_null(strstr(json, "persistentKeepalive"));
	kilo_free(json);
}

static void test_json_escapes_html_characters_like_go(void **state)
{
	char *json = format_peer("[Peer]\nPublicKey = " LAPTOP_KEY "\n", "a<b>&c", KILO_PEER_JSON);

	(void)state;
	assert_non_null(strstr(json, "\"name\": \"a\\u003cb\\u003e\\u0026c\""));
	/* Kilo leaves a peer without allowed IPs with a nil list. */
	assert_non_null(strstr(json, "\"allowedIPs\": null"));
	kilo_free(json);
}

static void assert_yaml_name(const char *name, const char *expected)
{
	char *yaml = format_peer("[Peer]\nPublicKey = " LAPTOP_KEY "\n", name, KILO_PEER_YAML);
	char line[256];

	snprintf(line, sizeof(line), "metadata:\n  name: %s\nspec:\n", expected);
	if (!strstr(yaml, line))
		fail_msg("name %s: expected %s in\n%s", name, expected, yaml);
	kilo_free(yaml);
}

static void test_yaml_quotes_strings_that_read_back_as_other_types(void **state)
{
	static const char *const double_quoted[] = { "true", "False", "yes", "N", "off", "null", "~", "123", "-7",
						     "0x1F", "0o17", "0b101", "1_000", "1e3", "+.5", ".5", ".inf",
						     "12:30", "2024-01-02", "2024-1-2T10:00:00Z" };
	char expected[64];

	(void)state;
	for (size_t i = 0; i < sizeof(double_quoted) / sizeof(double_quoted[0]); i++) {
		snprintf(expected, sizeof(expected), "\"%s\"", double_quoted[i]);
		assert_yaml_name(double_quoted[i], expected);
	}
}

static void test_yaml_quotes_strings_that_break_the_syntax(void **state)
{
	(void)state;
	assert_yaml_name("- item", "'- item'");
	assert_yaml_name("a: b", "'a: b'");
	assert_yaml_name("trailing:", "'trailing:'");
	assert_yaml_name("a #b", "'a #b'");
	assert_yaml_name("#x", "'#x'");
	assert_yaml_name("*ref", "'*ref'");
	assert_yaml_name("{x}", "'{x}'");
	assert_yaml_name("---", "'---'");
	assert_yaml_name(" lead", "' lead'");
	assert_yaml_name("trail ", "'trail '");
	assert_yaml_name("it's: x", "'it''s: x'");
	assert_yaml_name("tab\there", "\"tab\\there\"");
	assert_yaml_name("two\nlines", "\"two\\nlines\"");
}

static void test_yaml_leaves_safe_strings_plain(void **state)
{
	static const char *const plain[] = { "laptop", "a:b", "a#b", "-x", "10.1.0.1", "1.2.3", "fd00::1",
					     "::1",    "10.4.0.0/16", "yes-man", LAPTOP_KEY, "über" };

	(void)state;
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		assert_yaml_name(plain[i], plain[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml_peer_matches_kgctl),
		cmocka_unit_test(test_json_peer_matches_kgctl_without_final_newline),
		cmocka_unit_test(test_json_peer_fields_in_kubernetes_order),
		cmocka_unit_test(test_dns_endpoint_keeps_its_name_and_keepalive_is_in_seconds),
		cmocka_unit_test(test_peer_without_endpoint_has_no_endpoint_field),
		cmocka_unit_test(test_json_escapes_html_characters_like_go),
		cmocka_unit_test(test_yaml_quotes_strings_that_read_back_as_other_types),
		cmocka_unit_test(test_yaml_quotes_strings_that_break_the_syntax),
		cmocka_unit_test(test_yaml_leaves_safe_strings_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
