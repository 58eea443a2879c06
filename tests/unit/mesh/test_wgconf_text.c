/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <kilo/wgconf.h>

#include "core/wgconf.h"
#include "helpers.h"

#define PRIV "cHJpdgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define PSK "cHNrAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define KEY1 "a2V5MQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define KEY2 "a2V5MgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static kilo_wg_config *parse_ok(const char *text)
{
	struct kilo_error err = { 0 };
	kilo_wg_config *config = NULL;

	if (kilo_wg_config_parse(text, strlen(text), &config, &err) < 0)
		fail_msg("parse failed: %s", err.message);
	return config;
}

static void assert_parse_error(const char *text, const char *message)
{
	struct kilo_error err = { 0 };
	kilo_wg_config *config = NULL;

	assert_int_equal(kilo_wg_config_parse(text, strlen(text), &config, &err), -EINVAL);
	assert_null(config);
	assert_string_equal(err.message, message);
}

static void assert_formats_as(const kilo_wg_config *config, const char *expected)
{
	char *out = NULL;

	assert_int_equal(kilo_wg_config_format(config, &out, NULL), 0);
	assert_string_equal(out, expected);
	kilo_free(out);
}

static void test_format_prints_kilo_key_order(void **state)
{
	struct kilo_wg_config *config = kilo_wg_config_new(2);
	struct kilo_cidr ips[2];

	(void)state;
	config->has_interface = config->has_listen_port = true;
	config->listen_port = 51820;
	config->n_peers = 2;
	kilo_cidr_parse("10.2.1.0/24", &ips[0], NULL);
	kilo_cidr_parse("10.5.0.1/24", &ips[1], NULL);
	config->peers[0].allowed_ips = ips;
	config->peers[0].n_allowed_ips = 2;
	kilo_endpoint_parse("[fd00::1]:51820", &config->peers[0].endpoint, NULL);
	kilo_key_parse(KEY1, &config->peers[0].public_key, NULL);
	config->peers[1].persistent_keepalive = 25;
	config->peers[1].has_preshared_key = true;
	kilo_key_parse(PSK, &config->peers[1].preshared_key, NULL);
	kilo_key_parse(KEY2, &config->peers[1].public_key, NULL);
	/* A zero private key is not printed, as kgctl shows it. */
	config->has_private_key = true;
	assert_formats_as(config, "[Interface]\n"
				  "ListenPort = 51820\n"
				  "\n"
				  "[Peer]\n"
				  "AllowedIPs = 10.2.1.0/24, 10.5.0.1/24\n"
				  "Endpoint = [fd00::1]:51820\n"
				  "PersistentKeepalive = 0\n"
				  "PublicKey = " KEY1 "\n"
				  "\n"
				  "[Peer]\n"
				  "PersistentKeepalive = 25\n"
				  "PresharedKey = " PSK "\n"
				  "PublicKey = " KEY2 "\n");
	config->peers[0].allowed_ips = NULL;
	kilo_wg_config_free(config);
}

static void test_peers_only_config_has_no_leading_blank_line(void **state)
{
	kilo_wg_config *config = parse_ok("[Peer]\nPublicKey = " KEY1 "\n[Peer]\nPublicKey = " KEY2 "\n");

	(void)state;
	assert_formats_as(config, "[Peer]\nPersistentKeepalive = 0\nPublicKey = " KEY1 "\n\n"
				  "[Peer]\nPersistentKeepalive = 0\nPublicKey = " KEY2 "\n");
	kilo_wg_config_free(config);
}

static void test_kilo_vector_text_reads_back_byte_for_byte(void **state)
{
	char *text = read_fixture("kilo-conf-location-from-a.txt", NULL);
	kilo_wg_config *config = parse_ok(text);

	(void)state;
	assert_int_equal(kilo_wg_config_peer_count(config), 4);
	assert_formats_as(config, text);
	kilo_wg_config_free(config);
	free(text);
}

static void test_wg_quick_file_is_read_and_its_extra_keys_ignored(void **state)
{
	char *text = read_fixture("wg-quick.conf", NULL);
	kilo_wg_config *config = parse_ok(text);
	struct kilo_key key, expected;

	(void)state;
	assert_int_equal(kilo_wg_config_peer_count(config), 2);
	assert_int_equal(kilo_wg_config_peer_key(config, 1, &key, NULL), 0);
	kilo_key_parse(KEY2, &expected, NULL);
	assert_true(kilo_key_equal(&key, &expected));
	assert_int_equal(kilo_wg_config_peer_key(config, 2, &key, NULL), -ERANGE);
	assert_formats_as(config, "[Interface]\n"
				  "PrivateKey = " PRIV "\n"
				  "ListenPort = 51820\n"
				  "\n"
				  "[Peer]\n"
				  "AllowedIPs = 10.2.1.0/24, 192.168.0.1/32, 10.4.0.1/32\n"
				  "Endpoint = 10.1.0.1:51820\n"
				  "PersistentKeepalive = 0\n"
				  "PublicKey = " KEY1 "\n"
				  "\n"
				  "[Peer]\n"
				  "Endpoint = vpn.example.com:51820\n"
				  "PersistentKeepalive = 25\n"
				  "PresharedKey = " PSK "\n"
				  "PublicKey = " KEY2 "\n");
	kilo_wg_config_free(config);
	free(text);
}

