/* SPDX-License-Identifier: Apache-2.0 */
/* WireGuard configurations from a topology: Kilo's Conf, PeerConf and AsPeer. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/wgconf.h"

/* Copies a then b into the configuration's arena as the peer's allowed IPs. */
static int set_allowed_ips(struct kilo_wg_config *c, struct kilo_wg_peer *peer, const struct kilo_cidr *a, size_t na,
			   const struct kilo_cidr *b, size_t nb)
{
	if (na + nb == 0)
		return 0;
	peer->allowed_ips = kilo_arena_array(&c->arena, na + nb, sizeof(*peer->allowed_ips));
	if (!peer->allowed_ips)
		return -ENOMEM;
	if (na)
		memcpy(peer->allowed_ips, a, na * sizeof(*a));
	if (nb)
		memcpy(peer->allowed_ips + na, b, nb * sizeof(*b));
	peer->n_allowed_ips = na + nb;
	return 0;
}

/*
 * Of two nodes of one private network, only the one whose key sorts first
 * keeps alive toward the other. Two wireguard-go peers that both begin
 * keepalives at the same moment (a rejoin reconfigures both) can cross
 * their handshakes every round: 3 pairs of 8 had none after 30 s, where one
 * side alone never failed. One side's keepalives keep a stateful firewall
 * between them open both ways.
 */
static uint32_t segment_keepalive(const struct kilo_topology *t, const struct kilo_segment *s, uint32_t keepalive)
{
	if (!kilo_topology_same_private_network(t, s))
		return keepalive;
	return memcmp(t->local_node->public_key.bytes, s->key.bytes, sizeof(s->key.bytes)) < 0 ? keepalive : 0;
}

/* The segment as a peer: every allowed IP, then the allowed-location IPs. */
static int add_segment(const struct kilo_topology *t, struct kilo_wg_config *c, const struct kilo_segment *s,
		       uint32_t keepalive)
{
	struct kilo_wg_peer *peer = &c->peers[c->n_peers++];

	peer->public_key = s->key;
	peer->persistent_keepalive = segment_keepalive(t, s, keepalive);
	peer->endpoint = *kilo_topology_segment_endpoint(t, s);
	return set_allowed_ips(c, peer, s->allowed_ips, s->n_allowed_ips, s->allowed_location_ips,
			       s->n_allowed_location_ips);
}

static int add_peer(const struct kilo_topology *t, struct kilo_wg_config *c, const struct kilo_topology_peer *p,
		    uint32_t keepalive)
{
	struct kilo_wg_peer *peer = &c->peers[c->n_peers++];

	peer->public_key = p->peer->public_key;
	peer->persistent_keepalive = keepalive;
	peer->endpoint = *kilo_topology_nat_endpoint(t, &p->peer->endpoint, &p->peer->public_key,
						     p->peer->persistent_keepalive);
	return set_allowed_ips(c, peer, p->allowed_ips, p->n_allowed_ips, NULL, 0);
}

/* The VPN peer's preshared key, if it has one, on a section of the configuration. */
static void set_preshared_key(struct kilo_wg_peer *section, const struct kilo_peer *peer)
{
	if (peer->has_preshared_key) {
		section->has_preshared_key = true;
		section->preshared_key = peer->preshared_key;
	}
}

/* The message of a configuration that could not be built: only memory runs out. */
static int conf_failed(const struct kilo_topology *t, struct kilo_error *err)
{
	return kilo_error_set(err, ENOMEM, "configuration of node \"%s\": out of memory", t->hostname);
}

int kilo_topology_conf(const kilo_topology *t, kilo_wg_config **out, struct kilo_error *err)
{
	struct kilo_wg_config *c;
	int r = 0;

	if (!t || !out)
		return kilo_error_set(err, EINVAL, "configuration: %s is NULL", t ? "out" : "topology");
	*out = NULL;
	c = kilo_wg_config_new(t->n_segments + t->n_peers);
	if (!c)
		return conf_failed(t, err);
	c->has_interface = true;
	c->has_private_key = !kilo_key_is_zero(&t->key);
	c->private_key = t->key;
	c->has_listen_port = true;
	c->listen_port = t->port;
	/* Every keepalive is the local node's (it keeps NAT open), but inside one private network (segment_keepalive). */
	for (size_t i = 0; i < t->n_segments && r == 0; i++) {
		if (!kilo_segment_is_local(t, &t->segments[i]))
			r = add_segment(t, c, &t->segments[i], t->persistent_keepalive);
	}
	/* Kilo's Conf gives every VPN peer its preshared key, or no handshake with it would complete. */
	for (size_t i = 0; i < t->n_peers && r == 0; i++) {
		r = add_peer(t, c, &t->peers[i], t->persistent_keepalive);
		set_preshared_key(&c->peers[c->n_peers - 1], t->peers[i].peer);
	}
	if (r < 0) {
		kilo_wg_config_free(c);
		return conf_failed(t, err);
	}
	*out = c;
	return 0;
}

static int compare_peer_name(const void *name, const void *entry)
{
	const struct kilo_topology_peer *p = entry;

	return strcmp(name, p->peer->name);
}

