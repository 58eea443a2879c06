/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Flow events: a struct kilo_flow_event in the ring buffer for every new
 * flow judged at a policed endpoint (with KILO_POLICY_ALL_FLOWS, every new
 * flow of every local pod) and for every drop. Each CPU writes at
 * most KILO_FLOW_EVENTS_PER_SEC a second (a flood of drops must not cost
 * kg more than it can read); what is not written is counted
 * (KILO_LB_FLOW_EVENTS_LOST).
 */
#ifndef KILO_EVENTS_BPF_H
#define KILO_EVENTS_BPF_H

#include "packet.bpf.h"
#include "policy_maps.bpf.h"
#include "select.bpf.h"

/* What the caller knows of a flow beyond its packet (the tuple after load balancing). */
struct kilo_flow_note {
	__u32 src_identity;
	__u32 dst_identity;
	__u32 rule_id;
	__u32 service_id; /* 0: not balanced */
	const union kilo_lb_addr *service_addr;
	__be16 service_port;
	__u8 verdict;   /* enum kilo_flow_verdict */
	__u8 reason;    /* enum kilo_flow_reason */
	__u8 direction; /* enum kilo_policy_direction */
};

/* Whether this CPU may write one more event this second. */
static __always_inline int kilo_flow_event_allowed(void)
{
	struct kilo_flow_event_budget *budget;
	__u64 now = kilo_lb_now();
	__u32 zero = 0;

	budget = bpf_map_lookup_elem(&kilo_policy_event_budget, &zero);
	if (!budget)
		return 0;
	/* Per-CPU: no other writer. */
	if (now - budget->window_ns >= KILO_LB_NS_PER_SEC) {
		budget->window_ns = now;
		budget->sent = 0;
	}
	if (budget->sent >= KILO_FLOW_EVENTS_PER_SEC)
		return 0;
	budget->sent++;
	return 1;
}

static __always_inline void kilo_flow_event(struct __sk_buff *skb, const struct kilo_lb_packet *pkt,
					    const struct kilo_flow_note *note)
{
	struct kilo_flow_event *e;

	if (!kilo_flow_event_allowed()) {
		kilo_lb_count(KILO_LB_FLOW_EVENTS_LOST, skb->len);
		return;
	}
	e = bpf_ringbuf_reserve(&kilo_policy_events, sizeof(*e), 0);
	if (!e) {
		kilo_lb_count(KILO_LB_FLOW_EVENTS_LOST, skb->len);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->time_ns = bpf_ktime_get_ns();
	e->saddr = pkt->saddr;
	e->daddr = pkt->daddr;
	e->sport = pkt->sport;
	e->dport = pkt->dport;
	e->proto = pkt->proto;
	e->family = pkt->family;
	e->src_identity = note->src_identity;
	e->dst_identity = note->dst_identity;
	e->rule_id = note->rule_id;
	e->service_id = note->service_id;
	if (note->service_addr)
		e->service_addr = *note->service_addr;
	e->service_port = note->service_port;
	e->ifindex = skb->ifindex;
	e->verdict = note->verdict;
	e->reason = note->reason;
	e->direction = note->direction;
	bpf_ringbuf_submit(e, 0);
}

/* A drop of the load balancer's (counter is its reason), as a flow event. */
static __always_inline void kilo_lb_drop_event(struct __sk_buff *skb, const struct kilo_lb_packet *pkt,
					       enum kilo_lb_counter counter, __u8 direction)
{
	struct kilo_flow_note note = {
		.verdict = KILO_FLOW_DROPPED,
		.reason = counter == KILO_LB_DROP_MALFORMED || counter == KILO_LB_DROP_FRAGMENT
				  ? KILO_FLOW_REASON_MALFORMED
				  : KILO_FLOW_REASON_NO_BACKEND,
		.direction = direction,
	};

	kilo_flow_event(skb, pkt, &note);
}

#endif
