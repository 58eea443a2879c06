/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The solver: on the segments of the ready nodes (segments.c), merges
 * the endpoints seen behind NAT, allocates WireGuard IPs and computes
 * allowed IPs, with Kilo's order and quirks (see kilo-reference.md §1.3).
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../core/opts.h"

/* A discovered endpoint in merge order, before de-duplication by key. */
struct discovery {
	const struct kilo_discovered_endpoint *seen;
	bool other_family; /* another node saw it in the other family than it advertises */
	size_t order;
};

/* A ready node or peer by its key: the family of the endpoint it advertises, and what it is. */
struct advertised {
	struct kilo_key key;
	uint8_t family;
	const struct kilo_node *node; /* or NULL for a peer */
	const struct kilo_peer *peer;
};

int kilo_wireguard_ip(const struct kilo_cidr *subnet, size_t i, struct kilo_cidr *out, struct kilo_error *err)
{
	struct kilo_cidr ip = kilo_cidr_masked(subnet);
	size_t len = ip.addr.family == 4 ? 4 : 16;
	unsigned long long carry = (unsigned long long)i + 1;
	char text[KILO_CIDR_STRLEN];

	if (ip.addr.family != 4 && ip.addr.family != 6)
		return kilo_error_set(err, EINVAL, "subnet: no address");
	if (carry == 0)
		goto full;
	for (size_t b = len; b-- > 0 && carry;) {
		carry += ip.addr.bytes[b];
		ip.addr.bytes[b] = (uint8_t)carry;
		carry >>= 8;
	}
	/* Kilo hands out every address after the network one, broadcast included. */
	if (carry || !kilo_cidr_contains(subnet, &ip.addr))
		goto full;
	*out = ip;
	return 0;
full:
	kilo_cidr_format(subnet, text);
	return kilo_error_set(err, ENOSPC, "subnet \"%s\": has no WireGuard IP number %zu", text, i);
}

int kilo_dedupe_cidr_lists(struct kilo_cidr_list *lists, size_t n_lists, struct kilo_error *err)
{
	struct kilo_cidr_set seen;
	size_t total = 0;
	int r;

	if (!lists && n_lists)
		return kilo_error_set(err, EINVAL, "de-duplicating CIDR lists: lists is NULL but n_lists is %zu",
				      n_lists);
	for (size_t i = 0; i < n_lists; i++)
		total += lists[i].n;
	r = kilo_cidr_set_init(&seen, total);
	if (r < 0)
		return kilo_error_set(err, -r, "de-duplicating %zu CIDRs: out of memory", total);
	for (size_t i = 0; i < n_lists; i++) {
		size_t kept = 0;

		for (size_t j = 0; j < lists[i].n; j++) {
			if (kilo_cidr_set_add(&seen, &lists[i].cidrs[j]))
				lists[i].cidrs[kept++] = lists[i].cidrs[j];
		}
		lists[i].n = kept;
	}
	kilo_cidr_set_free(&seen);
	return 0;
}

static int compare_cidr_text(const void *a, const void *b)
{
	char x[KILO_CIDR_STRLEN], y[KILO_CIDR_STRLEN];

	kilo_cidr_format(a, x);
	kilo_cidr_format(b, y);
	return strcmp(x, y);
}

static int compare_cidr_family_text(const void *a, const void *b)
{
	const struct kilo_cidr *x = a, *y = b;

	if (x->addr.family != y->addr.family)
		return x->addr.family < y->addr.family ? -1 : 1;
	return compare_cidr_text(a, b);
}

void kilo_cidr_sort(struct kilo_cidr *cidrs, size_t n)
{
	if (n > 1)
		qsort(cidrs, n, sizeof(*cidrs), compare_cidr_family_text);
}

static int compare_peer_names(const void *a, const void *b)
{
	const struct kilo_topology_peer *x = a, *y = b;

	return strcmp(x->peer->name, y->peer->name);
}

