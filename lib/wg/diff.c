/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The smallest change from a live device to a desired one. A reconcile
 * with nothing to do must send nothing, and one changed peer among 10,000
 * must send one peer: peers are matched by a hash of their keys.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../core/wgconf.h"
#include "diff.h"
#include "peer_index.h"

/* A desired peer that is new (live NULL) or differs from its live twin. */
struct pending {
	const struct kilo_wg_peer *desired, *live;
};

/* Whether a and b name the same network: devices keep masked prefixes. */
static bool same_network(const struct kilo_cidr *a, const struct kilo_cidr *b)
{
	size_t whole = a->prefix / 8;
	unsigned rest = a->prefix % 8;

	if (a->addr.family != b->addr.family || a->prefix != b->prefix)
		return false;
	if (memcmp(a->addr.bytes, b->addr.bytes, whole) != 0)
		return false;
	return rest == 0 || ((a->addr.bytes[whole] ^ b->addr.bytes[whole]) & (0xff00u >> rest) & 0xff) == 0;
}

static bool contains_network(const struct kilo_cidr *set, size_t n, const struct kilo_cidr *cidr)
{
	for (size_t i = 0; i < n; i++)
		if (same_network(&set[i], cidr))
			return true;
	return false;
}

/*
 * The allowed IPs of a and b as sets of networks. Peers have a handful, so
 * each is looked up in the other list: no sorting, no copies; the usual
 * case, the same list in the same order, is settled in one pass.
 */
static bool allowed_ips_equal(const struct kilo_wg_peer *a, const struct kilo_wg_peer *b)
{
	size_t i = 0;

	if (a->n_allowed_ips == b->n_allowed_ips)
		while (i < a->n_allowed_ips && same_network(&a->allowed_ips[i], &b->allowed_ips[i]))
			i++;
	if (i == a->n_allowed_ips && i == b->n_allowed_ips)
		return true;
	for (i = 0; i < a->n_allowed_ips; i++)
		if (!contains_network(b->allowed_ips, b->n_allowed_ips, &a->allowed_ips[i]))
			return false;
	for (i = 0; i < b->n_allowed_ips; i++)
		if (!contains_network(a->allowed_ips, a->n_allowed_ips, &b->allowed_ips[i]))
			return false;
	return true;
}

static bool preshared_equal(const struct kilo_wg_peer *a, const struct kilo_wg_peer *b)
{
	static const struct kilo_key zero;
	const struct kilo_key *ka = a->has_preshared_key ? &a->preshared_key : &zero;
	const struct kilo_key *kb = b->has_preshared_key ? &b->preshared_key : &zero;

	return sodium_memcmp(ka->bytes, kb->bytes, KILO_KEY_LEN) == 0;
}

/*
 * A device takes an address, never a name: an endpoint whose name did not
 * resolve is no endpoint for it.
 */
static bool has_address(const struct kilo_endpoint *ep)
{
	return ep->addr.family != 0;
}

/*
 * A desired peer without an endpoint keeps whatever endpoint the device
 * learnt from the peer's packets: Kilo re-applied such roaming peers every
 * time, and overriding the learnt endpoint with none is not possible anyway.
 */
static bool endpoint_differs(const struct kilo_wg_peer *desired, const struct kilo_wg_peer *live)
{
	return has_address(&desired->endpoint) && !kilo_endpoint_equal(&desired->endpoint, &live->endpoint);
}

/* Fills *out with what must change of live (NULL: a new peer) to reach desired. */
static int peer_change(struct kilo_wg_config *change, const struct kilo_wg_peer *desired,
		       const struct kilo_wg_peer *live)
{
	struct kilo_wg_peer *out = kilo_wg_config_add_peer(change);

	if (!out)
		return -ENOMEM;
	out->public_key = desired->public_key;
	out->persistent_keepalive = desired->persistent_keepalive;
	if (live ? endpoint_differs(desired, live) : has_address(&desired->endpoint))
		out->endpoint = desired->endpoint;
	if (!live ? desired->has_preshared_key : !preshared_equal(desired, live)) {
		out->has_preshared_key = true;
		out->preshared_key = desired->has_preshared_key ? desired->preshared_key : (struct kilo_key){ 0 };
	}
	if (!live || !allowed_ips_equal(desired, live)) {
		out->flags |= KILO_WG_PEER_REPLACE_ALLOWED_IPS;
		if (desired->n_allowed_ips) {
			out->allowed_ips = kilo_arena_array(&change->arena, desired->n_allowed_ips, sizeof(*out->allowed_ips));
			if (!out->allowed_ips)
				return -ENOMEM;
			memcpy(out->allowed_ips, desired->allowed_ips, desired->n_allowed_ips * sizeof(*out->allowed_ips));
			out->n_allowed_ips = desired->n_allowed_ips;
		}
	}
	return 0;
}

