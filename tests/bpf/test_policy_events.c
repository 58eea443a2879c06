// SPDX-License-Identifier: Apache-2.0
/*
 * Flow events of network policy in the tc programs: what a judged flow and
 * a drop write to the ring buffer (the tuple, identities, the rule, the
 * endpoint's deny rule), the load balancer's drops, the rate limit, and
 * every flow an event (KILO_POLICY_ALL_FLOWS, kg --flow-events all).
 */
#include "policy_fixtures.h"

#include <arpa/inet.h>

void test_events_name_the_flow(void **state)
{
	uint64_t before = kt_now_ns();

	(void)state;
	set_enforce(KILO_POLICY_ENFORCE_INGRESS);
	add_endpoint(4, POD_B, EP_B, ID_B, KILO_POLICY_ENFORCE_INGRESS);
	add_rule(EP_B, ID_REMOTE, KILO_POLICY_INGRESS, IPPROTO_TCP, 80, 16, 11);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40000, 80, SYN, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &UDP4(REMOTE_POD, POD_B, 40001, 5353, 8), TC_ACT_SHOT, NULL);
	assert_int_equal(read_events(), 2);

	expect_addr(&events[0].saddr, 4, REMOTE_POD);
	expect_addr(&events[0].daddr, 4, POD_B);
	assert_int_equal(events[0].sport, htons(40000));
	assert_int_equal(events[0].dport, htons(80));
	assert_int_equal(events[0].proto, IPPROTO_TCP);
	assert_int_equal(events[0].family, AF_INET);
	assert_int_equal(events[0].src_identity, ID_REMOTE);
	assert_int_equal(events[0].dst_identity, ID_B);
	assert_int_equal(events[0].rule_id, 11);
	assert_int_equal(events[0].service_id, 0);
	assert_int_equal(events[0].verdict, KILO_FLOW_FORWARDED);
	assert_int_equal(events[0].reason, KILO_FLOW_REASON_NONE);
	assert_int_equal(events[0].direction, KILO_POLICY_INGRESS);
	assert_int_equal(events[0].ifindex, 1); /* test_run's packets are on loopback */
	assert_true(events[0].time_ns >= before - 10000000ull);

	assert_int_equal(events[1].proto, IPPROTO_UDP);
	assert_int_equal(events[1].dport, htons(5353));
	assert_int_equal(events[1].rule_id, 0); /* an endpoint without a deny rule: rule 0, "default deny" */
	assert_int_equal(events[1].verdict, KILO_FLOW_DROPPED);
	assert_int_equal(events[1].reason, KILO_FLOW_REASON_POLICY_DENIED);
}

/* A default deny counts and reports the endpoint's deny rule of that direction. */
void test_a_drop_names_the_endpoints_deny_rule(void **state)
{
	struct kilo_policy_endpoint ep = {.id = EP_B, .identity = ID_B,
					  .flags = KILO_POLICY_ENFORCE_INGRESS | KILO_POLICY_ENFORCE_EGRESS,
					  .deny_rule = {[KILO_POLICY_INGRESS] = 21, [KILO_POLICY_EGRESS] = 22}};
	uint64_t in = rule_counter(21), out = rule_counter(22), none = rule_counter(0);

	(void)state;
	set_enforce(KILO_POLICY_ENFORCE_INGRESS | KILO_POLICY_ENFORCE_EGRESS);
	put_endpoint(4, POD_B, &ep);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40000, 80, SYN, 0), TC_ACT_SHOT, NULL);
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_B, REMOTE_POD, 40001, 80, SYN, 0), TC_ACT_SHOT, NULL);
	assert_int_equal(read_events(), 2);
	assert_int_equal(events[0].direction, KILO_POLICY_INGRESS);
	assert_int_equal(events[0].rule_id, 21);
	assert_int_equal(events[1].direction, KILO_POLICY_EGRESS);
	assert_int_equal(events[1].rule_id, 22);
	assert_int_equal(events[1].reason, KILO_FLOW_REASON_POLICY_DENIED);
	assert_int_equal(rule_counter(21), in + 1);
	assert_int_equal(rule_counter(22), out + 1);
	assert_int_equal(rule_counter(0), none);
}

