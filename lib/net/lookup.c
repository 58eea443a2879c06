/* SPDX-License-Identifier: Apache-2.0 */
/* Which link holds an address: the agent's private interface. */
#include <kilo/net.h>

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/error.h"
#include "../core/netlink.h"

struct lookup {
	const struct kilo_addr *addr;
	int ifindex;
};

static int address_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct lookup *lookup = data;
	const struct nlattr *attr;
	size_t len = lookup->addr->family == 4 ? 4 : 16;

	/* IFA_LOCAL is the address itself; IFA_ADDRESS is the peer's on point-to-point links. */
	mnl_attr_for_each(attr, nlh, sizeof(*ifa)) {
		if ((mnl_attr_get_type(attr) == IFA_LOCAL || mnl_attr_get_type(attr) == IFA_ADDRESS) &&
		    mnl_attr_get_payload_len(attr) == len &&
		    memcmp(mnl_attr_get_payload(attr), lookup->addr->bytes, len) == 0 && lookup->ifindex == 0)
			lookup->ifindex = (int)ifa->ifa_index;
	}
	return MNL_CB_OK;
}

int kilo_net_address_link(const struct kilo_addr *addr, int *ifindex, struct kilo_error *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], text[KILO_ADDR_STRLEN];
	struct lookup lookup = { .addr = addr };
	struct kilo_netlink nl;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int r;

	if (addr->family != 4 && addr->family != 6)
		return kilo_error_set(err, EINVAL, "no address to look up");
	r = kilo_netlink_open(&nl, NETLINK_ROUTE, err);
	if (r < 0)
		return r;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = kilo_netlink_next_seq(&nl);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = addr->family == 4 ? AF_INET : AF_INET6;
	r = kilo_netlink_talk(&nl, nlh, nlh->nlmsg_len, nlh->nlmsg_seq, address_cb, &lookup, "listing addresses", err);
	kilo_netlink_close(&nl);
	if (r < 0)
		return r;
	if (lookup.ifindex == 0) {
		kilo_addr_format(addr, text);
		return kilo_error_set(err, ENOENT, "no link holds the address %s", text);
	}
	*ifindex = lookup.ifindex;
	return 0;
}
