/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small packet builder for the datapath fixtures: Ethernet, IPv4 or IPv6,
 * TCP, UDP, SCTP or ICMP, with every checksum computed from scratch (never
 * incrementally, so that it checks the programs' incremental updates).
 */
#ifndef KILO_TESTS_BPF_PACKET_H
#define KILO_TESTS_BPF_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KT_PACKET_MAX 2048

/* SCTP chunk types (RFC 9260 3.2). */
#define KT_SCTP_INIT 1
#define KT_SCTP_INIT_ACK 2

struct kt_packet {
	int family;      /* 4 or 6 */
	uint8_t proto;   /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, IPPROTO_ICMP, IPPROTO_ICMPV6 */
	const char *src; /* addresses as text */
	const char *dst;
	uint16_t sport;  /* host order */
	uint16_t dport;
	uint8_t tcp_flags;
	/* SCTP: the packet's one chunk, INIT or INIT ACK (the payload follows its fixed part). */
	uint8_t sctp_chunk;
	uint16_t payload_len;
	bool udp_no_checksum;
	uint8_t ip_option_words; /* IPv4 options (NOPs), in 4-byte words */
	/* A fragment: bytes [frag_offset * 8, + frag_len) of the datagram's L4 part. */
	bool fragment;
	uint16_t frag_offset;
	uint16_t frag_len;
	bool more_fragments;
	uint32_t frag_id;
	/* ICMP: an echo request, or an error quoting the first quoted_len bytes of quoted. */
	uint8_t icmp_type;
	uint8_t icmp_code;
	const struct kt_packet *quoted;
	uint16_t quoted_len;
	/* The quoted packet's L4 checksum as this packet's (programs leave it as it was). */
	const struct kt_packet *quoted_l4_checksum_of;
	bool swap_macs; /* an answer: from the frame's usual destination MAC to its source */
};

/* The frame with its Ethernet header; 0 when it does not fit in cap. */
size_t kt_packet_build(const struct kt_packet *p, uint8_t *buf, size_t cap);

/*
 * Checks every checksum of a frame from scratch (IPv4 header, TCP, UDP,
 * SCTP's CRC32c, ICMP, ICMPv6; a whole datagram only, fragments' L4
 * checksums are skipped).
 * Returns NULL when all are right, else which one is wrong.
 */
const char *kt_packet_verify_checksums(const uint8_t *frame, size_t len);

/* Prints the first difference of two frames to stderr; returns whether they are equal. */
bool kt_packet_equal(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len);

#endif
