// SPDX-License-Identifier: Apache-2.0
/*
 * An applier: kilo_apply for a program that applies plan after plan, with
 * handles that live as long as it does and a memo of what it sent last.
 */
#include "apply.h"

#include <errno.h>
#include <stdlib.h>

#include "../core/arena.h"
#include "../core/error.h"

struct kilo_applier {
	struct kilo_apply_opts opts; /* read, with their defaults; strings in arena */
	struct kilo_arena arena;
	kilo_wg *wg;
	kilo_net *net;
	struct kilo_apply_memo memo;
};

/* *s copied into the applier's arena; false when out of memory. */
static bool keep(kilo_applier *a, const char **s)
{
	if (!*s)
		return true;
	*s = kilo_arena_strdup(&a->arena, *s);
	return *s != NULL;
}

int kilo_applier_new(const struct kilo_apply_opts *opts, kilo_applier **out, struct kilo_error *err)
{
	kilo_applier *a = calloc(1, sizeof(*a));
	int r;

	*out = NULL;
	if (!a)
		return kilo_error_set(err, ENOMEM, "applier: out of memory");
	r = kilo_apply_opts_read(opts, &a->opts, err);
	if (r == 0 && !(keep(a, &a->opts.interface) && keep(a, &a->opts.tunnel_interface)))
		r = kilo_error_set(err, ENOMEM, "applier: out of memory");
	if (r == 0)
		r = kilo_wg_open(a->opts.wg, &a->wg, err);
	/* kilo_wg_open copied what it needs: the caller's WireGuard options are not read again. */
	a->opts.wg = NULL;
	if (r == 0)
		r = kilo_net_open(&a->net, err);
	if (r < 0) {
		kilo_applier_free(a);
		return r;
	}
	*out = a;
	return 0;
}

int kilo_applier_apply(kilo_applier *a, const kilo_topology *topology, struct kilo_apply_report *report,
		       struct kilo_error *err)
{
	kilo_plan *plan = NULL;
	int r;

	if (!a)
		return kilo_error_set(err, EINVAL, "applier: applier is NULL");
	r = kilo_apply_plan_new(topology, &a->opts, &plan, err);
	if (r == 0)
		r = kilo_applier_apply_plan(a, plan, report, err);
	kilo_plan_free(plan);
	return r;
}

int kilo_applier_apply_plan(kilo_applier *a, const kilo_plan *plan, struct kilo_apply_report *report,
			    struct kilo_error *err)
{
	if (!a)
		return kilo_error_set(err, EINVAL, "applier: applier is NULL");
	return kilo_apply_plan_with(plan, &a->opts, a->wg, a->net, &a->memo, report, err);
}

void kilo_applier_recheck(kilo_applier *a)
{
	if (a)
		kilo_apply_memo_reset(&a->memo);
}

int kilo_applier_clean_up(kilo_applier *a, struct kilo_error *err)
{
	if (!a)
		return kilo_error_set(err, EINVAL, "applier: applier is NULL");
	/* Whatever happens, the host no longer holds what the memo says. */
	kilo_apply_memo_reset(&a->memo);
	return kilo_apply_clean_up_with(&a->opts, a->wg, a->net, err);
}

kilo_wg *kilo_applier_wg(kilo_applier *a)
{
	return a ? a->wg : NULL;
}

void kilo_applier_free(kilo_applier *a)
{
	if (!a)
		return;
	kilo_apply_memo_reset(&a->memo);
	kilo_net_close(a->net);
	kilo_wg_close(a->wg);
	kilo_arena_release(&a->arena);
	free(a);
}
