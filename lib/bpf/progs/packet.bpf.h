/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Parsing a packet at tc into what the load balancer needs: where its
 * headers are and its tuple. IPv6 extension headers other than a fragment
 * header are not parsed (such packets pass untouched); a later fragment gets
 * its ports from the state its first fragment left (fragments.bpf.h).
 */
#ifndef KILO_PACKET_BPF_H
#define KILO_PACKET_BPF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "lb_maps.h"

/* linux/icmp.h pulls in libc's socket headers, which the BPF target lacks. */
#define KILO_ICMP_DEST_UNREACH 3
#define KILO_ICMP_TIME_EXCEEDED 11
#define KILO_ICMP_PARAMETERPROB 12
#define KILO_ICMPV6_DEST_UNREACH 1
#define KILO_ICMPV6_PARAMPROB 4
#define KILO_ICMP_HEADER_LEN 8 /* type, code, checksum, and 4 bytes the error types leave unused or use for the MTU */
#define KILO_ICMP_CSUM_OFF 2   /* ICMP and ICMPv6 alike */

#define KILO_AF_INET 2
#define KILO_AF_INET6 10

#define KILO_IP_MF 0x2000
#define KILO_IP_OFFSET 0x1fff
#define KILO_IP6_NEXTHDR_FRAGMENT 44
#define KILO_IP6_FRAG_OFFSET 0xfff8
#define KILO_IP6_FRAG_MF 0x0001

/* Enough for Ethernet, IPv6, an ICMPv6 header and the IPv6 and L4 headers it quotes. */
#define KILO_LB_PULL_LEN 128

enum kilo_lb_fragment_kind {
	KILO_LB_NOT_FRAGMENT = 0,
	KILO_LB_FIRST_FRAGMENT,
	KILO_LB_LATER_FRAGMENT,
};

enum kilo_lb_parse_result {
	KILO_LB_PARSED = 0,
	KILO_LB_PARSE_PASS,      /* nothing to balance or judge: not IP */
	KILO_LB_PARSE_MALFORMED, /* headers that contradict themselves or the packet's length */
};

struct kilo_lb_packet {
	union kilo_lb_addr saddr;
	union kilo_lb_addr daddr;
	__be16 sport; /* TCP/UDP/SCTP; ICMP and other protocols: zero */
	__be16 dport;
	__u32 l3_off;
	__u32 l4_off;
	__u32 frag_id;
	__u8 family;
	__u8 proto;
	__u8 fragment;   /* enum kilo_lb_fragment_kind */
	__u8 tcp_flags;  /* TCP: byte 13 of the header (FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10) */
	__u8 icmp_type;  /* ICMP/ICMPv6 */
	__u8 pad[3];
};

#define KILO_TCP_FIN 0x01
#define KILO_TCP_SYN 0x02
#define KILO_TCP_RST 0x04
#define KILO_TCP_ACK 0x10

