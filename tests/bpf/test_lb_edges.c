// SPDX-License-Identifier: Apache-2.0
/* NodePort, ICMP errors about balanced flows, fragments, bad packets and traffic to leave alone. */
#include "fixtures.h"

#include <string.h>

#define ICMP_DEST_UNREACH 3
#define ICMP_PORT_UNREACH 3
#define ICMP_FRAG_NEEDED 4
#define ICMP_TIME_EXCEEDED 11
#define ICMPV6_DEST_UNREACH 1
#define ICMPV6_PORT_UNREACH 4
#define ICMPV6_PKT_TOOBIG 2

static const uint32_t tcp4_1[] = {1};
static const uint32_t tcp4_3[] = {3};
static const uint32_t udp4_11[] = {11};
static const uint32_t udp6_31[] = {31};
static const uint32_t tcp6_21[] = {21};

static struct kt_packet icmp_error(int family, const char *src, const char *dst, uint8_t type,
				   uint8_t code, const struct kt_packet *quoted, uint16_t quoted_len)
{
	struct kt_packet p = {
		.family = family, .proto = family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6,
		.src = src, .dst = dst, .icmp_type = type, .icmp_code = code,
		.quoted = quoted, .quoted_len = quoted_len,
	};

	return p;
}

void test_nodeport_to_local_backend_and_its_reply(void **state)
{
	(void)state;
	add_service(4, NODE4, 30080, IPPROTO_TCP, KILO_LB_SCOPE_NODEPORT, 40, 0, tcp4_1, 1);
	kt_expect(&kt, KT_FROM_NETDEV, &TCP4(OUTSIDE4, NODE4, 50000, 30080, SYN, 0), TC_ACT_OK,
		  &TCP4(OUTSIDE4, BACKEND4_1, 50000, 8080, SYN, 0));
	/* The local backend's reply leaves its pod: from the node's NodePort again. */
	kt_expect(&kt, KT_FROM_POD, &TCP4(BACKEND4_1, OUTSIDE4, 8080, 50000, SYN | ACK, 0),
		  TC_ACT_OK, &TCP4(NODE4, OUTSIDE4, 30080, 50000, SYN | ACK, 0));
	/* A NodePort is not a ClusterIP: a pod's packet to it is not balanced at its veth. */
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, NODE4, 50001, 30080, SYN, 0), TC_ACT_OK, NULL);
}

void test_nodeport_snat_to_remote_backend_and_its_reply(void **state)
{
	struct kt_packet syn = TCP4(OUTSIDE4, NODE4, 50002, 30080, SYN, 0);
	uint16_t nat_port = (uint16_t)(32768 + kt_flow_hash(&syn) % 28232);

	(void)state;
	add_service(4, NODE4, 30080, IPPROTO_TCP, KILO_LB_SCOPE_NODEPORT, 41, KILO_LB_SERVICE_SNAT,
		    tcp4_3, 1);
	kt_expect(&kt, KT_FROM_NETDEV, &syn, TC_ACT_OK,
		  &TCP4(NODE4, BACKEND4_3, nat_port, 8080, SYN, 0));
	kt_expect(&kt, KT_FROM_NETDEV, &TCP4(BACKEND4_3, NODE4, 8080, nat_port, SYN | ACK, 0),
		  TC_ACT_OK, &TCP4(NODE4, OUTSIDE4, 30080, 50002, SYN | ACK, 0));
	kt_expect(&kt, KT_FROM_NETDEV, &TCP4(OUTSIDE4, NODE4, 50002, 30080, ACK | PSH, 99),
		  TC_ACT_OK, &TCP4(NODE4, BACKEND4_3, nat_port, 8080, ACK | PSH, 99));
	assert_int_equal(kt_counter(&kt, KILO_LB_REVERSE_NAT), 1);
}

/* A VPN peer's flow to a ClusterIP enters through the WireGuard device: the backend sees the node. */
void test_cluster_ip_from_outside_is_snatted_to_the_node(void **state)
{
	struct kt_packet syn = TCP4(OUTSIDE4, VIP4, 50003, 80, SYN, 0);
	uint16_t nat_port = (uint16_t)(32768 + kt_flow_hash(&syn) % 28232);

	(void)state;
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 42, 0, tcp4_3, 1);
	kt_set_node4(&kt, NODE4);
	kt_expect(&kt, KT_FROM_NETDEV, &syn, TC_ACT_OK, &TCP4(NODE4, BACKEND4_3, nat_port, 8080, SYN, 0));
	kt_expect(&kt, KT_FROM_NETDEV, &TCP4(BACKEND4_3, NODE4, 8080, nat_port, SYN | ACK, 0), TC_ACT_OK,
		  &TCP4(VIP4, OUTSIDE4, 80, 50003, SYN | ACK, 0));
	/* From a pod of the node the client's address stays: the reply passes its veth anyway. */
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 50004, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_3, 50004, 8080, SYN, 0));
	/* Without a node address of the family, no SNAT. */
	kt_set_node4(&kt, NULL);
	kt_expect(&kt, KT_FROM_NETDEV, &TCP4(OUTSIDE4, VIP4, 50005, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(OUTSIDE4, BACKEND4_3, 50005, 8080, SYN, 0));
}

