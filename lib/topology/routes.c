/* SPDX-License-Identifier: Apache-2.0 */
/* Routes and ip rules of a node (Kilo's Routes and PeerRoutes, kilo-reference.md §1.7). */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/opts.h"

struct route_list {
	struct kilo_route *routes;
	size_t n, cap;
	struct kilo_rule *rules;
	size_t n_rules, cap_rules;
	int error; /* sticky: the first failure */
};

/* What Routes needs to know besides the topology. */
struct route_ctx {
	const struct kilo_topology *t;
	const struct kilo_routes_opts *opts;
	struct kilo_addr src; /* the local private IP; family 0: none */
	struct kilo_addr secondary_src; /* dual stack: the local private IP of the other family */
	struct route_list *out;
};

/* A follower's gateways: its leader's private IPs, one per family (either may be none). */
struct leader_gws {
	struct kilo_addr primary, secondary;
};

static const struct kilo_addr no_addr;

int kilo_encapsulate_parse(const char *text, enum kilo_encapsulate *out, struct kilo_error *err)
{
	static const char *const names[] = {
		[KILO_ENCAPSULATE_NEVER] = "never",
		[KILO_ENCAPSULATE_CROSSSUBNET] = "crosssubnet",
		[KILO_ENCAPSULATE_ALWAYS] = "always",
	};
	int i = kilo_name_lookup(names, sizeof(names) / sizeof(names[0]), "encapsulate", text, err);

	if (i < 0)
		return i;
	*out = (enum kilo_encapsulate)i;
	return 0;
}

/* kg accepts "flannel" and "cilium"; no value (or "ipip") means plain IPIP. */
int kilo_compatibility_parse(const char *text, enum kilo_compatibility *out, struct kilo_error *err)
{
	static const char *const names[] = {
		[KILO_COMPATIBILITY_NONE] = "none",
		[KILO_COMPATIBILITY_FLANNEL] = "flannel",
		[KILO_COMPATIBILITY_CILIUM] = "cilium",
	};
	int i = 0;

	if (text && text[0] && strcmp(text, "ipip") != 0)
		i = kilo_name_lookup(names, sizeof(names) / sizeof(names[0]), "compatibility", text, err);
	if (i < 0)
		return i;
	*out = (enum kilo_compatibility)i;
	return 0;
}

static struct kilo_route *push_route(struct route_list *l, const struct kilo_cidr *dst, const struct kilo_addr *gw,
				     int ifindex, bool onlink)
{
	struct kilo_route *r;

	if (l->error || (l->error = kilo_array_reserve((void **)&l->routes, &l->cap, l->n + 1, sizeof(*r))))
		return NULL;
	r = &l->routes[l->n++];
	memset(r, 0, sizeof(*r));
	r->dst = *dst;
	r->gw = *gw;
	r->ifindex = ifindex;
	r->onlink = onlink;
	r->protocol = KILO_RTPROT_STATIC;
	return r;
}

static void push_rule(struct route_list *l, const struct kilo_cidr *src, const struct kilo_cidr *dst, const char *iif)
{
	struct kilo_rule *r;

	if (l->error || (l->error = kilo_array_reserve((void **)&l->rules, &l->cap_rules, l->n_rules + 1, sizeof(*r))))
		return;
	r = &l->rules[l->n_rules++];
	memset(r, 0, sizeof(*r));
	if (src)
		r->src = *src;
	r->dst = *dst;
	r->table = KILO_ROUTE_TABLE;
	if (iif)
		snprintf(r->iif, sizeof(r->iif), "%s", iif);
}

/* The encapsulator's gateway to a node: its private IP, or the CNI's address for it. */
static struct kilo_addr node_gw(enum kilo_compatibility compat, const struct kilo_addr *private_ip,
				const struct kilo_cidr *cni_ip, const struct kilo_cidr *pod_cidr)
{
	switch (compat) {
	case KILO_COMPATIBILITY_FLANNEL:
		return pod_cidr->addr;
	case KILO_COMPATIBILITY_CILIUM:
		return cni_ip->addr.family ? cni_ip->addr : pod_cidr->addr;
	default:
		return *private_ip;
	}
}

/* Whether traffic to addr crosses the tunnel rather than the private network. */
static bool encapsulates(const struct route_ctx *ctx, const struct kilo_addr *addr)
{
	/* IPIP carries IPv4 only: a dual-stack node's other family goes over the private network. */
	if (ctx->secondary_src.family && addr->family == ctx->secondary_src.family)
		return false;
	switch (ctx->opts->encapsulate) {
	case KILO_ENCAPSULATE_ALWAYS:
		return true;
	case KILO_ENCAPSULATE_CROSSSUBNET:
		return !kilo_cidr_contains(&ctx->t->private_ip, addr);
	default:
		return false;
	}
}

