/* SPDX-License-Identifier: Apache-2.0 */
#include "peer_index.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Keys are Curve25519 points, so their bytes are spread well; fold all of them anyway. */
static size_t key_hash(const struct kilo_key *key)
{
	uint64_t words[KILO_KEY_LEN / 8], h = 0;

	memcpy(words, key->bytes, sizeof(words));
	for (size_t i = 0; i < KILO_KEY_LEN / 8; i++)
		h = (h ^ words[i]) * 0x9e3779b97f4a7c15u;
	return (size_t)(h ^ (h >> 29));
}

int kilo_wg_peer_index_init(struct kilo_wg_peer_index *index, const struct kilo_wg_config *config)
{
	size_t n = config ? config->n_peers : 0, cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	index->slots = calloc(cap, sizeof(*index->slots));
	index->mask = cap - 1;
	if (!index->slots)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct kilo_wg_peer *peer = &config->peers[i];
		size_t slot = key_hash(&peer->public_key) & index->mask;

		/* Repeated keys take later slots of the same chain, so they are found in order. */
		while (index->slots[slot])
			slot = (slot + 1) & index->mask;
		index->slots[slot] = peer;
	}
	return 0;
}

const struct kilo_wg_peer *kilo_wg_peer_index_next(const struct kilo_wg_peer_index *index, const struct kilo_key *key,
						    size_t *cursor)
{
	/* *cursor is 0 at the start, else one past the slot of the last peer returned. */
	size_t slot = *cursor ? *cursor & index->mask : key_hash(key) & index->mask;

	for (; index->slots[slot]; slot = (slot + 1) & index->mask) {
		if (memcmp(index->slots[slot]->public_key.bytes, key->bytes, KILO_KEY_LEN) == 0) {
			*cursor = slot + 1;
			return index->slots[slot];
		}
	}
	return NULL;
}

const struct kilo_wg_peer *kilo_wg_peer_index_find(const struct kilo_wg_peer_index *index, const struct kilo_key *key)
{
	size_t cursor = 0;

	return kilo_wg_peer_index_next(index, key, &cursor);
}

void kilo_wg_peer_index_free(struct kilo_wg_peer_index *index)
{
	free(index->slots);
	index->slots = NULL;
}
