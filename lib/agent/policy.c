// SPDX-License-Identifier: Apache-2.0
/*
 * Network policy's part of the agent: on with --bpf, it names the flows
 * the programs report and keeps them for /flows and /metrics.
 */
#include "policy.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "../core/error.h"

static int64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int kilo_agent_policy_start(struct kilo_agent_policy *p, const struct kilo_agent_lb *lb, const char *node,
			    struct kilo_error *err)
{
	*p = (struct kilo_agent_policy){ .node = node };
	if (!lb->bpf)
		return 0;
	if (kilo_flow_ring_init(&p->flows, 0) < 0)
		return kilo_error_set(err, ENOMEM, "flows: out of memory");
	p->on = true;
	return 0;
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
	char *pods = NULL, *services = NULL;
	int r;

	if (!p->on)
		return 0;
	r = kilo_store_list_objects(store, "Pod", &pods, err);
	if (r == 0)
		r = kilo_store_list_objects(store, "Service", &services, err);
	if (r == 0 && kilo_flow_names_build(&(struct kilo_flow_names_inputs){ .pods = pods,
									     .services = services,
									     .mesh = mesh },
					    &names) < 0)
		r = kilo_error_set(err, ENOMEM, "flows: out of memory naming them");
	if (r == 0) {
		kilo_flow_names_free(p->names);
		p->names = names;
	}
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
	if (p->on)
		kilo_flow_ring_release(&p->flows);
	kilo_flow_names_free(p->names);
	*p = (struct kilo_agent_policy){ 0 };
}
