// SPDX-License-Identifier: Apache-2.0
/*
 * The links the load balancer's programs go on, followed through
 * rtnetlink's link events: a veth enslaved to the CNI bridge gets the pod
 * programs as soon as the CNI plugin enslaves it, a link that leaves the
 * bridge loses them, and a link deleted is forgotten (its filters went with
 * it). The socket is read on the agent's loop, never waited on.
 */
#include "lb.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/error.h"
#include "../core/netlink.h"

/* Room for a burst of pods coming up at once before the kernel drops events (then every link is looked at again). */
#define EVENTS_RCVBUF (1 << 20)

static int linkinfo_attr(const struct nlattr *attr, void *data)
{
	struct kilo_lb_link *seen = data;

	if (mnl_attr_get_type(attr) == IFLA_INFO_KIND && mnl_attr_validate(attr, MNL_TYPE_STRING) == 0)
		seen->veth = strcmp(mnl_attr_get_str(attr), "veth") == 0;
	return MNL_CB_OK;
}

static int link_attr(const struct nlattr *attr, void *data)
{
	struct kilo_lb_link *seen = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(attr, MNL_TYPE_STRING) == 0)
			snprintf(seen->name, sizeof(seen->name), "%s", mnl_attr_get_str(attr));
		break;
	case IFLA_MASTER:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			seen->master = (int)mnl_attr_get_u32(attr);
		break;
	case IFLA_LINKINFO:
		mnl_attr_parse_nested(attr, linkinfo_attr, seen);
		break;
	}
	return MNL_CB_OK;
}

bool kilo__lb_link_parse(const struct nlmsghdr *nlh, struct kilo_lb_link *out)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	/* The bridge's own notices of its ports (AF_BRIDGE) say nothing of the link's kind. */
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)) || ifi->ifi_family != AF_UNSPEC)
		return false;
	*out = (struct kilo_lb_link){ .ifindex = ifi->ifi_index };
	return mnl_attr_parse(nlh, sizeof(*ifi), link_attr, out) >= 0 && out->name[0];
}

static bool attached(const struct kilo_lb_links *l, int ifindex)
{
	size_t n;
	const struct kilo_bpf_attachment *list = kilo_bpf_attachments(l->bpf, &n);

	for (size_t i = 0; i < n; i++)
		if (list[i].ifindex == ifindex)
			return true;
	return false;
}

/* KILO_BPF_POD, KILO_BPF_NETDEV, or -1 for a link that gets nothing. */
static int role_of(const struct kilo_lb_links *l, const struct kilo_lb_link *seen)
{
	for (size_t i = 0; i < sizeof(l->netdevs) / sizeof(l->netdevs[0]); i++)
		if (l->netdevs[i][0] && strcmp(l->netdevs[i], seen->name) == 0)
			return KILO_BPF_NETDEV;
	if (seen->veth && l->bridge_ifindex && seen->master == l->bridge_ifindex)
		return KILO_BPF_POD;
	return -1;
}

static int handle(struct kilo_lb_links *l, uint16_t type, const struct kilo_lb_link *seen, struct kilo_error *err)
{
	bool is_bridge = strcmp(seen->name, l->bridge) == 0;
	int role;

	if (type == RTM_DELLINK) {
		if (is_bridge)
			l->bridge_ifindex = 0;
		/* The kernel took the filters with the link: the handle only forgets it. */
		return attached(l, seen->ifindex) ? kilo_bpf_detach(l->bpf, seen->ifindex, err) : 0;
	}
	if (is_bridge)
		l->bridge_ifindex = seen->ifindex;
	role = role_of(l, seen);
	if (role >= 0)
		return kilo_bpf_attach(l->bpf, seen->ifindex, (enum kilo_bpf_role)role, err);
	return attached(l, seen->ifindex) ? kilo_bpf_detach(l->bpf, seen->ifindex, err) : 0;
}

struct dump {
	struct kilo_lb_link *links;
	size_t n, cap;
};

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;

	if (d->n == d->cap) {
		struct kilo_lb_link *grown = realloc(d->links, (d->cap = d->cap * 2 + 16) * sizeof(*grown));

		if (!grown)
			return MNL_CB_ERROR;
		d->links = grown;
	}
	if (kilo__lb_link_parse(nlh, &d->links[d->n]))
		d->n++;
	return MNL_CB_OK;
}

