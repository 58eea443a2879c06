/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "wg_fixture.h"

struct kilo_key fixture_key(unsigned seed)
{
	struct kilo_key key;

	for (unsigned i = 0; i < KILO_KEY_LEN; i++)
		key.bytes[i] = (uint8_t)(seed * 7 + i + (seed >> 8) * 13);
	/* The first bytes carry the seed itself so that keys stay distinct. */
	key.bytes[0] = (uint8_t)seed;
	key.bytes[1] = (uint8_t)(seed >> 8);
	key.bytes[2] = (uint8_t)(seed >> 16);
	return key;
}

kilo_wg_config *fixture_parse(const char *text)
{
	struct kilo_error err = { 0 };
	kilo_wg_config *config = NULL;

	if (kilo_wg_config_parse(text, strlen(text), &config, &err) < 0)
		fail_msg("fixture does not parse: %s", err.message);
	return config;
}

struct kilo_wg_peer *fixture_add_peer(kilo_wg_config *config, unsigned seed)
{
	struct kilo_wg_peer *peer = kilo_wg_config_add_peer(config);
	char text[KILO_CIDR_STRLEN];
	struct kilo_cidr cidr;

	assert_non_null(peer);
	peer->public_key = fixture_key(seed);
	peer->endpoint.addr.family = 4;
	memcpy(peer->endpoint.addr.bytes, (uint8_t[]){ 192, 0, 2, (uint8_t)seed }, 4);
	peer->endpoint.port = 51820;
	peer->persistent_keepalive = 25;
	snprintf(text, sizeof(text), "10.%u.%u.0/24", (seed >> 8) & 0xff, seed & 0xff);
	assert_int_equal(kilo_cidr_parse(text, &cidr, NULL), 0);
	assert_int_equal(kilo_wg_peer_add_allowed_ip(config, peer, &cidr), 0);
	return peer;
}
