/* SPDX-License-Identifier: Apache-2.0 */
/* Device sync for the applier, which must be able to put a device back. */
#ifndef KILO_LIB_WG_SYNC_H
#define KILO_LIB_WG_SYNC_H

#include <kilo/wg.h>

/*
 * kilo_wg_device_sync that also hands back, in *before, the device as it
 * was before the change, so that a later failure can sync it back. A
 * caller that knows what the device holds (what it sent last) passes it
 * in *before, which this call then takes instead of reading the device:
 * at a thousand peers the read costs more than the rest of the sync.
 * *before is NULL when the device could not be read; free it with
 * kilo_wg_config_free (it wipes the key).
 */
int kilo_wg_device_sync_saving(kilo_wg *wg, const char *ifname, const kilo_wg_config *desired,
			       struct kilo_wg_sync_report *report, kilo_wg_config **before, struct kilo_error *err);

#endif
