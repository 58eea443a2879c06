/* SPDX-License-Identifier: Apache-2.0 */
/* Putting the host back as it was when kilo_apply fails half way. */
#include "apply.h"

#include <stdio.h>
#include <string.h>

#include "../core/error.h"

void kilo_apply_keep_first(int r, struct kilo_error *step, struct kilo_error *first)
{
	if (r < 0 && first->code == 0)
		*first = *step;
	/* A failure is kept, with its errno's words, even where the step named none. */
	if (r < 0 && first->code == 0)
		kilo_error_set(first, -r, "%s", strerror(-r));
	memset(step, 0, sizeof(*step));
}

void kilo_apply_undo_run(const struct kilo_apply_opts *opts, kilo_wg *wg, kilo_net *net,
			 const struct kilo_apply_undo *undo, struct kilo_error *err)
{
	struct kilo_error step = { 0 }, first = { 0 };
	char joined[KILO_ERROR_MESSAGE_MAX];

	if (undo->rules)
		kilo_apply_keep_first(kilo_net_rules_sync(net, undo->rules, undo->n_rules, NULL, &step), &step, &first);
	if (undo->routes)
		kilo_apply_keep_first(kilo_net_routes_sync(net, undo->routes, undo->n_routes, NULL, &step), &step, &first);
	/* A deleted device takes its routes, addresses and the program started for it along. */
	if (undo->device_created)
		kilo_apply_keep_first(kilo_wg_device_delete(wg, opts->interface, &step), &step, &first);
	else if (undo->device)
		kilo_apply_keep_first(kilo_wg_device_sync(wg, opts->interface, undo->device, NULL, &step), &step, &first);
	if (undo->tunnel_created)
		kilo_apply_keep_first(kilo_net_link_delete(net, opts->tunnel_interface, &step), &step, &first);
	if (err && err->code && first.code) {
		snprintf(joined, sizeof(joined), "%.250s; undoing the changes failed too: %.200s", err->message,
			 first.message);
		memcpy(err->message, joined, sizeof(joined));
	}
}

void kilo_apply_undo_free(struct kilo_apply_undo *undo)
{
	kilo_wg_config_free(undo->device);
	kilo_free(undo->routes);
	kilo_free(undo->rules);
}
