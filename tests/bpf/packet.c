// SPDX-License-Identifier: Apache-2.0
#include "packet.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#define ETH_LEN 14
#define IPV4_LEN 20
#define IPV6_LEN 40
#define IPV6_FRAG_LEN 8
#define TCP_LEN 20
#define UDP_LEN 8
#define SCTP_LEN 12      /* the common header */
#define SCTP_INIT_LEN 20 /* an INIT or INIT ACK chunk's header and fixed part */
#define SCTP_CLIENT_TAG 0x4b494c4fu
#define SCTP_SERVER_TAG 0x6b696c6fu
#define ICMP_LEN 8
#define NEXTHDR_FRAGMENT 44

static const uint8_t dst_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t src_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

/* RFC 1071: the ones' complement sum of 16-bit words, not folded. */
static uint32_t sum_words(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

/* CRC32c (Castagnoli, reflected), bit by bit: SCTP's checksum (RFC 9260 appendix A). */
static uint32_t crc32c(uint32_t crc, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int bit = 0; bit < 8; bit++)
			crc = crc >> 1 ^ (0x82f63b78u & -(crc & 1));
	}
	return crc;
}

/* An SCTP packet's checksum, over all of it with the checksum's own field as zero. */
static uint32_t sctp_checksum(const uint8_t *l4, size_t len)
{
	static const uint8_t zero[4];
	uint32_t crc = crc32c(0xffffffffu, l4, 8);

	crc = crc32c(crc, zero, sizeof(zero));
	return ~crc32c(crc, l4 + SCTP_LEN, len - SCTP_LEN);
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t pseudo_header_sum(int family, const uint8_t *src, const uint8_t *dst,
				  uint8_t proto, size_t len)
{
	size_t alen = family == 4 ? 4 : 16;
	uint32_t sum = sum_words(0, src, alen);

	sum = sum_words(sum, dst, alen);
	return sum + proto + (uint32_t)len;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* SCTP's checksum goes on the wire least significant byte first, as Linux writes it. */
static void put32_le(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int parse_addr(int family, const char *text, uint8_t *out)
{
	return inet_pton(family == 4 ? AF_INET : AF_INET6, text, out) == 1 ? 0 : -1;
}

static size_t build_l3(const struct kt_packet *p, uint8_t *buf, size_t cap);

/* The datagram's L4 part (header, payload), checksummed from scratch over all of it. */
static size_t build_l4(const struct kt_packet *p, const uint8_t *src, const uint8_t *dst,
		       uint8_t *l4, size_t cap)
{
	size_t len, i, header = p->proto == IPPROTO_TCP ? TCP_LEN
				: p->proto == IPPROTO_UDP ? UDP_LEN
				: p->proto == IPPROTO_SCTP ? SCTP_LEN + SCTP_INIT_LEN
							  : ICMP_LEN;
	uint8_t quoted[KT_PACKET_MAX], other[KT_PACKET_MAX];
	size_t quoted_len = 0;
	uint16_t csum;

	if (p->quoted) {
		quoted_len = build_l3(p->quoted, quoted, sizeof(quoted));
		if (quoted_len == 0)
			return 0;
		if (p->quoted_len && p->quoted_len < quoted_len)
			quoted_len = p->quoted_len;
		if (p->quoted_l4_checksum_of) {
			size_t l3 = p->quoted->family == 4 ? IPV4_LEN : IPV6_LEN;
			size_t off = l3 + (p->quoted->proto == IPPROTO_TCP ? 16 : 6);

			if (build_l3(p->quoted_l4_checksum_of, other, sizeof(other)) == 0)
				return 0;
			if (off + 2 <= quoted_len)
				memcpy(quoted + off, other + off, 2);
		}
	}
	len = header + p->payload_len + quoted_len;
	if (len > cap)
		return 0;
	memset(l4, 0, header);
	for (i = 0; i < p->payload_len; i++)
		l4[header + i] = (uint8_t)(i ^ 0x5a);
	memcpy(l4 + header + p->payload_len, quoted, quoted_len);
	if (p->proto == IPPROTO_TCP) {
		put16(l4, p->sport);
		put16(l4 + 2, p->dport);
		put32(l4 + 4, 1000);
		put32(l4 + 8, (p->tcp_flags & 0x10) ? 2000 : 0);
		l4[12] = 5 << 4;
		l4[13] = p->tcp_flags;
		put16(l4 + 14, 65535);
		csum = fold(sum_words(pseudo_header_sum(p->family, src, dst, p->proto, len), l4, len));
		put16(l4 + 16, csum);
	} else if (p->proto == IPPROTO_UDP) {
		put16(l4, p->sport);
		put16(l4 + 2, p->dport);
		put16(l4 + 4, (uint16_t)len);
		csum = fold(sum_words(pseudo_header_sum(p->family, src, dst, p->proto, len), l4, len));
		if (!p->udp_no_checksum)
			put16(l4 + 6, csum ? csum : 0xffff);
	} else if (p->proto == IPPROTO_SCTP) {
		bool init = p->sctp_chunk == KT_SCTP_INIT;

		put16(l4, p->sport);
		put16(l4 + 2, p->dport);
		/* An INIT's verification tag is 0; the INIT ACK carries the INIT's initiate tag. */
		put32(l4 + 4, init ? 0 : SCTP_CLIENT_TAG);
		l4[SCTP_LEN] = p->sctp_chunk;
		put16(l4 + SCTP_LEN + 2, (uint16_t)(len - SCTP_LEN));
		put32(l4 + SCTP_LEN + 4, init ? SCTP_CLIENT_TAG : SCTP_SERVER_TAG); /* initiate tag */
		put32(l4 + SCTP_LEN + 8, 65535); /* receiver window */
		put16(l4 + SCTP_LEN + 12, 1);    /* outbound streams */
		put16(l4 + SCTP_LEN + 14, 1);    /* inbound streams */
		put32(l4 + SCTP_LEN + 16, 1000); /* initial TSN */
		put32_le(l4 + 8, sctp_checksum(l4, len));
	} else {
		l4[0] = p->icmp_type;
		l4[1] = p->icmp_code;
		if (!p->quoted)
			put32(l4 + 4, 0x00420001); /* echo: identifier, sequence */
		csum = p->proto == IPPROTO_ICMPV6
			       ? fold(sum_words(pseudo_header_sum(6, src, dst, p->proto, len), l4, len))
			       : fold(sum_words(0, l4, len));
		put16(l4 + 2, csum);
	}
	return len;
}

static size_t build_l3(const struct kt_packet *p, uint8_t *buf, size_t cap)
{
	uint8_t src[16], dst[16], l4[KT_PACKET_MAX];
	size_t l4_len, part_off = 0, part_len, header;

	if (parse_addr(p->family, p->src, src) || parse_addr(p->family, p->dst, dst))
		return 0;
	l4_len = build_l4(p, src, dst, l4, sizeof(l4));
	if (l4_len == 0)
		return 0;
	part_len = l4_len;
	if (p->fragment) {
		part_off = (size_t)p->frag_offset * 8;
		part_len = p->frag_len ? p->frag_len : l4_len - part_off;
		if (part_off + part_len > l4_len)
			return 0;
	}
	if (p->family == 4) {
		header = IPV4_LEN + (size_t)p->ip_option_words * 4;
		if (header + part_len > cap)
			return 0;
		memset(buf, 0, header);
		buf[0] = 0x40 | (uint8_t)(header / 4);
		put16(buf + 2, (uint16_t)(header + part_len));
		put16(buf + 4, p->fragment ? (uint16_t)p->frag_id : 0);
		put16(buf + 6, p->fragment ? (uint16_t)((p->more_fragments ? 0x2000 : 0) | p->frag_offset) : 0);
		buf[8] = 64;
		buf[9] = p->proto;
		memcpy(buf + 12, src, 4);
		memcpy(buf + 16, dst, 4);
		memset(buf + IPV4_LEN, 1, header - IPV4_LEN); /* NOP options */
		put16(buf + 10, fold(sum_words(0, buf, header)));
	} else {
		header = IPV6_LEN + (p->fragment ? IPV6_FRAG_LEN : 0);
		if (header + part_len > cap)
			return 0;
		memset(buf, 0, header);
		buf[0] = 0x60;
		put16(buf + 4, (uint16_t)(header - IPV6_LEN + part_len));
		buf[6] = p->fragment ? NEXTHDR_FRAGMENT : p->proto;
		buf[7] = 64;
		memcpy(buf + 8, src, 16);
		memcpy(buf + 24, dst, 16);
		if (p->fragment) {
			buf[IPV6_LEN] = p->proto;
			put16(buf + IPV6_LEN + 2,
			      (uint16_t)(p->frag_offset << 3 | (p->more_fragments ? 1 : 0)));
			put32(buf + IPV6_LEN + 4, p->frag_id);
		}
	}
	memcpy(buf + header, l4 + part_off, part_len);
	return header + part_len;
}

size_t kt_packet_build(const struct kt_packet *p, uint8_t *buf, size_t cap)
{
	size_t len;

	if (cap < ETH_LEN)
		return 0;
	memcpy(buf, p->swap_macs ? src_mac : dst_mac, 6);
	memcpy(buf + 6, p->swap_macs ? dst_mac : src_mac, 6);
	put16(buf + 12, p->family == 4 ? 0x0800 : 0x86dd);
	len = build_l3(p, buf + ETH_LEN, cap - ETH_LEN);
	return len ? ETH_LEN + len : 0;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32_le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The L4 checksum of a whole datagram (not a fragment). */
static const char *verify_l4(int family, uint8_t proto, const uint8_t *src, const uint8_t *dst,
			     const uint8_t *l4, size_t len)
{
	if (proto == IPPROTO_UDP && family == 4 && len >= UDP_LEN && get16(l4 + 6) == 0)
		return NULL;
	if (proto == IPPROTO_SCTP) {
		if (len < SCTP_LEN || get32_le(l4 + 8) != sctp_checksum(l4, len))
			return "SCTP checksum";
	} else if (proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_ICMPV6) {
		if (fold(sum_words(pseudo_header_sum(family, src, dst, proto, len), l4, len)) != 0)
			return proto == IPPROTO_TCP ? "TCP checksum" : proto == IPPROTO_UDP ? "UDP checksum"
										 : "ICMPv6 checksum";
	} else if (proto == IPPROTO_ICMP) {
		if (fold(sum_words(0, l4, len)) != 0)
			return "ICMP checksum";
		/* An error's quoted IPv4 header has its own checksum. */
		if (len >= ICMP_LEN + IPV4_LEN && (l4[ICMP_LEN] >> 4) == 4 &&
		    fold(sum_words(0, l4 + ICMP_LEN, (size_t)(l4[ICMP_LEN] & 0xf) * 4)) != 0)
			return "quoted IPv4 header checksum";
	}
	return NULL;
}

const char *kt_packet_verify_checksums(const uint8_t *frame, size_t len)
{
	const uint8_t *ip = frame + ETH_LEN;
	size_t header, ip_len;

	if (len < ETH_LEN)
		return "frame shorter than Ethernet";
	if (get16(frame + 12) == 0x0800) {
		if (len < ETH_LEN + IPV4_LEN)
			return "truncated IPv4 header";
		header = (size_t)(ip[0] & 0xf) * 4;
		ip_len = get16(ip + 2);
		if (ETH_LEN + ip_len > len || header > ip_len)
			return "IPv4 length";
		if (fold(sum_words(0, ip, header)) != 0)
			return "IPv4 header checksum";
		if (get16(ip + 6) & 0x3fff)
			return NULL; /* a fragment: its L4 checksum covers the whole datagram */
		return verify_l4(4, ip[9], ip + 12, ip + 16, ip + header, ip_len - header);
	}
	if (get16(frame + 12) == 0x86dd) {
		if (len < ETH_LEN + IPV6_LEN)
			return "truncated IPv6 header";
		ip_len = IPV6_LEN + get16(ip + 4);
		if (ETH_LEN + ip_len > len)
			return "IPv6 length";
		if (ip[6] == NEXTHDR_FRAGMENT)
			return NULL;
		return verify_l4(6, ip[6], ip + 8, ip + 24, ip + IPV6_LEN, ip_len - IPV6_LEN);
	}
	return NULL;
}

bool kt_packet_equal(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len)
{
	size_t i;

	if (got_len != want_len) {
		fprintf(stderr, "length %zu, want %zu\n", got_len, want_len);
		return false;
	}
	for (i = 0; i < got_len; i++) {
		if (got[i] != want[i]) {
			fprintf(stderr, "byte %zu: 0x%02x, want 0x%02x\n", i, got[i], want[i]);
			return false;
		}
	}
	return true;
}
