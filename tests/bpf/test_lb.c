// SPDX-License-Identifier: Apache-2.0
/*
 * The load balancer's programs, packet in -> verdict and packet out, byte for
 * byte: ClusterIP flows (TCP, UDP, IPv6), conntrack, reverse NAT, affinity,
 * Maglev, no backend, terminating and gone backends. NodePort, ICMP errors,
 * fragments and bad packets are in test_lb_edges.c.
 */
#include "fixtures.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

struct kt_lb kt;

void add_backends(void)
{
	kt_add_backend(&kt, 1, 4, BACKEND4_1, 8080, IPPROTO_TCP, 0);
	kt_add_backend(&kt, 2, 4, BACKEND4_2, 8080, IPPROTO_TCP, 0);
	kt_add_backend(&kt, 3, 4, BACKEND4_3, 8080, IPPROTO_TCP, 0);
	kt_add_backend(&kt, 11, 4, BACKEND4_1, 5353, IPPROTO_UDP, 0);
	kt_add_backend(&kt, 12, 4, BACKEND4_2, 5353, IPPROTO_UDP, 0);
	kt_add_backend(&kt, 21, 6, BACKEND6_1, 8080, IPPROTO_TCP, 0);
	kt_add_backend(&kt, 22, 6, BACKEND6_2, 8080, IPPROTO_TCP, 0);
	kt_add_backend(&kt, 31, 6, BACKEND6_1, 5353, IPPROTO_UDP, 0);
}

void add_service(int family, const char *addr, uint16_t port, uint8_t proto, uint8_t scope,
		 uint32_t id, uint16_t flags, const uint32_t *slots, uint16_t n)
{
	struct kt_service svc = {
		.family = family, .addr = addr, .port = port, .proto = proto, .scope = scope,
		.id = id, .flags = flags, .affinity_timeout = 10800, .slots = slots, .n_slots = n,
	};

	kt_add_service(&kt, &svc);
}

int reset_maps(void **state)
{
	(void)state;
	kt_lb_reset(&kt);
	add_backends();
	return 0;
}

static const uint32_t one_tcp4[] = {1};
static const uint32_t two_tcp4[] = {1, 2};

/* The slot (1-based) a new flow of p takes among n. */
static uint32_t slot_of(const struct kt_packet *p, uint32_t n)
{
	return kt_flow_hash(p) % n + 1;
}

static void test_syn_to_vip_goes_to_backend(void **state)
{
	(void)state;
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, one_tcp4, 1);
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40000, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_1, 40000, 8080, SYN, 0));
	assert_int_equal(kt_counter(&kt, KILO_LB_FORWARD_NEW), 1);
}

static void test_established_flow_keeps_its_backend(void **state)
{
	struct kt_packet syn = TCP4(CLIENT4, VIP4, 40001, 80, SYN, 0);
	uint32_t slot = slot_of(&syn, 2);
	const char *first = slot == 1 ? BACKEND4_1 : BACKEND4_2;
	const uint32_t swapped[] = {2, 1};

	(void)state;
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, two_tcp4, 2);
	kt_expect(&kt, KT_FROM_POD, &syn, TC_ACT_OK, &TCP4(CLIENT4, first, 40001, 8080, SYN, 0));
	/* A new selection would now take the other backend; the flow stays. */
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, swapped, 2);
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40001, 80, ACK, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, first, 40001, 8080, ACK, 0));
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40001, 80, ACK | PSH, 700), TC_ACT_OK,
		  &TCP4(CLIENT4, first, 40001, 8080, ACK | PSH, 700));
	assert_int_equal(kt_counter(&kt, KILO_LB_FORWARD_NEW), 1);
	assert_int_equal(kt_counter(&kt, KILO_LB_FORWARD_ESTABLISHED), 2);
}

