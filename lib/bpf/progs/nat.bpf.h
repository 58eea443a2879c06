/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Rewriting addresses and ports in place with incremental checksums: the
 * IPv4 header's, and the L4 checksum's pseudo-header part (TCP, UDP, ICMPv6).
 * A UDP checksum of zero (IPv4: "none") stays zero; an update that would
 * give zero gives 0xffff instead (BPF_F_MARK_MANGLED_0).
 */
#ifndef KILO_NAT_BPF_H
#define KILO_NAT_BPF_H

#include "packet.bpf.h"

/* How an address change reaches the L4 checksum: through its pseudo-header. */
static __always_inline __u64 kilo_lb_l4_csum_flags(__u8 proto)
{
	return BPF_F_PSEUDO_HDR | (proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0);
}

/* Whether the L4 checksum covers a pseudo-header with the addresses. */
static __always_inline int kilo_lb_l4_has_pseudo_header(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_ICMPV6;
}

/* An IPv4 header from its checksum to its addresses, and the L4 ports that follow a header without options. */
struct kilo_lb_run4 {
	__u16 check;
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
} __attribute__((packed));

/* A checksum after one 32-bit word it covers went from `from` to `to` (RFC 1624: ~(~HC + ~m + m')). */
static __always_inline __u16 kilo_lb_csum_replace4(__u16 check, __be32 from, __be32 to)
{
	return kilo_lb_csum_fold((__u16)~check + (~from & 0xffff) + (~from >> 16) + (to & 0xffff) + (to >> 16));
}

/*
 * Replaces the source (dst = 0) or destination address of the IPv4 header
 * at l3_off and updates its checksum, with one store: the checksum and the
 * addresses are one run of bytes, and so are the L4 ports after them in a
 * header without options (port, NULL: none to write: the new port of the
 * same end, its checksum updated). Each helper call saved is ~7 ns: a hit
 * in bench/lb/test_run.c took 113-119 ns with bpf_l3_csum_replace and three
 * stores, 104 ns with this one. The header is in the packet's linear part:
 * it was parsed there.
 */
static __always_inline int kilo_lb_set_addr4(struct __sk_buff *skb, __u32 l3_off, int dst, __be32 old, __be32 new,
					     const __be16 *port)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 len = dst ? offsetof(struct kilo_lb_run4, sport) : offsetof(struct kilo_lb_run4, daddr);
	struct kilo_lb_run4 run;
	struct iphdr *ip;
	__be16 *ports;

	if (l3_off > KILO_LB_PULL_LEN)
		return -1;
	/*
	 * The bound again, on the register the pointer is made of: clang may
	 * check a copy and add one reloaded, whose range kernel 6.1 loses.
	 */
	barrier_var(l3_off);
	ip = data + (l3_off & 0xff);
	if ((void *)(ip + 1) > data_end)
		return -1;
	run.check = kilo_lb_csum_replace4(ip->check, old, new);
	run.saddr = dst ? ip->saddr : new;
	run.daddr = dst ? new : ip->daddr;
	if (port) {
		ports = (void *)(ip + 1);
		if ((void *)(ports + 2) > data_end)
			return -1;
		run.sport = dst ? ports[0] : *port;
		run.dport = dst ? *port : ports[1];
		len = sizeof(run);
	}
	return bpf_skb_store_bytes(skb, l3_off + offsetof(struct iphdr, check), &run, len, 0);
}

/*
 * Replaces the source (dst = 0) or destination address of the IP header at
 * l3_off. l4_csum_off: the checksum that covers the address, or 0 when this
 * packet holds none (a later fragment, ICMPv4); l4_flags say how
 * (BPF_F_PSEUDO_HDR, or nothing for an address quoted in an ICMPv6 error).
 * port: IPv4 without options, the port of the same end to write with the
 * address (see kilo_lb_set_addr4); else NULL.
 */
