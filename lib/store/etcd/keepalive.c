/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lease keep-alive loops: one keep-alive per interval, from the agent's
 * loop, and a word to the owner when the lease is lost or etcd does not
 * answer.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>

#include "../../core/error.h"

struct kilo_etcd_keepalive {
	kilo_etcd *e;
	int64_t lease;
	unsigned interval_ms;
	kilo_etcd_lease_fn lost;
	void *ctx;
	struct etcd_timer timer;
	struct etcd_call *call; /* the keep-alive in flight */
	int64_t ttl;
	struct kilo_etcd_keepalive *prev, *next;
};

static int parse_keepalive(struct etcd_call *call, const char *text, size_t len, struct kilo_error *err)
{
	struct kilo_etcd_keepalive *k = call->owner;

	return kilo_etcd_reply_keepalive(text, len, &k->ttl, err);
}

static void keepalive_finish(struct etcd_call *call, int result, const struct kilo_error *err)
{
	struct kilo_etcd_keepalive *k = call->owner;
	/* err lives in the call, freed here. */
	struct kilo_error lost = { 0 }, kept = err ? *err : (struct kilo_error){ 0 };

	err = err ? &kept : NULL;
	kilo__etcd_call_free(call);
	k->call = NULL;
	if (result == 0 && k->ttl > 0)
		return;
	if (result == 0 || result == -ENOENT) {
		/* Its TTL ran out (or it was revoked): nothing to keep alive any more. */
		kilo__etcd_timer_disarm(k->e, &k->timer);
		result = kilo_error_set(&lost, ENOENT, "etcd: lease %llx has expired", (unsigned long long)k->lease);
		err = &lost;
	}
	k->lost(k->ctx, k->lease, result, err);
}

static const struct etcd_call_hooks keepalive_hooks = { .parse = parse_keepalive, .finish = keepalive_finish };

static void keepalive_due(struct etcd_timer *timer)
{
	struct kilo_etcd_keepalive *k = etcd_container_of(timer, struct kilo_etcd_keepalive, timer);
	struct kilo_error err = { 0 };

	kilo__etcd_timer_arm(k->e, &k->timer, k->interval_ms);
	/* One keep-alive at a time: a slow answer is not queued behind. */
	if (k->call)
		return;
	k->call = kilo__etcd_call_new(k->e, "/v3/lease/keepalive", kilo__etcd_body_lease("ID", k->lease), &keepalive_hooks, k);
	if (!k->call) {
		kilo_error_set(&err, ENOMEM, "etcd: out of memory");
	} else if (kilo__etcd_call_start(k->call, &err) < 0) {
		kilo__etcd_call_free(k->call);
		k->call = NULL;
	} else {
		return;
	}
	k->lost(k->ctx, k->lease, -err.code, &err);
}

int kilo_etcd_keepalive_start(kilo_etcd *e, int64_t lease, unsigned interval_ms, kilo_etcd_lease_fn lost,
			      void *ctx, struct kilo_etcd_keepalive **out, struct kilo_error *err)
{
	struct kilo_etcd_keepalive *k;

	*out = NULL;
	if (interval_ms == 0 || !lost)
		return kilo_error_set(err, EINVAL, "etcd: a keep-alive needs an interval and a callback");
	k = calloc(1, sizeof(*k));
	if (!k)
		return kilo_error_set(err, ENOMEM, "etcd: out of memory");
	k->e = e;
	k->lease = lease;
	k->interval_ms = interval_ms;
	k->lost = lost;
	k->ctx = ctx;
	k->timer.fire = keepalive_due;
	etcd_list_prepend(e->keepalives, k);
	kilo__etcd_timer_arm(e, &k->timer, 0);
	*out = k;
	return 0;
}

void kilo_etcd_keepalive_stop(struct kilo_etcd_keepalive *k)
{
	if (!k)
		return;
	kilo__etcd_timer_disarm(k->e, &k->timer);
	kilo__etcd_call_free(k->call);
	etcd_list_remove(k->e->keepalives, k);
	free(k);
}

void kilo__etcd_keepalives_free(kilo_etcd *e)
{
	while (e->keepalives)
		kilo_etcd_keepalive_stop(e->keepalives);
}
