/* SPDX-License-Identifier: Apache-2.0 */
/* Building WireGuard configurations for the tests of lib/wg. */
#ifndef KILO_TEST_WG_FIXTURE_H
#define KILO_TEST_WG_FIXTURE_H

#include <kilo/wgconf.h>

#include "core/wgconf.h"

/* A key whose 32 bytes are seed, seed+1, ... (distinct seeds give distinct keys). */
struct kilo_key fixture_key(unsigned seed);

/* A configuration parsed from `wg setconf` text; fails the test if it does not parse. */
kilo_wg_config *fixture_parse(const char *text);

/* Appends a peer with key fixture_key(seed), endpoint 192.0.2.x:51820 and one allowed IP from seed. */
struct kilo_wg_peer *fixture_add_peer(kilo_wg_config *config, unsigned seed);

#endif
