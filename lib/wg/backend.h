/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel WireGuard backend (generic netlink + rtnetlink), as lib/wg/wg.c
 * dispatches to it. Every function returns 0 or -errno and records in err a
 * message naming the interface and, for kernel errors, the extended-ack text.
 */
#ifndef KILO_LIB_WG_BACKEND_H
#define KILO_LIB_WG_BACKEND_H

#include <kilo/wg.h>

#include "../core/wgconf.h"

struct kilo_wg_kernel;

/*
 * Opens the netlink sockets and resolves the "wireguard" generic netlink
 * family once. -ENOENT (with err set) when the family does not exist, i.e.
 * the module is not loaded: the caller then falls back to userspace.
 */
int kilo_wg_kernel_open(struct kilo_wg_kernel **out, struct kilo_error *err);
/* NULL is a no-op. */
void kilo_wg_kernel_close(struct kilo_wg_kernel *k);

/*
 * Reads the device: interface fields (has_interface, private and public key,
 * listen port, fwmark) and every peer with its statistics, merging a peer
 * split over several dump messages and retrying an interrupted dump.
 * -ENODEV when ifname does not exist (or is not a WireGuard link).
 * Free *out with kilo_wg_config_free.
 */
int kilo_wg_kernel_get(struct kilo_wg_kernel *k, const char *ifname, struct kilo_wg_config **out,
		       struct kilo_error *err);

/*
 * Applies change (flags as in lib/core/wgconf.h: replace_peers, peer flags
 * REMOVE, REPLACE_ALLOWED_IPS, UPDATE_ONLY, REMOVE_ALLOWED_IPS) in as many
 * messages as needed, wiping secrets from the request buffers. Adds to
 * counters->messages the messages sent and to counters->peers the peers
 * written (a peer split over several messages counts once); leaves
 * counters->set_operations to the caller.
 */
int kilo_wg_kernel_set(struct kilo_wg_kernel *k, const char *ifname, const struct kilo_wg_config *change,
		       struct kilo_wg_counters *counters, struct kilo_error *err);

/* Creates a WireGuard link ifname: 1 when it did, 0 when a WireGuard link of that name exists. */
int kilo_wg_kernel_link_add(struct kilo_wg_kernel *k, const char *ifname, struct kilo_error *err);
/* Deletes the link ifname; -ENODEV when it does not exist. */
int kilo_wg_kernel_link_del(struct kilo_wg_kernel *k, const char *ifname, struct kilo_error *err);

#endif
