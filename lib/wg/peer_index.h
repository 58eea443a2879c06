/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Peers ordered by public key: matching two devices of 10,000 peers each
 * must cost a sort, not a product.
 */
#ifndef KILO_LIB_WG_PEER_INDEX_H
#define KILO_LIB_WG_PEER_INDEX_H

#include "../core/wgconf.h"

/* The peers of config sorted by public key; NULL when out of memory. Free with free(). */
const struct kilo_wg_peer **kilo_wg_peers_sorted(const struct kilo_wg_config *config);

/* The peer with key in sorted (n peers), or NULL. */
const struct kilo_wg_peer *kilo_wg_peers_find(const struct kilo_wg_peer *const *sorted, size_t n,
					      const struct kilo_key *key);

/* memcmp order of the public keys of two peers. */
int kilo_wg_peer_key_cmp(const struct kilo_wg_peer *a, const struct kilo_wg_peer *b);

#endif