/* A 32-bit ones' complement sum folded to 16 bits and complemented: a checksum field's value. */
static __always_inline __u16 kilo_lb_csum_fold(__s64 sum)
{
	__u32 s = (__u32)sum;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* The L4 header is in this packet (not a later fragment) and has ports. */
static __always_inline int kilo_lb_has_l4_ports(const struct kilo_lb_packet *pkt)
{
	return pkt->fragment != KILO_LB_LATER_FRAGMENT &&
	       (pkt->proto == IPPROTO_TCP || pkt->proto == IPPROTO_UDP);
}

static __always_inline __u32 kilo_lb_l4_csum_off(const struct kilo_lb_packet *pkt)
{
	if (pkt->proto == IPPROTO_TCP)
		return pkt->l4_off + offsetof(struct tcphdr, check);
	if (pkt->proto == IPPROTO_UDP)
		return pkt->l4_off + offsetof(struct udphdr, check);
	return pkt->l4_off + KILO_ICMP_CSUM_OFF;
}

static __always_inline int kilo_lb_addr_equal(const union kilo_lb_addr *a,
					      const union kilo_lb_addr *b)
{
	return a->v6[0] == b->v6[0] && a->v6[1] == b->v6[1] && a->v6[2] == b->v6[2] &&
	       a->v6[3] == b->v6[3];
}

/* Makes the headers readable in place (a GSO or paged skb may hold them elsewhere). */
static __always_inline void kilo_lb_pull(struct __sk_buff *skb)
{
	__u32 len = skb->len < KILO_LB_PULL_LEN ? skb->len : KILO_LB_PULL_LEN;

	if ((long)skb->data + len > (long)skb->data_end)
		bpf_skb_pull_data(skb, len);
}

/*
 * The IP header's length field against the packet: at least the header, at
 * most what the packet holds (Ethernet pads short frames). Zero is a GRO
 * packet beyond 64 KiB (BIG TCP), valid only when the packet is that long.
 */
static __always_inline int kilo_lb_length_fits(struct __sk_buff *skb, __u32 l3_off, __u32 ip_len,
					       __u32 header_len)
{
	if (ip_len == 0)
		return skb->len - l3_off > 0xffff;
	return ip_len >= header_len && l3_off + ip_len <= skb->len;
}

/*
 * Ports and TCP flags of the L4 header at l4_off, when the packet holds it
 * whole. Other protocols (and IPv6 extension headers) have none: network
 * policy still judges them, by protocol.
 */
static __always_inline int kilo_lb_parse_l4(void *data, void *data_end, struct kilo_lb_packet *pkt)
{
	__u32 off = pkt->l4_off;

	if (off > KILO_LB_PULL_LEN)
		return KILO_LB_PARSE_MALFORMED;
	if (pkt->proto == IPPROTO_TCP) {
		struct tcphdr *tcp = data + off;

		if ((void *)(tcp + 1) > data_end)
			return KILO_LB_PARSE_MALFORMED;
		pkt->sport = tcp->source;
		pkt->dport = tcp->dest;
		pkt->tcp_flags = ((__u8 *)tcp)[13];
	} else if (pkt->proto == IPPROTO_UDP || pkt->proto == IPPROTO_SCTP) {
		/* SCTP's common header starts with the ports, as UDP's does. */
		struct udphdr *udp = data + off;

		if ((void *)(udp + 1) > data_end)
			return KILO_LB_PARSE_MALFORMED;
		pkt->sport = udp->source;
		pkt->dport = udp->dest;
	} else if (pkt->proto == (pkt->family == KILO_AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6)) {
		__u8 *type = data + off;

		if ((void *)(type + 4) > data_end)
			return KILO_LB_PARSE_MALFORMED;
		pkt->icmp_type = *type;
	}
	return KILO_LB_PARSED;
}

static __always_inline int kilo_lb_parse_ipv4(struct __sk_buff *skb, void *data, void *data_end,
					      struct kilo_lb_packet *pkt)
{
	struct iphdr *ip = data + pkt->l3_off;
	__u16 frag_off;
	__u32 ihl_len;

	if ((void *)(ip + 1) > data_end)
		return KILO_LB_PARSE_MALFORMED;
	ihl_len = (__u32)ip->ihl * 4;
	if (ip->version != 4 || ihl_len < sizeof(*ip) ||
	    !kilo_lb_length_fits(skb, pkt->l3_off, bpf_ntohs(ip->tot_len), ihl_len))
		return KILO_LB_PARSE_MALFORMED;
	pkt->family = KILO_AF_INET;
	pkt->proto = ip->protocol;
	pkt->saddr.v4 = ip->saddr;
	pkt->daddr.v4 = ip->daddr;
	pkt->l4_off = pkt->l3_off + ihl_len;
	pkt->frag_id = bpf_ntohs(ip->id);
	frag_off = bpf_ntohs(ip->frag_off);
	if (frag_off & KILO_IP_OFFSET)
		pkt->fragment = KILO_LB_LATER_FRAGMENT;
	else if (frag_off & KILO_IP_MF)
		pkt->fragment = KILO_LB_FIRST_FRAGMENT;
	return KILO_LB_PARSED;
}

static __always_inline int kilo_lb_parse_ipv6(struct __sk_buff *skb, void *data, void *data_end,
					      struct kilo_lb_packet *pkt)
{
	struct ipv6hdr *ip6 = data + pkt->l3_off;
	__u8 *frag;
	__u16 frag_off;

	if ((void *)(ip6 + 1) > data_end)
		return KILO_LB_PARSE_MALFORMED;
	if (ip6->version != 6 ||
	    !kilo_lb_length_fits(skb, pkt->l3_off,
				 bpf_ntohs(ip6->payload_len) ? sizeof(*ip6) + bpf_ntohs(ip6->payload_len) : 0,
				 sizeof(*ip6)))
		return KILO_LB_PARSE_MALFORMED;
	pkt->family = KILO_AF_INET6;
	pkt->proto = ip6->nexthdr;
	__builtin_memcpy(pkt->saddr.bytes, &ip6->saddr, 16);
	__builtin_memcpy(pkt->daddr.bytes, &ip6->daddr, 16);
	pkt->l4_off = pkt->l3_off + sizeof(*ip6);
	if (pkt->proto != KILO_IP6_NEXTHDR_FRAGMENT)
		return KILO_LB_PARSED;
	/* next header (1), reserved (1), offset and M flag (2), identification (4) */
	frag = data + pkt->l4_off;
	if ((void *)(frag + 8) > data_end)
		return KILO_LB_PARSE_MALFORMED;
	pkt->proto = frag[0];
	frag_off = bpf_ntohs(*(__be16 *)(frag + 2));
	pkt->frag_id = bpf_ntohl(*(__be32 *)(frag + 4));
	pkt->l4_off += 8;
	if (frag_off & KILO_IP6_FRAG_OFFSET)
		pkt->fragment = KILO_LB_LATER_FRAGMENT;
	else if (frag_off & KILO_IP6_FRAG_MF)
		pkt->fragment = KILO_LB_FIRST_FRAGMENT;
	return KILO_LB_PARSED;
}

/* Fills pkt from the packet whose network header starts at l3_off. */
static __always_inline int kilo_lb_parse(struct __sk_buff *skb, __u32 l3_off,
					 struct kilo_lb_packet *pkt)
{
	void *data, *data_end;
	int r;

	__builtin_memset(pkt, 0, sizeof(*pkt));
	pkt->l3_off = l3_off;
	kilo_lb_pull(skb);
	/* Read once: a pointer the compiler reloads through a join may reach the verifier as a number. */
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (skb->protocol == bpf_htons(ETH_P_IP))
		r = kilo_lb_parse_ipv4(skb, data, data_end, pkt);
	else if (skb->protocol == bpf_htons(ETH_P_IPV6))
		r = kilo_lb_parse_ipv6(skb, data, data_end, pkt);
	else
		return KILO_LB_PARSE_PASS;
	if (r != KILO_LB_PARSED)
		return r;
	if (pkt->fragment == KILO_LB_LATER_FRAGMENT)
		return KILO_LB_PARSED;
	return kilo_lb_parse_l4(data, data_end, pkt);
}

#endif