static int compare_discovery(const void *a, const void *b)
{
	const struct discovery *x = a, *y = b;
	int r = memcmp(x->seen->key.bytes, y->seen->key.bytes, KILO_KEY_LEN);

	if (r)
		return r;
	if (x->other_family != y->other_family)
		return x->other_family ? 1 : -1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int compare_advertised(const void *a, const void *b)
{
	return memcmp(((const struct advertised *)a)->key.bytes, ((const struct advertised *)b)->key.bytes,
		      KILO_KEY_LEN);
}

bool kilo_segment_is_local(const struct kilo_topology *t, const struct kilo_segment *s)
{
	if ((size_t)(s - t->segments) == t->local_segment)
		return true;
	/*
	 * Cross granularity: nodes of one location talk over their private
	 * network. A node without a private IP cannot, so unlike PR #490 it
	 * keeps its tunnels rather than becoming unreachable.
	 */
	return t->granularity == KILO_GRANULARITY_CROSS && t->private_ip.addr.family && s->n_private_ips &&
	       strcmp(s->node_location, t->node_location) == 0;
}

size_t kilo_topology_local_segment(const struct kilo_topology *t)
{
	return t->local_segment;
}

static int compare_discovered_key(const void *key, const void *entry)
{
	const struct kilo_discovered_endpoint *d = entry;

	return memcmp(key, d->key.bytes, KILO_KEY_LEN);
}

const struct kilo_endpoint *kilo_topology_nat_endpoint(const struct kilo_topology *t,
							const struct kilo_endpoint *advertised,
							const struct kilo_key *key, uint32_t keepalive)
{
	const struct kilo_discovered_endpoint *d;

	/* Only a node or peer that keeps its NAT mapping alive may roam. */
	if (keepalive == 0 || t->n_discovered == 0)
		return advertised;
	d = bsearch(key->bytes, t->discovered, t->n_discovered, sizeof(*t->discovered), compare_discovered_key);
	return d ? &d->endpoint : advertised;
}

/*
 * Two nodes of one location share its private network, so a node's
 * segment in full granularity is reached where it says it is: an endpoint
 * discovered from outside the location is a NAT's public side, which the
 * NAT seldom forwards back inside (hairpin). Kilo would use it and fail.
 */
bool kilo_topology_same_private_network(const struct kilo_topology *t, const struct kilo_segment *s)
{
	const struct kilo_node *leader = s->nodes[s->leader];

	return t->local_node && t->private_ip.addr.family && leader->internal_ip.addr.family && *leader->location &&
	       strcmp(leader->location, t->local_node->location) == 0;
}

const struct kilo_endpoint *kilo_topology_segment_endpoint(const struct kilo_topology *t,
							    const struct kilo_segment *s)
{
	if (kilo_topology_same_private_network(t, s))
		return s->endpoint;
	return kilo_topology_nat_endpoint(t, s->endpoint, &s->key, s->persistent_keepalive);
}

/*
 * Kilo's filterAllowedLocationIPs: drops an allowed-location IP that
 * overlaps one of another segment, lies inside any segment's allowed IPs,
 * or overlaps a peer's allowed IP. It sees the other segments as they are
 * now, which makes the result depend on the order of the calls.
 */
static size_t filter_location_ips(const struct kilo_topology *t, size_t k, struct kilo_cidr *ips, size_t n)
{
	size_t kept = 0;

	for (size_t x = 0; x < n; x++) {
		const struct kilo_cidr *ip = &ips[x];
		bool clash = false;

		for (size_t s = 0; s < t->n_segments && !clash; s++) {
			const struct kilo_segment *seg = &t->segments[s];

			for (size_t j = 0; s != k && j < seg->n_allowed_location_ips && !clash; j++)
				clash = kilo_cidr_intersects(ip, &seg->allowed_location_ips[j]);
			for (size_t j = 0; j < seg->n_allowed_ips && !clash; j++)
				clash = kilo_cidr_contains(&seg->allowed_ips[j], &ip->addr);
		}
		for (size_t p = 0; p < t->n_peers && !clash; p++) {
			for (size_t j = 0; j < t->peers[p].n_allowed_ips && !clash; j++)
				clash = kilo_cidr_intersects(ip, &t->peers[p].allowed_ips[j]);
		}
		if (!clash)
			ips[kept++] = *ip;
	}
	return kept;
}

int kilo_topology_set_allowed_location_ips(kilo_topology *t, size_t i, const struct kilo_cidr *cidrs, size_t n,
					   bool filter, struct kilo_error *err)
{
	struct kilo_cidr *copy = NULL;

	if (i >= t->n_segments)
		return kilo_error_set(err, ERANGE, "segment %zu: out of range, the topology has %zu segments", i,
				      t->n_segments);
	if (n) {
		copy = kilo_arena_array(&t->arena, n, sizeof(*copy));
		if (!copy)
			return kilo_error_set(err, ENOMEM, "allowed location IPs of segment %zu: out of memory", i);
		memcpy(copy, cidrs, n * sizeof(*copy));
	}
	if (filter)
		n = filter_location_ips(t, i, copy, n);
	t->segments[i].allowed_location_ips = copy;
	t->segments[i].n_allowed_location_ips = n;
	return 0;
}

/* The union of the nodes' allowed-location IPs, sorted by text and without repeats. */
static int collect_location_ips(struct kilo_topology *t, struct kilo_segment *seg)
{
	size_t total = 0, kept = 0;
	struct kilo_cidr *ips;

	for (size_t i = 0; i < seg->n_nodes; i++)
		total += seg->nodes[i]->n_allowed_location_ips;
	if (total == 0)
		return 0;
	ips = kilo_arena_array(&t->arena, total, sizeof(*ips));
	if (!ips)
		return -ENOMEM;
	for (size_t i = 0; i < seg->n_nodes; i++) {
		for (size_t j = 0; j < seg->nodes[i]->n_allowed_location_ips; j++)
			ips[kept++] = seg->nodes[i]->allowed_location_ips[j];
	}
	qsort(ips, total, sizeof(*ips), compare_cidr_text);
	kept = 0;
	for (size_t i = 0; i < total; i++) {
		if (kept == 0 || !kilo_cidr_equal(&ips[kept - 1], &ips[i]))
			ips[kept++] = ips[i];
	}
	seg->allowed_location_ips = ips;
	seg->n_allowed_location_ips = kept;
	return 0;
}

/*
 * The ready peers by name, each keeping only the allowed IPs no earlier
 * peer claimed (a peer may end up with none and still be kept, as in Kilo).
 */
static int build_peers(struct kilo_topology *t)
{
	const struct kilo_mesh *mesh = t->mesh;
	struct kilo_cidr_list *lists;
	int r;

	t->n_peers = 0;
	if (mesh->n_peers == 0)
		return 0;
	t->peers = kilo_arena_array(&t->arena, mesh->n_peers, sizeof(*t->peers));
	if (!t->peers)
		return -ENOMEM;
	for (size_t i = 0; i < mesh->n_peers; i++) {
		struct kilo_topology_peer *p = &t->peers[t->n_peers];

		if (!kilo_peer_ready(&mesh->peers[i]))
			continue;
		t->n_peers++;
		p->peer = &mesh->peers[i];
		p->n_allowed_ips = p->peer->n_allowed_ips;
		if (p->n_allowed_ips) {
			p->allowed_ips = kilo_arena_array(&t->arena, p->n_allowed_ips, sizeof(*p->allowed_ips));
			if (!p->allowed_ips)
				return -ENOMEM;
			memcpy(p->allowed_ips, p->peer->allowed_ips, p->n_allowed_ips * sizeof(*p->allowed_ips));
		}
	}
	if (t->n_peers == 0)
		return 0;
	qsort(t->peers, t->n_peers, sizeof(*t->peers), compare_peer_names);

	lists = malloc(t->n_peers * sizeof(*lists));
	if (!lists)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_peers; i++) {
		lists[i].cidrs = t->peers[i].allowed_ips;
		lists[i].n = t->peers[i].n_allowed_ips;
	}
	r = kilo_dedupe_cidr_lists(lists, t->n_peers, NULL);
	for (size_t i = 0; r == 0 && i < t->n_peers; i++)
		t->peers[i].n_allowed_ips = lists[i].n;
	free(lists);
	return r;
}