static void test_reply_is_reversed_to_the_vip(void **state)
{
	(void)state;
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, one_tcp4, 1);
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40002, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_1, 40002, 8080, SYN, 0));
	/* Towards the client pod (its veth's egress) ... */
	kt_expect(&kt, KT_TO_POD, &TCP4(BACKEND4_1, CLIENT4, 8080, 40002, SYN | ACK, 0), TC_ACT_OK,
		  &TCP4(VIP4, CLIENT4, 80, 40002, SYN | ACK, 0));
	/* ... or as it leaves a backend pod on this node (its veth's ingress). */
	kt_expect(&kt, KT_FROM_POD, &TCP4(BACKEND4_1, CLIENT4, 8080, 40002, ACK | PSH, 300),
		  TC_ACT_OK, &TCP4(VIP4, CLIENT4, 80, 40002, ACK | PSH, 300));
	assert_int_equal(kt_counter(&kt, KILO_LB_REVERSE_NAT), 2);
	/* The same backend answering another client's direct flow is left alone. */
	kt_expect(&kt, KT_TO_POD, &TCP4(BACKEND4_1, CLIENT4, 8080, 40999, SYN | ACK, 0), TC_ACT_OK,
		  NULL);
}

static void test_udp_with_checksum(void **state)
{
	const uint32_t udp[] = {11};

	(void)state;
	add_service(4, DNS4, 53, IPPROTO_UDP, KILO_LB_SCOPE_CLUSTER, 8, 0, udp, 1);
	kt_expect(&kt, KT_FROM_POD, &UDP4(CLIENT4, DNS4, 50000, 53, 33), TC_ACT_OK,
		  &UDP4(CLIENT4, BACKEND4_1, 50000, 5353, 33));
	kt_expect(&kt, KT_TO_POD, &UDP4(BACKEND4_1, CLIENT4, 5353, 50000, 120), TC_ACT_OK,
		  &UDP4(DNS4, CLIENT4, 53, 50000, 120));
}

static void test_udp_without_checksum_stays_without(void **state)
{
	const uint32_t udp[] = {11};
	struct kt_packet query = UDP4(CLIENT4, DNS4, 50001, 53, 20);
	struct kt_packet dnat = UDP4(CLIENT4, BACKEND4_1, 50001, 5353, 20);
	struct kt_packet answer = UDP4(BACKEND4_1, CLIENT4, 5353, 50001, 64);
	struct kt_packet reversed = UDP4(DNS4, CLIENT4, 53, 50001, 64);

	(void)state;
	query.udp_no_checksum = dnat.udp_no_checksum = true;
	answer.udp_no_checksum = reversed.udp_no_checksum = true;
	add_service(4, DNS4, 53, IPPROTO_UDP, KILO_LB_SCOPE_CLUSTER, 8, 0, udp, 1);
	kt_expect(&kt, KT_FROM_POD, &query, TC_ACT_OK, &dnat);
	kt_expect(&kt, KT_TO_POD, &answer, TC_ACT_OK, &reversed);
}

static void test_ipv4_options_shift_the_tcp_header(void **state)
{
	struct kt_packet syn = TCP4(CLIENT4, VIP4, 40003, 80, SYN, 0);
	struct kt_packet dnat = TCP4(CLIENT4, BACKEND4_1, 40003, 8080, SYN, 0);

	(void)state;
	syn.ip_option_words = dnat.ip_option_words = 3;
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, one_tcp4, 1);
	kt_expect(&kt, KT_FROM_POD, &syn, TC_ACT_OK, &dnat);
}

static void test_ipv6_tcp(void **state)
{
	const uint32_t tcp6[] = {21};

	(void)state;
	add_service(6, VIP6, 443, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 9, 0, tcp6, 1);
	kt_expect(&kt, KT_FROM_POD, &TCP6(CLIENT6, VIP6, 41000, 443, SYN, 0), TC_ACT_OK,
		  &TCP6(CLIENT6, BACKEND6_1, 41000, 8080, SYN, 0));
	kt_expect(&kt, KT_TO_POD, &TCP6(BACKEND6_1, CLIENT6, 8080, 41000, SYN | ACK, 0), TC_ACT_OK,
		  &TCP6(VIP6, CLIENT6, 443, 41000, SYN | ACK, 0));
	kt_expect(&kt, KT_FROM_POD, &TCP6(CLIENT6, VIP6, 41000, 443, ACK | PSH, 1000), TC_ACT_OK,
		  &TCP6(CLIENT6, BACKEND6_1, 41000, 8080, ACK | PSH, 1000));
}