static bool peer_differs(const struct kilo_wg_peer *desired, const struct kilo_wg_peer *live)
{
	return endpoint_differs(desired, live) || desired->persistent_keepalive != live->persistent_keepalive ||
	       !preshared_equal(desired, live) || !allowed_ips_equal(desired, live);
}

static void interface_change(const struct kilo_wg_config *live, const struct kilo_wg_config *desired,
			     struct kilo_wg_config *change)
{
	static const struct kilo_key zero;
	const struct kilo_key *live_key = live && live->has_private_key ? &live->private_key : &zero;
	uint16_t live_port = live && live->has_listen_port ? live->listen_port : 0;
	uint32_t live_mark = live && live->has_fwmark ? live->fwmark : 0;

	if (desired->has_private_key &&
	    sodium_memcmp(desired->private_key.bytes, live_key->bytes, KILO_KEY_LEN) != 0) {
		change->has_private_key = true;
		change->private_key = desired->private_key;
	}
	if (desired->has_listen_port && desired->listen_port != live_port) {
		change->has_listen_port = true;
		change->listen_port = desired->listen_port;
	}
	if (desired->has_fwmark && desired->fwmark != live_mark) {
		change->has_fwmark = true;
		change->fwmark = desired->fwmark;
	}
	change->has_interface = change->has_private_key || change->has_listen_port || change->has_fwmark;
}

/*
 * Matches the desired peers with the live ones by key: live peers missing
 * from desired are removed, new and changed desired peers are collected in
 * pending, in desired order.
 */
static int match_peers(const struct kilo_wg_config *live, const struct kilo_wg_config *desired,
		       struct kilo_wg_config *change, struct pending *pending, size_t *n_pending)
{
	size_t n_live = live ? live->n_peers : 0;
	struct kilo_wg_peer_index index;
	bool *matched = calloc(n_live + 1, sizeof(*matched));
	int r = matched ? kilo_wg_peer_index_init(&index, live) : -ENOMEM;

	if (r < 0) {
		free(matched);
		return r;
	}
	*n_pending = 0;
	for (size_t j = 0; j < desired->n_peers; j++) {
		const struct kilo_wg_peer *d = &desired->peers[j], *l;
		size_t cursor = 0;

		/* A key that repeats pairs its n-th desired peer with its n-th live one. */
		while ((l = kilo_wg_peer_index_next(&index, &d->public_key, &cursor)) && matched[l - live->peers])
			;
		if (l)
			matched[l - live->peers] = true;
		if (!l || peer_differs(d, l))
			pending[(*n_pending)++] = (struct pending){ d, l };
	}
	for (size_t i = 0; r == 0 && i < n_live; i++) {
		struct kilo_wg_peer *gone;

		if (matched[i])
			continue;
		gone = kilo_wg_config_add_peer(change);
		if (!gone) {
			r = -ENOMEM;
			break;
		}
		gone->public_key = live->peers[i].public_key;
		gone->flags = KILO_WG_PEER_REMOVE;
	}
	kilo_wg_peer_index_free(&index);
	free(matched);
	return r;
}

int kilo_wg_config_diff_counted(const kilo_wg_config *live, const kilo_wg_config *desired, kilo_wg_config **change,
				struct kilo_wg_sync_report *counts)
{
	struct pending *pending = malloc((desired->n_peers ? desired->n_peers : 1) * sizeof(*pending));
	struct kilo_wg_config *c = kilo_wg_config_new(0);
	size_t n_pending = 0;
	int r = -ENOMEM;

	*change = NULL;
	if (!pending || !c)
		goto out;
	interface_change(live, desired, c);
	r = match_peers(live, desired, c, pending, &n_pending);
	/* match_peers put only the removed peers in c so far. */
	counts->peers_removed = (unsigned)c->n_peers;
	for (size_t k = 0; r == 0 && k < n_pending; k++) {
		r = peer_change(c, pending[k].desired, pending[k].live);
		if (pending[k].live)
			counts->peers_updated++;
		else
			counts->peers_added++;
	}
	if (r == 0 && (c->has_interface || c->n_peers)) {
		*change = c;
		c = NULL;
	}
out:
	free(pending);
	kilo_wg_config_free(c);
	return r;
}

int kilo_wg_config_diff(const kilo_wg_config *live, const kilo_wg_config *desired, kilo_wg_config **change,
			struct kilo_error *err)
{
	struct kilo_wg_sync_report ignored = { 0 };
	int r;

	/* No live device is fine: the change is then the whole configuration. */
	if (!desired || !change)
		return kilo_error_set(err, EINVAL, "configuration change: %s is NULL", desired ? "change" : "desired");
	r = kilo_wg_config_diff_counted(live, desired, change, &ignored);
	if (r < 0)
		return kilo_error_set(err, -r, "change to %zu peers: %s", desired->n_peers, strerror(-r));
	return 0;
}