int kilo_lb_links_scan(struct kilo_lb_links *l, struct kilo_error *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct kilo_netlink nl;
	struct dump d = { 0 };
	struct nlmsghdr *nlh;
	int r, first = 0;

	r = kilo_netlink_open(&nl, NETLINK_ROUTE, err);
	if (r < 0)
		return r;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = kilo_netlink_next_seq(&nl);
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
	r = kilo_netlink_talk(&nl, nlh, nlh->nlmsg_len, nlh->nlmsg_seq, dump_cb, &d, "listing links", err);
	kilo_netlink_close(&nl);
	/* The bridge first: its veths may come before it in the dump. */
	l->bridge_ifindex = 0;
	for (size_t i = 0; r == 0 && i < d.n; i++)
		if (strcmp(d.links[i].name, l->bridge) == 0)
			l->bridge_ifindex = d.links[i].ifindex;
	for (size_t i = 0; r == 0 && i < d.n; i++) {
		int h = handle(l, RTM_NEWLINK, &d.links[i], err);

		if (h < 0 && first == 0)
			first = h;
	}
	free(d.links);
	return r < 0 ? r : first;
}

int kilo_lb_links_open(struct kilo_lb_links *l, kilo_bpf *bpf, const char *bridge, struct kilo_error *err)
{
	int size = EVENTS_RCVBUF;

	*l = (struct kilo_lb_links){ .bpf = bpf };
	snprintf(l->bridge, sizeof(l->bridge), "%s", bridge);
	l->events = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	/* Subscribed before the first look, so that no link appears unseen in between. */
	if (!l->events || mnl_socket_bind(l->events, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		kilo_lb_links_close(l);
		return kilo_error_set(err, e, "bpf: link events: %s", strerror(e));
	}
	setsockopt(mnl_socket_get_fd(l->events), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return kilo_lb_links_scan(l, err);
}

void kilo_lb_links_close(struct kilo_lb_links *l)
{
	if (l->events)
		mnl_socket_close(l->events);
	l->events = NULL;
}

int kilo_lb_links_fd(const struct kilo_lb_links *l)
{
	return l->events ? mnl_socket_get_fd(l->events) : -1;
}

void kilo__lb_link_walk(const void *buf, size_t len, kilo_lb_link_fn fn, void *ctx)
{
	const unsigned char *p = buf;

	/* Bounds checked here: mnl_cb_run takes a length past 2 GiB for a negative one and runs off the buffer. */
	while (len >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)p;
		size_t step = NLMSG_ALIGN(nlh->nlmsg_len);
		struct kilo_lb_link link;

		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len)
			return;
		if ((nlh->nlmsg_type == RTM_NEWLINK || nlh->nlmsg_type == RTM_DELLINK) && kilo__lb_link_parse(nlh, &link))
			fn(nlh->nlmsg_type, &link, ctx);
		if (step >= len)
			return;
		p += step;
		len -= step;
	}
}

struct event_ctx {
	struct kilo_lb_links *l;
	struct kilo_error *err;
	int first;
};

static void event(uint16_t type, const struct kilo_lb_link *link, void *data)
{
	struct event_ctx *ctx = data;
	int r = handle(ctx->l, type, link, ctx->err);

	if (r < 0 && ctx->first == 0)
		ctx->first = r;
}

int kilo_lb_links_read(struct kilo_lb_links *l, struct kilo_error *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct event_ctx ctx = { .l = l, .err = err };

	if (!l->events)
		return 0;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(l->events, buf, sizeof(buf));

		if (n < 0 && errno == ENOBUFS) {
			/* The kernel dropped events: what they said is read from the links themselves. */
			int r = kilo_lb_links_scan(l, err);

			if (r < 0 && ctx.first == 0)
				ctx.first = r;
			continue;
		}
		if (n < 0)
			break;
		kilo__lb_link_walk(buf, (size_t)n, event, &ctx);
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && ctx.first == 0)
		ctx.first = kilo_error_set(err, errno, "bpf: link events: %s", strerror(errno));
	return ctx.first;
}

int kilo_lb_links_netdev(struct kilo_lb_links *l, unsigned slot, const char *ifname, struct kilo_error *err)
{
	const char *name = ifname ? ifname : "";
	unsigned ifindex;

	if (slot >= sizeof(l->netdevs) / sizeof(l->netdevs[0]))
		return kilo_error_set(err, EINVAL, "bpf: node interface slot %u: out of range", slot);
	if (strcmp(l->netdevs[slot], name) == 0)
		return 0;
	/* The link that no longer is one of the node's: its NodePort program goes. */
	ifindex = l->netdevs[slot][0] ? if_nametoindex(l->netdevs[slot]) : 0;
	snprintf(l->netdevs[slot], sizeof(l->netdevs[slot]), "%s", name);
	if (ifindex && attached(l, (int)ifindex)) {
		int r = kilo_bpf_detach(l->bpf, (int)ifindex, err);

		if (r < 0)
			return r;
	}
	ifindex = name[0] ? if_nametoindex(name) : 0;
	/* A link that does not exist yet is attached when its event comes. */
	return ifindex ? kilo_bpf_attach(l->bpf, (int)ifindex, KILO_BPF_NETDEV, err) : 0;
}