static void test_ipv6_udp(void **state)
{
	const uint32_t udp6[] = {31};

	(void)state;
	add_service(6, VIP6, 53, IPPROTO_UDP, KILO_LB_SCOPE_CLUSTER, 10, 0, udp6, 1);
	kt_expect(&kt, KT_FROM_POD, &UDP6(CLIENT6, VIP6, 42000, 53, 40), TC_ACT_OK,
		  &UDP6(CLIENT6, BACKEND6_1, 42000, 5353, 40));
	kt_expect(&kt, KT_TO_POD, &UDP6(BACKEND6_1, CLIENT6, 5353, 42000, 200), TC_ACT_OK,
		  &UDP6(VIP6, CLIENT6, 53, 42000, 200));
}

/* Two client ports whose flows hash to different slots of two. */
static void ports_on_both_slots(const char *client, uint16_t *on_1, uint16_t *on_2)
{
	uint16_t port;

	*on_1 = *on_2 = 0;
	for (port = 43000; port < 43100 && (!*on_1 || !*on_2); port++) {
		struct kt_packet p = TCP4(client, VIP4, port, 80, SYN, 0);

		if (slot_of(&p, 2) == 1)
			*on_1 = port;
		else
			*on_2 = port;
	}
	assert_true(*on_1 && *on_2);
}

/* Service 7, ClientIP-affine, on backends 1 and 2; CLIENT4's first flow (from port on_1) takes backend 1. */
static void affine_client_on_backend_1(uint16_t *on_1, uint16_t *on_2)
{
	ports_on_both_slots(CLIENT4, on_1, on_2);
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, KILO_LB_SERVICE_AFFINITY,
		    two_tcp4, 2);
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, *on_1, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_1, *on_1, 8080, SYN, 0));
}

static void test_affinity_keeps_client_on_its_backend(void **state)
{
	uint16_t on_1, on_2;

	(void)state;
	affine_client_on_backend_1(&on_1, &on_2);
	/* A new flow whose hash says backend 2 goes where the client went before. */
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, on_2, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_1, on_2, 8080, SYN, 0));
	/* Another client is not bound by it. */
	ports_on_both_slots("10.4.0.6", &on_1, &on_2);
	kt_expect(&kt, KT_FROM_POD, &TCP4("10.4.0.6", VIP4, on_2, 80, SYN, 0), TC_ACT_OK,
		  &TCP4("10.4.0.6", BACKEND4_2, on_2, 8080, SYN, 0));
}

static void test_affinity_expires(void **state)
{
	struct kilo_lb_affinity_key key;
	struct kilo_lb_affinity value;
	uint16_t on_1, on_2;
	int fd = bpf_map__fd(kt.skel->maps.kilo_lb_affinity);

	(void)state;
	affine_client_on_backend_1(&on_1, &on_2);
	/* Last used one second more than the timeout (10800 s) ago. */
	memset(&key, 0, sizeof(key));
	kt_addr(4, CLIENT4, &key.client);
	key.service_id = 7;
	key.family = AF_INET;
	assert_int_equal(bpf_map_lookup_elem(fd, &key, &value), 0);
	assert_int_equal(value.backend_id, 1);
	value.last_used_ns = kt_now_ns() - 10801ull * 1000000000ull;
	assert_int_equal(bpf_map_update_elem(fd, &key, &value, BPF_EXIST), 0);
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, on_2, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_2, on_2, 8080, SYN, 0));
}

/* A client's backend that leaves every slot (flagged no-new-flows) keeps its flows, not the client's new ones. */
static void test_affinity_gives_way_when_its_backend_leaves_the_slots(void **state)
{
	const uint32_t only_2[] = {2};
	uint16_t on_1, on_2;

	(void)state;
	affine_client_on_backend_1(&on_1, &on_2);
	kt_add_backend(&kt, 1, 4, BACKEND4_1, 8080, IPPROTO_TCP, KILO_LB_BACKEND_NO_NEW_FLOWS);
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, KILO_LB_SERVICE_AFFINITY,
		    only_2, 1);
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, on_2, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_2, on_2, 8080, SYN, 0));
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, on_1, 80, ACK, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_1, on_1, 8080, ACK, 0));
}

