// SPDX-License-Identifier: Apache-2.0
/* What one reconcile changed on the host, for kg --log-level debug. */
#include "internal.h"

#include "../core/log.h"

static void log_counts(const struct kilo_logger *log, const char *kind, unsigned added, unsigned removed,
		       unsigned changed, const char *changed_word)
{
	if (added || removed || changed)
		kilo_log(log, KILO_LOG_DEBUG, "reconcile changed %s: %u added, %u removed, %u %s", kind, added, removed,
			 changed, changed_word);
}

void kilo_agent_log_changes(const struct kilo_logger *log, const char *ifname, const struct kilo_apply_report *r)
{
	if (r->device_created)
		kilo_log(log, KILO_LOG_DEBUG, "reconcile created WireGuard device %s", ifname);
	if (r->wg_interface_changed)
		kilo_log(log, KILO_LOG_DEBUG, "reconcile changed WireGuard device %s: private key or listen port", ifname);
	log_counts(log, "WireGuard peers", r->wg_peers_added, r->wg_peers_removed, r->wg_peers_updated, "updated");
	log_counts(log, "addresses", r->addresses.added, r->addresses.removed, r->addresses.replaced, "replaced");
	/* A link is only ever set: up or down, MTU. */
	if (r->link.replaced)
		kilo_log(log, KILO_LOG_DEBUG, "reconcile changed links: %u set up, down or to the MTU", r->link.replaced);
	log_counts(log, "routes", r->routes.added, r->routes.removed, r->routes.replaced, "replaced");
	log_counts(log, "rules", r->rules.added, r->rules.removed, r->rules.replaced, "replaced");
}
