/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Network policy at a pod's veth, after load balancing (policy_maps.h says
 * how a packet is judged). Egress is judged in kilo_lb_from_pod, on the
 * backend for a service flow; ingress in kilo_lb_to_pod, whatever the
 * packet came by (another pod, the WireGuard device, a VPN peer).
 *
 * A flow is judged once per direction. What remembers it is the load
 * balancer's conntrack: a service flow balanced here already has a SERVICE
 * entry (judged on egress before it is opened), and a flow SNATed here a
 * REPLY entry keyed by the tuple the backend sees (marked when the
 * backend's ingress allowed it); any other flow, and a service flow's
 * ingress at a local backend, gets one KILO_LB_CT_POLICY entry, keyed by
 * its tuple with the lower (address, port) side first, so that one lookup
 * finds it from either direction, marked with the directions that allowed
 * it and the side that opened it. A packet from the other side is a reply
 * and passes.
 *
 * While no endpoint is policed in a direction (kilo_policy_state), packets
 * pay one array lookup for it. Else the endpoint comes from this CPU's
 * copy for the veth (kilo_policy_endpoint_copies), a second array lookup,
 * and from the endpoints' hash only when the copy is of another address or
 * generation.
 * With KILO_POLICY_ALL_FLOWS (kg --flow-events all) such a pod's flows are
 * remembered the same way, each new one an event (forwarded, rule 0) once
 * per direction: its packets pay for the conntrack lookup too.
 */
#ifndef KILO_POLICY_BPF_H
#define KILO_POLICY_BPF_H

#include <linux/pkt_cls.h>

#include "conntrack.bpf.h"
#include "events.bpf.h"
#include "policy_maps.bpf.h"

#define KILO_POLICY_RULE_KEY_BITS (KILO_POLICY_KEY_FIXED_BITS + 8 + 16)

/* The endpoint at addr (NULL: none) from this CPU's copy for the veth, made again when it is of another address or generation. */
static __always_inline struct kilo_policy_endpoint *
kilo_policy_endpoint_at(struct __sk_buff *skb, const union kilo_lb_addr *addr, __u8 family, __u32 generation)
{
	__u32 slot = (skb->ifindex * 2 + (family == KILO_AF_INET6)) & (KILO_POLICY_ENDPOINT_COPIES - 1);
	struct kilo_policy_endpoint_copy *copy = bpf_map_lookup_elem(&kilo_policy_endpoint_copies, &slot);
	struct kilo_policy_endpoint_key key;
	struct kilo_policy_endpoint *ep;

	if (copy && copy->family == family && copy->generation == generation && kilo_lb_addr_equal(&copy->addr, addr))
		return copy->found ? &copy->endpoint : NULL;
	__builtin_memset(&key, 0, sizeof(key));
	key.addr = *addr;
	key.family = family;
	ep = bpf_map_lookup_elem(&kilo_policy_endpoints, &key);
	if (!copy)
		return ep;
	copy->addr = *addr;
	copy->generation = generation;
	copy->family = family;
	copy->found = ep != NULL;
	if (!ep)
		return NULL;
	copy->endpoint = *ep;
	return &copy->endpoint;
}

/*
 * The endpoint at addr if policy polices it in one of directions (enum
 * kilo_policy_endpoint_flags) or every flow is an event, else NULL;
 * *policed: those it is policed in, and KILO_POLICY_ALL_FLOWS when every
 * flow is an event. One lookup answers for both directions of a packet.
 */
static __always_inline struct kilo_policy_endpoint *
kilo_policy_endpoint(struct __sk_buff *skb, const union kilo_lb_addr *addr, __u8 family, __u32 directions,
		     __u32 *policed)
{
	struct kilo_policy_endpoint *ep;
	struct kilo_policy_state *state;
	__u32 zero = 0;

	*policed = 0;
	state = bpf_map_lookup_elem(&kilo_policy_state, &zero);
	if (!state || !(state->enforce & (directions | KILO_POLICY_ALL_FLOWS)))
		return NULL;
	/* Read before the endpoint is: a copy must not be newer than its generation. */
	ep = kilo_policy_endpoint_at(skb, addr, family, *(volatile __u32 *)&state->generation);
	if (!ep)
		return NULL;
	*policed = state->enforce & ((ep->flags & directions) | KILO_POLICY_ALL_FLOWS);
	return *policed ? ep : NULL;
}

/* The identity of addr: its longest prefix in the ipcache (a full-length one in the hosts' hash), else the world. */
static __always_inline __u32 kilo_policy_identity(const union kilo_lb_addr *addr, __u8 family)
{
	struct kilo_policy_endpoint_key host;
	struct kilo_ipcache_key key;
	struct kilo_ipcache_value *value;

	__builtin_memset(&host, 0, sizeof(host));
	host.addr = *addr;
	host.family = family;
	value = bpf_map_lookup_elem(&kilo_policy_ipcache_hosts, &host);
	if (value)
		return value->identity;
	__builtin_memset(&key, 0, sizeof(key));
	key.prefixlen = 32 + (family == KILO_AF_INET ? 32 : 128);
	key.family = family;
	key.addr = *addr;
	value = bpf_map_lookup_elem(&kilo_policy_ipcache, &key);
	return value ? value->identity : KILO_IDENTITY_WORLD;
}

/* The rule of ep that allows identity (a peer's, ANY or a region) to proto and port; 0: none. */
static __always_inline __u32 kilo_policy_rule(__u32 endpoint, __u32 identity, __u8 direction, __u8 proto,
					      __be16 port)
{
	struct kilo_policy_key key = {
		.prefixlen = KILO_POLICY_RULE_KEY_BITS,
		.endpoint = endpoint,
		.identity = identity,
		.direction = direction,
		.proto = proto,
		.port = port,
	};
	struct kilo_policy_value *value = bpf_map_lookup_elem(&kilo_policy_rules, &key);

	return value ? value->rule_id : 0;
}

/* The ipBlock region of ep that holds peer (0: none, or an except). */
static __always_inline __u32 kilo_policy_region(__u32 endpoint, __u8 direction, const union kilo_lb_addr *peer,
						__u8 family)
{
	struct kilo_policy_cidr_key key;
	struct kilo_policy_cidr_value *value;

	__builtin_memset(&key, 0, sizeof(key));
	key.prefixlen = KILO_POLICY_CIDR_KEY_FIXED_BITS + (family == KILO_AF_INET ? 32 : 128);
	key.endpoint = endpoint;
	key.direction = direction;
	key.family = family;
	key.addr = *peer;
	value = bpf_map_lookup_elem(&kilo_policy_cidrs, &key);
	return value ? value->region : 0;
}

/*
 * Whether ep lets the peer (of identity) through in direction to port:
 * the node always in; then a rule for the identity, for any peer, for the
 * peer's ipBlock region, each unless ep has none (its skip bits).
 * *rule_id: the rule that did (0: none, or the node).
 */
static __always_inline int kilo_policy_allows(const struct kilo_policy_endpoint *ep, __u8 direction,
					      const union kilo_lb_addr *peer, __u32 identity,
					      const struct kilo_lb_packet *pkt, __be16 port, __u32 *rule_id)
{
	__u32 skip = ep->skip >> KILO_POLICY_SKIP_SHIFT(direction), region;

	*rule_id = 0;
	if (direction == KILO_POLICY_INGRESS && identity == KILO_IDENTITY_HOST)
		return 1;
	if (!(skip & KILO_POLICY_SKIP_IDENTITIES))
		*rule_id = kilo_policy_rule(ep->id, identity, direction, pkt->proto, port);
	if (!*rule_id && !(skip & KILO_POLICY_SKIP_ANY))
		*rule_id = kilo_policy_rule(ep->id, KILO_IDENTITY_ANY, direction, pkt->proto, port);
	if (!*rule_id && !(skip & KILO_POLICY_SKIP_REGIONS)) {
		region = kilo_policy_region(ep->id, direction, peer, pkt->family);
		if (region)
			*rule_id = kilo_policy_rule(ep->id, region | KILO_POLICY_REGION_FLAG, direction, pkt->proto,
						    port);
	}
	return *rule_id != 0;
}

static __always_inline void kilo_policy_count_rule(__u32 rule_id, __u64 bytes)
{
	struct kilo_lb_counter_value *value = bpf_map_lookup_elem(&kilo_policy_rule_counters, &rule_id);

	if (value) {
		value->packets++;
		value->bytes += bytes;
	}
}

/*
 * Judges a new flow (pkt: its tuple after load balancing) at ep: counts it
 * (the reason, the rule; a default denial as the endpoint's deny rule) and
 * writes its event. service: the frontend it was balanced from (NULL: none).
 * Not policed in direction (every flow an event): forwarded, no rule
 * applied, nothing counted but the event.
 */
static __always_inline int kilo_policy_judge_new(struct __sk_buff *skb, const struct kilo_lb_packet *pkt,
						 const struct kilo_policy_endpoint *ep, __u8 direction, __u32 policed,
						 const struct kilo_lb_packet *service, __u32 service_id)
{
	const union kilo_lb_addr *peer = direction == KILO_POLICY_EGRESS ? &pkt->daddr : &pkt->saddr;
	__u32 identity = kilo_policy_identity(peer, pkt->family);
	struct kilo_flow_note note = {
		.src_identity = direction == KILO_POLICY_EGRESS ? ep->identity : identity,
		.dst_identity = direction == KILO_POLICY_EGRESS ? identity : ep->identity,
		.service_id = service_id,
		.service_addr = service ? &service->daddr : NULL,
		.service_port = service ? service->dport : 0,
		.direction = direction,
	};
	int allowed;

	if (!(policed & (1U << direction))) {
		kilo_flow_event(skb, pkt, &note);
		return 1;
	}
	allowed = kilo_policy_allows(ep, direction, peer, identity, pkt, pkt->dport, &note.rule_id);
	if (!allowed)
		note.rule_id = ep->deny_rule[direction & 1]; /* & 1: a bound the verifier can see */
	/* The endpoint's deny rule (or rule 0) counts the default denials; the node's way in has no rule. */
	if (note.rule_id || !allowed)
		kilo_policy_count_rule(note.rule_id, skb->len);
	if (allowed) {
		kilo_lb_count(KILO_LB_POLICY_FORWARD_NEW, skb->len);
	} else {
		kilo_lb_count(direction == KILO_POLICY_EGRESS ? KILO_LB_POLICY_DENY_EGRESS : KILO_LB_POLICY_DENY_INGRESS,
			      skb->len);
		note.verdict = KILO_FLOW_DROPPED;
		note.reason = KILO_FLOW_REASON_POLICY_DENIED;
	}
	kilo_flow_event(skb, pkt, &note);
	return allowed;
}

/*
 * A new service flow from a pod, its backend chosen (pkt: the packet to the
 * frontend): whether the pod's egress lets it reach the backend. Its
 * SERVICE entry, opened only when it does, keeps it judged.
 */
static __always_inline int kilo_policy_egress_to_backend(struct __sk_buff *skb, const struct kilo_lb_packet *pkt,
							 const struct kilo_lb_backend *backend, __u32 service_id)
{
	struct kilo_lb_packet balanced;
	struct kilo_policy_endpoint *ep;
	__u32 policed;

	ep = kilo_policy_endpoint(skb, &pkt->saddr, pkt->family, KILO_POLICY_ENFORCE_EGRESS, &policed);
	if (!ep)
		return 1;
	balanced = *pkt;
	balanced.daddr = backend->addr;
	balanced.dport = backend->port;
	return kilo_policy_judge_new(skb, &balanced, ep, KILO_POLICY_EGRESS, policed, pkt, service_id);
}

/* The live conntrack entry of the packet's tuple (reverse: of its reply's) in dir, or NULL. */
static __always_inline struct kilo_lb_ct *kilo_policy_ct(const struct kilo_lb_packet *pkt, int reverse, __u8 dir,
							 __u64 now)
{
	struct kilo_lb_ct_key key;

	kilo_lb_ct_key_init(&key, pkt, reverse ? KILO_LB_CT_REPLY : KILO_LB_CT_SERVICE);
	key.dir = dir;
	return kilo_lb_ct_lookup(&key, now);
}

/*
 * Whether the packet comes from a ClusterIP frontend: the services map is
 * small and warm, where a conntrack miss is a cache miss.
 */
static __always_inline int kilo_policy_from_frontend(const struct kilo_lb_packet *pkt)
{
	return kilo_lb_frontend_at(&pkt->saddr, pkt->sport, pkt->proto, pkt->family, KILO_LB_SCOPE_CLUSTER) != NULL;
}

/* Whether the packet's source is the higher of its two (address, port) sides: any order both directions agree on. */
static __always_inline int kilo_policy_from_high_side(const struct kilo_lb_packet *pkt)
{
	int i;

#pragma unroll
	for (i = 0; i < 4; i++)
		if (pkt->saddr.v6[i] != pkt->daddr.v6[i])
			return pkt->saddr.v6[i] > pkt->daddr.v6[i];
	return pkt->sport > pkt->dport;
}

#define KILO_ICMPV6_ROUTER_SOLICIT 133
#define KILO_ICMPV6_REDIRECT 137

/*
 * What policy never judges: ICMP errors, which are about a flow that was
 * judged, and IPv6's neighbour discovery (router solicitation to redirect),
 * without which the node could not reach the pod's address at all (as ARP
 * is not IP, and passes, in IPv4).
 */
static __always_inline int kilo_policy_exempt(const struct kilo_lb_packet *pkt)
{
	if (pkt->proto == IPPROTO_ICMPV6 && pkt->family == KILO_AF_INET6 && pkt->fragment == KILO_LB_NOT_FRAGMENT &&
	    pkt->icmp_type >= KILO_ICMPV6_ROUTER_SOLICIT && pkt->icmp_type <= KILO_ICMPV6_REDIRECT)
		return 1;
	return kilo_lb_is_icmp_error(pkt);
}

/*
 * A packet that is neither balanced nor reversed by the load balancer, at
 * the endpoint it leaves (EGRESS) or enters (INGRESS). TC_ACT_OK or
 * TC_ACT_SHOT.
 */
static __always_inline int kilo_policy_enforce(struct __sk_buff *skb, const struct kilo_lb_packet *pkt,
					       __u8 direction)
{
	const union kilo_lb_addr *local = direction == KILO_POLICY_EGRESS ? &pkt->saddr : &pkt->daddr;
	__u8 allowed_here = 1U << direction, opened_by;
	struct kilo_policy_endpoint *ep;
	struct kilo_lb_flow balanced = {0};
	struct kilo_lb_ct *ct, fresh;
	struct kilo_lb_packet client;
	struct kilo_lb_ct_key key, flow_key;
	__u32 service_id = 0, policed;
	__u64 now;

	if (kilo_policy_exempt(pkt))
		return TC_ACT_OK;
	ep = kilo_policy_endpoint(skb, local, pkt->family, KILO_POLICY_ENFORCE_INGRESS | KILO_POLICY_ENFORCE_EGRESS,
				  &policed);
	if (!ep)
		return TC_ACT_OK;
	/* Not policed this way but the other, nor an event: the flow is remembered, so that its replies pass there. */
	if (!(policed & (allowed_here | KILO_POLICY_ALL_FLOWS)))
		ep = NULL;
	now = kilo_lb_now();
	/* One entry for both directions: its key starts with the lower side. */
	opened_by = kilo_policy_from_high_side(pkt) ? KILO_LB_CT_OPENED_BY_DADDR : 0;
	kilo_lb_ct_key_init(&key, pkt, opened_by ? KILO_LB_CT_REPLY : KILO_LB_CT_SERVICE);
	key.dir = KILO_LB_CT_POLICY;
	ct = kilo_lb_ct_lookup(&key, now);
	if (!ep) {
		if (ct) {
			kilo_lb_ct_refresh(ct, pkt, now);
			return TC_ACT_OK;
		}
		__builtin_memset(&fresh, 0, sizeof(fresh));
		kilo_lb_ct_open(&fresh, pkt, now);
		fresh.policy = allowed_here | opened_by;
		bpf_map_update_elem(&kilo_lb_conntrack, &key, &fresh, BPF_ANY);
		return TC_ACT_OK;
	}
	if (ct) {
		/* A reply, or a packet of a flow this direction allowed. */
		if ((ct->policy & KILO_LB_CT_OPENED_BY_DADDR) != opened_by || (ct->policy & allowed_here)) {
			kilo_lb_ct_refresh(ct, pkt, now);
			return TC_ACT_OK;
		}
	} else if (direction == KILO_POLICY_INGRESS) {
		/* A reply from a frontend to this pod, its flow balanced here (reversed at a local backend's veth). */
		if (kilo_policy_from_frontend(pkt) && kilo_policy_ct(pkt, 1, KILO_LB_CT_SERVICE, now))
			return TC_ACT_OK;
		/* A service flow to this backend, balanced here: found as its replies find it. */
		kilo_lb_ct_key_init(&flow_key, pkt, KILO_LB_CT_SERVICE);
		flow_key.dir = KILO_LB_CT_REPLY;
		if (kilo_lb_find_flow(&flow_key, now, &balanced) < 0)
			balanced.ct = NULL;
		/* A REPLY entry remembers the judgement; a SERVICE entry's is the POLICY entry's below. */
		if (balanced.ct && balanced.reply_entry && (balanced.ct->policy & allowed_here))
			return TC_ACT_OK;
	}
	client = *pkt;
	if (balanced.ct) {
		service_id = balanced.ct->service_id;
		/* SNATed to this node's address (a VPN peer's, a NodePort's flow): judged on the real client. */
		if (balanced.reply_entry && balanced.ct->nat_port) {
			client.saddr = balanced.ct->nat_addr;
			client.sport = (__be16)balanced.ct->nat_port;
		}
	}
	if (!kilo_policy_judge_new(skb, &client, ep, direction, policed, NULL, service_id))
		return TC_ACT_SHOT;
	if (ct || (balanced.ct && balanced.reply_entry)) {
		(ct ? ct : balanced.ct)->policy |= allowed_here;
		return TC_ACT_OK;
	}
	__builtin_memset(&fresh, 0, sizeof(fresh));
	kilo_lb_ct_open(&fresh, pkt, now);
	fresh.policy = allowed_here | opened_by;
	bpf_map_update_elem(&kilo_lb_conntrack, &key, &fresh, BPF_ANY);
	return TC_ACT_OK;
}

#endif
