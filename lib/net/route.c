/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Routes: the ones libkilo owns carry the protocol KILO_RTPROT_OWNED in
 * any table. A sync compares (family, table, dst, metric, gw, src, oif,
 * onlink); Kilo's own key leaves out the table, so two of its routes that
 * differ only in table collide, which ours do not.
 */
#include "internal.h"
#include "saving.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/error.h"

/* The kernel gives an IPv6 route without a metric this one; IPv4 keeps 0. */
#define IPV6_DEFAULT_METRIC 1024

void kilo__net_route_normalise(const struct kilo_route *in, struct net_route *out)
{
	memset(out, 0, sizeof(*out));
	out->route.dst = kilo_cidr_masked(&in->dst);
	if (in->gw.family)
		out->route.gw = in->gw;
	if (in->src.family)
		out->route.src = in->src;
	out->route.ifindex = in->ifindex;
	out->route.table = in->table ? in->table : RT_TABLE_MAIN;
	out->route.onlink = in->onlink;
	out->route.protocol = KILO_RTPROT_OWNED;
	out->metric = in->dst.addr.family == 6 ? IPV6_DEFAULT_METRIC : 0;
}

bool kilo__net_route_same_slot(const struct net_route *a, const struct net_route *b)
{
	return a->route.table == b->route.table && a->metric == b->metric && kilo_cidr_equal(&a->route.dst, &b->route.dst);
}

bool kilo__net_route_same(const struct net_route *a, const struct net_route *b)
{
	return kilo__net_route_same_slot(a, b) && kilo_addr_equal(&a->route.gw, &b->route.gw) &&
	       kilo_addr_equal(&a->route.src, &b->route.src) && a->route.ifindex == b->route.ifindex &&
	       a->route.onlink == b->route.onlink;
}

struct nlmsghdr *kilo__net_route_message(void *buf, uint16_t type, uint16_t flags, const struct net_route *r)
{
	const struct kilo_route *k = &r->route;
	struct nlmsghdr *nlh = kilo__net_request(buf, type, flags, sizeof(struct rtmsg));
	struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	rtm->rtm_family = kilo__net_af(k->dst.addr.family);
	rtm->rtm_dst_len = k->dst.prefix;
	/* Tables past 255 exist only in RTA_TABLE. */
	rtm->rtm_table = k->table < 256 ? (uint8_t)k->table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = KILO_RTPROT_OWNED;
	if (type == RTM_DELROUTE) {
		/* Any scope and type: the protocol, table and nexthop pick the route. */
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	} else {
		rtm->rtm_scope = k->gw.family ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
		rtm->rtm_type = RTN_UNICAST;
	}
	if (k->onlink)
		rtm->rtm_flags = RTNH_F_ONLINK;
	if (k->dst.prefix)
		kilo__net_put_addr(nlh, RTA_DST, &k->dst.addr);
	mnl_attr_put_u32(nlh, RTA_TABLE, k->table);
	if (k->gw.family)
		kilo__net_put_addr(nlh, RTA_GATEWAY, &k->gw);
	if (k->src.family)
		kilo__net_put_addr(nlh, RTA_PREFSRC, &k->src);
	if (k->ifindex)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)k->ifindex);
	if (r->metric)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, r->metric);
	return nlh;
}

static bool route_attr(const struct nlattr *attr, uint8_t family, struct net_route *out)
{
	struct kilo_route *k = &out->route;

	switch (mnl_attr_get_type(attr)) {
	case RTA_DST:
		return kilo__net_get_addr(attr, family, &k->dst.addr);
	case RTA_GATEWAY:
		return kilo__net_get_addr(attr, family, &k->gw);
	case RTA_PREFSRC:
		return kilo__net_get_addr(attr, family, &k->src);
	case RTA_OIF:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return false;
		k->ifindex = (int)mnl_attr_get_u32(attr);
		return true;
	case RTA_TABLE:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return false;
		k->table = mnl_attr_get_u32(attr);
		return true;
	case RTA_PRIORITY:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return false;
		out->metric = mnl_attr_get_u32(attr);
		return true;
	default:
		return true;
	}
}