/* A route on the private link, moved onto the tunnel when encapsulated. */
static void push_private(struct route_ctx *ctx, const struct kilo_cidr *dst, const struct kilo_addr *gw)
{
	bool secondary = gw->family && gw->family == ctx->secondary_src.family;
	int ifindex = secondary && ctx->opts->secondary_private_ifindex ? ctx->opts->secondary_private_ifindex
									 : ctx->opts->private_ifindex;
	struct kilo_route *r = push_route(ctx->out, dst, gw, ifindex, true);

	if (r && encapsulates(ctx, gw)) {
		r->ifindex = ctx->opts->tunnel_ifindex;
		r->src = ctx->src;
	}
}

/* A route in Kilo's table through the tunnel, for traffic that must come back encapsulated. */
static void push_table_route(struct route_ctx *ctx, const struct kilo_cidr *dst, const struct kilo_addr *gw,
			     const struct kilo_addr *src)
{
	struct kilo_route *r = push_route(ctx->out, dst, gw, ctx->opts->tunnel_ifindex, true);

	if (r) {
		r->src = *src;
		r->table = KILO_ROUTE_TABLE;
	}
}

/*
 * Routes to the other nodes of the local location, straight over the
 * private network (or the tunnel), and the table-1107 detour that keeps
 * encapsulated traffic to their private IPs symmetric.
 */
static void local_segment_routes(struct route_ctx *ctx, const struct kilo_segment *s)
{
	const struct kilo_topology *t = ctx->t;
	const struct kilo_routes_opts *o = ctx->opts;

	if (t->private_ip.addr.family == 0)
		return;
	if (o->no_local && (!t->leader || o->encapsulate == KILO_ENCAPSULATE_NEVER))
		return;
	for (size_t i = 0; i < s->n_nodes; i++) {
		const struct kilo_node *node = s->nodes[i];
		const struct kilo_addr *priv = &node->internal_ip.addr;
		struct kilo_cidr host;
		struct kilo_addr gw;

		/* Kilo recognises the local node by its private IP. */
		if (priv->family == 0 || kilo_addr_equal(priv, &t->private_ip.addr))
			continue;
		host = kilo_cidr_host(priv);
		gw = node_gw(o->compatibility, priv, &s->cni_compatibility_ips[i], &s->cidrs[i]);
		if (o->no_local) {
			/* Only CNIs that reach nodes through their own address need the detour back. */
			if (kilo_addr_equal(&gw, priv))
				continue;
			push_table_route(ctx, &host, &gw, &no_addr);
			push_rule(ctx->out, NULL, &host, o->wg_interface);
			continue;
		}
		push_private(ctx, &s->cidrs[i], &gw);
		if (s->secondary_cidrs[i].addr.family &&
		    s->secondary_cidrs[i].addr.family == node->secondary_internal_ip.addr.family)
			push_private(ctx, &s->secondary_cidrs[i], &node->secondary_internal_ip.addr);
		if (!encapsulates(ctx, priv))
			continue;
		push_table_route(ctx, &host, &gw, &t->private_ip.addr);
		push_rule(ctx->out, &t->subnet, &host, NULL);
		if (t->leader)
			push_rule(ctx->out, NULL, &host, o->wg_interface);
	}
}

/*
 * A follower's route to dst through its leader, at the leader's private IP
 * of dst's family. Without one (a single-stack leader, a dual-stack
 * destination) there is no route: a gateway of the other family is refused.
 */
static void push_via_leader(struct route_ctx *ctx, const struct kilo_cidr *dst, const struct leader_gws *gws)
{
	if (gws->secondary.family && gws->secondary.family == dst->addr.family)
		push_private(ctx, dst, &gws->secondary);
	else if (gws->primary.family == 0 || gws->primary.family == dst->addr.family)
		push_private(ctx, dst, &gws->primary);
}

/* A node that is not a leader sends everything through its leader. */
static void follower_routes(struct route_ctx *ctx)
{
	const struct kilo_topology *t = ctx->t;
	struct leader_gws gws = { 0 };

	if (t->local_segment < t->n_segments) {
		const struct kilo_segment *s = &t->segments[t->local_segment];
		const struct kilo_node *leader = s->nodes[s->leader];

		gws.primary = node_gw(ctx->opts->compatibility, &leader->internal_ip.addr, &leader->cni_compatibility_ip,
				      &leader->pod_cidr);
		gws.secondary = leader->secondary_internal_ip.addr;
	}
	for (size_t k = 0; k < t->n_segments; k++) {
		const struct kilo_segment *s = &t->segments[k];
		struct kilo_cidr wg = kilo_cidr_host(&s->wireguard_ip);

		push_via_leader(ctx, &wg, &gws);
		if (kilo_segment_is_local(t, s)) {
			if (!ctx->opts->no_local)
				local_segment_routes(ctx, s);
			continue;
		}
		for (size_t i = 0; i < s->n_nodes; i++) {
			push_via_leader(ctx, &s->cidrs[i], &gws);
			if (s->secondary_cidrs[i].addr.family)
				push_via_leader(ctx, &s->secondary_cidrs[i], &gws);
		}
		for (size_t i = 0; i < s->n_private_ips; i++) {
			struct kilo_cidr host = kilo_cidr_host(&s->private_ips[i]);

			push_via_leader(ctx, &host, &gws);
		}
		for (size_t i = 0; i < s->n_allowed_location_ips; i++)
			push_via_leader(ctx, &s->allowed_location_ips[i], &gws);
	}
	for (size_t p = 0; p < t->n_peers; p++)
		for (size_t i = 0; i < t->peers[p].n_allowed_ips; i++)
			push_via_leader(ctx, &t->peers[p].allowed_ips[i], &gws);
}