void test_load_balancer_drops_are_events(void **state)
{
	struct kt_service svc = {
		.family = 4, .addr = VIP4, .port = 80, .proto = IPPROTO_TCP, .scope = KILO_LB_SCOPE_CLUSTER, .id = 9,
	};

	(void)state;
	kt_add_service(&kt, &svc);
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_A, VIP4, 40000, 80, SYN, 0), TC_ACT_SHOT, NULL);
	assert_int_equal(read_events(), 1);
	assert_int_equal(events[0].verdict, KILO_FLOW_DROPPED);
	assert_int_equal(events[0].reason, KILO_FLOW_REASON_NO_BACKEND);
	assert_int_equal(events[0].direction, KILO_POLICY_EGRESS);
	expect_addr(&events[0].daddr, 4, VIP4);
}

/* An event of a flow no policy judged (KILO_POLICY_ALL_FLOWS): forwarded, rule 0. */
static void expect_unjudged_event(const struct kilo_flow_event *e, const char *saddr, const char *daddr, uint16_t sport,
				  uint16_t dport, __u32 src_identity, __u32 dst_identity, __u8 direction)
{
	expect_addr(&e->saddr, 4, saddr);
	expect_addr(&e->daddr, 4, daddr);
	assert_int_equal(e->sport, htons(sport));
	assert_int_equal(e->dport, htons(dport));
	assert_int_equal(e->proto, IPPROTO_TCP);
	assert_int_equal(e->src_identity, src_identity);
	assert_int_equal(e->dst_identity, dst_identity);
	assert_int_equal(e->rule_id, 0);
	assert_int_equal(e->verdict, KILO_FLOW_FORWARDED);
	assert_int_equal(e->reason, KILO_FLOW_REASON_NONE);
	assert_int_equal(e->direction, direction);
}

/* kg --flow-events all: a pod no policy selects writes one event per new flow and direction, nothing else. */
void test_all_flows_unpoliced_pod(void **state)
{
	(void)state;
	set_enforce(KILO_POLICY_ALL_FLOWS);
	add_endpoint(4, POD_A, EP_A, ID_A, 0);
	add_endpoint(4, POD_B, EP_B, ID_B, 0);
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_A, REMOTE_POD, 40000, 80, SYN, 0), TC_ACT_OK, NULL);
	assert_int_equal(read_events(), 1);
	expect_unjudged_event(&events[0], POD_A, REMOTE_POD, 40000, 80, ID_A, ID_REMOTE, KILO_POLICY_EGRESS);
	assert_int_equal(events[0].service_id, 0);
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_A, REMOTE_POD, 40000, 80, ACK, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_A, 80, 40000, SYN | ACK, 0), TC_ACT_OK, NULL);
	assert_int_equal(read_events(), 0);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 41000, 80, SYN, 0), TC_ACT_OK, NULL);
	assert_int_equal(read_events(), 1);
	expect_unjudged_event(&events[0], REMOTE_POD, POD_B, 41000, 80, ID_REMOTE, ID_B, KILO_POLICY_INGRESS);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 41000, 80, ACK, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_B, REMOTE_POD, 80, 41000, SYN | ACK, 0), TC_ACT_OK, NULL);
	assert_int_equal(read_events(), 0);
	/* Between two pods of this node: A's egress and B's ingress, one conntrack entry. */
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_A, POD_B, 42000, 80, SYN, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(POD_A, POD_B, 42000, 80, SYN, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_B, POD_A, 80, 42000, SYN | ACK, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(POD_B, POD_A, 80, 42000, SYN | ACK, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_A, POD_B, 42000, 80, ACK, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(POD_A, POD_B, 42000, 80, ACK, 0), TC_ACT_OK, NULL);
	assert_int_equal(read_events(), 2);
	expect_unjudged_event(&events[0], POD_A, POD_B, 42000, 80, ID_A, ID_B, KILO_POLICY_EGRESS);
	expect_unjudged_event(&events[1], POD_A, POD_B, 42000, 80, ID_A, ID_B, KILO_POLICY_INGRESS);
	/* Nothing judged, nothing counted but packets passed. */
	assert_int_equal(kt_counter(&kt, KILO_LB_POLICY_FORWARD_NEW), 0);
	assert_int_equal(rule_counter(0), 0);
	assert_int_equal(kt_counter(&kt, KILO_LB_PASS), 12);
}