static void test_maglev_table_picks_backend(void **state)
{
	const uint32_t table[] = {2, 3, 1}, stale[] = {99};
	const char *by_id[] = {NULL, BACKEND4_1, BACKEND4_2, BACKEND4_3};
	struct kt_packet syn = TCP4(CLIENT4, VIP4, 44000, 80, SYN, 0);
	struct kt_packet syn2 = TCP4(CLIENT4, VIP4, 44001, 80, SYN, 0);

	(void)state;
	/* The slots say backend 1 only: the table decides. */
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, KILO_LB_SERVICE_MAGLEV,
		    one_tcp4, 1);
	kt_set_maglev(&kt, 7, KILO_LB_MAGLEV_DEFAULT, table, 3);
	kt_expect(&kt, KT_FROM_POD, &syn, TC_ACT_OK,
		  &TCP4(CLIENT4, by_id[table[kt_flow_hash(&syn) % KILO_LB_MAGLEV_DEFAULT % 3]], 44000,
			8080, SYN, 0));
	/* The large table, when the service says so. */
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7,
		    KILO_LB_SERVICE_MAGLEV | KILO_LB_SERVICE_MAGLEV_LARGE, one_tcp4, 1);
	kt_set_maglev(&kt, 7, KILO_LB_MAGLEV_LARGE, table, 3);
	kt_expect(&kt, KT_FROM_POD, &syn2, TC_ACT_OK,
		  &TCP4(CLIENT4, by_id[table[kt_flow_hash(&syn2) % KILO_LB_MAGLEV_LARGE % 3]], 44001,
			8080, SYN, 0));
	/* A table not yet rebuilt after its backends left: the slots decide. */
	kt_set_maglev(&kt, 7, KILO_LB_MAGLEV_LARGE, stale, 1);
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 44002, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_1, 44002, 8080, SYN, 0));
}

static void test_no_backend_drops_and_counts(void **state)
{
	(void)state;
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, NULL, 0);
	add_service(6, VIP6, 443, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 9, 0, NULL, 0);
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40010, 80, SYN, 0), TC_ACT_SHOT, NULL);
	kt_expect(&kt, KT_FROM_POD, &TCP6(CLIENT6, VIP6, 40010, 443, SYN, 0), TC_ACT_SHOT, NULL);
	assert_int_equal(kt_counter(&kt, KILO_LB_DROP_NO_BACKEND), 2);
	assert_int_equal(kt_counter(&kt, KILO_LB_FORWARD_NEW), 0);
}

static void test_terminating_backend_keeps_flows_takes_no_new(void **state)
{
	const uint32_t only_2[] = {2};

	(void)state;
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, one_tcp4, 1);
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40020, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_1, 40020, 8080, SYN, 0));
	/* Backend 1 terminates: it leaves every slot, stays in the backends map, flagged. */
	kt_add_backend(&kt, 1, 4, BACKEND4_1, 8080, IPPROTO_TCP, KILO_LB_BACKEND_NO_NEW_FLOWS);
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, only_2, 1);
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40020, 80, ACK | PSH, 10), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_1, 40020, 8080, ACK | PSH, 10));
	kt_expect(&kt, KT_TO_POD, &TCP4(BACKEND4_1, CLIENT4, 8080, 40020, ACK, 0), TC_ACT_OK,
		  &TCP4(VIP4, CLIENT4, 80, 40020, ACK, 0));
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40021, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_2, 40021, 8080, SYN, 0));
	/* A flagged backend still in a slot (a map not yet rewritten) takes no new flow either. */
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, one_tcp4, 1);
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40022, 80, SYN, 0), TC_ACT_SHOT, NULL);
}