int kilo__net_route_parse(const struct nlmsghdr *nlh, struct net_route *out)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	uint8_t family;

	if (nlh->nlmsg_type != RTM_NEWROUTE || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return -EBADMSG;
	family = kilo__net_family(rtm->rtm_family);
	if (!family || rtm->rtm_protocol != KILO_RTPROT_OWNED || rtm->rtm_type != RTN_UNICAST)
		return 0;
	memset(out, 0, sizeof(*out));
	out->route.dst.addr.family = family;
	out->route.dst.prefix = rtm->rtm_dst_len;
	out->route.table = rtm->rtm_table;
	out->route.onlink = rtm->rtm_flags & RTNH_F_ONLINK;
	out->route.protocol = KILO_RTPROT_OWNED;
	mnl_attr_for_each(attr, nlh, sizeof(*rtm)) {
		if (!route_attr(attr, family, out))
			return -EBADMSG;
	}
	return 1;
}

/* "10.1.0.0/24 via 10.9.0.2 dev 3 table 1107" for error messages. */
static void net_route_describe(const struct kilo_route *r, char *out, size_t size)
{
	char dst[KILO_CIDR_STRLEN], gw[KILO_ADDR_STRLEN] = "", src[KILO_ADDR_STRLEN] = "";

	kilo_cidr_format(&r->dst, dst);
	if (r->gw.family)
		kilo_addr_format(&r->gw, gw);
	if (r->src.family)
		kilo_addr_format(&r->src, src);
	snprintf(out, size, "route %s%s%s dev %d%s%s table %u%s", dst, gw[0] ? " via " : "", gw, r->ifindex,
		 src[0] ? " src " : "", src, r->table ? r->table : RT_TABLE_MAIN, r->onlink ? " onlink" : "");
}

/* ---- the live set ---------------------------------------------------- */

struct route_list {
	struct net_route *items;
	size_t n, cap;
};

static int route_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_list *list = data;
	struct net_route route;
	int r = kilo__net_route_parse(nlh, &route);

	if (r <= 0)
		return r < 0 ? MNL_CB_ERROR : MNL_CB_OK;
	if (kilo_array_reserve((void **)&list->items, &list->cap, list->n + 1, sizeof(route)) < 0)
		return MNL_CB_ERROR;
	list->items[list->n++] = route;
	return MNL_CB_OK;
}

static void route_list_reset(void *data)
{
	((struct route_list *)data)->n = 0;
}

static int routes_dump(kilo_net *net, struct route_list *list, struct kilo_error *err)
{
	return kilo__net_dump(net, RTM_GETROUTE, AF_UNSPEC, sizeof(struct rtmsg), route_list_cb, route_list_reset, list,
			"listing routes", err);
}

/* The routes of list as the caller writes them, in the kernel's order. */
static int routes_export(const struct route_list *list, struct kilo_route **routes, size_t *n, struct kilo_error *err)
{
	struct kilo_route *out = calloc(list->n ? list->n : 1, sizeof(*out));

	if (!out)
		return kilo_error_set(err, ENOMEM, "listing routes: out of memory");
	for (size_t i = 0; i < list->n; i++) {
		out[i] = list->items[i].route;
		/* The caller's notation for the main table. */
		if (out[i].table == RT_TABLE_MAIN)
			out[i].table = 0;
	}
	*routes = out;
	*n = list->n;
	return 0;
}

int kilo_net_routes_list(kilo_net *net, struct kilo_route **routes, size_t *n, struct kilo_error *err)
{
	struct route_list list = { 0 };
	int r;

	*routes = NULL;
	*n = 0;
	r = routes_dump(net, &list, err);
	if (r == 0)
		r = routes_export(&list, routes, n, err);
	free(list.items);
	return r;
}