void test_icmp_port_unreachable_from_backend_v4(void **state)
{
	struct kt_packet sent = UDP4(CLIENT4, BACKEND4_1, 50010, 5353, 20);
	struct kt_packet own = UDP4(CLIENT4, DNS4, 50010, 53, 20);
	struct kt_packet error, want;

	(void)state;
	own.quoted_l4_checksum_of = NULL;
	add_service(4, DNS4, 53, IPPROTO_UDP, KILO_LB_SCOPE_CLUSTER, 8, 0, udp4_11, 1);
	kt_expect(&kt, KT_FROM_POD, &own, TC_ACT_OK, &sent);
	error = icmp_error(4, BACKEND4_1, CLIENT4, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, &sent, 0);
	want = icmp_error(4, DNS4, CLIENT4, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, &own, 0);
	want.quoted_l4_checksum_of = &sent;
	/* To a client pod, and as it leaves a backend pod of this node. */
	kt_expect(&kt, KT_TO_POD, &error, TC_ACT_OK, &want);
	kt_expect(&kt, KT_FROM_POD, &error, TC_ACT_OK, &want);
	assert_int_equal(kt_counter(&kt, KILO_LB_ICMP_ERROR_NAT), 2);
}

void test_icmp_time_exceeded_from_router_v4(void **state)
{
	struct kt_packet sent = TCP4(CLIENT4, BACKEND4_1, 40060, 8080, SYN, 0);
	struct kt_packet own = TCP4(CLIENT4, VIP4, 40060, 80, SYN, 0);
	struct kt_packet error, want;

	(void)state;
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, tcp4_1, 1);
	kt_expect(&kt, KT_FROM_POD, &own, TC_ACT_OK, &sent);
	/* RFC 792's quote: the IP header and 8 bytes. */
	error = icmp_error(4, ROUTER4, CLIENT4, ICMP_TIME_EXCEEDED, 0, &sent, 28);
	want = icmp_error(4, ROUTER4, CLIENT4, ICMP_TIME_EXCEEDED, 0, &own, 28);
	kt_expect(&kt, KT_TO_POD, &error, TC_ACT_OK, &want);
	/* Linux quotes more: the whole TCP header, whose checksum stays. */
	error = icmp_error(4, ROUTER4, CLIENT4, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, &sent, 0);
	want = icmp_error(4, ROUTER4, CLIENT4, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, &own, 0);
	want.quoted_l4_checksum_of = &sent;
	kt_expect(&kt, KT_TO_POD, &error, TC_ACT_OK, &want);
}

void test_icmp_errors_v6(void **state)
{
	struct kt_packet sent = UDP6(CLIENT6, BACKEND6_1, 42010, 5353, 40);
	struct kt_packet own = UDP6(CLIENT6, VIP6, 42010, 53, 40);
	struct kt_packet tcp_sent = TCP6(CLIENT6, BACKEND6_1, 42011, 8080, ACK | PSH, 1200);
	struct kt_packet tcp_own = TCP6(CLIENT6, VIP6, 42011, 443, ACK | PSH, 1200);
	struct kt_packet error, want;

	(void)state;
	add_service(6, VIP6, 53, IPPROTO_UDP, KILO_LB_SCOPE_CLUSTER, 10, 0, udp6_31, 1);
	add_service(6, VIP6, 443, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 9, 0, tcp6_21, 1);
	kt_expect(&kt, KT_FROM_POD, &own, TC_ACT_OK, &sent);
	error = icmp_error(6, BACKEND6_1, CLIENT6, ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH, &sent, 0);
	want = icmp_error(6, VIP6, CLIENT6, ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH, &own, 0);
	want.quoted_l4_checksum_of = &sent;
	kt_expect(&kt, KT_TO_POD, &error, TC_ACT_OK, &want);
	kt_expect(&kt, KT_FROM_POD, &tcp_own, TC_ACT_OK, &tcp_sent);
	/* A router's "packet too big", quoting as much as fits in 1280 bytes. */
	error = icmp_error(6, ROUTER6, CLIENT6, ICMPV6_PKT_TOOBIG, 0, &tcp_sent, 1280 - 48);
	want = icmp_error(6, ROUTER6, CLIENT6, ICMPV6_PKT_TOOBIG, 0, &tcp_own, 1280 - 48);
	want.quoted_l4_checksum_of = &tcp_sent;
	kt_expect(&kt, KT_TO_POD, &error, TC_ACT_OK, &want);
}

