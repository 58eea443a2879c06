/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kilo_apply's undo: what the host held before the first change, and what
 * the application created, so that a failure after the first change puts
 * the host back as it was.
 */
#ifndef KILO_LIB_AGENT_APPLY_H
#define KILO_LIB_AGENT_APPLY_H

#include <kilo/agent.h>

/*
 * The caller's apply options read by the rule for sz (NULL: the
 * defaults), with the defaults of interface, tunnel_interface and mtu
 * filled in.
 */
int kilo_apply_opts_read(const struct kilo_apply_opts *in, struct kilo_apply_opts *opts, struct kilo_error *err);

/*
 * What the last successful apply sent to the host: digests of the routes,
 * rules and NAT rules, and the WireGuard configuration. A zeroed memo
 * knows nothing; kilo_apply_memo_reset frees what it holds.
 */
struct kilo_apply_memo {
	bool valid;
	unsigned char routes[32];
	unsigned char rules[32];
	unsigned char nat[32];
	kilo_wg_config *device; /* owned; NULL: the device is read */
};

void kilo_apply_memo_reset(struct kilo_apply_memo *memo);

/* The plan of t for an applier with opts (read already): the routing, NAT and interface options of opts. */
int kilo_apply_plan_new(const kilo_topology *t, const struct kilo_apply_opts *opts, kilo_plan **out,
			struct kilo_error *err);
/*
 * kilo_apply of a plan, with opts read already and handles the caller
 * keeps; memo (NULL: none) is what the last apply sent, and becomes what
 * this one did.
 */
int kilo_apply_plan_with(const kilo_plan *plan, const struct kilo_apply_opts *opts, kilo_wg *wg, kilo_net *net,
			 struct kilo_apply_memo *memo, struct kilo_apply_report *report, struct kilo_error *err);
/* kilo_apply_clean_up with opts read already; wg NULL: one is opened if the device goes. */
int kilo_apply_clean_up_with(const struct kilo_apply_opts *opts, kilo_wg *wg, kilo_net *net,
			     struct kilo_error *err);

struct kilo_apply_undo {
	bool device_created;     /* the WireGuard device, and a userspace program started for it */
	bool tunnel_created;     /* the IPIP link */
	kilo_wg_config *device;  /* the device as it was before it was configured; NULL: not configured */
	/* The routes and rules libkilo owned before their sync; NULL: the sync changed nothing. */
	struct kilo_route *routes;
	size_t n_routes;
	struct kilo_rule *rules;
	size_t n_rules;
};

/*
 * Puts back what undo saved and deletes what it created, in the reverse
 * order of the changes. The NAT rule set is never undone: it is applied
 * last, in one transaction, so nothing after it fails. An address or the
 * up/down state of a link that existed before stays as the application
 * left it. A failure of the undo itself is added to err's message.
 */
void kilo_apply_undo_run(const struct kilo_apply_opts *opts, kilo_wg *wg, kilo_net *net,
			 const struct kilo_apply_undo *undo, struct kilo_error *err);

void kilo_apply_undo_free(struct kilo_apply_undo *undo);

/*
 * For a sequence of steps that all run whatever happens: keeps the first
 * failure recorded in step in first, and clears step for the next one.
 */
void kilo_apply_keep_first(int r, struct kilo_error *step, struct kilo_error *first);

/* The digests of a struct kilo_apply_memo (apply_memo.c). */
void kilo_apply_memo_routes(const struct kilo_route *routes, size_t n, unsigned char out[32]);
void kilo_apply_memo_rules(const struct kilo_rule *rules, size_t n, unsigned char out[32]);
void kilo_apply_memo_nat(const struct kilo_nat_rule *rules, size_t n, unsigned char out[32]);

#endif
