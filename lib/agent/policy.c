// SPDX-License-Identifier: Apache-2.0
/*
 * Network policy's part of the agent: on with --bpf, it names the flows
 * the programs report and keeps them for /flows and /metrics.
 */
#include "policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/error.h"

static int64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int on_event(void *ctx, const struct kilo_flow_event *event)
{
	kilo_agent_policy_event(ctx, event);
	return 0;
}

int kilo_agent_policy_start(struct kilo_agent_policy *p, const struct kilo_agent_lb *lb, const char *node,
			    const struct kilo_logger *log, struct kilo_error *err)
{
	struct kilo_error why = { 0 };

	*p = (struct kilo_agent_policy){ .node = node };
	if (!lb->bpf)
		return 0;
	if (kilo_flow_ring_init(&p->flows, 0) < 0)
		return kilo_error_set(err, ENOMEM, "flows: out of memory");
	p->on = true;
	/* Policy is enforced without them: flows are what an operator looks at, not what forwards. */
	if (kilo_bpf_events_open(lb->bpf, on_event, p, &p->events, &why) < 0)
		kilo_log(log, KILO_LOG_WARNING, "bpf: no flows: %s", why.message);
	return 0;
}

int kilo_agent_policy_fd(const struct kilo_agent_policy *p)
{
	return p->events ? kilo_bpf_events_fd(p->events) : -1;
}

int kilo_agent_policy_step(struct kilo_agent_policy *p, struct kilo_error *err)
{
	int r = p->events ? kilo_bpf_events_consume(p->events, err) : 0;

	return r < 0 ? r : 0;
}

void kilo_agent_policy_event(struct kilo_agent_policy *p, const struct kilo_flow_event *event)
{
	/* Read once per event rather than once at start: the wall clock may be stepped meanwhile. */
	int64_t now_mono = clock_ns(CLOCK_MONOTONIC), now_real = clock_ns(CLOCK_REALTIME);

	if (!p->on)
		return;
	p->mono_to_real_ns = now_real - now_mono;
	/* Out of memory: counted, not kept; the next event tries again. */
	kilo_flow_ring_add(&p->flows, event, (int64_t)event->time_ns + p->mono_to_real_ns, p->node, p->names);
}

int kilo_agent_policy_sync(struct kilo_agent_policy *p, kilo_store *store, const struct kilo_mesh *mesh,
			   struct kilo_error *err)
{
	struct kilo_flow_names *names = NULL;
	struct kilo_store_identity *stored = NULL;
	struct kilo_flow_identity *identities = NULL;
	char *pods = NULL, *services = NULL;
	size_t n = 0;
	int r;

	if (!p->on)
		return 0;
	r = kilo_store_list_objects(store, "Pod", &pods, err);
	if (r == 0)
		r = kilo_store_list_objects(store, "Service", &services, err);
	if (r == 0)
		r = kilo_store_identity_list(store, &stored, &n, err);
	if (r == 0 && n && !(identities = calloc(n, sizeof(*identities))))
		r = kilo_error_set(err, ENOMEM, "flows: out of memory");
	for (size_t i = 0; r == 0 && i < n; i++)
		identities[i] = (struct kilo_flow_identity){ .identity = stored[i].id, .labels = stored[i].labels };
	if (r == 0 && kilo_flow_names_build(&(struct kilo_flow_names_inputs){ .pods = pods,
									     .services = services,
									     .mesh = mesh,
									     .identities = identities,
									     .n_identities = n },
					    &names) < 0)
		r = kilo_error_set(err, ENOMEM, "flows: out of memory naming them");
	if (r == 0) {
		kilo_flow_names_free(p->names);
		p->names = names;
	}
	free(identities);
	kilo_store_identities_free(stored, n);
	kilo_free(pods);
	kilo_free(services);
	return r;
}

int kilo_agent_policy_flows(const struct kilo_agent_policy *p, uint64_t after, const struct kilo_flow_filter *filter,
			    char **out, uint64_t *next, struct kilo_error *err)
{
	struct kilo_strbuf sb = { 0 };
	uint64_t lost = 0;

	*next = after;
	kilo_strbuf_append(&sb, "");
	if (p->on) {
		struct kilo_strbuf page = { 0 };

		kilo_flow_ring_read(&p->flows, after, filter, KILO_FLOW_PAGE_MAX, &page, next, &lost);
		if (lost)
			kilo_strbuf_printf(&sb, "{\"lost\":%llu}\n", (unsigned long long)lost);
		if (page.len)
			kilo_strbuf_append_len(&sb, page.data, page.len);
		sb.failed |= page.failed;
		kilo_strbuf_reset(&page);
	}
	return kilo_strbuf_finish_named(&sb, out, "flows", err);
}

void kilo_agent_policy_metrics(const struct kilo_agent_policy *p, struct kilo_strbuf *sb)
{
	if (p->on)
		kilo_flow_ring_metrics(&p->flows, p->names, sb);
}

void kilo_agent_policy_stop(struct kilo_agent_policy *p)
{
	kilo_bpf_events_close(p->events);
	if (p->on)
		kilo_flow_ring_release(&p->flows);
	kilo_flow_names_free(p->names);
	*p = (struct kilo_agent_policy){ 0 };
}