static void test_json_shows_secrets_only_when_asked(void **state)
{
	kilo_wg_config *config = parse_ok("[Interface]\nPrivateKey = " PRIV "\nListenPort = 51820\n[Peer]\nPublicKey = " KEY1
					  "\nPresharedKey = " PSK "\nAllowedIPs = 10.5.0.1/24\nEndpoint = 1.2.3.4:5\n");
	char *out = NULL;

	(void)state;
	assert_int_equal(kilo_wg_config_to_json(config, false, &out, NULL), 0);
	assert_string_equal(out, "{\n"
				 "  \"interface\": {\n"
				 "    \"listenPort\": 51820\n"
				 "  },\n"
				 "  \"peers\": [\n"
				 "    {\n"
				 "      \"publicKey\": \"" KEY1 "\",\n"
				 "      \"endpoint\": \"1.2.3.4:5\",\n"
				 "      \"allowedIPs\": [\n"
				 "        \"10.5.0.1/24\"\n"
				 "      ],\n"
				 "      \"persistentKeepalive\": 0\n"
				 "    }\n"
				 "  ]\n"
				 "}\n");
	kilo_free(out);
	assert_int_equal(kilo_wg_config_to_json(config, true, &out, NULL), 0);
	assert_non_null(strstr(out, "\"privateKey\": \"" PRIV "\""));
	assert_non_null(strstr(out, "\"presharedKey\": \"" PSK "\""));
	kilo_free(out);
	kilo_wg_config_free(config);
}

static void test_peer_without_public_key_names_its_line(void **state)
{
	(void)state;
	assert_parse_error("[Interface]\nListenPort = 1\n\n[Peer]\nAllowedIPs = 10.0.0.0/8\n",
			   "line 4: [Peer] has no PublicKey");
}

static void test_bad_value_names_line_key_and_value(void **state)
{
	(void)state;
	assert_parse_error("[Peer]\nPublicKey = " KEY1 "\nAllowedIPs = 10.0.0.0/8, 10.1.0.0/33\n",
			   "line 3: AllowedIPs: \"10.1.0.0/33\" is not an address or CIDR");
	assert_parse_error("[Interface]\nlistenport = 70000\n", "line 2: listenport: \"70000\" is not a port (0..65535)");
	assert_parse_error("[Peer]\nPublicKey = " KEY1 "\nPersistentKeepalive = forever\n",
			   "line 3: PersistentKeepalive: \"forever\" is not a keepalive in seconds (0..65535 or off)");
	assert_parse_error("[Peer]\nEndpoint = nowhere\n",
			   "line 2: Endpoint: \"nowhere\" is not an endpoint (ip:port, [ipv6]:port or dns-name:port)");
}

static void test_bad_secret_is_not_repeated_in_the_error(void **state)
{
	(void)state;
	assert_parse_error("[Interface]\nPrivateKey = secretsecret\n",
			   "line 2: PrivateKey: the value (not shown) is not a WireGuard key");
}

static void test_structure_errors_name_the_line(void **state)
{
	(void)state;
	assert_parse_error("# c\nPublicKey = " KEY1 "\n", "line 2: PublicKey: key outside of a section");
	assert_parse_error("[Interface]\nColour = red\n", "line 2: Colour: unknown key in [Interface]");
	assert_parse_error("[Peer]\nPublicKey = " KEY1 "\nAddress = 10.0.0.1/32\n",
			   "line 3: Address: unknown key in [Peer]");
	assert_parse_error("[Peers]\n", "line 1: \"[Peers]\" is not a section ([Interface] or [Peer])");
	assert_parse_error("[Interface]\njunk\n", "line 2: \"junk\" is not a \"Key = value\" line");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_prints_kilo_key_order),
		cmocka_unit_test(test_peers_only_config_has_no_leading_blank_line),
		cmocka_unit_test(test_kilo_vector_text_reads_back_byte_for_byte),
		cmocka_unit_test(test_wg_quick_file_is_read_and_its_extra_keys_ignored),
		cmocka_unit_test(test_json_shows_secrets_only_when_asked),
		cmocka_unit_test(test_peer_without_public_key_names_its_line),
		cmocka_unit_test(test_bad_value_names_line_key_and_value),
		cmocka_unit_test(test_bad_secret_is_not_repeated_in_the_error),
		cmocka_unit_test(test_structure_errors_name_the_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