/* The advertised endpoint families of the ready nodes and peers, sorted by key; NULL when out of memory. */
static struct advertised *advertised_families(const struct kilo_topology *t, size_t *n_out)
{
	size_t n = t->n_peers;
	struct advertised *list;

	for (size_t k = 0; k < t->n_segments; k++)
		n += t->segments[k].n_nodes;
	list = malloc((n ? n : 1) * sizeof(*list));
	if (!list)
		return NULL;
	n = 0;
	for (size_t k = 0; k < t->n_segments; k++)
		for (size_t i = 0; i < t->segments[k].n_nodes; i++, n++)
			list[n] = (struct advertised){ t->segments[k].nodes[i]->public_key,
						       t->segments[k].nodes[i]->endpoint.addr.family, t->segments[k].nodes[i],
						       NULL };
	for (size_t p = 0; p < t->n_peers; p++, n++)
		list[n] = (struct advertised){ t->peers[p].peer->public_key, t->peers[p].peer->endpoint.addr.family,
					       NULL, t->peers[p].peer };
	qsort(list, n, sizeof(*list), compare_advertised);
	*n_out = n;
	return list;
}

static bool in_any(const struct kilo_cidr *cidrs, size_t n, const struct kilo_addr *addr)
{
	for (size_t i = 0; i < n; i++)
		if (kilo_cidr_contains(&cidrs[i], addr))
			return true;
	return false;
}

