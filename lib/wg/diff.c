/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The smallest change from a live device to a desired one. A reconcile
 * with nothing to do must send nothing, and one changed peer among 10,000
 * must send one peer: peers are matched by a sort, not a product.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../core/wgconf.h"
#include "peer_index.h"

/* A desired peer that is new (live NULL) or differs from its live twin. */
struct pending {
	const struct kilo_wg_peer *desired, *live;
};

/* Allowed IPs compared as sets of networks: devices keep masked prefixes. */
struct ip_scratch {
	struct kilo_cidr *a, *b;
	size_t cap;
};

static int cidr_cmp(const void *pa, const void *pb)
{
	const struct kilo_cidr *a = pa, *b = pb;

	if (a->addr.family != b->addr.family)
		return a->addr.family < b->addr.family ? -1 : 1;
	if (a->prefix != b->prefix)
		return a->prefix < b->prefix ? -1 : 1;
	return memcmp(a->addr.bytes, b->addr.bytes, a->addr.family == 4 ? 4 : 16);
}

/* Sorted, masked and without duplicates; returns the new count. */
static size_t canonical_set(struct kilo_cidr *out, const struct kilo_cidr *in, size_t n)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		out[i] = kilo_cidr_masked(&in[i]);
	qsort(out, n, sizeof(*out), cidr_cmp);
	for (size_t i = 0; i < n; i++)
		if (m == 0 || cidr_cmp(&out[m - 1], &out[i]) != 0)
			out[m++] = out[i];
	return m;
}

static int allowed_ips_equal(struct ip_scratch *s, const struct kilo_wg_peer *a, const struct kilo_wg_peer *b,
			     bool *equal)
{
	size_t need = a->n_allowed_ips > b->n_allowed_ips ? a->n_allowed_ips : b->n_allowed_ips;
	size_t na, nb;

	if (need > s->cap) {
		struct kilo_cidr *na_buf = realloc(s->a, need * sizeof(*s->a));

		if (!na_buf)
			return -ENOMEM;
		s->a = na_buf;
		na_buf = realloc(s->b, need * sizeof(*s->b));
		if (!na_buf)
			return -ENOMEM;
		s->b = na_buf;
		s->cap = need;
	}
	na = canonical_set(s->a, a->allowed_ips, a->n_allowed_ips);
	nb = canonical_set(s->b, b->allowed_ips, b->n_allowed_ips);
	*equal = na == nb && (na == 0 || memcmp(s->a, s->b, na * sizeof(*s->a)) == 0);
	return 0;
}

static bool preshared_equal(const struct kilo_wg_peer *a, const struct kilo_wg_peer *b)
{
	static const struct kilo_key zero;
	const struct kilo_key *ka = a->has_preshared_key ? &a->preshared_key : &zero;
	const struct kilo_key *kb = b->has_preshared_key ? &b->preshared_key : &zero;

	return sodium_memcmp(ka->bytes, kb->bytes, KILO_KEY_LEN) == 0;
}

/*
 * A desired peer without an endpoint keeps whatever endpoint the device
 * learnt from the peer's packets: Kilo re-applied such roaming peers every
 * time, and overriding the learnt endpoint with none is not possible anyway.
 */
static bool endpoint_differs(const struct kilo_wg_peer *desired, const struct kilo_wg_peer *live)
{
	return kilo_endpoint_is_set(&desired->endpoint) && !kilo_endpoint_equal(&desired->endpoint, &live->endpoint);
}

/* Fills *out with what must change of live (NULL: a new peer) to reach desired. */
static int peer_change(struct ip_scratch *s, struct kilo_wg_config *change, const struct kilo_wg_peer *desired,
		       const struct kilo_wg_peer *live)
{
	struct kilo_wg_peer *out = kilo_wg_config_add_peer(change);
	bool same_ips = false;
	int r;

	if (!out)
		return -ENOMEM;
	out->public_key = desired->public_key;
	out->persistent_keepalive = desired->persistent_keepalive;
	if (!live || endpoint_differs(desired, live))
		out->endpoint = desired->endpoint;
	if (!live ? desired->has_preshared_key : !preshared_equal(desired, live)) {
		out->has_preshared_key = true;
		out->preshared_key = desired->has_preshared_key ? desired->preshared_key : (struct kilo_key){ 0 };
	}
	if (live) {
		r = allowed_ips_equal(s, desired, live, &same_ips);
		if (r < 0)
			return r;
	}
	if (!same_ips) {
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

static bool peer_differs(struct ip_scratch *s, const struct kilo_wg_peer *desired, const struct kilo_wg_peer *live,
			 int *r)
{
	bool same_ips;

	if (endpoint_differs(desired, live) || desired->persistent_keepalive != live->persistent_keepalive ||
	    !preshared_equal(desired, live))
		return true;
	*r = allowed_ips_equal(s, desired, live, &same_ips);
	return *r == 0 && !same_ips;
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
 * Walks both peer lists in key order: live peers missing from desired are
 * removed at once, new and changed desired peers are collected in pending.
 */
static int match_peers(struct ip_scratch *s, const struct kilo_wg_config *live, const struct kilo_wg_config *desired,
		       struct kilo_wg_config *change, struct pending *pending, size_t *n_pending)
{
	const struct kilo_wg_peer **l = NULL, **d = kilo_wg_peers_sorted(desired);
	size_t nl = live ? live->n_peers : 0, i = 0, j = 0;
	int r = 0;

	if (!d)
		return -ENOMEM;
	if (live && !(l = kilo_wg_peers_sorted(live))) {
		free(d);
		return -ENOMEM;
	}
	*n_pending = 0;
	while (r == 0 && (i < nl || j < desired->n_peers)) {
		int c = i == nl ? 1 : j == desired->n_peers ? -1 : kilo_wg_peer_key_cmp(l[i], d[j]);

		if (c < 0) {
			struct kilo_wg_peer *gone = kilo_wg_config_add_peer(change);

			if (!gone) {
				r = -ENOMEM;
				break;
			}
			gone->public_key = l[i++]->public_key;
			gone->flags = KILO_WG_PEER_REMOVE;
		} else if (c > 0) {
			pending[(*n_pending)++] = (struct pending){ d[j++], NULL };
		} else {
			if (peer_differs(s, d[j], l[i], &r))
				pending[(*n_pending)++] = (struct pending){ d[j], l[i] };
			i++, j++;
		}
	}
	free(l);
	free(d);
	return r;
}

int kilo_wg_config_diff(const kilo_wg_config *live, const kilo_wg_config *desired, kilo_wg_config **change)
{
	struct ip_scratch scratch = { 0 };
	struct pending *pending = malloc((desired->n_peers ? desired->n_peers : 1) * sizeof(*pending));
	struct kilo_wg_config *c = kilo_wg_config_new(0);
	size_t n_pending = 0;
	int r = -ENOMEM;

	*change = NULL;
	if (!pending || !c)
		goto out;
	interface_change(live, desired, c);
	r = match_peers(&scratch, live, desired, c, pending, &n_pending);
	for (size_t k = 0; r == 0 && k < n_pending; k++)
		r = peer_change(&scratch, c, pending[k].desired, pending[k].live);
	if (r == 0 && (c->has_interface || c->n_peers)) {
		*change = c;
		c = NULL;
	}
out:
	free(scratch.a);
	free(scratch.b);
	free(pending);
	kilo_wg_config_free(c);
	return r;
}