/* A new flow costs one conntrack entry: its replies find it through the frontends of its backend. */
static void test_reply_finds_its_frontend_among_the_backends(void **state)
{
	const char *vip4_2 = "10.43.0.11";

	(void)state;
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, one_tcp4, 1);
	add_service(4, vip4_2, 81, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 8, 0, one_tcp4, 1);
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40040, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_1, 40040, 8080, SYN, 0));
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, vip4_2, 40041, 81, SYN, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_1, 40041, 8080, SYN, 0));
	assert_int_equal(kt_conntrack_entries(&kt), 2);
	kt_expect(&kt, KT_TO_POD, &TCP4(BACKEND4_1, CLIENT4, 8080, 40041, SYN | ACK, 0), TC_ACT_OK,
		  &TCP4(vip4_2, CLIENT4, 81, 40041, SYN | ACK, 0));
	kt_expect(&kt, KT_TO_POD, &TCP4(BACKEND4_1, CLIENT4, 8080, 40040, SYN | ACK, 0), TC_ACT_OK,
		  &TCP4(VIP4, CLIENT4, 80, 40040, SYN | ACK, 0));
	/* The backend's packet to a port no balanced flow has passes as it is. */
	kt_expect(&kt, KT_TO_POD, &TCP4(BACKEND4_1, CLIENT4, 8080, 40042, ACK, 0), TC_ACT_OK, NULL);
	assert_int_equal(kt_counter(&kt, KILO_LB_REVERSE_NAT), 2);
}

/*
 * A client port closed towards one frontend and reused at once towards
 * another of the same backend: the closed flow's entry is still there, and
 * the new flow's replies must still come from the new frontend (both
 * orders, whichever frontend the backend lists first).
 */
static void test_reused_client_port_replies_from_the_new_frontend(void **state)
{
	const char *vips[2] = {VIP4, "10.43.0.11"};
	const uint16_t ports[2] = {80, 81};

	(void)state;
	add_service(4, vips[0], ports[0], IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, one_tcp4, 1);
	add_service(4, vips[1], ports[1], IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 8, 0, one_tcp4, 1);
	for (int first = 0; first < 2; first++) {
		int then = !first;
		uint16_t client_port = (uint16_t)(40050 + first);

		kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, vips[first], client_port, ports[first], SYN, 0), TC_ACT_OK,
			  &TCP4(CLIENT4, BACKEND4_1, client_port, 8080, SYN, 0));
		kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, vips[first], client_port, ports[first], RST, 0), TC_ACT_OK,
			  &TCP4(CLIENT4, BACKEND4_1, client_port, 8080, RST, 0));
		kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, vips[then], client_port, ports[then], SYN, 0), TC_ACT_OK,
			  &TCP4(CLIENT4, BACKEND4_1, client_port, 8080, SYN, 0));
		kt_expect(&kt, KT_TO_POD, &TCP4(BACKEND4_1, CLIENT4, 8080, client_port, SYN | ACK, 0), TC_ACT_OK,
			  &TCP4(vips[then], CLIENT4, ports[then], client_port, SYN | ACK, 0));
	}
}

/* A SYN on a closed flow's tuple opens a new flow, balanced anew, as the kernel's conntrack does. */
static void test_syn_on_closed_flow_is_a_new_flow(void **state)
{
	const uint32_t only_2[] = {2};

	(void)state;
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, one_tcp4, 1);
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40060, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_1, 40060, 8080, SYN, 0));
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40060, 80, ACK | RST, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_1, 40060, 8080, ACK | RST, 0));
	/* Still closing: its last packets keep their backend. */
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, only_2, 1);
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40060, 80, ACK, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_1, 40060, 8080, ACK, 0));
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40060, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_2, 40060, 8080, SYN, 0));
	kt_expect(&kt, KT_TO_POD, &TCP4(BACKEND4_2, CLIENT4, 8080, 40060, SYN | ACK, 0), TC_ACT_OK,
		  &TCP4(VIP4, CLIENT4, 80, 40060, SYN | ACK, 0));
	assert_int_equal(kt_counter(&kt, KILO_LB_FORWARD_NEW), 2);
}

/*
 * A backend with more frontends than a reply searches keeps a REPLY entry per
 * flow, and a record that lists none. Every backend has a record and REPLY
 * entries name only backends: a packet from an address and port without one
 * (most of those that are no reply) is no reply without a conntrack lookup,
 * and a REPLY entry its removed backend left reverses nothing.
 */
