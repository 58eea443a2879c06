/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * A service without backends that asks for it (KILO_LB_SERVICE_ICMP_REJECT)
 * answers a pod's new flow with "port unreachable" from the frontend, as
 * kube-proxy's REJECT does: the client fails at once instead of retrying
 * into a drop. The packet itself becomes the answer and goes back out of
 * the interface it came in by (the pod's veth).
 */
#ifndef KILO_REJECT_BPF_H
#define KILO_REJECT_BPF_H

#include <linux/pkt_cls.h>

#include "packet.bpf.h"

/* Quoted: the IP header (no options, no extension headers) and 8 bytes of L4 header. */
#define KILO_LB_REJECT_QUOTE4 (sizeof(struct iphdr) + 8)
#define KILO_LB_REJECT_QUOTE6 (sizeof(struct ipv6hdr) + 8)
#define KILO_ICMP_PORT_UNREACH 3
#define KILO_ICMPV6_PORT_UNREACH 4

/* The frame's MAC addresses, swapped: the answer goes back where the packet came from. */
static __always_inline int kilo_lb_swap_macs(struct __sk_buff *skb)
{
	__u8 macs[12], swapped[12];

	if (bpf_skb_load_bytes(skb, 0, macs, sizeof(macs)))
		return -1;
	__builtin_memcpy(swapped, macs + 6, 6);
	__builtin_memcpy(swapped + 6, macs, 6);
	return bpf_skb_store_bytes(skb, 0, swapped, sizeof(swapped), 0);
}

static __always_inline int kilo_lb_reject4(struct __sk_buff *skb, const struct kilo_lb_packet *pkt)
{
	struct {
		__u8 type, code;
		__be16 csum;
		__u32 unused;
		__u8 quote[KILO_LB_REJECT_QUOTE4];
	} icmp = {.type = KILO_ICMP_DEST_UNREACH, .code = KILO_ICMP_PORT_UNREACH};
	struct iphdr ip = {
		.version = 4, .ihl = 5, .ttl = 64, .protocol = IPPROTO_ICMP,
		.tot_len = bpf_htons(sizeof(ip) + sizeof(icmp)),
		.saddr = pkt->daddr.v4, .daddr = pkt->saddr.v4,
	};

	if (pkt->l4_off != pkt->l3_off + sizeof(ip) ||
	    bpf_skb_load_bytes(skb, pkt->l3_off, icmp.quote, sizeof(icmp.quote)))
		return -1;
	ip.check = kilo_lb_csum_fold(bpf_csum_diff(NULL, 0, (__be32 *)&ip, sizeof(ip), 0));
	icmp.csum = kilo_lb_csum_fold(bpf_csum_diff(NULL, 0, (__be32 *)&icmp, sizeof(icmp), 0));
	if (bpf_skb_change_tail(skb, pkt->l3_off + sizeof(ip) + sizeof(icmp), 0) ||
	    bpf_skb_store_bytes(skb, pkt->l3_off, &ip, sizeof(ip), 0) ||
	    bpf_skb_store_bytes(skb, pkt->l3_off + sizeof(ip), &icmp, sizeof(icmp), 0))
		return -1;
	return 0;
}

static __always_inline int kilo_lb_reject6(struct __sk_buff *skb, const struct kilo_lb_packet *pkt)
{
	struct {
		__u8 type, code;
		__be16 csum;
		__u32 unused;
		__u8 quote[KILO_LB_REJECT_QUOTE6];
	} icmp = {.type = KILO_ICMPV6_DEST_UNREACH, .code = KILO_ICMPV6_PORT_UNREACH};
	struct {
		union kilo_lb_addr saddr, daddr;
		__be32 len;
		__u8 zero[3];
		__u8 nexthdr;
	} pseudo = {.saddr = pkt->daddr, .daddr = pkt->saddr,
		    .len = bpf_htonl(sizeof(icmp)), .nexthdr = IPPROTO_ICMPV6};
	struct ipv6hdr ip6 = {
		.version = 6, .payload_len = bpf_htons(sizeof(icmp)), .nexthdr = IPPROTO_ICMPV6,
		.hop_limit = 64,
	};
	__s64 sum;

	__builtin_memcpy(&ip6.saddr, pkt->daddr.bytes, 16);
	__builtin_memcpy(&ip6.daddr, pkt->saddr.bytes, 16);
	if (pkt->l4_off != pkt->l3_off + sizeof(ip6) ||
	    bpf_skb_load_bytes(skb, pkt->l3_off, icmp.quote, sizeof(icmp.quote)))
		return -1;
	sum = bpf_csum_diff(NULL, 0, (__be32 *)&pseudo, sizeof(pseudo), 0);
	if (sum < 0)
		return -1;
	icmp.csum = kilo_lb_csum_fold(bpf_csum_diff(NULL, 0, (__be32 *)&icmp, sizeof(icmp), (__wsum)sum));
	if (bpf_skb_change_tail(skb, pkt->l3_off + sizeof(ip6) + sizeof(icmp), 0) ||
	    bpf_skb_store_bytes(skb, pkt->l3_off, &ip6, sizeof(ip6), 0) ||
	    bpf_skb_store_bytes(skb, pkt->l3_off + sizeof(ip6), &icmp, sizeof(icmp), 0))
		return -1;
	return 0;
}

/* Turns the packet into its "port unreachable" and sends it back; TC_ACT_SHOT when it cannot. */
static __always_inline int kilo_lb_reject(struct __sk_buff *skb, const struct kilo_lb_packet *pkt)
{
	int r;

	if (pkt->fragment == KILO_LB_LATER_FRAGMENT)
		return TC_ACT_SHOT;
	r = pkt->family == KILO_AF_INET ? kilo_lb_reject4(skb, pkt) : kilo_lb_reject6(skb, pkt);
	if (r || (pkt->l3_off && kilo_lb_swap_macs(skb)))
		return TC_ACT_SHOT;
	return bpf_redirect(skb->ifindex, 0);
}

#endif
