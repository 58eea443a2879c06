/* SPDX-License-Identifier: Apache-2.0 */
/* What the fixtures of test_policy.c and test_policy_events.c share: the pods, identities and map writers. */
#ifndef KILO_TESTS_BPF_POLICY_FIXTURES_H
#define KILO_TESTS_BPF_POLICY_FIXTURES_H

#include <stdint.h>

#include "fixtures.h"
#include "policy_maps.h"

/* This node's pods: A (endpoint 1) and B (endpoint 2); a pod of another location; the node. */
#define POD_A CLIENT4
#define POD_B "10.4.0.6"
#define POD_A6 CLIENT6
#define REMOTE_NET "10.4.1.0"
#define REMOTE_POD "10.4.1.9" /* identity 400, by the location's /24 */
#define REMOTE_WEB BACKEND4_1 /* identity 401, by its own /32 */
#define WORLD4 "198.51.100.1"
#define PEER_NET "192.0.2.0" /* a VPN peer's allowed IPs: identity 402, a prefix in the trie */
#define PEER_HOST "192.0.2.7"

enum {
	EP_A = 1,
	EP_B = 2,
	ID_A = 300,
	ID_B = 301,
	ID_REMOTE = 400,
	ID_WEB = 401,
	ID_PEER = 402,
};

#define SCTP4(s, d, sp, dp, chunk) \
	((struct kt_packet){.family = 4, .proto = IPPROTO_SCTP, .src = (s), .dst = (d), \
			    .sport = (sp), .dport = (dp), .sctp_chunk = (chunk)})

#define MAX_EVENTS 8

/* What the programs wrote to the ring buffer, as read_events() found it. */
extern struct kilo_flow_event events[MAX_EVENTS];
/* Reads what the programs wrote to the ring buffer since the last call: how many events. */
size_t read_events(void);

/* kilo_policy_state: the directions some endpoint is policed in, and KILO_POLICY_ALL_FLOWS. */
void set_enforce(__u32 flags);
void put_endpoint(int family, const char *addr, const struct kilo_policy_endpoint *ep);
void add_endpoint(int family, const char *addr, __u32 id, __u32 identity, __u32 flags);
/* port_bits: how many leading bits of port the rule fixes (16: one port; 0 with proto: every port). */
void add_rule(__u32 endpoint, __u32 identity, __u8 direction, __u8 proto, uint16_t port, __u32 port_bits,
	      __u32 rule_id);
/* Packets the datapath counted for rule_id, over every CPU. */
uint64_t rule_counter(__u32 rule_id);
/* Every CPU's event budget: `sent` events already written in a second that began now. */
void set_event_budget(__u32 sent);
/* Service 7, VIP4:80/TCP, with backend 1: REMOTE_WEB:8080. */
void add_web_service(void);
void expect_addr(const union kilo_lb_addr *got, int family, const char *want);

void test_events_name_the_flow(void **state);
void test_a_drop_names_the_endpoints_deny_rule(void **state);
void test_load_balancer_drops_are_events(void **state);
void test_events_rate_limited(void **state);
void test_all_flows_unpoliced_pod(void **state);
void test_all_flows_pod_policed_the_other_way(void **state);
void test_all_flows_service_flow(void **state);

#endif