static void test_backend_with_reply_entries(void **state)
{
	(void)state;
	kt_add_backend(&kt, 1, 4, BACKEND4_1, 8080, IPPROTO_TCP, KILO_LB_BACKEND_REPLY_ENTRIES);
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, one_tcp4, 1);
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40043, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_1, 40043, 8080, SYN, 0));
	assert_int_equal(kt_conntrack_entries(&kt), 2);
	kt_expect(&kt, KT_TO_POD, &TCP4(BACKEND4_1, CLIENT4, 8080, 40043, SYN | ACK, 0), TC_ACT_OK,
		  &TCP4(VIP4, CLIENT4, 80, 40043, SYN | ACK, 0));
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, NULL, 0);
	kt_remove_backend(&kt, 1);
	kt_expect(&kt, KT_TO_POD, &TCP4(BACKEND4_1, CLIENT4, 8080, 40043, ACK, 0), TC_ACT_OK, NULL);
	assert_int_equal(kt_counter(&kt, KILO_LB_REVERSE_NAT), 1);
	assert_int_equal(kt_counter(&kt, KILO_LB_PASS), 1);
}

static void test_gone_backend_flow_picks_again_or_drops(void **state)
{
	const uint32_t only_2[] = {2};

	(void)state;
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, one_tcp4, 1);
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40030, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_1, 40030, 8080, SYN, 0));
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40031, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_1, 40031, 8080, SYN, 0));
	kt_remove_backend(&kt, 1);
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, only_2, 1);
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40030, 80, ACK, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_2, 40030, 8080, ACK, 0));
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, NULL, 0);
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40031, 80, ACK, 0), TC_ACT_SHOT, NULL);
	assert_int_equal(kt_counter(&kt, KILO_LB_DROP_BACKEND_GONE), 1);
}

static struct kilo_lb_ct service_entry(const char *client, uint16_t sport, const char *vip,
				       uint16_t dport)
{
	struct kilo_lb_ct_key key;
	struct kilo_lb_ct ct;

	memset(&key, 0, sizeof(key));
	kt_addr(4, client, &key.saddr);
	kt_addr(4, vip, &key.daddr);
	key.sport = htons(sport);
	key.dport = htons(dport);
	key.proto = IPPROTO_TCP;
	key.family = AF_INET;
	key.dir = KILO_LB_CT_SERVICE;
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(kt.skel->maps.kilo_lb_conntrack), &key, &ct), 0);
	return ct;
}

static void test_tcp_states_set_timeouts(void **state)
{
	const uint64_t s = 1000000000ull;
	struct kilo_lb_ct ct;
	uint64_t now;

	(void)state;
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, one_tcp4, 1);
	now = kt_now_ns();
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40040, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_1, 40040, 8080, SYN, 0));
	ct = service_entry(CLIENT4, 40040, VIP4, 80);
	assert_int_equal(ct.tcp_state, KILO_LB_TCP_NEW);
	assert_true(ct.expires_ns >= now + 60 * s && ct.expires_ns <= kt_now_ns() + 60 * s);
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40040, 80, ACK, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_1, 40040, 8080, ACK, 0));
	ct = service_entry(CLIENT4, 40040, VIP4, 80);
	assert_int_equal(ct.tcp_state, KILO_LB_TCP_ESTABLISHED);
	assert_true(ct.expires_ns >= now + 6 * 3600 * s - s);
	/* The backend's RST closes the flow both ways. */
	kt_expect(&kt, KT_TO_POD, &TCP4(BACKEND4_1, CLIENT4, 8080, 40040, RST | ACK, 0), TC_ACT_OK,
		  &TCP4(VIP4, CLIENT4, 80, 40040, RST | ACK, 0));
	ct = service_entry(CLIENT4, 40040, VIP4, 80);
	assert_int_equal(ct.tcp_state, KILO_LB_TCP_CLOSING);
	assert_true(ct.expires_ns <= kt_now_ns() + 10 * s);
}

