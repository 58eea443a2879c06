/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kilo_wg_config_format_dump against `wg show IF dump`: the reply that a
 * wireguard-go device gave to get=1, decoded, must print exactly what wg
 * printed for that same device.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wg/uapi.h"
#include "wg_fixture.h"

/* Captured from wireguard-go v0.0.20220316 after `wg set` of two peers. */
static const char uapi_reply[] =
	"private_key=c08bfdbe49ad68962cf41cbc28468dbe4bb185782bc90f848e9447d6b0985b61\n"
	"listen_port=51820\n"
	"fwmark=16\n"
	"public_key=138ad0a1e03afd2e175017ae22cb39d1367610d51d8a02e893dac5ff4ec69c58\n"
	"preshared_key=3f7b949598eef06d6a3ccbf55e48185b898ba1ec59306f4e279313fe8f915008\n"
	"protocol_version=1\n"
	"endpoint=10.0.0.1:51820\n"
	"last_handshake_time_sec=0\n"
	"last_handshake_time_nsec=0\n"
	"tx_bytes=0\n"
	"rx_bytes=0\n"
	"persistent_keepalive_interval=25\n"
	"allowed_ip=10.1.0.0/24\n"
	"allowed_ip=fd00::1/128\n"
	"allowed_ip=10.2.0.5/32\n"
	"public_key=aa029d784d5efa5cb17d6ce831ac04ddc765eb0405311a078185bd02d8b5bc73\n"
	"preshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
	"protocol_version=1\n"
	"endpoint=[fd00::2]:1234\n"
	"last_handshake_time_sec=0\n"
	"last_handshake_time_nsec=0\n"
	"tx_bytes=0\n"
	"rx_bytes=0\n"
	"persistent_keepalive_interval=0\n"
	"allowed_ip=10.3.0.0/16\n"
	"errno=0\n"
	"\n";

/* `wg show IF dump` of the same device. */
static const char wg_dump[] =
	"wIv9vkmtaJYs9By8KEaNvkuxhXgryQ+EjpRH1rCYW2E=\tobfcque1MddIxkt+7UAdEYF6NM0h2VpbgyIyg/QpBR8=\t51820\t0x10\n"
	"E4rQoeA6/S4XUBeuIss50TZ2ENUdigLok9rF/07GnFg=\tP3uUlZju8G1qPMv1XkgYW4mLoexZMG9OJ5MT/o+RUAg=\t10.0.0.1:51820\t"
	"10.1.0.0/24,fd00::1/128,10.2.0.5/32\t0\t0\t0\t25\n"
	"qgKdeE1e+lyxfWzoMawE3cdl6wQFMRoHgYW9Ati1vHM=\t(none)\t[fd00::2]:1234\t10.3.0.0/16\t0\t0\t0\toff\n";

static void test_dump_matches_wg_show_dump(void **state)
{
	kilo_wg_config *config = NULL;
	char *dump = NULL;

	(void)state;
	assert_int_equal(kilo_uapi_decode_get(uapi_reply, sizeof(uapi_reply) - 1, &config, NULL), 0);
	assert_int_equal(kilo_wg_config_format_dump(config, &dump, NULL), 0);
	assert_string_equal(dump, wg_dump);
	kilo_free(dump);
	kilo_wg_config_free(config);
}

static void test_dump_of_empty_device_and_statistics(void **state)
{
	kilo_wg_config *config = kilo_wg_config_new(0);
	struct kilo_wg_peer *peer;
	char *dump = NULL;

	(void)state;
	peer = kilo_wg_config_add_peer(config);
	peer->public_key = fixture_key(1);
	peer->last_handshake_sec = 1764100000;
	peer->rx_bytes = 18446744073709551615ull;
	peer->tx_bytes = 92;
	assert_int_equal(kilo_wg_config_format_dump(config, &dump, NULL), 0);
	assert_string_equal(dump, "(none)\t(none)\t0\toff\n"
				  "AQAACgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSY=\t(none)\t(none)\t(none)\t1764100000\t"
				  "18446744073709551615\t92\toff\n");
	kilo_free(dump);
	kilo_wg_config_free(config);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump_matches_wg_show_dump),
		cmocka_unit_test(test_dump_of_empty_device_and_statistics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
