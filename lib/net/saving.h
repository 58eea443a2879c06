/* SPDX-License-Identifier: Apache-2.0 */
/* Route and rule syncs for the applier, which must be able to put them back. */
#ifndef KILO_LIB_NET_SAVING_H
#define KILO_LIB_NET_SAVING_H

#include <kilo/net.h>

/*
 * kilo_net_routes_sync and kilo_net_rules_sync that also hand back, in
 * *before (n_before entries, in the kernel's order), what libkilo owned
 * before the sync changed anything: the dump the sync makes anyway, so an
 * undo costs no read of its own. *before stays NULL when the sync failed
 * before it changed anything. Free it with kilo_free.
 */
int kilo_net_routes_sync_saving(kilo_net *net, const struct kilo_route *routes, size_t n,
				struct kilo_net_changes *changes, struct kilo_route **before, size_t *n_before,
				struct kilo_error *err);
int kilo_net_rules_sync_saving(kilo_net *net, const struct kilo_rule *rules, size_t n,
			       struct kilo_net_changes *changes, struct kilo_rule **before, size_t *n_before,
			       struct kilo_error *err);

#endif
