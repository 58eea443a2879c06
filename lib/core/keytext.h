/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILO_LIB_CORE_KEYTEXT_H
#define KILO_LIB_CORE_KEYTEXT_H

#include <kilo/core.h>

/*
 * kilo_key_format for keys that are not secret (public keys): a table
 * lookup, several times faster than the constant-time encoding that
 * private and preshared keys need. A mesh of 10,000 nodes prints 10,000.
 */
void kilo_key_format_public(const struct kilo_key *key, char out[KILO_KEY_B64_LEN + 1]);

#endif