/* ---- sync ------------------------------------------------------------ */

static int route_check(const struct kilo_route *r, size_t i, struct kilo_error *err)
{
	char text[160];
	uint8_t family = r->dst.addr.family;

	if ((family == 4 || family == 6) && (!r->gw.family || r->gw.family == family) &&
	    (!r->src.family || r->src.family == family))
		return 0;
	net_route_describe(r, text, sizeof(text));
	return kilo_error_set(err, EINVAL, "routes[%zu]: %s: destination, gateway and source must be one family", i,
			      text);
}

int kilo_net_routes_check(const struct kilo_route *routes, size_t n, struct kilo_error *err)
{
	for (size_t i = 0; i < n; i++) {
		int r = route_check(&routes[i], i, err);

		if (r < 0)
			return r;
	}
	return 0;
}

static int route_send(kilo_net *net, uint16_t type, uint16_t flags, const struct net_route *route,
		      const char *verb, struct kilo_error *err)
{
	char buf[NET_REQUEST_SIZE], text[160], what[192];

	net_route_describe(&route->route, text, sizeof(text));
	snprintf(what, sizeof(what), "%s %s", verb, text);
	return kilo__net_talk(net, kilo__net_route_message(buf, type, flags, route), NULL, NULL, what, err);
}

static int route_delete(kilo_net *net, const struct net_route *route, struct kilo_error *err)
{
	struct kilo_error local = { 0 };
	int r = route_send(net, RTM_DELROUTE, 0, route, "deleting", &local);

	/* Gone already, with its link perhaps: what the sync wanted. */
	if (r == -ESRCH || r == -ENODEV)
		return 0;
	kilo__net_error_pass(err, &local);
	return r < 0 ? r : 1;
}

/* Orders addresses by family, then by their bytes (only those of the family count). */
static int compare_addr(const struct kilo_addr *a, const struct kilo_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->bytes, b->bytes, a->family == 4 ? 4 : a->family == 6 ? 16 : 0);
}

/* Orders routes by slot (table, metric, destination), the order kilo__net_route_same_slot agrees with. */
static int compare_slot(const struct net_route *a, const struct net_route *b)
{
	if (a->route.table != b->route.table)
		return a->route.table < b->route.table ? -1 : 1;
	if (a->metric != b->metric)
		return a->metric < b->metric ? -1 : 1;
	if (a->route.dst.prefix != b->route.dst.prefix)
		return a->route.dst.prefix < b->route.dst.prefix ? -1 : 1;
	return compare_addr(&a->route.dst.addr, &b->route.dst.addr);
}

/* Orders routes by slot, then by nexthop: equal exactly when kilo__net_route_same. */
static int compare_route(const void *pa, const void *pb)
{
	const struct net_route *a = pa, *b = pb;
	int c = compare_slot(a, b);

	if (c == 0)
		c = compare_addr(&a->route.gw, &b->route.gw);
	if (c == 0)
		c = compare_addr(&a->route.src, &b->route.src);
	if (c == 0 && a->route.ifindex != b->route.ifindex)
		c = a->route.ifindex < b->route.ifindex ? -1 : 1;
	if (c == 0 && a->route.onlink != b->route.onlink)
		c = a->route.onlink ? 1 : -1;
	return c;
}

static int compare_slot_void(const void *a, const void *b)
{
	return compare_slot(a, b);
}

