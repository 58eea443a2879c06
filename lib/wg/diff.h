/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILO_LIB_WG_DIFF_H
#define KILO_LIB_WG_DIFF_H

#include <kilo/wg.h>
#include <kilo/wgconf.h>

/* kilo_wg_config_diff that also counts the peers it adds, removes and updates in counts. */
int kilo_wg_config_diff_counted(const kilo_wg_config *live, const kilo_wg_config *desired, kilo_wg_config **change,
				struct kilo_wg_sync_report *counts);

#endif