static void test_expired_flow_is_balanced_again(void **state)
{
	struct kilo_lb_ct_key key;
	struct kilo_lb_ct ct;
	const uint32_t only_2[] = {2};
	int fd = bpf_map__fd(kt.skel->maps.kilo_lb_conntrack);

	(void)state;
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, one_tcp4, 1);
	kt_expect(&kt, KT_FROM_POD, &UDP4(CLIENT4, VIP4, 40050, 80, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40050, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_1, 40050, 8080, SYN, 0));
	memset(&key, 0, sizeof(key));
	kt_addr(4, CLIENT4, &key.saddr);
	kt_addr(4, VIP4, &key.daddr);
	key.sport = htons(40050);
	key.dport = htons(80);
	key.proto = IPPROTO_TCP;
	key.family = AF_INET;
	assert_int_equal(bpf_map_lookup_elem(fd, &key, &ct), 0);
	ct.expires_ns = kt_now_ns() - 1;
	assert_int_equal(bpf_map_update_elem(fd, &key, &ct, BPF_EXIST), 0);
	add_service(4, VIP4, 80, IPPROTO_TCP, KILO_LB_SCOPE_CLUSTER, 7, 0, only_2, 1);
	kt_expect(&kt, KT_FROM_POD, &TCP4(CLIENT4, VIP4, 40050, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(CLIENT4, BACKEND4_2, 40050, 8080, SYN, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_syn_to_vip_goes_to_backend, reset_maps),
		cmocka_unit_test_setup(test_established_flow_keeps_its_backend, reset_maps),
		cmocka_unit_test_setup(test_reply_is_reversed_to_the_vip, reset_maps),
		cmocka_unit_test_setup(test_udp_with_checksum, reset_maps),
		cmocka_unit_test_setup(test_udp_without_checksum_stays_without, reset_maps),
		cmocka_unit_test_setup(test_ipv4_options_shift_the_tcp_header, reset_maps),
		cmocka_unit_test_setup(test_ipv6_tcp, reset_maps),
		cmocka_unit_test_setup(test_ipv6_udp, reset_maps),
		cmocka_unit_test_setup(test_affinity_keeps_client_on_its_backend, reset_maps),
		cmocka_unit_test_setup(test_affinity_expires, reset_maps),
		cmocka_unit_test_setup(test_affinity_gives_way_when_its_backend_leaves_the_slots, reset_maps),
		cmocka_unit_test_setup(test_maglev_table_picks_backend, reset_maps),
		cmocka_unit_test_setup(test_no_backend_drops_and_counts, reset_maps),
		cmocka_unit_test_setup(test_terminating_backend_keeps_flows_takes_no_new, reset_maps),
		cmocka_unit_test_setup(test_reply_finds_its_frontend_among_the_backends, reset_maps),
		cmocka_unit_test_setup(test_reused_client_port_replies_from_the_new_frontend, reset_maps),
		cmocka_unit_test_setup(test_syn_on_closed_flow_is_a_new_flow, reset_maps),
		cmocka_unit_test_setup(test_backend_with_reply_entries, reset_maps),
		cmocka_unit_test_setup(test_gone_backend_flow_picks_again_or_drops, reset_maps),
		cmocka_unit_test_setup(test_tcp_states_set_timeouts, reset_maps),
		cmocka_unit_test_setup(test_expired_flow_is_balanced_again, reset_maps),
		cmocka_unit_test_setup(test_nodeport_to_local_backend_and_its_reply, reset_maps),
		cmocka_unit_test_setup(test_nodeport_snat_to_remote_backend_and_its_reply, reset_maps),
		cmocka_unit_test_setup(test_cluster_ip_from_outside_is_snatted_to_the_node, reset_maps),
		cmocka_unit_test_setup(test_icmp_port_unreachable_from_backend_v4, reset_maps),
		cmocka_unit_test_setup(test_icmp_time_exceeded_from_router_v4, reset_maps),
		cmocka_unit_test_setup(test_icmp_errors_v6, reset_maps),
		cmocka_unit_test_setup(test_icmp_error_about_other_flow_passes, reset_maps),
		cmocka_unit_test_setup(test_no_backend_rejects_with_port_unreachable, reset_maps),
		cmocka_unit_test_setup(test_ipv4_fragments_follow_first, reset_maps),
		cmocka_unit_test_setup(test_ipv6_fragments_follow_first, reset_maps),
		cmocka_unit_test_setup(test_fragment_without_first_passes, reset_maps),
		cmocka_unit_test_setup(test_malformed_packets_dropped, reset_maps),
		cmocka_unit_test_setup(test_non_service_traffic_passes_unchanged, reset_maps),
	};
	int r;

	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: loading BPF programs needs root\n");
		return 77;
	}
	r = kt_lb_open(&kt);
	if (r == -EPERM)
		return 77;
	if (r < 0)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	kt_lb_close(&kt);
	return r;
}
