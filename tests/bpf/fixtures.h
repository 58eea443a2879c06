/* SPDX-License-Identifier: Apache-2.0 */
/* What the fixtures of test_lb.c and test_lb_edges.c share: the addresses, services and packets. */
#ifndef KILO_TESTS_BPF_FIXTURES_H
#define KILO_TESTS_BPF_FIXTURES_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <linux/pkt_cls.h>
#include <netinet/in.h>

#include "harness.h"

/* One set of programs and maps for the whole run; every test starts from empty maps. */
extern struct kt_lb kt;

#define CLIENT4 "10.4.0.5"
#define VIP4 "10.43.0.10"
#define DNS4 "10.43.0.53"
#define BACKEND4_1 "10.4.1.7"
#define BACKEND4_2 "10.4.2.9"
#define BACKEND4_3 "10.4.3.11"
#define ROUTER4 "10.4.0.1"
#define NODE4 "192.168.1.10"
#define OUTSIDE4 "203.0.113.7"

#define CLIENT6 "fd00:4::5"
#define VIP6 "fd00:43::10"
#define BACKEND6_1 "fd00:4:1::7"
#define BACKEND6_2 "fd00:4:2::9"
#define ROUTER6 "fd00:4::1"

#define SYN 0x02
#define ACK 0x10
#define FIN 0x01
#define RST 0x04
#define PSH 0x08

#define TCP4(s, d, sp, dp, fl, n) \
	((struct kt_packet){.family = 4, .proto = IPPROTO_TCP, .src = (s), .dst = (d), \
			    .sport = (sp), .dport = (dp), .tcp_flags = (fl), .payload_len = (n)})
#define UDP4(s, d, sp, dp, n) \
	((struct kt_packet){.family = 4, .proto = IPPROTO_UDP, .src = (s), .dst = (d), \
			    .sport = (sp), .dport = (dp), .payload_len = (n)})
#define TCP6(s, d, sp, dp, fl, n) \
	((struct kt_packet){.family = 6, .proto = IPPROTO_TCP, .src = (s), .dst = (d), \
			    .sport = (sp), .dport = (dp), .tcp_flags = (fl), .payload_len = (n)})
#define UDP6(s, d, sp, dp, n) \
	((struct kt_packet){.family = 6, .proto = IPPROTO_UDP, .src = (s), .dst = (d), \
			    .sport = (sp), .dport = (dp), .payload_len = (n)})

/* Backends 1-3 (IPv4, TCP 8080), 11-12 (UDP 5353), 21-22 (IPv6, TCP 8080), 31 (IPv6, UDP 5353). */
void add_backends(void);
/* A frontend with these backends in its slots (and flags). */
void add_service(int family, const char *addr, uint16_t port, uint8_t proto, uint8_t scope,
		 uint32_t id, uint16_t flags, const uint32_t *slots, uint16_t n);

int reset_maps(void **state);

void test_nodeport_to_local_backend_and_its_reply(void **state);
void test_nodeport_snat_to_remote_backend_and_its_reply(void **state);
void test_cluster_ip_from_outside_is_snatted_to_the_node(void **state);
void test_icmp_port_unreachable_from_backend_v4(void **state);
void test_icmp_time_exceeded_from_router_v4(void **state);
void test_icmp_errors_v6(void **state);
void test_icmp_error_about_other_flow_passes(void **state);
void test_no_backend_rejects_with_port_unreachable(void **state);
void test_ipv4_fragments_follow_first(void **state);
void test_ipv6_fragments_follow_first(void **state);
void test_fragment_without_first_passes(void **state);
void test_malformed_packets_dropped(void **state);
void test_non_service_traffic_passes_unchanged(void **state);

#endif