const struct kilo_topology_peer *kilo_topology_find_peer(const struct kilo_topology *t, const char *name,
							 struct kilo_error *err)
{
	const struct kilo_topology_peer *p = NULL;

	if (name)
		p = bsearch(name, t->peers, t->n_peers, sizeof(*t->peers), compare_peer_name);
	if (!p && name)
		kilo_error_set(err, ENOENT, "peer \"%s\": not in the mesh (or left out: no allowed IPs)", name);
	else if (!p)
		kilo_error_set(err, EINVAL, "peer: no name given");
	return p;
}

int kilo_topology_peer_conf(const kilo_topology *t, const char *peer_name, kilo_wg_config **out,
			    struct kilo_error *err)
{
	const struct kilo_topology_peer *self = NULL;
	struct kilo_wg_config *c;
	uint32_t keepalive = 0;
	int r = 0;

	*out = NULL;
	if (peer_name && peer_name[0]) {
		self = kilo_topology_find_peer(t, peer_name, err);
		if (!self)
			return -ENOENT;
		keepalive = self->peer->persistent_keepalive;
	}
	c = kilo_wg_config_new(t->n_segments + t->n_peers);
	if (!c)
		return conf_failed(t, err);
	for (size_t i = 0; i < t->n_segments && r == 0; i++) {
		r = add_segment(t, c, &t->segments[i], keepalive);
		/* Only the tunnels to the mesh share the peer's preshared key. */
		if (self)
			set_preshared_key(&c->peers[c->n_peers - 1], self->peer);
	}
	for (size_t i = 0; i < t->n_peers && r == 0; i++) {
		if (&t->peers[i] != self)
			r = add_peer(t, c, &t->peers[i], keepalive);
	}
	if (r < 0) {
		kilo_wg_config_free(c);
		return conf_failed(t, err);
	}
	*out = c;
	return 0;
}

/* Drops repeated allowed IPs of peer, keeping the first of each. */
static int dedupe_allowed_ips(struct kilo_wg_peer *peer)
{
	struct kilo_cidr_set seen;
	size_t kept = 0;
	int r = kilo_cidr_set_init(&seen, peer->n_allowed_ips);

	if (r < 0)
		return r;
	for (size_t i = 0; i < peer->n_allowed_ips; i++) {
		if (kilo_cidr_set_add(&seen, &peer->allowed_ips[i]))
			peer->allowed_ips[kept++] = peer->allowed_ips[i];
	}
	peer->n_allowed_ips = kept;
	kilo_cidr_set_free(&seen);
	return 0;
}

/*
 * A configuration of the one peer that *peer_out points at, with its
 * allowed IPs a then b, de-duplicated (what `kgctl showconf --as-peer` prints).
 */
static int single_peer(const struct kilo_cidr *a, size_t na, const struct kilo_cidr *b, size_t nb,
		       struct kilo_wg_config **out, struct kilo_wg_peer **peer_out)
{
	struct kilo_wg_config *c = kilo_wg_config_new(1);
	struct kilo_wg_peer *peer;
	int r;

	if (!c)
		return -ENOMEM;
	peer = &c->peers[c->n_peers++];
	r = set_allowed_ips(c, peer, a, na, b, nb);
	if (r == 0)
		r = dedupe_allowed_ips(peer);
	if (r < 0) {
		kilo_wg_config_free(c);
		return r;
	}
	*out = c;
	*peer_out = peer;
	return 0;
}

int kilo_topology_as_peer(const kilo_topology *t, const struct kilo_cidr *extra_allowed_ips, size_t n_extra,
			  kilo_wg_config **out, struct kilo_error *err)
{
	const struct kilo_segment *s;
	struct kilo_wg_peer *peer;
	int r;

	*out = NULL;
	if (t->local_segment >= t->n_segments)
		return kilo_error_set(err, ENOENT, "as peer: the topology has no local node (solved from outside the mesh)");
	s = &t->segments[t->local_segment];
	r = single_peer(s->allowed_ips, s->n_allowed_ips, extra_allowed_ips, n_extra, out, &peer);
	if (r < 0)
		return conf_failed(t, err);
	peer->public_key = s->key;
	/* The advertised endpoint: whoever connects sees us from outside our NAT. */
	peer->endpoint = *s->endpoint;
	return 0;
}

int kilo_topology_peer_as_peer(const kilo_topology *t, const char *peer_name, const struct kilo_cidr *extra_allowed_ips,
			       size_t n_extra, kilo_wg_config **out, struct kilo_error *err)
{
	const struct kilo_topology_peer *self;
	struct kilo_wg_peer *peer;
	int r;

	*out = NULL;
	self = kilo_topology_find_peer(t, peer_name, err);
	if (!self)
		return peer_name ? -ENOENT : -EINVAL;
	/* The peer's own list, before de-duplication against the other peers. */
	r = single_peer(self->peer->allowed_ips, self->peer->n_allowed_ips, extra_allowed_ips, n_extra, out, &peer);
	if (r < 0)
		return kilo_error_set(err, ENOMEM, "peer \"%s\" as peer: out of memory", peer_name);
	peer->public_key = self->peer->public_key;
	peer->endpoint = self->peer->endpoint;
	peer->persistent_keepalive = self->peer->persistent_keepalive;
	set_preshared_key(peer, self->peer);
	return 0;
}
