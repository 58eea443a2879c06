/* SPDX-License-Identifier: Apache-2.0 */
/* Links: index by name, up/down and MTU, IPIP tunnels, deletion; the MTU --mtu auto measures. */
#include "internal.h"

#include <errno.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/error.h"
#include "../core/opts.h"

struct link_state {
	int ifindex;
	unsigned int flags;
	uint32_t mtu;
};

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct link_state *state = data;
	const struct nlattr *attr;

	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return MNL_CB_OK;
	state->ifindex = ifi->ifi_index;
	state->flags = ifi->ifi_flags;
	mnl_attr_for_each(attr, nlh, sizeof(*ifi)) {
		if (mnl_attr_get_type(attr) == IFLA_MTU && mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			state->mtu = mnl_attr_get_u32(attr);
	}
	return MNL_CB_OK;
}

static int check_name(const char *ifname, struct kilo_error *err)
{
	if (!ifname || !ifname[0] || strlen(ifname) >= IFNAMSIZ)
		return kilo_error_set(err, EINVAL, "link name \"%s\": not 1 to %d characters", ifname ? ifname : "",
				      IFNAMSIZ - 1);
	return 0;
}

/* The state of the link named ifname (or, when ifname is NULL, of ifindex). */
static int link_get(kilo_net *net, const char *ifname, int ifindex, struct link_state *state,
		    struct kilo_error *err)
{
	char buf[NET_REQUEST_SIZE], what[64];
	struct kilo_error local = { 0 };
	struct nlmsghdr *nlh = kilo__net_request(buf, RTM_GETLINK, 0, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	int r;

	ifi->ifi_family = AF_UNSPEC;
	if (ifname) {
		mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
		snprintf(what, sizeof(what), "link %s", ifname);
	} else {
		ifi->ifi_index = ifindex;
		snprintf(what, sizeof(what), "link %d", ifindex);
	}
	memset(state, 0, sizeof(*state));
	r = kilo__net_talk(net, nlh, link_cb, state, what, &local);
	if (r == -ENODEV)
		return kilo_error_set(err, ENODEV, "%s: no such link", what);
	kilo__net_error_pass(err, &local);
	return r;
}

int kilo_net_link_index(kilo_net *net, const char *ifname, int *ifindex, struct kilo_error *err)
{
	struct link_state state;
	int r = check_name(ifname, err);

	if (r < 0)
		return r;
	r = link_get(net, ifname, 0, &state, err);
	if (r < 0)
		return r;
	*ifindex = state.ifindex;
	return 0;
}

int kilo_net_link_set(kilo_net *net, int ifindex, const struct kilo_link_opts *opts_in,
		      struct kilo_net_changes *changes, struct kilo_error *err)
{
	struct kilo_link_opts opts;
	char buf[NET_REQUEST_SIZE], what[64];
	struct link_state state;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	bool up_differs, mtu_differs;
	int r;

	r = KILO_OPTS_COPY(&opts, opts_in, kilo_link_opts, err);
	if (r < 0)
		return r;
	r = link_get(net, NULL, ifindex, &state, err);
	if (r < 0)
		return r;
	up_differs = !!(state.flags & IFF_UP) != !opts.down;
	mtu_differs = opts.mtu != 0 && opts.mtu != state.mtu;
	if (!up_differs && !mtu_differs)
		return 0;
	nlh = kilo__net_request(buf, RTM_NEWLINK, 0, sizeof(*ifi));
	ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (up_differs) {
		ifi->ifi_change = IFF_UP;
		ifi->ifi_flags = !opts.down ? IFF_UP : 0;
	}
	if (mtu_differs)
		mnl_attr_put_u32(nlh, IFLA_MTU, opts.mtu);
	snprintf(what, sizeof(what), "link %d: setting %s mtu %u", ifindex, !opts.down ? "up" : "down",
		 mtu_differs ? opts.mtu : state.mtu);
	r = kilo__net_talk(net, nlh, NULL, NULL, what, err);
	if (r == 0 && changes)
		changes->replaced++;
	return r;
}

int kilo_net_ipip_create(kilo_net *net, const char *name, int *ifindex, struct kilo_error *err)
{
	char buf[NET_REQUEST_SIZE], what[64];
	struct kilo_error local = { 0 };
	struct link_state state;
	struct nlmsghdr *nlh;
	struct nlattr *info;
	int r = check_name(name, err);

	if (r < 0)
		return r;
	if (link_get(net, name, 0, &state, NULL) == 0) {
		*ifindex = state.ifindex;
		return 0;
	}
	nlh = kilo__net_request(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "ipip");
	mnl_attr_nest_end(nlh, info);
	snprintf(what, sizeof(what), "link %s: creating an ipip tunnel", name);
	r = kilo__net_talk(net, nlh, NULL, NULL, what, &local);
	/* Loading the module creates its fallback device tunl0, which may be the name asked for. */
	if (r == -EEXIST)
		r = 0;
	if (r == -EOPNOTSUPP)
		return kilo_error_set(err, EOPNOTSUPP,
				      "%s: the kernel has no ipip support (module ipip); encapsulation needs it", what);
	if (r < 0) {
		kilo__net_error_pass(err, &local);
		return r;
	}
	return kilo_net_link_index(net, name, ifindex, err);
}

int kilo_net_link_delete(kilo_net *net, const char *ifname, struct kilo_error *err)
{
	char buf[NET_REQUEST_SIZE], what[64];
	struct kilo_error local = { 0 };
	struct nlmsghdr *nlh;
	int r = check_name(ifname, err);

	if (r < 0)
		return r;
	nlh = kilo__net_request(buf, RTM_DELLINK, 0, sizeof(struct ifinfomsg));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	snprintf(what, sizeof(what), "link %s: deleting", ifname);
	r = kilo__net_talk(net, nlh, NULL, NULL, what, &local);
	if (r == -ENODEV)
		return 0;
	kilo__net_error_pass(err, &local);
	return r;
}

/* --mtu auto: the underlying link's MTU less WireGuard's overhead. */

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
	struct link_state link;
	kilo_net *net = NULL;
	int ifindex, r;

	r = kilo_net_open(&net, err);
	if (r < 0)
		return r;
	r = kilo__net_dump(net, RTM_GETROUTE, AF_UNSPEC, sizeof(struct rtmsg), default_route_cb, default_route_reset, &found,
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
	r = link_get(net, NULL, ifindex, &link, err);
	if (r < 0)
		goto out;
	if (link.mtu <= KILO_WG_OVERHEAD) {
		r = kilo_error_set(err, ERANGE, "link %d has an MTU of %u, too small for WireGuard", ifindex, link.mtu);
		goto out;
	}
	*mtu = link.mtu - KILO_WG_OVERHEAD;
out:
	kilo_net_close(net);
	return r;
}
