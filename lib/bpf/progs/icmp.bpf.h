/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * ICMP errors about a balanced flow, on their way to the client: the packet
 * quoted inside is the flow as the backend saw it (client -> backend), and
 * the client must see its own (client -> frontend), else its stack drops the
 * error (no path MTU, no "connection refused"). The quoted headers are
 * rewritten with the IPv4 header checksum and the ICMP checksum; the quoted
 * L4 checksum is left as it is (the quote is often cut short, and no stack
 * checks it).
 */
#ifndef KILO_ICMP_BPF_H
#define KILO_ICMP_BPF_H

#include "nat.bpf.h"

/* The types that quote the packet they are about. */
static __always_inline int kilo_lb_is_icmp_error(const struct kilo_lb_packet *pkt)
{
	if (pkt->fragment != KILO_LB_NOT_FRAGMENT)
		return 0;
	if (pkt->proto == IPPROTO_ICMP)
		return pkt->icmp_type == KILO_ICMP_DEST_UNREACH ||
		       pkt->icmp_type == KILO_ICMP_TIME_EXCEEDED ||
		       pkt->icmp_type == KILO_ICMP_PARAMETERPROB;
	if (pkt->proto == IPPROTO_ICMPV6)
		return pkt->icmp_type >= KILO_ICMPV6_DEST_UNREACH && pkt->icmp_type <= KILO_ICMPV6_PARAMPROB;
	return 0;
}

/*
 * The quoted packet's headers: addresses, ports, where they are. Its length
 * fields are not checked (the quote is cut short); its ports must be there.
 */
static __always_inline int kilo_lb_parse_quoted(struct __sk_buff *skb,
						const struct kilo_lb_packet *outer,
						struct kilo_lb_packet *quoted)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 off = outer->l4_off + KILO_ICMP_HEADER_LEN;
	__be16 *ports;

	__builtin_memset(quoted, 0, sizeof(*quoted));
	if (off > KILO_LB_PULL_LEN)
		return -1;
	quoted->l3_off = off;
	quoted->family = outer->family;
	if (outer->family == KILO_AF_INET) {
		struct iphdr *ip = data + off;

		if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl < 5 ||
		    (bpf_ntohs(ip->frag_off) & KILO_IP_OFFSET))
			return -1;
		quoted->proto = ip->protocol;
		quoted->saddr.v4 = ip->saddr;
		quoted->daddr.v4 = ip->daddr;
		quoted->l4_off = off + (__u32)ip->ihl * 4;
	} else {
		struct ipv6hdr *ip6 = data + off;

		if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
			return -1;
		quoted->proto = ip6->nexthdr;
		__builtin_memcpy(quoted->saddr.bytes, &ip6->saddr, 16);
		__builtin_memcpy(quoted->daddr.bytes, &ip6->daddr, 16);
		quoted->l4_off = off + sizeof(*ip6);
	}
	if (quoted->proto != IPPROTO_TCP && quoted->proto != IPPROTO_UDP)
		return -1;
	if (quoted->l4_off > KILO_LB_PULL_LEN)
		return -1;
	ports = data + quoted->l4_off;
	if ((void *)(ports + 2) > data_end)
		return -1;
	quoted->sport = ports[0];
	quoted->dport = ports[1];
	return 0;
}

/*
 * Rewrites one end (dst = 1: the destination) of the quoted packet to
 * addr:port. ICMPv4 needs no checksum change for the address: the quoted
 * header's own checksum changes by the opposite amount. ICMPv6 sums the
 * quoted bytes directly.
 */
static __always_inline int kilo_lb_nat_quoted(struct __sk_buff *skb,
					      const struct kilo_lb_packet *outer,
					      const struct kilo_lb_packet *quoted, int dst,
					      const union kilo_lb_addr *addr, __be16 port)
{
	__u32 icmp_csum_off = kilo_lb_l4_csum_off(outer);
	const union kilo_lb_addr *old = dst ? &quoted->daddr : &quoted->saddr;

	if (kilo_lb_set_addr(skb, quoted->family, quoted->l3_off, dst, old, addr,
			     quoted->family == KILO_AF_INET ? 0 : icmp_csum_off, 0, NULL))
		return -1;
	return kilo_lb_set_port(skb, quoted->l4_off, dst, dst ? quoted->dport : quoted->sport, port,
				icmp_csum_off, 0);
}

/* Rewrites one end of the error's own header; ICMPv6 covers it in its pseudo-header. */
static __always_inline int kilo_lb_nat_icmp_outer(struct __sk_buff *skb,
						  const struct kilo_lb_packet *outer, int dst,
						  const union kilo_lb_addr *addr)
{
	const union kilo_lb_addr *old = dst ? &outer->daddr : &outer->saddr;

	if (outer->family == KILO_AF_INET)
		return kilo_lb_set_addr(skb, outer->family, outer->l3_off, dst, old, addr, 0, 0, NULL);
	return kilo_lb_set_addr(skb, outer->family, outer->l3_off, dst, old, addr,
				kilo_lb_l4_csum_off(outer), BPF_F_PSEUDO_HDR, NULL);
}

#endif