void test_no_backend_rejects_with_port_unreachable(void **state)
{
	struct kt_packet syn = TCP4(CLIENT4, VIP4, 40090, 80, SYN, 0);
	struct kt_packet query = UDP6(CLIENT6, VIP6, 40091, 53, 30);
	struct kt_packet want;

	(void)state;
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, KILO_LB_SERVICE_ICMP_REJECT, NULL, 0);
	add_service(6, VIP6, 53, IPPROTO_UDP, KILO_LB_SCOPE_CLUSTER, 10, KILO_LB_SERVICE_ICMP_REJECT, NULL, 0);
	/* From the VIP, quoting the IP header and 8 bytes, back out of the pod's veth. */
	want = icmp_error(4, VIP4, CLIENT4, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, &syn, 28);
	want.swap_macs = true;
	kt_expect(&kt, KT_FROM_POD, &syn, TC_ACT_REDIRECT, &want);
	want = icmp_error(6, VIP6, CLIENT6, ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH, &query, 48);
	want.swap_macs = true;
	kt_expect(&kt, KT_FROM_POD, &query, TC_ACT_REDIRECT, &want);
	assert_int_equal(kt_counter(&kt, KILO_LB_REJECT_NO_BACKEND), 2);
	assert_int_equal(kt_counter(&kt, KILO_LB_DROP_NO_BACKEND), 0);
	/* IPv4 options do not fit the quote: dropped. */
	syn.ip_option_words = 1;
	kt_expect(&kt, KT_FROM_POD, &syn, TC_ACT_SHOT, NULL);
}

void test_icmp_error_about_other_flow_passes(void **state)
{
	struct kt_packet sent = UDP4(CLIENT4, BACKEND4_2, 50030, 5353, 20);
	struct kt_packet error =
		icmp_error(4, BACKEND4_2, CLIENT4, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, &sent, 0);

	(void)state;
	add_service(4, DNS4, 53, IPPROTO_UDP, KILO_LB_SCOPE_CLUSTER, 8, 0, udp4_11, 1);
	kt_expect(&kt, KT_TO_POD, &error, TC_ACT_OK, NULL);
	assert_int_equal(kt_counter(&kt, KILO_LB_ICMP_ERROR_NAT), 0);
}

/* The fragment [offset * 8, + len) (len 0: the rest) of in, expected as that of want. */
static void expect_fragment(enum kt_prog prog, struct kt_packet in, struct kt_packet *want,
			    uint16_t offset, uint16_t len, bool more, uint32_t id)
{
	struct kt_packet *both[] = {&in, want};
	size_t i;

	for (i = 0; i < 2; i++) {
		if (!both[i])
			continue;
		both[i]->fragment = true;
		both[i]->frag_offset = offset;
		both[i]->frag_len = len;
		both[i]->more_fragments = more;
		both[i]->frag_id = id;
	}
	kt_expect(&kt, prog, &in, TC_ACT_OK, want);
}

void test_ipv4_fragments_follow_first(void **state)
{
	struct kt_packet query = UDP4(CLIENT4, DNS4, 50020, 53, 100);
	struct kt_packet dnat = UDP4(CLIENT4, BACKEND4_1, 50020, 5353, 100);
	struct kt_packet answer = UDP4(BACKEND4_1, CLIENT4, 5353, 50020, 100);
	struct kt_packet reversed = UDP4(DNS4, CLIENT4, 53, 50020, 100);

	(void)state;
	add_service(4, DNS4, 53, IPPROTO_UDP, KILO_LB_SCOPE_CLUSTER, 8, 0, udp4_11, 1);
	expect_fragment(KT_FROM_POD, query, &dnat, 0, 48, true, 77);
	expect_fragment(KT_FROM_POD, query, &dnat, 6, 0, false, 77);
	expect_fragment(KT_TO_POD, answer, &reversed, 0, 56, true, 78);
	expect_fragment(KT_TO_POD, answer, &reversed, 7, 0, false, 78);
}

