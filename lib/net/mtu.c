/* SPDX-License-Identifier: Apache-2.0 */
/* --mtu auto: the underlying link's MTU less WireGuard's overhead. */
#include "internal.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "../core/error.h"

/* The default route of the main table with the lowest metric, per family. */
struct default_route {
	int ifindex[2]; /* [0]: IPv4, [1]: IPv6 */
	uint32_t metric[2];
};

static int default_route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct default_route *found = data;
	uint32_t table = 0, metric = 0;
	const struct nlattr *attr;
	int ifindex = 0, slot;

	if (nlh->nlmsg_type != RTM_NEWROUTE || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)) || rtm->rtm_dst_len ||
	    rtm->rtm_type != RTN_UNICAST || (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6))
		return MNL_CB_OK;
	table = rtm->rtm_table;
	mnl_attr_for_each(attr, nlh, sizeof(*rtm)) {
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			continue;
		if (mnl_attr_get_type(attr) == RTA_TABLE)
			table = mnl_attr_get_u32(attr);
		else if (mnl_attr_get_type(attr) == RTA_OIF)
			ifindex = (int)mnl_attr_get_u32(attr);
		else if (mnl_attr_get_type(attr) == RTA_PRIORITY)
			metric = mnl_attr_get_u32(attr);
	}
	slot = rtm->rtm_family == AF_INET ? 0 : 1;
	if (table == RT_TABLE_MAIN && ifindex > 0 && (!found->ifindex[slot] || metric < found->metric[slot])) {
		found->ifindex[slot] = ifindex;
		found->metric[slot] = metric;
	}
	return MNL_CB_OK;
}

static void default_route_reset(void *data)
{
	*(struct default_route *)data = (struct default_route){ 0 };
}

int kilo_net_mtu_auto(const struct kilo_addr *private_ip, uint32_t *mtu, struct kilo_error *err)
{
	struct default_route found = { 0 };
	kilo_net *net = NULL;
	uint32_t link_mtu;
	int ifindex, r;

	r = kilo_net_open(&net, err);
	if (r < 0)
		return r;
	r = net_dump(net, RTM_GETROUTE, AF_UNSPEC, sizeof(struct rtmsg), default_route_cb, default_route_reset, &found,
		     "listing routes", err);
	if (r < 0)
		goto out;
	ifindex = found.ifindex[0] ? found.ifindex[0] : found.ifindex[1];
	if (!ifindex && private_ip && private_ip->family) {
		r = kilo_net_address_link(private_ip, &ifindex, err);
		if (r < 0)
			goto out;
	}
	if (!ifindex) {
		r = kilo_error_set(err, ENETUNREACH, "no default route, and no private IP, to measure");
		goto out;
	}
	r = net_link_mtu(net, ifindex, &link_mtu, err);
	if (r < 0)
		goto out;
	if (link_mtu <= KILO_WG_OVERHEAD) {
		r = kilo_error_set(err, ERANGE, "link %d has an MTU of %u, too small for WireGuard", ifindex,
				   link_mtu);
		goto out;
	}
	*mtu = link_mtu - KILO_WG_OVERHEAD;
out:
	kilo_net_close(net);
	return r;
}