/* Whether addr is one the mesh routes to a through the tunnel (a's own networks and addresses). */
static bool tunnelled_to(const struct advertised *a, const struct kilo_addr *addr)
{
	const struct kilo_node *node = a->node;

	if (a->peer)
		return in_any(a->peer->allowed_ips, a->peer->n_allowed_ips, addr);
	return (node->pod_cidr.addr.family && kilo_cidr_contains(&node->pod_cidr, addr)) ||
	       (node->secondary_pod_cidr.addr.family && kilo_cidr_contains(&node->secondary_pod_cidr, addr)) ||
	       kilo_addr_equal(&node->internal_ip.addr, addr) || kilo_addr_equal(&node->secondary_internal_ip.addr, addr) ||
	       in_any(node->allowed_location_ips, node->n_allowed_location_ips, addr);
}

enum sighting { SIGHTING_USABLE, SIGHTING_OTHER_FAMILY, SIGHTING_IN_TUNNEL };

/*
 * What a sighting is worth. One inside the tunnel to what was seen (a
 * device that roamed there after its packets looped through itself, or
 * an internal IP) would send every packet round the loop: it is dropped.
 * Dual stack: a NAT keeps a mapping per family, so what one node saw over
 * IPv6 is no use to a node whose packets go over IPv4; a sighting in the
 * advertised family comes first, the other family only when there is
 * nothing else.
 */
static enum sighting judge_sighting(const struct kilo_discovered_endpoint *seen, const struct advertised *list,
				    size_t n)
{
	struct advertised key = { .key = seen->key };
	const struct advertised *a = bsearch(&key, list, n, sizeof(*list), compare_advertised);

	if (!a)
		return SIGHTING_USABLE;
	if (tunnelled_to(a, &seen->endpoint.addr))
		return SIGHTING_IN_TUNNEL;
	return a->family && a->family != seen->endpoint.addr.family ? SIGHTING_OTHER_FAMILY : SIGHTING_USABLE;
}

/* Adds seen to all unless it is worthless. */
static void add_sighting(struct discovery *all, size_t *n, const struct kilo_discovered_endpoint *seen, bool local,
			 const struct advertised *list, size_t n_list)
{
	enum sighting worth = judge_sighting(seen, list, n_list);

	if (worth == SIGHTING_IN_TUNNEL)
		return;
	/* The local node's own sightings are what its own packets use, whatever the family. */
	all[*n] = (struct discovery){ seen, !local && worth == SIGHTING_OTHER_FAMILY, *n };
	(*n)++;
}

/*
 * Merges what every node saw behind NAT: the local node's own sightings
 * first, then the others' in segment and name order, as Kilo does, but an
 * address of the advertised family before one of the other, and none
 * inside the tunnel (judge_sighting).
 */
static int merge_discovered(struct kilo_topology *t, const struct kilo_ready_totals *ready)
{
	const struct kilo_node *local = t->local_node;
	struct advertised *families = NULL;
	struct discovery *all;
	size_t total = (local ? local->n_discovered_endpoints : 0) + ready->n_discovered_endpoints;
	size_t n = 0, kept = 0, n_families = 0;

	if (total == 0)
		return 0;
	all = malloc(total * sizeof(*all));
	families = advertised_families(t, &n_families);
	t->discovered = kilo_arena_array(&t->arena, total, sizeof(*t->discovered));
	if (!all || !families || !t->discovered) {
		free(all);
		free(families);
		return -ENOMEM;
	}
	for (size_t j = 0; local && j < local->n_discovered_endpoints; j++)
		add_sighting(all, &n, &local->discovered_endpoints[j], true, families, n_families);
	for (size_t k = 0; k < t->n_segments; k++) {
		for (size_t i = 0; i < t->segments[k].n_nodes; i++) {
			const struct kilo_node *node = t->segments[k].nodes[i];

			for (size_t j = 0; j < node->n_discovered_endpoints; j++)
				add_sighting(all, &n, &node->discovered_endpoints[j], false, families, n_families);
		}
	}
	qsort(all, n, sizeof(*all), compare_discovery);
	for (size_t i = 0; i < n; i++) {
		if (kept && kilo_key_equal(&t->discovered[kept - 1].key, &all[i].seen->key))
			continue;
		t->discovered[kept++] = *all[i].seen;
	}
	t->n_discovered = kept;
	free(families);
	free(all);
	return 0;
}