/* A pod policed one way: judged there as before, its flows the other way events with rule 0. */
void test_all_flows_pod_policed_the_other_way(void **state)
{
	(void)state;
	set_enforce(KILO_POLICY_ALL_FLOWS | KILO_POLICY_ENFORCE_INGRESS);
	add_endpoint(4, POD_B, EP_B, ID_B, KILO_POLICY_ENFORCE_INGRESS);
	add_rule(EP_B, ID_REMOTE, KILO_POLICY_INGRESS, IPPROTO_TCP, 80, 16, 11);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40000, 80, SYN, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40001, 81, SYN, 0), TC_ACT_SHOT, NULL);
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_B, REMOTE_POD, 40002, 80, SYN, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 80, 40002, SYN | ACK, 0), TC_ACT_OK, NULL);
	assert_int_equal(read_events(), 3);
	assert_int_equal(events[0].rule_id, 11);
	assert_int_equal(events[1].verdict, KILO_FLOW_DROPPED);
	expect_unjudged_event(&events[2], POD_B, REMOTE_POD, 40002, 80, ID_B, ID_REMOTE, KILO_POLICY_EGRESS);
}

/* A service flow from a pod no policy selects: one event, after balancing, naming the service. */
void test_all_flows_service_flow(void **state)
{
	union kilo_lb_addr vip;

	(void)state;
	add_web_service();
	set_enforce(KILO_POLICY_ALL_FLOWS);
	add_endpoint(4, POD_A, EP_A, ID_A, 0);
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_A, VIP4, 40000, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(POD_A, REMOTE_WEB, 40000, 8080, SYN, 0));
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_A, VIP4, 40000, 80, ACK, 0), TC_ACT_OK,
		  &TCP4(POD_A, REMOTE_WEB, 40000, 8080, ACK, 0));
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_WEB, POD_A, 8080, 40000, SYN | ACK, 0), TC_ACT_OK,
		  &TCP4(VIP4, POD_A, 80, 40000, SYN | ACK, 0));
	assert_int_equal(read_events(), 1);
	expect_unjudged_event(&events[0], POD_A, REMOTE_WEB, 40000, 8080, ID_A, ID_WEB, KILO_POLICY_EGRESS);
	assert_int_equal(events[0].service_id, 7);
	kt_addr(4, VIP4, &vip);
	assert_memory_equal(&events[0].service_addr, &vip, sizeof(vip));
	assert_int_equal(events[0].service_port, htons(80));
	assert_int_equal(kt_counter(&kt, KILO_LB_POLICY_FORWARD_NEW), 0);
}

/* KILO_FLOW_EVENTS_PER_SEC a second on each CPU; the rest counted as lost, the verdicts unchanged. */
void test_events_rate_limited(void **state)
{
	(void)state;
	set_enforce(KILO_POLICY_ENFORCE_INGRESS);
	add_endpoint(4, POD_B, EP_B, ID_B, KILO_POLICY_ENFORCE_INGRESS);
	set_event_budget(KILO_FLOW_EVENTS_PER_SEC - 1);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40000, 80, SYN, 0), TC_ACT_SHOT, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40001, 80, SYN, 0), TC_ACT_SHOT, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40002, 80, SYN, 0), TC_ACT_SHOT, NULL);
	assert_int_equal(read_events(), 1);
	assert_int_equal(events[0].sport, htons(40000));
	assert_int_equal(kt_counter(&kt, KILO_LB_FLOW_EVENTS_LOST), 2);
	assert_int_equal(kt_counter(&kt, KILO_LB_POLICY_DENY_INGRESS), 3);
	/* A new second: events again. */
	set_event_budget(0);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40003, 80, SYN, 0), TC_ACT_SHOT, NULL);
	assert_int_equal(read_events(), 1);
}
