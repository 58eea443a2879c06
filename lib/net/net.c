/* SPDX-License-Identifier: Apache-2.0 */
/* The host networking handle and the rtnetlink plumbing shared by links, addresses, routes and rules. */
#include "internal.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/error.h"

/* A dump interrupted this often in a row means the tables churn faster than we can read them. */
#define DUMP_ATTEMPTS 8

int kilo_net_open(kilo_net **out, struct kilo_error *err)
{
	kilo_net *net;
	int r;

	*out = NULL;
	net = calloc(1, sizeof(*net));
	if (!net)
		return kilo_error_set(err, ENOMEM, "host networking: out of memory");
	r = kilo_netlink_open(&net->rt, NETLINK_ROUTE, err);
	if (r < 0) {
		free(net);
		return r;
	}
	*out = net;
	return 0;
}

void kilo_net_close(kilo_net *net)
{
	if (!net)
		return;
	kilo_netlink_close(&net->rt);
	if (net->nf.socket)
		kilo_netlink_close(&net->nf);
	free(net);
}

struct nlmsghdr *kilo__net_request(void *buf, uint16_t type, uint16_t flags, size_t hdrlen)
{
	struct nlmsghdr *nlh;

	/* Attribute padding is not always cleared by libmnl: no stray stack bytes in requests. */
	memset(buf, 0, NET_REQUEST_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	if (hdrlen)
		mnl_nlmsg_put_extra_header(nlh, hdrlen);
	return nlh;
}

int kilo__net_talk(kilo_net *net, struct nlmsghdr *nlh, mnl_cb_t cb, void *data, const char *what,
	     struct kilo_error *err)
{
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = kilo_netlink_next_seq(&net->rt);
	return kilo_netlink_talk(&net->rt, nlh, nlh->nlmsg_len, nlh->nlmsg_seq, cb, data, what, err);
}

int kilo__net_dump(kilo_net *net, uint16_t type, uint8_t family, size_t hdrlen, mnl_cb_t cb, void (*reset)(void *),
	     void *data, const char *what, struct kilo_error *err)
{
	char buf[NET_REQUEST_SIZE];
	struct nlmsghdr *nlh;
	int r = -EINTR;

	for (int attempt = 0; attempt < DUMP_ATTEMPTS && r == -EINTR; attempt++) {
		if (attempt > 0)
			reset(data);
		nlh = kilo__net_request(buf, type, NLM_F_DUMP, hdrlen);
		/* Every rtnetlink header starts with its family byte. */
		*(uint8_t *)mnl_nlmsg_get_payload(nlh) = family;
		nlh->nlmsg_seq = kilo_netlink_next_seq(&net->rt);
		r = kilo_netlink_talk(&net->rt, nlh, nlh->nlmsg_len, nlh->nlmsg_seq, cb, data, what, err);
	}
	if (r == -EINTR)
		return kilo_error_set(err, EINTR, "%s: the kernel interrupted the dump %d times", what, DUMP_ATTEMPTS);
	return r;
}

void kilo__net_error_pass(struct kilo_error *err, const struct kilo_error *local)
{
	if (err && err->code == 0 && local->code != 0)
		*err = *local;
}

uint8_t kilo__net_af(uint8_t family)
{
	return family == 4 ? AF_INET : family == 6 ? AF_INET6 : 0;
}

uint8_t kilo__net_family(uint8_t af)
{
	return af == AF_INET ? 4 : af == AF_INET6 ? 6 : 0;
}

size_t kilo__net_addr_len(uint8_t family)
{
	return family == 6 ? 16 : 4;
}

void kilo__net_put_addr(struct nlmsghdr *nlh, uint16_t type, const struct kilo_addr *addr)
{
	mnl_attr_put(nlh, type, kilo__net_addr_len(addr->family), addr->bytes);
}

bool kilo__net_get_addr(const struct nlattr *attr, uint8_t family, struct kilo_addr *out)
{
	size_t len = kilo__net_addr_len(family);

	if (mnl_attr_get_payload_len(attr) != len)
		return false;
	memset(out, 0, sizeof(*out));
	out->family = family;
	memcpy(out->bytes, mnl_attr_get_payload(attr), len);
	return true;
}
