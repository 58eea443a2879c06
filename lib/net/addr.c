/* SPDX-License-Identifier: Apache-2.0 */
/* The addresses of one link, made exactly the requested set. */
#include "internal.h"

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/error.h"

struct nlmsghdr *kilo__net_address_message(void *buf, uint16_t type, uint16_t flags, int ifindex,
				     const struct kilo_cidr *addr)
{
	struct nlmsghdr *nlh = kilo__net_request(buf, type, flags, sizeof(struct ifaddrmsg));
	struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);

	ifa->ifa_family = kilo__net_af(addr->addr.family);
	ifa->ifa_prefixlen = addr->prefix;
	ifa->ifa_index = (uint32_t)ifindex;
	kilo__net_put_addr(nlh, IFA_LOCAL, &addr->addr);
	kilo__net_put_addr(nlh, IFA_ADDRESS, &addr->addr);
	return nlh;
}

struct address_list {
	int ifindex;
	struct kilo_cidr *items;
	size_t n, cap;
};

/* The kernel makes an IPv6 link-local address for every link; it is not libkilo's to remove. */
static bool is_kernel_link_local(const struct kilo_cidr *c)
{
	return c->addr.family == 6 && c->addr.bytes[0] == 0xfe && (c->addr.bytes[1] & 0xc0) == 0x80;
}

static int address_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct address_list *list = data;
	struct kilo_cidr cidr = { 0 };
	const struct nlattr *attr;
	uint8_t family;

	if (nlh->nlmsg_type != RTM_NEWADDR || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return MNL_CB_ERROR;
	family = kilo__net_family(ifa->ifa_family);
	if (!family || (int)ifa->ifa_index != list->ifindex)
		return MNL_CB_OK;
	/* IFA_LOCAL is the address itself; IFA_ADDRESS is the peer's on point-to-point links. */
	mnl_attr_for_each(attr, nlh, sizeof(*ifa)) {
		uint16_t type = mnl_attr_get_type(attr);

		if ((type == IFA_LOCAL || (type == IFA_ADDRESS && !cidr.addr.family)) &&
		    !kilo__net_get_addr(attr, family, &cidr.addr))
			return MNL_CB_ERROR;
	}
	cidr.prefix = ifa->ifa_prefixlen;
	if (!cidr.addr.family || is_kernel_link_local(&cidr))
		return MNL_CB_OK;
	if (kilo_array_reserve((void **)&list->items, &list->cap, list->n + 1, sizeof(cidr)) < 0)
		return MNL_CB_ERROR;
	list->items[list->n++] = cidr;
	return MNL_CB_OK;
}

static void address_list_reset(void *data)
{
	((struct address_list *)data)->n = 0;
}

static bool contains(const struct kilo_cidr *items, size_t n, const struct kilo_cidr *c)
{
	for (size_t i = 0; i < n; i++) {
		if (kilo_cidr_equal(&items[i], c))
			return true;
	}
	return false;
}

static int address_send(kilo_net *net, uint16_t type, uint16_t flags, int ifindex, const struct kilo_cidr *c,
			const char *verb, struct kilo_error *err)
{
	char buf[NET_REQUEST_SIZE], text[KILO_CIDR_STRLEN], what[128];

	kilo_cidr_format(c, text);
	snprintf(what, sizeof(what), "%s address %s on link %d", verb, text, ifindex);
	return kilo__net_talk(net, kilo__net_address_message(buf, type, flags, ifindex, c), NULL, NULL, what, err);
}

static int addresses_dump(kilo_net *net, struct address_list *list, struct kilo_error *err)
{
	return kilo__net_dump(net, RTM_GETADDR, AF_UNSPEC, sizeof(struct ifaddrmsg), address_cb, address_list_reset, list,
			"listing addresses", err);
}

int kilo_net_addresses_sync(kilo_net *net, int ifindex, const struct kilo_cidr *addrs, size_t n,
			    struct kilo_net_changes *changes, struct kilo_error *err)
{
	struct address_list live = { .ifindex = ifindex };
	struct kilo_net_changes count = { 0 };
	struct kilo_error local = { 0 };
	int r;

	for (size_t i = 0; i < n; i++) {
		if (addrs[i].addr.family != 4 && addrs[i].addr.family != 6)
			return kilo_error_set(err, EINVAL, "addresses[%zu]: not an IPv4 or IPv6 address", i);
	}
	r = addresses_dump(net, &live, err);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < live.n; i++) {
		if (contains(addrs, n, &live.items[i]))
			continue;
		r = address_send(net, RTM_DELADDR, 0, ifindex, &live.items[i], "deleting", &local);
		if (r < 0 && r != -EADDRNOTAVAIL) {
			kilo__net_error_pass(err, &local);
			goto out;
		}
		count.removed += r == 0;
	}
	/*
	 * Deleting a primary IPv4 address takes its secondaries with it, so
	 * what is left is read again before adding.
	 */
	if (count.removed) {
		live.n = 0;
		r = addresses_dump(net, &live, err);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (contains(live.items, live.n, &addrs[i]) || contains(addrs, i, &addrs[i]))
			continue;
		r = address_send(net, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, &addrs[i], "adding", err);
		if (r < 0) {
			kilo_error_prefix(err, "addresses[%zu]", i);
			goto out;
		}
		count.added++;
	}
	r = 0;
out:
	if (changes) {
		changes->added += count.added;
		changes->removed += count.removed;
	}
	free(live.items);
	return r;
}