static int allocate_wireguard_ips(struct kilo_topology *t, struct kilo_error *err)
{
	for (size_t k = 0; k < t->n_segments; k++) {
		struct kilo_segment *seg = &t->segments[k];
		struct kilo_cidr ip;

		if (kilo_wireguard_ip(&t->kilo_subnet, k, &ip, NULL) < 0) {
			char subnet[KILO_CIDR_STRLEN];

			kilo_cidr_format(&t->kilo_subnet, subnet);
			return kilo_error_set(err, ENOSPC,
					      "settings.subnet: \"%s\" has room for %zu WireGuard IPs, but the mesh has %zu segments",
					      subnet, k, t->n_segments);
		}
		seg->wireguard_ip = ip.addr;
		seg->allowed_ips[seg->n_allowed_ips++] = kilo_cidr_host(&ip.addr);
		if (t->leader && k == t->local_segment)
			t->wireguard_cidr = ip;
		/* Filtered here, in Kilo's order: later segments have no WireGuard IP yet. */
		if (seg->n_allowed_location_ips)
			seg->n_allowed_location_ips = filter_location_ips(t, k, seg->allowed_location_ips,
									  seg->n_allowed_location_ips);
	}
	return 0;
}

static void set_local_view(struct kilo_topology *t, const struct kilo_solve_opts *opts)
{
	const struct kilo_node *local = t->local_node;

	t->location = "";
	t->node_location = "";
	t->wireguard_cidr = t->kilo_subnet;
	if (opts->override_keepalive)
		t->persistent_keepalive = opts->persistent_keepalive;
	if (!local)
		return;
	if (!opts->override_keepalive)
		t->persistent_keepalive = local->persistent_keepalive;
	t->subnet = local->pod_cidr;
	t->private_ip = local->internal_ip;
	t->secondary_subnet = local->secondary_pod_cidr;
	t->secondary_private_ip = local->secondary_internal_ip;
	t->location = t->segments[t->local_segment].location;
	t->node_location = t->segments[t->local_segment].node_location;
}

void kilo_topology_free(kilo_topology *t)
{
	if (!t)
		return;
	kilo_key_wipe(&t->key);
	kilo_arena_release(&t->arena);
	free(t);
}

int kilo_topology_solve(const kilo_mesh *mesh, const struct kilo_solve_opts *opts_in, kilo_topology **out,
			struct kilo_error *err)
{
	struct kilo_solve_opts opts;
	struct kilo_ready_totals ready;
	struct kilo_topology *t;
	int r;

	if (!mesh || !out)
		return kilo_error_set(err, EINVAL, "solve: %s is NULL", mesh ? "out" : "mesh");
	*out = NULL;
	r = KILO_OPTS_COPY(&opts, opts_in, kilo_solve_opts, err);
	if (r < 0)
		return r;
	/* A mesh a store loaded is judged at the time of the load, unless the caller says when. */
	if (opts.now == 0 && mesh && mesh->live_at) {
		opts.now = mesh->live_at;
		opts.ready_window = opts.ready_window ? opts.ready_window : mesh->live_window;
	}
	if (opts.override_granularity && (unsigned)opts.granularity > KILO_GRANULARITY_CROSS)
		return kilo_error_set(err, EINVAL, "solve options: granularity %d is unknown", (int)opts.granularity);
	if (opts.hostname && !opts.hostname[0])
		return kilo_error_set(err, EINVAL, "solve options: hostname \"\" names no node (NULL: the view from outside)");

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->mesh = mesh;
	t->granularity = opts.override_granularity ? opts.granularity : mesh->settings.granularity;
	t->hostname = kilo_arena_strdup(&t->arena, opts.hostname ? opts.hostname : "");
	t->kilo_subnet = mesh->settings.subnet;
	t->port = opts.port ? opts.port : mesh->settings.port;
	if (opts.private_key)
		t->key = *opts.private_key;
	r = t->hostname ? 0 : -ENOMEM;
	if (r == 0)
		r = kilo_topology_segments(t, &opts, &ready);
	/* Most meshes have none: a walk over every node to find out is saved. */
	for (size_t k = 0; r == 0 && ready.n_allowed_location_ips && k < t->n_segments; k++)
		r = collect_location_ips(t, &t->segments[k]);
	if (r == 0)
		r = build_peers(t);
	if (r == 0)
		r = merge_discovered(t, &ready);
	if (r == 0)
		set_local_view(t, &opts);
	if (r == 0)
		r = allocate_wireguard_ips(t, err);
	if (r < 0) {
		if (r == -ENOENT)
			kilo_error_set(err, ENOENT, "solve options: hostname \"%s\": no node of that name in the mesh",
				       opts.hostname);
		if (r == -ENOMEM)
			kilo_error_set(err, ENOMEM, "solving the topology: out of memory");
		kilo_topology_free(t);
		return r;
	}
	*out = t;
	return 0;
}

bool kilo_topology_is_leader(const kilo_topology *t)
{
	return t->leader;
}

size_t kilo_topology_segment_count(const kilo_topology *t)
{
	return t->n_segments;
}
