// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Service load balancing at tc (clsact):
 *   kilo_lb_from_pod     ingress of a pod veth's host side: the pod's packets.
 *                        To a ClusterIP: DNAT to a backend (conntrack keeps
 *                        the flow on it). Else replies and ICMP errors of a
 *                        flow balanced on this node (the pod is its backend)
 *                        are reversed to the frontend.
 *   kilo_lb_to_pod       egress of that veth: packets to the pod; replies of
 *                        the pod's balanced flows reversed.
 *   kilo_lb_from_netdev  ingress of a node interface with Ethernet: ClusterIP
 *                        (e.g. a VPN peer's) and NodePort, DNAT and for
 *                        KILO_LB_SERVICE_SNAT also SNAT to the node address;
 *                        replies reversed.
 *   kilo_lb_from_l3dev   the same on an interface without an L2 header
 *                        (WireGuard).
 * No backend: the packet is dropped, or answered with ICMP port unreachable
 * (KILO_LB_SERVICE_ICMP_REJECT, reject.bpf.h).
 * Terminating backends keep their flows: the SERVICE entry names the backend,
 * which stays in the backends map without a slot.
 * Network policy (policy.bpf.h) judges what leaves a pod after balancing and
 * what enters it; every drop is a flow event (events.bpf.h).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "conntrack.bpf.h"
#include "icmp.bpf.h"
#include "nat.bpf.h"
#include "policy.bpf.h"
#include "reject.bpf.h"
#include "select.bpf.h"

/* NodePort SNAT takes its source ports from here (Linux's default ephemeral range). */
#define KILO_LB_NAT_PORT_MIN 32768
#define KILO_LB_NAT_PORT_COUNT 28232
#define KILO_LB_NAT_PORT_TRIES 8

enum kilo_lb_scopes {
	KILO_LB_CLUSTER_ONLY = 0,         /* a pod's packets: its egress policy judges new flows */
	KILO_LB_CLUSTER_AND_NODEPORT = 1,
};

static __always_inline struct kilo_lb_service *
kilo_lb_frontend(const struct kilo_lb_packet *pkt, __u8 scope)
{
	return kilo_lb_frontend_at(&pkt->daddr, pkt->dport, pkt->proto, pkt->family, scope);
}

/*
 * A source port of the node address for a NodePort flow to this backend that
 * no other flow uses (no REPLY entry has it); 0 when none of a few is free.
 */
static __always_inline __be16 kilo_lb_nat_port(struct kilo_lb_ct_key *reply_key, __u32 flow_hash,
					       __u64 now)
{
	__u32 i;

	for (i = 0; i < KILO_LB_NAT_PORT_TRIES; i++) {
		__u32 port = KILO_LB_NAT_PORT_MIN + (flow_hash + i * 7919) % KILO_LB_NAT_PORT_COUNT;

		reply_key->sport = bpf_htons(port);
		if (!kilo_lb_ct_lookup(reply_key, now))
			return reply_key->sport;
	}
	return 0;
}

/*
 * A new flow to a frontend: its backend, its SERVICE entry and the REPLY
 * entry that will reverse the backend's answers; snat (NULL: none) is the
 * source the backend sees. Returns NULL when no backend takes it, no NAT
 * port is free, or (from_pod) the pod's egress policy denies the backend
 * (then drop says so).
 */
static __always_inline struct kilo_lb_backend *
kilo_lb_open_flow(struct __sk_buff *skb, const struct kilo_lb_packet *pkt, const struct kilo_lb_service *svc,
		  const union kilo_lb_addr *snat, int from_pod, const struct kilo_lb_ct_key *key, __u64 now,
		  struct kilo_lb_ct *ct, enum kilo_lb_counter *drop)
{
	struct kilo_lb_backend *backend;
	struct kilo_lb_ct_key reply_key;
	struct kilo_lb_ct reply;
	__u32 hash = kilo_lb_flow_hash(key);
	__u32 backend_id = 0;

	backend = kilo_lb_select_backend(svc, hash, &pkt->saddr, pkt->family, &backend_id);
	if (!backend || backend->family != pkt->family)
		return NULL;
	if (from_pod && !kilo_policy_egress_to_backend(skb, pkt, backend, svc->id)) {
		*drop = KILO_LB_POLICY_DENY_EGRESS;
		return NULL;
	}
	__builtin_memset(ct, 0, sizeof(*ct));
	ct->backend_id = backend_id;
	ct->service_id = svc->id;
	kilo_lb_ct_open(ct, pkt, now);
	reply = *ct;

	__builtin_memset(&reply_key, 0, sizeof(reply_key));
	reply_key.saddr = pkt->saddr;
	reply_key.sport = pkt->sport;
	reply_key.daddr = backend->addr;
	reply_key.dport = backend->port;
	reply_key.proto = pkt->proto;
	reply_key.family = pkt->family;
	reply_key.dir = KILO_LB_CT_REPLY;
	if (snat) {
		/* The backend answers this node; its reply is reversed here. */
		reply_key.saddr = *snat;
		ct->nat_addr = *snat;
		ct->nat_port = kilo_lb_nat_port(&reply_key, hash, now);
		if (!ct->nat_port) {
			*drop = KILO_LB_DROP_NAT_PORTS;
			return NULL;
		}
		reply.nat_addr = pkt->saddr;
		reply.nat_port = pkt->sport;
	}
	bpf_map_update_elem(&kilo_lb_conntrack, key, ct, BPF_ANY);
	/* Replies find the SERVICE entry through kilo_lb_backend_frontends, unless SNAT hides the client. */
	if (snat || (backend->flags & KILO_LB_BACKEND_REPLY_ENTRIES))
		bpf_map_update_elem(&kilo_lb_conntrack, &reply_key, &reply, BPF_ANY);
	return backend;
}

/*
 * A packet to a frontend: on to its flow's backend, or a new flow's (SNATed
 * to snat unless NULL). from_pod: a pod's packet, its egress policy applies.
 */
static __always_inline int kilo_lb_balance(struct __sk_buff *skb, const struct kilo_lb_packet *pkt,
					   const struct kilo_lb_service *svc, const union kilo_lb_addr *snat,
					   int from_pod)
{
	__u8 direction = from_pod ? KILO_POLICY_EGRESS : KILO_POLICY_INGRESS;
	enum kilo_lb_counter drop = KILO_LB_DROP_NO_BACKEND;
	struct kilo_lb_backend *backend = NULL;
	struct kilo_lb_ct_key key;
	struct kilo_lb_ct new_ct;
	struct kilo_lb_ct *ct;
	__u64 now = kilo_lb_now();

	kilo_lb_ct_key_init(&key, pkt, KILO_LB_CT_SERVICE);
	ct = kilo_lb_ct_lookup(&key, now);
	/*
	 * A new connection on a closed flow's tuple (a client port reused at
	 * once) is a new flow, as the kernel's conntrack makes it: its REPLY
	 * entry may since name another flow of the same client port.
	 */
	if (ct && ct->tcp_state == KILO_LB_TCP_CLOSING && pkt->proto == IPPROTO_TCP &&
	    (pkt->tcp_flags & (KILO_TCP_SYN | KILO_TCP_ACK)) == KILO_TCP_SYN)
		ct = NULL;
	if (ct) {
		backend = bpf_map_lookup_elem(&kilo_lb_backends, &ct->backend_id);
		if (backend) {
			kilo_lb_ct_refresh(ct, pkt, now);
			kilo_lb_count(KILO_LB_FORWARD_ESTABLISHED, skb->len);
		} else {
			drop = KILO_LB_DROP_BACKEND_GONE;
		}
	}
	if (!backend) {
		/* The rest of a datagram goes where its first fragment went, or nowhere. */
		if (pkt->fragment == KILO_LB_LATER_FRAGMENT) {
			kilo_lb_count(KILO_LB_DROP_FRAGMENT, skb->len);
			kilo_lb_drop_event(skb, pkt, KILO_LB_DROP_FRAGMENT, direction);
			return TC_ACT_SHOT;
		}
		ct = &new_ct;
		backend = kilo_lb_open_flow(skb, pkt, svc, snat, from_pod, &key, now, ct, &drop);
		if (!backend) {
			/* Counted, and its event written, where policy denied it. */
			if (drop == KILO_LB_POLICY_DENY_EGRESS)
				return TC_ACT_SHOT;
			if (drop != KILO_LB_DROP_NAT_PORTS && (svc->flags & KILO_LB_SERVICE_ICMP_REJECT)) {
				kilo_lb_count(KILO_LB_REJECT_NO_BACKEND, skb->len);
				kilo_lb_drop_event(skb, pkt, KILO_LB_REJECT_NO_BACKEND, direction);
				return kilo_lb_reject(skb, pkt);
			}
			/* A flow whose backend left keeps its reason when no other takes it. */
			kilo_lb_count(drop, skb->len);
			kilo_lb_drop_event(skb, pkt, drop, direction);
			return TC_ACT_SHOT;
		}
		kilo_lb_count(KILO_LB_FORWARD_NEW, skb->len);
	}
	if (kilo_lb_nat(skb, pkt, 1, &backend->addr, backend->port))
		return TC_ACT_SHOT;
	if (ct->nat_port && kilo_lb_nat(skb, pkt, 0, &ct->nat_addr, (__be16)ct->nat_port))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

/* A reply's FIN or RST closes the flow's SERVICE entry too: both time out soon. */
static __always_inline void kilo_lb_close_service_entry(const struct kilo_lb_packet *pkt,
							const struct kilo_lb_flow *flow, __u64 now)
{
	struct kilo_lb_ct_key key;
	struct kilo_lb_ct *ct;

	__builtin_memset(&key, 0, sizeof(key));
	key.saddr = flow->ct->nat_port ? flow->ct->nat_addr : pkt->daddr;
	key.sport = flow->ct->nat_port ? (__be16)flow->ct->nat_port : pkt->dport;
	key.daddr = flow->revnat->addr;
	key.dport = flow->revnat->port;
	key.proto = pkt->proto;
	key.family = pkt->family;
	key.dir = KILO_LB_CT_SERVICE;
	ct = kilo_lb_ct_lookup(&key, now);
	if (ct)
		kilo_lb_ct_refresh(ct, pkt, now);
}

/* What kilo_lb_reverse returns for a packet that is no reply of a flow balanced here. */
#define KILO_LB_NOT_REVERSED (-1)

/* An ICMP error about a balanced flow, rewritten to be about the client's own flow. */
static __always_inline int kilo_lb_reverse_icmp_error(struct __sk_buff *skb,
						      const struct kilo_lb_packet *pkt)
{
	struct kilo_lb_packet quoted;
	struct kilo_lb_ct_key key;
	struct kilo_lb_flow flow;
	struct kilo_lb_ct *ct;

	if (kilo_lb_parse_quoted(skb, pkt, &quoted))
		goto pass;
	kilo_lb_ct_key_init(&key, &quoted, KILO_LB_CT_SERVICE);
	key.dir = KILO_LB_CT_REPLY;
	if (kilo_lb_find_flow(&key, kilo_lb_now(), &flow))
		goto pass;
	ct = flow.ct;
	/* Sent by the backend itself (port unreachable): from the frontend, as the client expects. */
	if (kilo_lb_addr_equal(&pkt->saddr, &quoted.daddr) &&
	    kilo_lb_nat_icmp_outer(skb, pkt, 0, &flow.revnat->addr))
		return TC_ACT_SHOT;
	if (kilo_lb_nat_quoted(skb, pkt, &quoted, 1, &flow.revnat->addr, flow.revnat->port))
		return TC_ACT_SHOT;
	if (flow.reply_entry && ct->nat_port &&
	    (kilo_lb_nat_icmp_outer(skb, pkt, 1, &ct->nat_addr) ||
	     kilo_lb_nat_quoted(skb, pkt, &quoted, 0, &ct->nat_addr, (__be16)ct->nat_port)))
		return TC_ACT_SHOT;
	kilo_lb_count(KILO_LB_ICMP_ERROR_NAT, skb->len);
	return TC_ACT_OK;
pass:
	return KILO_LB_NOT_REVERSED;
}

/* A backend's reply to a flow balanced on this node: from the frontend again; else KILO_LB_NOT_REVERSED. */
static __always_inline int kilo_lb_reverse(struct __sk_buff *skb, const struct kilo_lb_packet *pkt)
{
	struct kilo_lb_ct_key key;
	struct kilo_lb_flow flow;
	struct kilo_lb_ct *ct;
	__u64 now;

	if (kilo_lb_is_icmp_error(pkt))
		return kilo_lb_reverse_icmp_error(skb, pkt);
	if (pkt->proto != IPPROTO_TCP && pkt->proto != IPPROTO_UDP)
		goto pass;
	now = kilo_lb_now();
	kilo_lb_ct_key_init(&key, pkt, KILO_LB_CT_REPLY);
	if (kilo_lb_find_flow(&key, now, &flow))
		goto pass;
	ct = flow.ct;
	kilo_lb_ct_refresh(ct, pkt, now);
	if (flow.reply_entry && pkt->proto == IPPROTO_TCP && (pkt->tcp_flags & (KILO_TCP_FIN | KILO_TCP_RST)))
		kilo_lb_close_service_entry(pkt, &flow, now);
	if (kilo_lb_nat(skb, pkt, 0, &flow.revnat->addr, flow.revnat->port))
		return TC_ACT_SHOT;
	if (flow.reply_entry && ct->nat_port && kilo_lb_nat(skb, pkt, 1, &ct->nat_addr, (__be16)ct->nat_port))
		return TC_ACT_SHOT;
	kilo_lb_count(KILO_LB_REVERSE_NAT, skb->len);
	return TC_ACT_OK;
pass:
	return KILO_LB_NOT_REVERSED;
}

/*
 * A packet the load balancer leaves as it is: at a pod's veth, judged by the
 * pod's policy for direction (policed); elsewhere it passes.
 */
static __always_inline int kilo_lb_reverse_or_pass(struct __sk_buff *skb, const struct kilo_lb_packet *pkt,
						   int policed, __u8 direction)
{
	int verdict = kilo_lb_reverse(skb, pkt);

	if (verdict != KILO_LB_NOT_REVERSED)
		return verdict;
	if (policed && kilo_policy_enforce(skb, pkt, direction) == TC_ACT_SHOT)
		return TC_ACT_SHOT;
	kilo_lb_count(KILO_LB_PASS, skb->len);
	return TC_ACT_OK;
}

/* Parses the packet; anything not to balance, reverse or judge gets its verdict here (>= 0). */
static __always_inline int kilo_lb_prepare(struct __sk_buff *skb, __u32 l3_off,
					   struct kilo_lb_packet *pkt, __u8 direction)
{
	switch (kilo_lb_parse(skb, l3_off, pkt)) {
	case KILO_LB_PARSED:
		break;
	case KILO_LB_PARSE_MALFORMED:
		kilo_lb_count(KILO_LB_DROP_MALFORMED, skb->len);
		kilo_lb_drop_event(skb, pkt, KILO_LB_DROP_MALFORMED, direction);
		return TC_ACT_SHOT;
	default:
		kilo_lb_count(KILO_LB_PASS, skb->len);
		return TC_ACT_OK;
	}
	if (kilo_lb_fragment_ports(pkt) < 0) {
		kilo_lb_count(KILO_LB_PASS, skb->len);
		return TC_ACT_OK;
	}
	return -1;
}

/*
 * The source a new flow's backend sees instead of the client's: a NodePort
 * whose backend may run on another node answers from the frontend's
 * address; a ClusterIP reached from outside the node's pods (a VPN peer,
 * through the WireGuard device) from the node's own address, since the
 * reply of a backend elsewhere would otherwise go straight to the client,
 * past the reverse NAT. NULL: the client's own source.
 */
static __always_inline const union kilo_lb_addr *
kilo_lb_snat_address(const struct kilo_lb_packet *pkt, const struct kilo_lb_service *svc,
		     int cluster_ip_from_outside)
{
	struct kilo_lb_node *node;
	__u32 zero = 0;

	if (svc->flags & KILO_LB_SERVICE_SNAT)
		return &pkt->daddr;
	if (!cluster_ip_from_outside)
		return NULL;
	node = bpf_map_lookup_elem(&kilo_lb_node, &zero);
	if (!node)
		return NULL;
	if (pkt->family == KILO_AF_INET)
		return node->has_v4 ? &node->v4 : NULL;
	return node->has_v6 ? &node->v6 : NULL;
}

static __always_inline int kilo_lb_ingress(struct __sk_buff *skb, __u32 l3_off,
					   enum kilo_lb_scopes scopes)
{
	int from_pod = scopes == KILO_LB_CLUSTER_ONLY;
	__u8 direction = from_pod ? KILO_POLICY_EGRESS : KILO_POLICY_INGRESS;
	struct kilo_lb_service *svc = NULL;
	struct kilo_lb_packet pkt;
	int cluster_ip = 0;
	int verdict = kilo_lb_prepare(skb, l3_off, &pkt, direction);

	if (verdict >= 0)
		return verdict;
	if (pkt.proto == IPPROTO_TCP || pkt.proto == IPPROTO_UDP) {
		svc = kilo_lb_frontend(&pkt, KILO_LB_SCOPE_CLUSTER);
		cluster_ip = svc != NULL;
		if (!svc && scopes == KILO_LB_CLUSTER_AND_NODEPORT)
			svc = kilo_lb_frontend(&pkt, KILO_LB_SCOPE_NODEPORT);
	}
	if (svc)
		return kilo_lb_balance(skb, &pkt, svc,
				       kilo_lb_snat_address(&pkt, svc, cluster_ip && scopes == KILO_LB_CLUSTER_AND_NODEPORT),
				       from_pod);
	return kilo_lb_reverse_or_pass(skb, &pkt, from_pod, direction);
}

SEC("tc")
int kilo_lb_from_pod(struct __sk_buff *skb)
{
	return kilo_lb_ingress(skb, ETH_HLEN, KILO_LB_CLUSTER_ONLY);
}

SEC("tc")
int kilo_lb_to_pod(struct __sk_buff *skb)
{
	struct kilo_lb_packet pkt;
	int verdict = kilo_lb_prepare(skb, ETH_HLEN, &pkt, KILO_POLICY_INGRESS);

	if (verdict >= 0)
		return verdict;
	return kilo_lb_reverse_or_pass(skb, &pkt, 1, KILO_POLICY_INGRESS);
}

SEC("tc")
int kilo_lb_from_netdev(struct __sk_buff *skb)
{
	return kilo_lb_ingress(skb, ETH_HLEN, KILO_LB_CLUSTER_AND_NODEPORT);
}

SEC("tc")
int kilo_lb_from_l3dev(struct __sk_buff *skb)
{
	return kilo_lb_ingress(skb, 0, KILO_LB_CLUSTER_AND_NODEPORT);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