/* The first of the sorted items that does not order before key, by compare. */
static size_t lower_bound(const struct net_route *items, size_t n, const struct net_route *key,
			  int (*compare)(const void *, const void *))
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (compare(&items[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Index of the first unused route of live (sorted by compare_route) that
 * matches want fully, or in its slot only; -1 if none. Logarithmic, so a
 * sync of n routes is n log n, not n squared.
 */
static ssize_t find_live(const struct route_list *live, const bool *used, const struct net_route *want, bool slot)
{
	int (*compare)(const void *, const void *) = slot ? compare_slot_void : compare_route;

	for (size_t j = lower_bound(live->items, live->n, want, compare);
	     j < live->n && compare(&live->items[j], want) == 0; j++) {
		if (!used[j])
			return (ssize_t)j;
	}
	return -1;
}

struct indexed_route {
	const struct net_route *route;
	size_t index;
};

static int compare_indexed(const void *pa, const void *pb)
{
	const struct indexed_route *a = pa, *b = pb;
	int c = compare_route(a->route, b->route);

	return c ? c : (a->index < b->index ? -1 : a->index > b->index);
}

/* Marks every route of want[n] that an earlier one repeats exactly. */
static int mark_repeated(const struct net_route *want, size_t n, bool *repeated)
{
	struct indexed_route *order = calloc(n ? n : 1, sizeof(*order));

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		order[i] = (struct indexed_route){ .route = &want[i], .index = i };
	/* Sorted by route, then by index: a repeat follows the route it repeats. */
	qsort(order, n, sizeof(*order), compare_indexed);
	for (size_t k = 1; k < n; k++)
		repeated[order[k].index] = compare_route(order[k - 1].route, order[k].route) == 0;
	free(order);
	return 0;
}

int kilo_net_routes_sync_saving(kilo_net *net, const struct kilo_route *routes, size_t n,
				struct kilo_net_changes *changes, struct kilo_route **before, size_t *n_before,
				struct kilo_error *err)
{
	struct kilo_net_changes count = { 0 };
	struct route_list live = { 0 };
	struct net_route *want = NULL;
	bool *used = NULL, *repeated = NULL;
	ssize_t j;
	int r;

	r = kilo_net_routes_check(routes, n, err);
	if (r < 0)
		return r;
	want = calloc(n ? n : 1, sizeof(*want));
	repeated = calloc(n ? n : 1, sizeof(*repeated));
	r = want && repeated ? routes_dump(net, &live, err) : kilo_error_set(err, ENOMEM, "routes: out of memory");
	if (r == 0 && before)
		r = routes_export(&live, before, n_before, err);
	if (r < 0)
		goto out;
	used = calloc(live.n ? live.n : 1, sizeof(*used));
	for (size_t i = 0; i < n; i++)
		kilo__net_route_normalise(&routes[i], &want[i]);
	if (!used || mark_repeated(want, n, repeated) < 0) {
		r = kilo_error_set(err, ENOMEM, "routes: out of memory");
		goto out;
	}
	if (live.n > 1)
		qsort(live.items, live.n, sizeof(*live.items), compare_route);
	/* In the caller's order: a route may need one before it (a gateway that is not onlink). */
	for (size_t i = 0; i < n; i++) {
		if (repeated[i])
			continue;
		j = find_live(&live, used, &want[i], false);
		if (j >= 0) {
			used[j] = true;
			continue;
		}
		/* Same slot, new nexthop: the kernel swaps it in place, without a moment of no route. */
		j = find_live(&live, used, &want[i], true);
		if (j >= 0)
			used[j] = true;
		r = route_send(net, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &want[i], "adding", err);
		if (r < 0) {
			kilo_error_prefix(err, "routes[%zu]", i);
			goto out;
		}
		if (j >= 0)
			count.replaced++;
		else
			count.added++;
	}
	for (size_t k = 0; k < live.n; k++) {
		if (used[k])
			continue;
		r = route_delete(net, &live.items[k], err);
		if (r < 0)
			goto out;
		count.removed += (unsigned)r;
	}
	r = 0;
out:
	if (changes) {
		changes->added += count.added;
		changes->removed += count.removed;
		changes->replaced += count.replaced;
	}
	free(used);
	free(repeated);
	free(live.items);
	free(want);
	return r;
}

int kilo_net_routes_sync(kilo_net *net, const struct kilo_route *routes, size_t n, struct kilo_net_changes *changes,
			 struct kilo_error *err)
{
	return kilo_net_routes_sync_saving(net, routes, n, changes, NULL, NULL, err);
}
