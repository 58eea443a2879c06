/* SPDX-License-Identifier: Apache-2.0 */
#include "wgconf.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

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
		config->peer_capacity = peer_capacity;
	}
	return config;
}

struct kilo_wg_peer *kilo_wg_config_add_peer(struct kilo_wg_config *config)
{
	if (config->n_peers == config->peer_capacity) {
		size_t cap = config->peer_capacity ? 2 * config->peer_capacity : 4;
		struct kilo_wg_peer *peers = kilo_arena_array(&config->arena, cap, sizeof(*peers));

		if (!peers)
			return NULL;
		if (config->n_peers) {
			memcpy(peers, config->peers, config->n_peers * sizeof(*peers));
			/* The old array stays in the arena until the end: leave no preshared key in it. */
			sodium_memzero(config->peers, config->n_peers * sizeof(*peers));
		}
		config->peers = peers;
		config->peer_capacity = cap;
	}
	return &config->peers[config->n_peers++];
}

int kilo_wg_peer_add_allowed_ip(struct kilo_wg_config *config, struct kilo_wg_peer *peer, const struct kilo_cidr *cidr)
{
	if (peer->n_allowed_ips == peer->allowed_ip_capacity) {
		size_t cap = peer->allowed_ip_capacity ? 2 * peer->allowed_ip_capacity : 4;
		struct kilo_cidr *ips;

		if (cap < peer->n_allowed_ips)
			cap = 2 * peer->n_allowed_ips;
		ips = kilo_arena_array(&config->arena, cap, sizeof(*ips));
		if (!ips)
			return -ENOMEM;
		if (peer->n_allowed_ips)
			memcpy(ips, peer->allowed_ips, peer->n_allowed_ips * sizeof(*ips));
		peer->allowed_ips = ips;
		peer->allowed_ip_capacity = cap;
	}
	peer->allowed_ips[peer->n_allowed_ips++] = *cidr;
	return 0;
}

/* n CIDRs copied into arena; NULL only when out of memory. */
static bool copy_cidrs(struct kilo_arena *arena, const struct kilo_cidr *from, size_t n, struct kilo_cidr **to)
{
	*to = n ? kilo_arena_array(arena, n, sizeof(**to)) : NULL;
	if (n && !*to)
		return false;
	if (n)
		memcpy(*to, from, n * sizeof(**to));
	return true;
}

void kilo_wg_config_copy_device_settings(struct kilo_wg_config *to, const struct kilo_wg_config *from)
{
	to->has_private_key = from->has_private_key;
	to->private_key = from->private_key;
	to->has_listen_port = from->has_listen_port;
	to->listen_port = from->listen_port;
	to->has_fwmark = from->has_fwmark;
	to->fwmark = from->fwmark;
	to->replace_peers = from->replace_peers;
}

struct kilo_wg_config *kilo_wg_config_copy(const struct kilo_wg_config *from)
{
	struct kilo_wg_config *c = kilo_wg_config_new(from->n_peers);
	bool ok = c != NULL;

	if (!ok)
		return NULL;
	c->has_interface = from->has_interface;
	c->has_public_key = from->has_public_key;
	c->public_key = from->public_key;
	kilo_wg_config_copy_device_settings(c, from);
	for (size_t i = 0; ok && i < from->n_peers; i++) {
		const struct kilo_wg_peer *p = &from->peers[i];
		struct kilo_wg_peer *q = kilo_wg_config_add_peer(c);

		*q = *p;
		q->allowed_ip_capacity = p->n_allowed_ips;
		ok = copy_cidrs(&c->arena, p->allowed_ips, p->n_allowed_ips, &q->allowed_ips) &&
		     copy_cidrs(&c->arena, p->removed_allowed_ips, p->n_removed_allowed_ips, &q->removed_allowed_ips);
	}
	if (!ok) {
		kilo_wg_config_free(c);
		return NULL;
	}
	return c;
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

int kilo_wg_config_peer_key(const kilo_wg_config *config, size_t i, struct kilo_key *out, struct kilo_error *err)
{
	if (!config || !out)
		return kilo_error_set(err, EINVAL, "peer key: %s is NULL", config ? "out" : "config");
	if (i >= config->n_peers)
		return kilo_error_set(err, ERANGE, "peer %zu: out of range, the configuration has %zu peers", i,
				      config->n_peers);
	*out = config->peers[i].public_key;
	return 0;
}
