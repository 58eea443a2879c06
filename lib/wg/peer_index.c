/* SPDX-License-Identifier: Apache-2.0 */
#include "peer_index.h"

#include <stdlib.h>
#include <string.h>

int kilo_wg_peer_key_cmp(const struct kilo_wg_peer *a, const struct kilo_wg_peer *b)
{
	return memcmp(a->public_key.bytes, b->public_key.bytes, KILO_KEY_LEN);
}

/* Equal keys keep their order, so two copies of one configuration pair up peer by peer. */
static int cmp_sorted(const void *a, const void *b)
{
	const struct kilo_wg_peer *pa = *(const struct kilo_wg_peer *const *)a, *pb = *(const struct kilo_wg_peer *const *)b;
	int c = kilo_wg_peer_key_cmp(pa, pb);

	return c ? c : (pa > pb) - (pa < pb);
}

const struct kilo_wg_peer **kilo_wg_peers_sorted(const struct kilo_wg_config *config)
{
	const struct kilo_wg_peer **sorted = malloc((config->n_peers ? config->n_peers : 1) * sizeof(*sorted));

	if (!sorted)
		return NULL;
	for (size_t i = 0; i < config->n_peers; i++)
		sorted[i] = &config->peers[i];
	qsort(sorted, config->n_peers, sizeof(*sorted), cmp_sorted);
	return sorted;
}

const struct kilo_wg_peer *kilo_wg_peers_find(const struct kilo_wg_peer *const *sorted, size_t n,
					      const struct kilo_key *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(sorted[mid]->public_key.bytes, key->bytes, KILO_KEY_LEN);

		if (c == 0)
			return sorted[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
