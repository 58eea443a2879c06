/* SPDX-License-Identifier: Apache-2.0 */
/* The WireGuard link itself, over rtnetlink. */
#include "kernel.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "../core/error.h"

#define WG_LINK_KIND "wireguard"

static struct nlmsghdr *link_request(struct kilo_wg_kernel *k, void *buf, uint16_t type, uint16_t flags,
				     const char *ifname)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = kilo_netlink_next_seq(&k->route);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	return nlh;
}

static int info_kind_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == IFLA_INFO_KIND && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(data, IFNAMSIZ, "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == IFLA_LINKINFO)
		mnl_attr_parse_nested(attr, info_kind_cb, data);
	return MNL_CB_OK;
}

static int link_kind_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct ifinfomsg)))
		return MNL_CB_OK;
	return mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_attr_cb, data);
}

/* The kind of the existing link ifname ("" for a plain device). */
static int link_kind(struct kilo_wg_kernel *k, const char *ifname, char kind[IFNAMSIZ], struct kilo_error *err)
{
	char buf[128], what[IFNAMSIZ + 8];
	struct nlmsghdr *nlh = link_request(k, buf, RTM_GETLINK, NLM_F_ACK, ifname);

	kind[0] = '\0';
	snprintf(what, sizeof(what), "link %s", ifname);
	return kilo_netlink_talk(&k->route, buf, nlh->nlmsg_len, nlh->nlmsg_seq, link_kind_cb, kind, what, err);
}

int kilo_wg_kernel_link_add(struct kilo_wg_kernel *k, const char *ifname, struct kilo_error *err)
{
	char buf[256], what[IFNAMSIZ + 32], kind[IFNAMSIZ];
	struct kilo_error scratch = { 0 };
	struct nlmsghdr *nlh;
	struct nlattr *info;
	int r = kilo_wg_kernel_check_ifname(ifname, err);

	if (r < 0)
		return r;
	nlh = link_request(k, buf, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, ifname);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, WG_LINK_KIND);
	mnl_attr_nest_end(nlh, info);
	snprintf(what, sizeof(what), "creating WireGuard link %s", ifname);
	r = kilo_netlink_talk(&k->route, buf, nlh->nlmsg_len, nlh->nlmsg_seq, NULL, NULL, what, &scratch);
	if (r == 0)
		return 1;
	if (r != -EEXIST)
		return kilo_wg_kernel_pass_error(err, &scratch, r);
	r = link_kind(k, ifname, kind, err);
	if (r < 0)
		return r;
	if (strcmp(kind, WG_LINK_KIND) != 0)
		return kilo_error_set(err, EEXIST, "link %s exists and is not WireGuard (kind \"%s\")", ifname, kind);
	return 0;
}

int kilo_wg_kernel_link_del(struct kilo_wg_kernel *k, const char *ifname, struct kilo_error *err)
{
	char buf[128], what[IFNAMSIZ + 32];
	struct nlmsghdr *nlh;
	int r = kilo_wg_kernel_check_ifname(ifname, err);

	if (r < 0)
		return r;
	nlh = link_request(k, buf, RTM_DELLINK, NLM_F_ACK, ifname);
	snprintf(what, sizeof(what), "deleting link %s", ifname);
	return kilo_netlink_talk(&k->route, buf, nlh->nlmsg_len, nlh->nlmsg_seq, NULL, NULL, what, err);
}
