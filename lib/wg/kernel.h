/* SPDX-License-Identifier: Apache-2.0 */
/* What the kernel backend's files share: the handle and error plumbing. */
#ifndef KILO_LIB_WG_KERNEL_H
#define KILO_LIB_WG_KERNEL_H

#include "../core/netlink.h"
#include "backend.h"

struct kilo_wg_kernel {
	struct kilo_netlink genl;  /* the "wireguard" family */
	struct kilo_netlink route; /* links */
	uint16_t family;
	bool removes_allowed_ips;  /* the kernel knows WGALLOWEDIP_F_REMOVE_ME (Linux 6.16) */
};

/* -EINVAL, named in err, when ifname cannot be an interface name. */
int kilo_wg_kernel_check_ifname(const char *ifname, struct kilo_error *err);

/*
 * Hands a message recorded in a scratch error on to err, keeping the rule
 * that the first message recorded wins; returns r.
 */
int kilo_wg_kernel_pass_error(struct kilo_error *err, const struct kilo_error *scratch, int r);

#endif