static __always_inline int kilo_lb_set_addr(struct __sk_buff *skb, __u8 family, __u32 l3_off,
					    int dst, const union kilo_lb_addr *old,
					    const union kilo_lb_addr *new, __u32 l4_csum_off,
					    __u64 l4_flags, const __be16 *port)
{
	__u32 off = l3_off + (dst ? offsetof(struct ipv6hdr, daddr) : offsetof(struct ipv6hdr, saddr));
	__s64 diff;

	if (family == KILO_AF_INET) {
		if (l4_csum_off &&
		    bpf_l4_csum_replace(skb, l4_csum_off, old->v4, new->v4,
					4 | l4_flags))
			return -1;
		return kilo_lb_set_addr4(skb, l3_off, dst, old->v4, new->v4, port);
	}
	if (l4_csum_off) {
		diff = bpf_csum_diff((__be32 *)old->v6, 16, (__be32 *)new->v6, 16, 0);
		if (diff < 0 ||
		    bpf_l4_csum_replace(skb, l4_csum_off, 0, diff, l4_flags))
			return -1;
	}
	return bpf_skb_store_bytes(skb, off, new->v6, 16, 0);
}

/* The L4 checksum (at l4_csum_off, 0: none) after a port went from old to new. */
static __always_inline int kilo_lb_port_csum(struct __sk_buff *skb, __be16 old, __be16 new, __u32 l4_csum_off,
					     __u64 l4_flags)
{
	if (old == new || !l4_csum_off)
		return 0;
	return bpf_l4_csum_replace(skb, l4_csum_off, old, new, 2 | (l4_flags & ~BPF_F_PSEUDO_HDR)) ? -1 : 0;
}

/* Replaces the source (dst = 0) or destination port of the L4 header at l4_off. */
static __always_inline int kilo_lb_set_port(struct __sk_buff *skb, __u32 l4_off, int dst,
					    __be16 old, __be16 new, __u32 l4_csum_off,
					    __u64 l4_flags)
{
	if (old == new)
		return 0;
	if (kilo_lb_port_csum(skb, old, new, l4_csum_off, l4_flags))
		return -1;
	return bpf_skb_store_bytes(skb, l4_off + (dst ? 2 : 0), &new, 2, 0);
}

/* Rewrites the packet's own destination (dst = 1) or source to addr:port. */
static __always_inline int kilo_lb_nat(struct __sk_buff *skb, const struct kilo_lb_packet *pkt,
				       int dst, const union kilo_lb_addr *addr, __be16 port)
{
	__u32 csum_off = 0;
	__u64 flags = kilo_lb_l4_csum_flags(pkt->proto);
	const union kilo_lb_addr *old = dst ? &pkt->daddr : &pkt->saddr;
	__be16 old_port = dst ? pkt->dport : pkt->sport;
	const __be16 *run_port = NULL;

	if (pkt->fragment != KILO_LB_LATER_FRAGMENT && kilo_lb_l4_has_pseudo_header(pkt->proto))
		csum_off = kilo_lb_l4_csum_off(pkt);
	if (!kilo_lb_has_l4_ports(pkt))
		return kilo_lb_set_addr(skb, pkt->family, pkt->l3_off, dst, old, addr, csum_off, flags, NULL);
	/* IPv4 without options: the port goes with the address, one store (its checksum first). */
	if (pkt->family == KILO_AF_INET && pkt->l4_off == pkt->l3_off + sizeof(struct iphdr)) {
		if (kilo_lb_port_csum(skb, old_port, port, csum_off, flags))
			return -1;
		run_port = &port;
	}
	if (kilo_lb_set_addr(skb, pkt->family, pkt->l3_off, dst, old, addr, csum_off, flags, run_port))
		return -1;
	if (run_port)
		return 0;
	return kilo_lb_set_port(skb, pkt->l4_off, dst, old_port, port, csum_off, flags);
}

#endif
