/* SPDX-License-Identifier: Apache-2.0 */
/* Bringing a device to a configuration with the smallest change. */
#include "sync.h"

#include <errno.h>
#include <string.h>

#include "../core/error.h"
#include "../core/wgconf.h"
#include "diff.h"

int kilo_wg_device_sync_saving(kilo_wg *wg, const char *ifname, const kilo_wg_config *desired,
			       struct kilo_wg_sync_report *report, kilo_wg_config **before, struct kilo_error *err)
{
	kilo_wg_config *live = before ? *before : NULL, *change = NULL;
	struct kilo_wg_sync_report counts = { 0 }, ignored;
	int r = 0;

	if (!report)
		report = &ignored;
	memset(report, 0, sizeof(*report));
	if (!live)
		r = kilo_wg_device_get(wg, ifname, &live, err);
	if (r == 0) {
		r = kilo_wg_config_diff_counted(live, desired, &change, &counts);
		if (r < 0)
			kilo_error_set(err, -r, "%s: comparing with the device: %s", ifname, strerror(-r));
	}
	if (r == 0 && change) {
		r = kilo_wg_device_set(wg, ifname, change, err);
		*report = counts;
		report->peers_changed = (unsigned)change->n_peers;
		report->interface_changed = change->has_private_key || change->has_listen_port || change->has_fwmark;
	}
	kilo_wg_config_free(change);
	if (before)
		*before = live;
	else
		kilo_wg_config_free(live);
	return r;
}

int kilo_wg_device_sync(kilo_wg *wg, const char *ifname, const kilo_wg_config *desired,
			struct kilo_wg_sync_report *report, struct kilo_error *err)
{
	return kilo_wg_device_sync_saving(wg, ifname, desired, report, NULL, err);
}
