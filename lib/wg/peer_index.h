/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The peers of a configuration by public key, in a hash table: matching two
 * devices of 10,000 peers each costs one pass over each, not a sort and
 * never a product.
 */
#ifndef KILO_LIB_WG_PEER_INDEX_H
#define KILO_LIB_WG_PEER_INDEX_H

#include "../core/wgconf.h"

struct kilo_wg_peer_index {
	const struct kilo_wg_peer **slots; /* NULL: empty */
	size_t mask;
};

/* Indexes the peers of config (NULL: no peers); -ENOMEM. */
int kilo_wg_peer_index_init(struct kilo_wg_peer_index *index, const struct kilo_wg_config *config);
/* The first peer with key, or NULL. */
const struct kilo_wg_peer *kilo_wg_peer_index_find(const struct kilo_wg_peer_index *index, const struct kilo_key *key);
/*
 * The peers with key one after another, in config order, where a key
 * repeats: start with *cursor = 0; NULL after the last.
 */
const struct kilo_wg_peer *kilo_wg_peer_index_next(const struct kilo_wg_peer_index *index, const struct kilo_key *key,
						    size_t *cursor);
void kilo_wg_peer_index_free(struct kilo_wg_peer_index *index);

#endif