/* The preferred source towards dst: the secondary private IP for its family, else Kilo's private IP. */
static struct kilo_addr local_src(const struct route_ctx *ctx, const struct kilo_cidr *dst)
{
	if (ctx->secondary_src.family && ctx->secondary_src.family == dst->addr.family)
		return ctx->secondary_src;
	return ctx->src;
}

/*
 * A route into the WireGuard device towards a segment. WireGuard picks the
 * peer by allowed IPs, so a destination of the other family than the
 * segment's WireGuard IP (dual stack) needs no gateway.
 */
static struct kilo_route *push_tunnel_route(struct route_list *l, const struct kilo_cidr *dst,
					     const struct kilo_addr *wireguard_ip, int wg_ifindex)
{
	if (wireguard_ip->family != dst->addr.family)
		return push_route(l, dst, &no_addr, wg_ifindex, false);
	return push_route(l, dst, wireguard_ip, wg_ifindex, true);
}

static void push_wireguard(struct route_ctx *ctx, const struct kilo_cidr *dst, const struct kilo_segment *s)
{
	struct kilo_route *r = push_tunnel_route(ctx->out, dst, &s->wireguard_ip, ctx->opts->wg_ifindex);

	if (r)
		r->src = local_src(ctx, dst);
}

/* A remote node's private IP through the tunnel, unless the tunnel itself runs to it. */
static void push_remote_private(struct route_ctx *ctx, const struct kilo_addr *priv, const struct kilo_segment *s,
				const struct kilo_endpoint *endpoint)
{
	struct kilo_cidr host;

	/* A node reached only at its private IP cannot have that IP tunnelled. */
	if (priv->family == 0 || kilo_addr_equal(priv, &endpoint->addr))
		return;
	host = kilo_cidr_host(priv);
	push_wireguard(ctx, &host, s);
}

/* A leader reaches other segments over WireGuard and its own location directly. */
static void leader_routes(struct route_ctx *ctx)
{
	const struct kilo_topology *t = ctx->t;

	for (size_t k = 0; k < t->n_segments; k++) {
		const struct kilo_segment *s = &t->segments[k];
		const struct kilo_endpoint *endpoint;

		if (kilo_segment_is_local(t, s)) {
			local_segment_routes(ctx, s);
			continue;
		}
		endpoint = kilo_topology_segment_endpoint(t, s);
		for (size_t i = 0; i < s->n_nodes; i++) {
			push_wireguard(ctx, &s->cidrs[i], s);
			if (s->secondary_cidrs[i].addr.family)
				push_wireguard(ctx, &s->secondary_cidrs[i], s);
			push_remote_private(ctx, &s->nodes[i]->internal_ip.addr, s, endpoint);
			push_remote_private(ctx, &s->nodes[i]->secondary_internal_ip.addr, s, endpoint);
		}
		for (size_t i = 0; i < s->n_allowed_location_ips; i++)
			push_wireguard(ctx, &s->allowed_location_ips[i], s);
	}
	for (size_t p = 0; p < t->n_peers; p++) {
		for (size_t i = 0; i < t->peers[p].n_allowed_ips; i++) {
			struct kilo_route *r =
				push_route(ctx->out, &t->peers[p].allowed_ips[i], &no_addr, ctx->opts->wg_ifindex, false);

			if (r)
				r->src = local_src(ctx, &t->peers[p].allowed_ips[i]);
		}
	}
}

static int finish(struct route_list *l, struct kilo_route **routes, size_t *n_routes, struct kilo_rule **rules,
		  size_t *n_rules)
{
	if (l->error) {
		free(l->routes);
		free(l->rules);
		return l->error;
	}
	*routes = l->routes;
	*n_routes = l->n;
	if (rules) {
		*rules = l->rules;
		*n_rules = l->n_rules;
	} else {
		free(l->rules);
	}
	return 0;
}

