/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

/* The fixture's private key ("priv") and a preshared key ("psk1"). */
#define PRIVATE_KEY "cHJpdgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define PRESHARED_KEY "cHNrMQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static void solve_with_key(const char *name, const char *hostname, struct solved *s)
{
	struct kilo_key key;

	assert_int_equal(kilo_key_parse(PRIVATE_KEY, &key, NULL), 0);
	solve_data(name, hostname, &key, s);
}

static void test_topology_json_has_no_private_key(void **state)
{
	struct solved s;
	char *json;

	(void)state;
	solve_with_key("kilo_fixture.json", "a", &s);
	assert_int_equal(kilo_topology_to_json(s.topology, &json, NULL), 0);
	assert_null(strstr(json, PRIVATE_KEY));
	assert_null(strstr(json, "privateKey"));
	assert_non_null(strstr(json, "\"publicKey\": \"a2V5MQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\""));
	kilo_free(json);
	solved_free(&s);
}

static void test_topology_json_fields_in_documented_order(void **state)
{
	static const char *const fields[] = { "\"hostname\": \"a\"", "\"location\": \"location:1\"",
					      "\"leader\": true", "\"subnet\": \"10.2.1.0/24\"",
					      "\"privateIP\": \"192.168.0.1/32\"", "\"wireGuardCIDR\": \"10.4.0.1/16\"",
					      "\"port\": 51820", "\"segments\": [", "\"peers\": [" };
	const char *previous;
	struct solved s;
	char *json;

	(void)state;
	solve_with_key("kilo_fixture.json", "a", &s);
	assert_int_equal(kilo_topology_to_json(s.topology, &json, NULL), 0);
	previous = json;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *at = strstr(json, fields[i]);

		if (!at || at < previous)
			fail_msg("%s missing or out of order in\n%s", fields[i], json);
		previous = at;
	}
	assert_non_null(strstr(json, "\"endpoint\": \"10.1.0.1:51820\""));
	assert_non_null(strstr(json, "\"allowedLocationIPs\": [\n        \"192.168.178.3/32\"\n      ]"));
	kilo_free(json);
	solved_free(&s);
}

static void test_plan_json_has_every_part_and_no_secret(void **state)
{
	static const char *const parts[] = { "\n  \"topology\": {", "\n  \"config\": {", "\n  \"routes\": [",
					     "\n  \"rules\": [", "\n  \"natRules\": [" };
	const char *mesh = "{\"version\": 1, \"nodes\": ["
			   "{\"name\": \"a\", \"location\": \"x\", \"endpoint\": \"10.1.0.1:51820\","
			   " \"internalIP\": \"192.168.0.1/24\", \"podCIDR\": \"10.2.1.0/24\","
			   " \"publicKey\": \"a2V5MQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"},"
			   "{\"name\": \"b\", \"location\": \"y\", \"endpoint\": \"10.1.0.2:51820\","
			   " \"internalIP\": \"192.168.1.1/24\", \"podCIDR\": \"10.2.2.0/24\","
			   " \"publicKey\": \"a2V5MgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}],"
			   " \"peers\": [{\"name\": \"p\", \"publicKey\": \"a2V5NQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
			   " \"allowedIPs\": [\"10.5.0.1/32\"], \"presharedKey\": \"" PRESHARED_KEY "\"}]}";
	struct kilo_solve_opts opts = { .sz = sizeof(opts), .hostname = "a" };
	struct kilo_error err = { 0 };
	kilo_topology *topology;
	struct kilo_key key;
	kilo_mesh *m;
	char *json;

	(void)state;
	assert_int_equal(kilo_key_parse(PRIVATE_KEY, &key, NULL), 0);
	opts.private_key = &key;
	assert_int_equal(kilo_mesh_from_json(mesh, strlen(mesh), &m, &err), 0);
	assert_int_equal(kilo_topology_solve(m, &opts, &topology, &err), 0);
	assert_int_equal(kilo_plan_to_json(topology, NULL, &json, NULL), 0);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (!strstr(json, parts[i]))
			fail_msg("%s missing in\n%s", parts[i], json);
	assert_null(strstr(json, PRIVATE_KEY));
	assert_null(strstr(json, PRESHARED_KEY));
	assert_non_null(strstr(json, "\"dst\": \"10.2.2.0/24\",\n      \"gw\": \"10.4.0.2\",\n      \"src\": "
				     "\"192.168.0.1\",\n      \"dev\": 0,\n      \"table\": 0,\n      \"onlink\": true,\n"
				     "      \"protocol\": \"static\""));
	assert_non_null(strstr(json, "\"list\": \"append\",\n      \"family\": 4,\n      \"table\": \"nat\",\n"
				     "      \"chain\": \"KILO-NAT\",\n      \"rule\": \"nat -N KILO-NAT\""));
	kilo_free(json);
	kilo_topology_free(topology);
	kilo_mesh_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topology_json_has_no_private_key),
		cmocka_unit_test(test_topology_json_fields_in_documented_order),
		cmocka_unit_test(test_plan_json_has_every_part_and_no_secret),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
