/* SPDX-License-Identifier: Apache-2.0 */
#include "wgconf.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>

struct kilo_wg_config *kilo_wg_config_new(size_t peer_capacity)
{
	struct kilo_wg_config *config = calloc(1, sizeof(*config));

	if (!config)
		return NULL;
	if (peer_capacity) {
		config->peers = kilo_arena_array(&config->arena, peer_capacity, sizeof(*config->peers));
		if (!config->peers) {
			free(config);
			return NULL;
		}
	}
	return config;
}

void kilo_wg_config_free(kilo_wg_config *config)
{
	if (!config)
		return;
	for (size_t i = 0; i < config->n_peers; i++)
		sodium_memzero(&config->peers[i].preshared_key, sizeof(config->peers[i].preshared_key));
	sodium_memzero(&config->private_key, sizeof(config->private_key));
	kilo_arena_release(&config->arena);
	free(config);
}

size_t kilo_wg_config_peer_count(const kilo_wg_config *config)
{
	return config->n_peers;
}

int kilo_wg_config_peer_key(const kilo_wg_config *config, size_t i, struct kilo_key *out)
{
	if (i >= config->n_peers)
		return -ERANGE;
	*out = config->peers[i].public_key;
	return 0;
}