/*
 * At most: per segment its WireGuard IP, four routes per node (pod CIDRs
 * and private IPs, two of each for dual stack) and its allowed-location
 * IPs; the peers' IPs.
 */
static size_t route_bound(const struct kilo_topology *t)
{
	size_t n = 0;

	for (size_t k = 0; k < t->n_segments; k++)
		n += 1 + 4 * t->segments[k].n_nodes + t->segments[k].n_allowed_location_ips;
	for (size_t p = 0; p < t->n_peers; p++)
		n += t->peers[p].n_allowed_ips;
	return n;
}

int kilo_topology_routes(const kilo_topology *t, const struct kilo_routes_opts *opts_in, struct kilo_route **routes,
			 size_t *n_routes, struct kilo_rule **rules, size_t *n_rules, struct kilo_error *err)
{
	struct kilo_routes_opts opts;
	struct route_list list = { 0 };
	struct route_ctx ctx = {
		.t = t, .opts = &opts, .src = t->private_ip.addr, .secondary_src = t->secondary_private_ip.addr, .out = &list
	};

	*routes = NULL;
	*n_routes = 0;
	*rules = NULL;
	*n_rules = 0;
	list.error = KILO_OPTS_COPY(&opts, opts_in, kilo_routes_opts, err);
	if (list.error < 0)
		return list.error;
	if (!opts.wg_interface)
		opts.wg_interface = KILO_DEFAULT_INTERFACE;
	list.error = kilo_array_reserve((void **)&list.routes, &list.cap, route_bound(t), sizeof(*list.routes));
	if (t->leader)
		leader_routes(&ctx);
	else
		follower_routes(&ctx);
	if (finish(&list, routes, n_routes, rules, n_rules) < 0)
		return kilo_error_set(err, ENOMEM, "routes of node \"%s\": out of memory", t->hostname);
	return 0;
}

int kilo_topology_peer_routes(const kilo_topology *t, const char *peer_name, int wg_ifindex,
			      const struct kilo_cidr *extra_allowed_ips, size_t n_extra, struct kilo_route **routes,
			      size_t *n_routes, struct kilo_error *err)
{
	struct route_list l = { 0 };

	*routes = NULL;
	*n_routes = 0;
	if (peer_name && !kilo_topology_find_peer(t, peer_name, err))
		return -ENOENT;
	if (n_extra && t->n_segments == 0)
		return kilo_error_set(err, ENOENT, "peer routes: no segment to route the %zu extra allowed IPs through",
				      n_extra);
	l.error = kilo_array_reserve((void **)&l.routes, &l.cap, route_bound(t) + n_extra, sizeof(*l.routes));
	for (size_t k = 0; k < t->n_segments; k++) {
		const struct kilo_segment *s = &t->segments[k];
		const struct kilo_endpoint *endpoint = kilo_topology_segment_endpoint(t, s);
		struct kilo_cidr wg = kilo_cidr_host(&s->wireguard_ip);

		for (size_t i = 0; i < s->n_nodes; i++) {
			push_tunnel_route(&l, &s->cidrs[i], &s->wireguard_ip, wg_ifindex);
			if (s->secondary_cidrs[i].addr.family)
				push_tunnel_route(&l, &s->secondary_cidrs[i], &s->wireguard_ip, wg_ifindex);
		}
		for (size_t i = 0; i < s->n_private_ips; i++) {
			struct kilo_cidr host = kilo_cidr_host(&s->private_ips[i]);

			/* As for a leader: the tunnel's own endpoint must not be routed into it. */
			if (!kilo_addr_equal(&s->private_ips[i], &endpoint->addr))
				push_tunnel_route(&l, &host, &s->wireguard_ip, wg_ifindex);
		}
		for (size_t i = 0; i < s->n_allowed_location_ips; i++)
			push_tunnel_route(&l, &s->allowed_location_ips[i], &s->wireguard_ip, wg_ifindex);
		push_route(&l, &wg, &no_addr, wg_ifindex, false);
	}
	for (size_t p = 0; p < t->n_peers; p++) {
		if (peer_name && strcmp(t->peers[p].peer->name, peer_name) == 0)
			continue;
		for (size_t i = 0; i < t->peers[p].n_allowed_ips; i++)
			push_route(&l, &t->peers[p].allowed_ips[i], &no_addr, wg_ifindex, false);
	}
	/* Extra networks sit behind the first segment, as kgctl connect routes them. */
	for (size_t i = 0; i < n_extra; i++)
		push_tunnel_route(&l, &extra_allowed_ips[i], &t->segments[0].wireguard_ip, wg_ifindex);
	if (finish(&l, routes, n_routes, NULL, NULL) < 0)
		return kilo_error_set(err, ENOMEM, "routes of peer \"%s\": out of memory", peer_name ? peer_name : "");
	return 0;
}
