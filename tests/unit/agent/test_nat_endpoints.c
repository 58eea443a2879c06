/* SPDX-License-Identifier: Apache-2.0 */
/* Endpoints of NATed nodes and peers as the device really sees them (kilo-reference.md §1.8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agent/internal.h"

#define KEY_B "GKzkKhYMUBmUgLGSMu7mGbAkWX8mGZvVtDBUh6+Y1UY="
#define KEY_C "BLwqbLRXd5nfLgm1X5H9fI4Vd3pK2AJUJXQQRF6rOW0="
#define KEY_P "hH5mqyXoM9Gd0q5X4lv8TTmsiYD4nF8ZlgN6kIh/9Ss="
#define NOW 100000

static kilo_mesh *mesh_of(uint32_t keepalive_b)
{
	char doc[2048];
	kilo_mesh *mesh;

	snprintf(doc, sizeof(doc),
		 "{\"version\": 1, \"nodes\": ["
		 "{\"name\": \"b\", \"endpoint\": \"10.0.0.2:51820\", \"podCIDR\": \"10.2.2.0/24\", \"publicKey\": \"" KEY_B
		 "\", \"persistentKeepalive\": %u, \"lastSeen\": %d},"
		 "{\"name\": \"c\", \"endpoint\": \"10.0.0.3:51820\", \"podCIDR\": \"10.2.3.0/24\", \"publicKey\": \"" KEY_C
		 "\", \"persistentKeepalive\": 25, \"lastSeen\": %d}],"
		 "\"peers\": [{\"name\": \"p\", \"publicKey\": \"" KEY_P "\", \"allowedIPs\": [\"10.5.0.1/32\"]}]}",
		 keepalive_b, NOW - 1, NOW - 100);
	assert_int_equal(kilo_mesh_from_json(doc, strlen(doc), &mesh, NULL), 0);
	return mesh;
}

static void add_peer(struct kilo_wg_config *device, const char *key, const char *endpoint, int64_t handshake)
{
	struct kilo_wg_peer *p = kilo_wg_config_add_peer(device);

	assert_int_equal(kilo_key_parse(key, &p->public_key, NULL), 0);
	assert_int_equal(kilo_endpoint_parse(endpoint, &p->endpoint, NULL), 0);
	p->last_handshake_sec = handshake;
}

static void test_live_node_with_keepalive_and_handshake_is_recorded(void **state)
{
	kilo_mesh *mesh = mesh_of(25);
	struct kilo_wg_config *device = kilo_wg_config_new(4);
	struct kilo_discovered_endpoint *found;
	char text[KILO_ENDPOINT_STRLEN];
	size_t n;

	(void)state;
	add_peer(device, KEY_B, "198.51.100.4:40000", NOW - 5);
	/* c is seen too, but it is not live within a 6-second window. */
	add_peer(device, KEY_C, "198.51.100.5:40001", NOW - 5);
	assert_int_equal(kilo_agent_nat_endpoints(mesh, NOW, 6, device, &found, &n), 0);
	assert_int_equal(n, 1);
	kilo_endpoint_format(&found[0].endpoint, text);
	assert_string_equal(text, "198.51.100.4:40000");
	free(found);
	kilo_wg_config_free(device);
	kilo_mesh_free(mesh);
}

static void test_node_without_keepalive_or_handshake_is_not(void **state)
{
	kilo_mesh *mesh = mesh_of(0);
	struct kilo_wg_config *device = kilo_wg_config_new(4);
	struct kilo_discovered_endpoint *found;
	size_t n;

	(void)state;
	add_peer(device, KEY_B, "198.51.100.4:40000", NOW - 5);
	assert_int_equal(kilo_agent_nat_endpoints(mesh, NOW, 6, device, &found, &n), 0);
	assert_int_equal(n, 0);
	free(found);
	kilo_wg_config_free(device);
	kilo_mesh_free(mesh);

	mesh = mesh_of(25);
	device = kilo_wg_config_new(4);
	add_peer(device, KEY_B, "198.51.100.4:40000", 0);
	assert_int_equal(kilo_agent_nat_endpoints(mesh, NOW, 6, device, &found, &n), 0);
	assert_int_equal(n, 0);
	free(found);
	kilo_wg_config_free(device);
	kilo_mesh_free(mesh);
}

static void test_peers_count_whatever_their_keepalive(void **state)
{
	kilo_mesh *mesh = mesh_of(0);
	struct kilo_wg_config *device = kilo_wg_config_new(4);
	struct kilo_discovered_endpoint *found;
	struct kilo_key key;
	size_t n;

	(void)state;
	add_peer(device, KEY_P, "203.0.113.8:5555", NOW - 1);
	assert_int_equal(kilo_agent_nat_endpoints(mesh, NOW, 6, device, &found, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(kilo_key_parse(KEY_P, &key, NULL), 0);
	assert_true(kilo_key_equal(&found[0].key, &key));
	free(found);
	kilo_wg_config_free(device);
	kilo_mesh_free(mesh);
}

static void test_endpoint_inside_the_tunnel_is_never_reported(void **state)
{
	kilo_mesh *mesh = mesh_of(0);
	struct kilo_wg_config *device = kilo_wg_config_new(4);
	struct kilo_discovered_endpoint *found;
	struct kilo_cidr aip;
	size_t n;

	(void)state;
	/* The device roamed to p's own tunnel address: its packets came back through the tunnel. */
	add_peer(device, KEY_P, "10.5.0.1:51820", NOW - 1);
	assert_int_equal(kilo_cidr_parse("10.5.0.1/32", &aip, NULL), 0);
	assert_int_equal(kilo_wg_peer_add_allowed_ip(device, &device->peers[0], &aip), 0);
	assert_int_equal(kilo_agent_nat_endpoints(mesh, NOW, 6, device, &found, &n), 0);
	assert_int_equal(n, 0);
	free(found);
	kilo_wg_config_free(device);
	kilo_mesh_free(mesh);
}

/*
 * The others judge a heartbeat by its whole second (lastSeen): a node is
 * gone for them once that second is a ready window old, which a pause of
 * a little more than window - 1 seconds can reach. It must then shake
 * hands anew, or its NAT address stays unknown to them.
 */
static void test_heartbeat_lapses_as_the_others_judge_it(void **state)
{
	(void)state;
	assert_false(kilo_agent_heartbeat_lapsed(100000, 103999, 4));
	assert_true(kilo_agent_heartbeat_lapsed(100999, 104000, 4));
	assert_true(kilo_agent_heartbeat_lapsed(100000, 110000, 4));
	/* No heartbeat yet: nobody has seen the node, nobody dropped it. */
	assert_false(kilo_agent_heartbeat_lapsed(0, 110000, 4));
	/* The default window when none is given. */
	assert_false(kilo_agent_heartbeat_lapsed(100000, 100000 + 1000 * (KILO_READY_WINDOW_SECONDS - 1), 0));
	assert_true(kilo_agent_heartbeat_lapsed(100000, 100000 + 1000 * KILO_READY_WINDOW_SECONDS, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_node_with_keepalive_and_handshake_is_recorded),
		cmocka_unit_test(test_node_without_keepalive_or_handshake_is_not),
		cmocka_unit_test(test_peers_count_whatever_their_keepalive),
		cmocka_unit_test(test_endpoint_inside_the_tunnel_is_never_reported),
		cmocka_unit_test(test_heartbeat_lapses_as_the_others_judge_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