void test_ipv6_fragments_follow_first(void **state)
{
	struct kt_packet query = UDP6(CLIENT6, VIP6, 42020, 53, 1500);
	struct kt_packet dnat = UDP6(CLIENT6, BACKEND6_1, 42020, 5353, 1500);

	(void)state;
	add_service(6, VIP6, 53, IPPROTO_UDP, KILO_LB_SCOPE_CLUSTER, 10, 0, udp6_31, 1);
	expect_fragment(KT_FROM_POD, query, &dnat, 0, 1232, true, 0x10203);
	expect_fragment(KT_FROM_POD, query, &dnat, 154, 0, false, 0x10203);
}

void test_fragment_without_first_passes(void **state)
{
	(void)state;
	add_service(4, DNS4, 53, IPPROTO_UDP, KILO_LB_SCOPE_CLUSTER, 8, 0, udp4_11, 1);
	expect_fragment(KT_FROM_POD, UDP4(CLIENT4, DNS4, 50021, 53, 100), NULL, 6, 0, false, 79);
}

/*
 * A SYN to the VIP, cut to cut_to bytes and one byte patched. (The kernel's
 * test_run refuses a frame that cuts the IP header itself; the programs
 * check it all the same.)
 */
static void expect_malformed_dropped(int family, size_t cut_to, size_t patch_at, uint8_t patch)
{
	uint8_t in[KT_PACKET_MAX], out[KT_PACKET_MAX];
	struct kt_packet syn = family == 4 ? TCP4(CLIENT4, VIP4, 40070, 80, SYN, 0)
					   : TCP6(CLIENT6, VIP6, 40070, 443, SYN, 0);
	size_t len = kt_packet_build(&syn, in, sizeof(in)), out_len;

	assert_true(len > 0);
	if (cut_to)
		len = cut_to;
	if (patch_at)
		in[patch_at] = patch;
	assert_int_equal(kt_run(&kt, KT_FROM_POD, in, len, out, &out_len), TC_ACT_SHOT);
}

void test_malformed_packets_dropped(void **state)
{
	(void)state;
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, tcp4_1, 1);
	add_service(6, VIP6, 443, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 9, 0, tcp6_21, 1);
	expect_malformed_dropped(4, 14 + 20, 0, 0);     /* cut after the IPv4 header */
	expect_malformed_dropped(4, 0, 14 + 2, 0x04);   /* total length beyond the frame */
	expect_malformed_dropped(4, 0, 14, 0x44);       /* header length 16 bytes */
	expect_malformed_dropped(4, 0, 14, 0x55);       /* version 5 */
	expect_malformed_dropped(4, 14 + 20 + 10, 14 + 3, 30); /* TCP header cut, lengths agree */
	expect_malformed_dropped(6, 14 + 40, 0, 0);     /* cut after the IPv6 header */
	expect_malformed_dropped(6, 0, 14 + 4, 0x10);   /* payload length beyond the frame */
	expect_malformed_dropped(6, 14 + 40 + 12, 14 + 5, 12); /* TCP header cut, lengths agree */
	assert_int_equal(kt_counter(&kt, KILO_LB_DROP_MALFORMED), 8);
	assert_int_equal(kt_counter(&kt, KILO_LB_FORWARD_NEW), 0);
}

void test_non_service_traffic_passes_unchanged(void **state)
{
	struct kt_packet echo = {
		.family = 4, .proto = IPPROTO_ICMP, .src = CLIENT4, .dst = VIP4, .icmp_type = 8,
		.payload_len = 56,
	};
	uint8_t arp[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 2, 0x08, 0x06};
	uint8_t out[KT_PACKET_MAX];
	size_t out_len;

	(void)state;
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, tcp4_1, 1);
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, "10.4.9.9", 40080, 80, SYN, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_FROM_POD, &UDP4(CLIENT4, VIP4, 40080, 81, 10), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_FROM_POD, &echo, TC_ACT_OK, NULL);
	kt_expect(&kt, KT_FROM_POD, &TCP6(CLIENT6, VIP6, 40080, 80, SYN, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(BACKEND4_2, CLIENT4, 8080, 1234, ACK, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_FROM_NETDEV, &TCP4(OUTSIDE4, NODE4, 50040, 22, SYN, 0), TC_ACT_OK, NULL);
	assert_int_equal(kt_run(&kt, KT_FROM_POD, arp, sizeof(arp), out, &out_len), TC_ACT_OK);
	assert_true(kt_packet_equal(out, out_len, arp, sizeof(arp)));
	assert_int_equal(kt_counter(&kt, KILO_LB_PASS), 7);
	assert_int_equal(kt_counter(&kt, KILO_LB_FORWARD_NEW), 0);
}
