// SPDX-License-Identifier: Apache-2.0
/*
 * Network policy in the tc programs, packet in -> verdict and packet out,
 * byte for byte, with the maps filled by hand as the policy layer would:
 * allow by identity, by any peer, by a port range's prefix, by an ipBlock
 * region and its except, default deny both ways, replies and established
 * flows, pods no policy selects, service flows judged on the backend, the
 * ipcache's longest prefix and the world (its hash and trie against an
 * ipBlock), the lookups an endpoint skips, SCTP's ports apart from TCP's
 * and in fragments. Flow events are in test_policy_events.c.
 */
#include "policy_fixtures.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

struct kt_lb kt;

static struct ring_buffer *events_ring;
struct kilo_flow_event events[MAX_EVENTS];
static size_t n_events;

static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	assert_int_equal(size, sizeof(struct kilo_flow_event));
	if (n_events < MAX_EVENTS)
		memcpy(&events[n_events], data, sizeof(events[0]));
	n_events++;
	return 0;
}

size_t read_events(void)
{
	n_events = 0;
	assert_true(ring_buffer__consume(events_ring) >= 0);
	return n_events;
}

static int map_fd(struct bpf_map *map)
{
	return bpf_map__fd(map);
}

static struct kilo_policy_state policy_state(void)
{
	struct kilo_policy_state state = {0};
	__u32 key = 0;

	assert_int_equal(bpf_map_lookup_elem(map_fd(kt.skel->maps.kilo_policy_state), &key, &state), 0);
	return state;
}

/* The generation moves on with every write, as the loader's does after a change of endpoints. */
void set_enforce(__u32 flags)
{
	struct kilo_policy_state state = policy_state();
	__u32 key = 0;

	state.enforce = flags;
	state.generation++;
	assert_int_equal(bpf_map_update_elem(map_fd(kt.skel->maps.kilo_policy_state), &key, &state, BPF_ANY), 0);
}

/* Ends the programs' copies of endpoints, as the loader does once it changed them. */
static void endpoints_changed(void)
{
	set_enforce(policy_state().enforce);
}

/* skip: the lookups the loader would find the endpoint's rules need not (enum kilo_policy_skip, per direction). */
void put_endpoint(int family, const char *addr, const struct kilo_policy_endpoint *ep)
{
	struct kilo_policy_endpoint_key key;

	memset(&key, 0, sizeof(key));
	kt_addr(family, addr, &key.addr);
	key.family = family == 4 ? AF_INET : AF_INET6;
	assert_int_equal(bpf_map_update_elem(map_fd(kt.skel->maps.kilo_policy_endpoints), &key, ep, BPF_ANY), 0);
	endpoints_changed();
}

static void add_endpoint_skipping(int family, const char *addr, __u32 id, __u32 identity, __u32 flags, __u32 skip)
{
	struct kilo_policy_endpoint ep = {.id = id, .identity = identity, .flags = flags, .skip = skip};

	put_endpoint(family, addr, &ep);
}

void add_endpoint(int family, const char *addr, __u32 id, __u32 identity, __u32 flags)
{
	add_endpoint_skipping(family, addr, id, identity, flags, 0);
}

/* A full-length prefix goes to the hosts' hash, a shorter one to the trie, as the loader does. */
static void add_identity(int family, const char *addr, __u32 bits, __u32 identity)
{
	struct kilo_ipcache_key key;
	struct kilo_ipcache_value value = {.identity = identity};

	if (bits == (family == 4 ? 32u : 128u)) {
		struct kilo_policy_endpoint_key host;

		memset(&host, 0, sizeof(host));
		kt_addr(family, addr, &host.addr);
		host.family = family == 4 ? AF_INET : AF_INET6;
		assert_int_equal(bpf_map_update_elem(map_fd(kt.skel->maps.kilo_policy_ipcache_hosts), &host, &value,
						     BPF_ANY), 0);
		return;
	}
	memset(&key, 0, sizeof(key));
	key.prefixlen = 32 + bits;
	key.family = family == 4 ? AF_INET : AF_INET6;
	kt_addr(family, addr, &key.addr);
	assert_int_equal(bpf_map_update_elem(map_fd(kt.skel->maps.kilo_policy_ipcache), &key, &value, BPF_ANY), 0);
}

/* port_bits: how many leading bits of port the rule fixes (16: one port; 0 with proto: every port). */
static struct kilo_policy_key rule_key(__u32 endpoint, __u32 identity, __u8 direction, __u8 proto, uint16_t port,
				       __u32 port_bits)
{
	struct kilo_policy_key key;

	memset(&key, 0, sizeof(key));
	key.prefixlen = KILO_POLICY_KEY_FIXED_BITS + (proto ? 8 + port_bits : 0);
	key.endpoint = endpoint;
	key.identity = identity;
	key.direction = direction;
	key.proto = proto;
	key.port = htons(port);
	return key;
}

void add_rule(__u32 endpoint, __u32 identity, __u8 direction, __u8 proto, uint16_t port, __u32 port_bits,
		     __u32 rule_id)
{
	struct kilo_policy_key key = rule_key(endpoint, identity, direction, proto, port, port_bits);
	struct kilo_policy_value value = {.rule_id = rule_id};

	assert_int_equal(bpf_map_update_elem(map_fd(kt.skel->maps.kilo_policy_rules), &key, &value, BPF_ANY), 0);
}

static void remove_rule(__u32 endpoint, __u32 identity, __u8 direction, __u8 proto, uint16_t port, __u32 port_bits)
{
	struct kilo_policy_key key = rule_key(endpoint, identity, direction, proto, port, port_bits);

	assert_int_equal(bpf_map_delete_elem(map_fd(kt.skel->maps.kilo_policy_rules), &key), 0);
}

static void add_region(__u32 endpoint, __u8 direction, const char *addr, __u32 bits, __u32 region)
{
	struct kilo_policy_cidr_key key;
	struct kilo_policy_cidr_value value = {.region = region};

	memset(&key, 0, sizeof(key));
	key.prefixlen = KILO_POLICY_CIDR_KEY_FIXED_BITS + bits;
	key.endpoint = endpoint;
	key.direction = direction;
	key.family = AF_INET;
	kt_addr(4, addr, &key.addr);
	assert_int_equal(bpf_map_update_elem(map_fd(kt.skel->maps.kilo_policy_cidrs), &key, &value, BPF_ANY), 0);
}

uint64_t rule_counter(__u32 rule_id)
{
	int ncpu = libbpf_num_possible_cpus();
	struct kilo_lb_counter_value *values = calloc((size_t)ncpu, sizeof(*values));
	uint64_t packets = 0;

	assert_non_null(values);
	assert_int_equal(bpf_map_lookup_elem(map_fd(kt.skel->maps.kilo_policy_rule_counters), &rule_id, values), 0);
	for (int i = 0; i < ncpu; i++)
		packets += values[i].packets;
	free(values);
	return packets;
}

void set_event_budget(__u32 sent)
{
	int ncpu = libbpf_num_possible_cpus();
	struct kilo_flow_event_budget *budgets = calloc((size_t)ncpu, sizeof(*budgets));
	__u32 key = 0;

	assert_non_null(budgets);
	for (int i = 0; i < ncpu; i++) {
		budgets[i].window_ns = sent ? kt_now_ns() : 0;
		budgets[i].sent = sent;
	}
	assert_int_equal(bpf_map_update_elem(map_fd(kt.skel->maps.kilo_policy_event_budget), &key, budgets, BPF_ANY), 0);
	free(budgets);
}

static const __u32 used_rules[] = {0, 11, 12, 21, 31, 41, 51};

static int reset(void **state)
{
	int ncpu = libbpf_num_possible_cpus();
	struct kilo_lb_counter_value *zero = calloc((size_t)ncpu, sizeof(*zero));

	(void)state;
	assert_non_null(zero);
	kt_lb_reset(&kt);
	set_enforce(0);
	set_event_budget(0);
	for (size_t i = 0; i < sizeof(used_rules) / sizeof(used_rules[0]); i++)
		assert_int_equal(bpf_map_update_elem(map_fd(kt.skel->maps.kilo_policy_rule_counters), &used_rules[i], zero,
						     BPF_ANY), 0);
	free(zero);
	read_events();
	/* The pods of this node, the other location, one of its pods, the node itself. */
	add_identity(4, POD_A, 32, ID_A);
	add_identity(4, POD_B, 32, ID_B);
	add_identity(4, REMOTE_NET, 24, ID_REMOTE);
	add_identity(4, REMOTE_WEB, 32, ID_WEB);
	add_identity(4, NODE4, 32, KILO_IDENTITY_HOST);
	return 0;
}

static void test_allow_by_identity(void **state)
{
	(void)state;
	set_enforce(KILO_POLICY_ENFORCE_INGRESS);
	add_endpoint(4, POD_B, EP_B, ID_B, KILO_POLICY_ENFORCE_INGRESS);
	add_rule(EP_B, ID_REMOTE, KILO_POLICY_INGRESS, IPPROTO_TCP, 80, 16, 11);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40000, 80, SYN, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40001, 81, SYN, 0), TC_ACT_SHOT, NULL);
	/* Another identity, and UDP to the allowed port. */
	kt_expect(&kt, KT_TO_POD, &TCP4(POD_A, POD_B, 40002, 80, SYN, 0), TC_ACT_SHOT, NULL);
	kt_expect(&kt, KT_TO_POD, &UDP4(REMOTE_POD, POD_B, 40003, 80, 8), TC_ACT_SHOT, NULL);
	assert_int_equal(kt_counter(&kt, KILO_LB_POLICY_FORWARD_NEW), 1);
	assert_int_equal(kt_counter(&kt, KILO_LB_POLICY_DENY_INGRESS), 3);
	assert_int_equal(rule_counter(11), 1);
	assert_int_equal(rule_counter(0), 3);
}

static void test_allow_by_any_peer(void **state)
{
	(void)state;
	set_enforce(KILO_POLICY_ENFORCE_INGRESS);
	add_endpoint(4, POD_B, EP_B, ID_B, KILO_POLICY_ENFORCE_INGRESS);
	add_rule(EP_B, KILO_IDENTITY_ANY, KILO_POLICY_INGRESS, IPPROTO_TCP, 443, 16, 12);
	kt_expect(&kt, KT_TO_POD, &TCP4(WORLD4, POD_B, 40000, 443, SYN, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40000, 443, SYN, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(WORLD4, POD_B, 40000, 444, SYN, 0), TC_ACT_SHOT, NULL);
	assert_int_equal(rule_counter(12), 2);
}

/* Ports 8080-8087: one prefix of 13 bits. */
static void test_allow_by_port_range_prefix(void **state)
{
	(void)state;
	set_enforce(KILO_POLICY_ENFORCE_INGRESS);
	add_endpoint(4, POD_B, EP_B, ID_B, KILO_POLICY_ENFORCE_INGRESS);
	add_rule(EP_B, ID_REMOTE, KILO_POLICY_INGRESS, IPPROTO_TCP, 8080, 13, 11);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40000, 8080, SYN, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40000, 8087, SYN, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40000, 8079, SYN, 0), TC_ACT_SHOT, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40000, 8088, SYN, 0), TC_ACT_SHOT, NULL);
}

/* ipBlock 203.0.113.0/24 except 203.0.113.128/25: the except is a hole (region 0). */
static void test_allow_by_cidr_region_except_denied(void **state)
{
	(void)state;
	set_enforce(KILO_POLICY_ENFORCE_INGRESS);
	add_endpoint(4, POD_B, EP_B, ID_B, KILO_POLICY_ENFORCE_INGRESS);
	add_region(EP_B, KILO_POLICY_INGRESS, "203.0.113.0", 24, 5);
	add_region(EP_B, KILO_POLICY_INGRESS, "203.0.113.128", 25, 0);
	add_rule(EP_B, 5 | KILO_POLICY_REGION_FLAG, KILO_POLICY_INGRESS, 0, 0, 0, 21);
	kt_expect(&kt, KT_TO_POD, &TCP4(OUTSIDE4, POD_B, 40000, 22, SYN, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &UDP4(OUTSIDE4, POD_B, 40000, 53, 8), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4("203.0.113.200", POD_B, 40000, 22, SYN, 0), TC_ACT_SHOT, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(WORLD4, POD_B, 40000, 22, SYN, 0), TC_ACT_SHOT, NULL);
	/* The region is the endpoint's own: another endpoint's packet from it is not allowed by it. */
	add_endpoint(4, POD_A, EP_A, ID_A, KILO_POLICY_ENFORCE_INGRESS);
	kt_expect(&kt, KT_TO_POD, &TCP4(OUTSIDE4, POD_A, 40000, 22, SYN, 0), TC_ACT_SHOT, NULL);
	assert_int_equal(rule_counter(21), 2);
}

static void test_default_deny_ingress_and_egress(void **state)
{
	(void)state;
	set_enforce(KILO_POLICY_ENFORCE_INGRESS | KILO_POLICY_ENFORCE_EGRESS);
	add_endpoint(4, POD_B, EP_B, ID_B, KILO_POLICY_ENFORCE_INGRESS | KILO_POLICY_ENFORCE_EGRESS);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40000, 80, SYN, 0), TC_ACT_SHOT, NULL);
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_B, REMOTE_POD, 40000, 80, SYN, 0), TC_ACT_SHOT, NULL);
	kt_expect(&kt, KT_FROM_POD, &UDP4(POD_B, WORLD4, 40000, 53, 8), TC_ACT_SHOT, NULL);
	/* Every protocol, not only those with ports. */
	kt_expect(&kt, KT_FROM_POD,
		  &((struct kt_packet){.family = 4, .proto = IPPROTO_ICMP, .src = POD_B, .dst = REMOTE_POD,
				       .icmp_type = 8, .payload_len = 56}),
		  TC_ACT_SHOT, NULL);
	assert_int_equal(kt_counter(&kt, KILO_LB_POLICY_DENY_INGRESS), 1);
	assert_int_equal(kt_counter(&kt, KILO_LB_POLICY_DENY_EGRESS), 3);
	/* The node is always let in (kubelet's probes). */
	kt_expect(&kt, KT_TO_POD, &TCP4(NODE4, POD_B, 40000, 8080, SYN, 0), TC_ACT_OK, NULL);
	assert_int_equal(rule_counter(0), 4);
}

static void test_reply_of_allowed_flow_passes(void **state)
{
	(void)state;
	set_enforce(KILO_POLICY_ENFORCE_INGRESS | KILO_POLICY_ENFORCE_EGRESS);
	add_endpoint(4, POD_A, EP_A, ID_A, KILO_POLICY_ENFORCE_INGRESS | KILO_POLICY_ENFORCE_EGRESS);
	add_rule(EP_A, ID_REMOTE, KILO_POLICY_EGRESS, IPPROTO_TCP, 80, 16, 31);
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_A, REMOTE_POD, 40000, 80, SYN, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_A, 80, 40000, SYN | ACK, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_A, REMOTE_POD, 40000, 80, ACK, 0), TC_ACT_OK, NULL);
	/* Not a reply: another port of the same peer. */
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_A, 80, 40001, SYN | ACK, 0), TC_ACT_SHOT, NULL);
	assert_int_equal(kt_counter(&kt, KILO_LB_POLICY_FORWARD_NEW), 1);
	assert_int_equal(kt_counter(&kt, KILO_LB_POLICY_DENY_INGRESS), 1);
}

/*
 * A pod isolated in one direction only: the flows it opens the other way
 * are not judged, but remembered, so that their replies pass where it is
 * isolated; a new flow that way is still denied.
 */
static void test_reply_into_pod_isolated_the_other_way_passes(void **state)
{
	(void)state;
	set_enforce(KILO_POLICY_ENFORCE_INGRESS);
	add_endpoint(4, POD_A, EP_A, ID_A, KILO_POLICY_ENFORCE_INGRESS);
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_A, REMOTE_POD, 40000, 80, SYN, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_A, 80, 40000, SYN | ACK, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_A, REMOTE_POD, 40000, 80, ACK, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_A, 80, 40000, ACK | PSH, 10), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_A, 5000, 40000, SYN, 0), TC_ACT_SHOT, NULL);
	/* The same, isolated for egress only: an inbound flow's replies leave. */
	set_enforce(KILO_POLICY_ENFORCE_EGRESS);
	add_endpoint(4, POD_B, EP_B, ID_B, KILO_POLICY_ENFORCE_EGRESS);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 41000, 80, SYN, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_B, REMOTE_POD, 80, 41000, SYN | ACK, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_B, REMOTE_POD, 80, 41001, SYN | ACK, 0), TC_ACT_SHOT, NULL);
	assert_int_equal(kt_counter(&kt, KILO_LB_POLICY_DENY_INGRESS), 1);
	assert_int_equal(kt_counter(&kt, KILO_LB_POLICY_DENY_EGRESS), 1);
}

static void test_established_flow_not_judged_again(void **state)
{
	(void)state;
	set_enforce(KILO_POLICY_ENFORCE_INGRESS);
	add_endpoint(4, POD_B, EP_B, ID_B, KILO_POLICY_ENFORCE_INGRESS);
	add_rule(EP_B, ID_REMOTE, KILO_POLICY_INGRESS, IPPROTO_TCP, 80, 16, 11);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40000, 80, SYN, 0), TC_ACT_OK, NULL);
	remove_rule(EP_B, ID_REMOTE, KILO_POLICY_INGRESS, IPPROTO_TCP, 80, 16);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40000, 80, ACK, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40000, 80, ACK | PSH, 100), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40001, 80, SYN, 0), TC_ACT_SHOT, NULL);
	assert_int_equal(kt_counter(&kt, KILO_LB_POLICY_FORWARD_NEW), 1);
	assert_int_equal(rule_counter(11), 1);
	assert_int_equal(read_events(), 2); /* the new flow and the denied one, not the established packets */
}

static void test_unpoliced_pod_untouched(void **state)
{
	(void)state;
	/* B is policed; A is an endpoint no policy selects, and C no endpoint at all. */
	set_enforce(KILO_POLICY_ENFORCE_INGRESS | KILO_POLICY_ENFORCE_EGRESS);
	add_endpoint(4, POD_B, EP_B, ID_B, KILO_POLICY_ENFORCE_INGRESS | KILO_POLICY_ENFORCE_EGRESS);
	add_endpoint(4, POD_A, EP_A, ID_A, 0);
	kt_expect(&kt, KT_TO_POD, &TCP4(WORLD4, POD_A, 40000, 80, SYN, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_A, WORLD4, 40000, 80, SYN, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &UDP4(WORLD4, "10.4.0.7", 40000, 53, 8), TC_ACT_OK, NULL);
	assert_int_equal(kt_counter(&kt, KILO_LB_POLICY_FORWARD_NEW), 0);
	assert_int_equal(kt_counter(&kt, KILO_LB_PASS), 3);
	assert_int_equal(read_events(), 0);
}

/*
 * The programs keep per-CPU copies of the endpoints they last saw at a veth
 * (all these packets come by the same one): a change of an endpoint, with
 * the generation moved on as the loader moves it, is seen by the next
 * packet, one pod's copy never answers for another's address, and a
 * removed endpoint is gone.
 */
static void test_endpoint_change_seen_by_next_packet(void **state)
{
	struct kilo_policy_endpoint_key key = {.family = AF_INET};

	(void)state;
	set_enforce(KILO_POLICY_ENFORCE_INGRESS);
	add_endpoint(4, POD_B, EP_B, ID_B, KILO_POLICY_ENFORCE_INGRESS);
	add_endpoint(4, POD_A, EP_A, ID_A, 0);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40000, 81, SYN, 0), TC_ACT_SHOT, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_A, 40000, 81, SYN, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40001, 81, SYN, 0), TC_ACT_SHOT, NULL);
	add_endpoint(4, POD_B, EP_B, ID_B, 0);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40002, 81, SYN, 0), TC_ACT_OK, NULL);
	add_endpoint(4, POD_A, EP_A, ID_A, KILO_POLICY_ENFORCE_INGRESS);
	add_endpoint(4, POD_B, EP_B, ID_B, KILO_POLICY_ENFORCE_INGRESS);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_A, 40003, 81, SYN, 0), TC_ACT_SHOT, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40003, 81, SYN, 0), TC_ACT_SHOT, NULL);
	kt_addr(4, POD_B, &key.addr);
	assert_int_equal(bpf_map_delete_elem(map_fd(kt.skel->maps.kilo_policy_endpoints), &key), 0);
	endpoints_changed();
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40004, 81, SYN, 0), TC_ACT_OK, NULL);
	assert_int_equal(kt_counter(&kt, KILO_LB_POLICY_DENY_INGRESS), 4);
}

static const uint32_t web_backend[] = {1};

void add_web_service(void)
{
	struct kt_service svc = {
		.family = 4, .addr = VIP4, .port = 80, .proto = IPPROTO_TCP, .scope = KILO_LB_SCOPE_CLUSTER,
		.id = 7, .slots = web_backend, .n_slots = 1,
	};

	kt_add_backend(&kt, 1, 4, REMOTE_WEB, 8080, IPPROTO_TCP, 0);
	kt_add_service(&kt, &svc);
}

/* A's egress allows the backend's identity and port (8080), not the service's port (80). */
static void test_service_flow_judged_on_backend(void **state)
{
	(void)state;
	add_web_service();
	set_enforce(KILO_POLICY_ENFORCE_EGRESS);
	add_endpoint(4, POD_A, EP_A, ID_A, KILO_POLICY_ENFORCE_EGRESS);
	add_rule(EP_A, ID_REMOTE, KILO_POLICY_EGRESS, IPPROTO_TCP, 80, 16, 41);
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_A, VIP4, 40000, 80, SYN, 0), TC_ACT_SHOT, NULL);
	assert_int_equal(kt_counter(&kt, KILO_LB_POLICY_DENY_EGRESS), 1);
	assert_int_equal(kt_counter(&kt, KILO_LB_FORWARD_NEW), 0);
	assert_int_equal(read_events(), 1);
	assert_int_equal(events[0].verdict, KILO_FLOW_DROPPED);
	assert_int_equal(events[0].service_id, 7);
	assert_int_equal(events[0].dport, htons(8080));
	assert_int_equal(events[0].service_port, htons(80));
	assert_int_equal(events[0].dst_identity, ID_WEB);

	add_rule(EP_A, ID_WEB, KILO_POLICY_EGRESS, IPPROTO_TCP, 8080, 16, 51);
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_A, VIP4, 40000, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(POD_A, REMOTE_WEB, 40000, 8080, SYN, 0));
	/* Its SERVICE entry keeps it: not judged again, nor its reply (reversed) at A's ingress. */
	remove_rule(EP_A, ID_WEB, KILO_POLICY_EGRESS, IPPROTO_TCP, 8080, 16);
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_A, VIP4, 40000, 80, ACK, 0), TC_ACT_OK,
		  &TCP4(POD_A, REMOTE_WEB, 40000, 8080, ACK, 0));
	assert_int_equal(rule_counter(51), 1);
	assert_int_equal(kt_counter(&kt, KILO_LB_POLICY_FORWARD_NEW), 1);
}

/* A balanced to B on this node: B's ingress judges the flow once, its REPLY entry remembers. */
static void test_service_flow_judged_at_local_backend_ingress(void **state)
{
	const uint32_t local_backend[] = {5};
	struct kt_service svc = {
		.family = 4, .addr = VIP4, .port = 80, .proto = IPPROTO_TCP, .scope = KILO_LB_SCOPE_CLUSTER,
		.id = 8, .slots = local_backend, .n_slots = 1,
	};

	(void)state;
	kt_add_backend(&kt, 5, 4, POD_B, 8080, IPPROTO_TCP, 0);
	kt_add_service(&kt, &svc);
	set_enforce(KILO_POLICY_ENFORCE_INGRESS);
	add_endpoint(4, POD_B, EP_B, ID_B, KILO_POLICY_ENFORCE_INGRESS);
	add_rule(EP_B, ID_A, KILO_POLICY_INGRESS, IPPROTO_TCP, 8080, 16, 11);
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_A, VIP4, 40000, 80, SYN, 0), TC_ACT_OK,
		  &TCP4(POD_A, POD_B, 40000, 8080, SYN, 0));
	kt_expect(&kt, KT_TO_POD, &TCP4(POD_A, POD_B, 40000, 8080, SYN, 0), TC_ACT_OK, NULL);
	remove_rule(EP_B, ID_A, KILO_POLICY_INGRESS, IPPROTO_TCP, 8080, 16);
	/* B's answer, reversed at B's veth, enters A (policed, no rule) from the frontend: a reply. */
	add_endpoint(4, POD_A, EP_A, ID_A, KILO_POLICY_ENFORCE_INGRESS);
	kt_expect(&kt, KT_FROM_POD, &TCP4(POD_B, POD_A, 8080, 40000, SYN | ACK, 0), TC_ACT_OK,
		  &TCP4(VIP4, POD_A, 80, 40000, SYN | ACK, 0));
	kt_expect(&kt, KT_TO_POD, &TCP4(VIP4, POD_A, 80, 40000, SYN | ACK, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(VIP4, POD_A, 80, 40001, SYN | ACK, 0), TC_ACT_SHOT, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(POD_A, POD_B, 40000, 8080, ACK, 0), TC_ACT_OK, NULL);
	assert_int_equal(kt_counter(&kt, KILO_LB_POLICY_FORWARD_NEW), 1);
	assert_int_equal(read_events(), 2);
	assert_int_equal(events[0].service_id, 8);
	/* Another client's flow to B through the service is judged, and denied. */
	kt_expect(&kt, KT_FROM_POD, &TCP4("10.4.0.8", VIP4, 40000, 80, SYN, 0), TC_ACT_OK,
		  &TCP4("10.4.0.8", POD_B, 40000, 8080, SYN, 0));
	kt_expect(&kt, KT_TO_POD, &TCP4("10.4.0.8", POD_B, 40000, 8080, SYN, 0), TC_ACT_SHOT, NULL);
}

void expect_addr(const union kilo_lb_addr *got, int family, const char *want)
{
	union kilo_lb_addr addr;

	kt_addr(family, want, &addr);
	assert_memory_equal(got, &addr, sizeof(addr));
}

/*
 * A VPN peer's flow to a ClusterIP, SNATed to the node's address (from
 * the WireGuard device), to a backend on this node: judged on the peer,
 * not on the node (which is always let in).
 */
static void test_snatted_service_flow_judged_on_the_client(void **state)
{
	const uint32_t local_backend[] = {5};
	struct kt_service svc = {
		.family = 4, .addr = VIP4, .port = 80, .proto = IPPROTO_TCP, .scope = KILO_LB_SCOPE_CLUSTER,
		.id = 8, .slots = local_backend, .n_slots = 1,
	};
	struct kt_packet syn = TCP4(OUTSIDE4, VIP4, 50003, 80, SYN, 0);
	uint16_t nat_port = (uint16_t)(32768 + kt_flow_hash(&syn) % 28232);

	(void)state;
	kt_add_backend(&kt, 5, 4, POD_B, 8080, IPPROTO_TCP, 0);
	kt_add_service(&kt, &svc);
	kt_set_node4(&kt, NODE4);
	set_enforce(KILO_POLICY_ENFORCE_INGRESS);
	add_endpoint(4, POD_B, EP_B, ID_B, KILO_POLICY_ENFORCE_INGRESS);
	kt_expect(&kt, KT_FROM_NETDEV, &syn, TC_ACT_OK, &TCP4(NODE4, POD_B, nat_port, 8080, SYN, 0));
	kt_expect(&kt, KT_TO_POD, &TCP4(NODE4, POD_B, nat_port, 8080, SYN, 0), TC_ACT_SHOT, NULL);
	assert_int_equal(read_events(), 1);
	expect_addr(&events[0].saddr, 4, OUTSIDE4);
	assert_int_equal(events[0].src_identity, KILO_IDENTITY_WORLD);
	/* Allowed by the peer's ipBlock: passes. */
	add_region(EP_B, KILO_POLICY_INGRESS, "203.0.113.0", 24, 5);
	add_rule(EP_B, 5 | KILO_POLICY_REGION_FLAG, KILO_POLICY_INGRESS, IPPROTO_TCP, 8080, 16, 21);
	kt_expect(&kt, KT_TO_POD, &TCP4(NODE4, POD_B, nat_port, 8080, SYN, 0), TC_ACT_OK, NULL);
}

/* The ipcache's longest prefix names the peer; an address it does not cover is the world. */
static void test_identity_longest_prefix_and_world(void **state)
{
	(void)state;
	set_enforce(KILO_POLICY_ENFORCE_INGRESS);
	add_endpoint(4, POD_B, EP_B, ID_B, KILO_POLICY_ENFORCE_INGRESS);
	add_rule(EP_B, ID_WEB, KILO_POLICY_INGRESS, IPPROTO_TCP, 80, 16, 11);
	add_rule(EP_B, KILO_IDENTITY_WORLD, KILO_POLICY_INGRESS, IPPROTO_TCP, 81, 16, 12);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_WEB, POD_B, 40000, 80, SYN, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40000, 80, SYN, 0), TC_ACT_SHOT, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(WORLD4, POD_B, 40000, 81, SYN, 0), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40000, 81, SYN, 0), TC_ACT_SHOT, NULL);
	assert_int_equal(read_events(), 4);
	assert_int_equal(events[0].src_identity, ID_WEB);
	assert_int_equal(events[1].src_identity, ID_REMOTE);
	assert_int_equal(events[2].src_identity, KILO_IDENTITY_WORLD);
}

/*
 * The ipcache's hash (full-length prefixes) and trie (the rest) against an
 * ipBlock over 10.4.0.0/16: a pod's own address (the hash) and a pod of
 * the location's /24 (the trie) inside it are their identities, allowed
 * by the identity's rule where one allows and by the ipBlock elsewhere; a
 * VPN peer's prefix is its identity; the world is in no block. The
 * endpoint skips the lookup for any peer, as the loader would set it.
 */
static void test_pod_inside_ip_block_peer_prefix_and_world(void **state)
{
	const struct {
		struct kt_packet packet;
		int verdict;
		__u32 identity, rule_id; /* the event's source identity and rule */
	} flows[] = {
		{TCP4(POD_A, POD_B, 40000, 80, SYN, 0), TC_ACT_OK, ID_A, 11},
		{TCP4(POD_A, POD_B, 40000, 22, SYN, 0), TC_ACT_OK, ID_A, 21},
		{TCP4(REMOTE_POD, POD_B, 40000, 22, SYN, 0), TC_ACT_OK, ID_REMOTE, 21},
		{TCP4(REMOTE_POD, POD_B, 40000, 80, SYN, 0), TC_ACT_SHOT, ID_REMOTE, 0},
		{UDP4(PEER_HOST, POD_B, 40000, 53, 8), TC_ACT_OK, ID_PEER, 12},
		{TCP4(PEER_HOST, POD_B, 40000, 22, SYN, 0), TC_ACT_SHOT, ID_PEER, 0},
		{TCP4(WORLD4, POD_B, 40000, 22, SYN, 0), TC_ACT_SHOT, KILO_IDENTITY_WORLD, 0},
	};

	(void)state;
	set_enforce(KILO_POLICY_ENFORCE_INGRESS);
	add_endpoint_skipping(4, POD_B, EP_B, ID_B, KILO_POLICY_ENFORCE_INGRESS,
			      KILO_POLICY_SKIP_ANY | KILO_POLICY_SKIP_ALL << KILO_POLICY_SKIP_SHIFT(KILO_POLICY_EGRESS));
	add_identity(4, PEER_NET, 24, ID_PEER);
	add_region(EP_B, KILO_POLICY_INGRESS, "10.4.0.0", 16, 6);
	add_rule(EP_B, 6 | KILO_POLICY_REGION_FLAG, KILO_POLICY_INGRESS, IPPROTO_TCP, 22, 16, 21);
	add_rule(EP_B, ID_A, KILO_POLICY_INGRESS, IPPROTO_TCP, 80, 16, 11);
	add_rule(EP_B, ID_PEER, KILO_POLICY_INGRESS, IPPROTO_UDP, 53, 16, 12);
	for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
		kt_expect(&kt, KT_TO_POD, &flows[i].packet, flows[i].verdict, NULL);
		assert_int_equal(read_events(), 1);
		assert_int_equal(events[0].src_identity, flows[i].identity);
		assert_int_equal(events[0].rule_id, flows[i].rule_id);
	}
	assert_int_equal(rule_counter(21), 2);
}

/*
 * The lookups an endpoint skips are not done: with rules by identity, for
 * any peer and by region all in the maps, each skip bit leaves its own
 * out, in its own direction only.
 */
static void test_endpoint_skips_the_lookups_it_has_no_entry_for(void **state)
{
	static const struct {
		__u32 skip;
		int identity, any, region; /* TC_ACT_OK or TC_ACT_SHOT */
	} cases[] = {
		{0, TC_ACT_OK, TC_ACT_OK, TC_ACT_OK},
		{KILO_POLICY_SKIP_IDENTITIES, TC_ACT_SHOT, TC_ACT_OK, TC_ACT_OK},
		{KILO_POLICY_SKIP_ANY, TC_ACT_OK, TC_ACT_SHOT, TC_ACT_OK},
		{KILO_POLICY_SKIP_REGIONS, TC_ACT_OK, TC_ACT_OK, TC_ACT_SHOT},
		/* The other direction's bits. */
		{KILO_POLICY_SKIP_ALL << KILO_POLICY_SKIP_SHIFT(KILO_POLICY_EGRESS), TC_ACT_OK, TC_ACT_OK, TC_ACT_OK},
	};

	(void)state;
	set_enforce(KILO_POLICY_ENFORCE_INGRESS);
	add_region(EP_B, KILO_POLICY_INGRESS, "203.0.113.0", 24, 5);
	add_rule(EP_B, ID_REMOTE, KILO_POLICY_INGRESS, IPPROTO_TCP, 80, 16, 11);
	add_rule(EP_B, KILO_IDENTITY_ANY, KILO_POLICY_INGRESS, IPPROTO_TCP, 443, 16, 12);
	add_rule(EP_B, 5 | KILO_POLICY_REGION_FLAG, KILO_POLICY_INGRESS, IPPROTO_TCP, 22, 16, 21);
	for (uint16_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		add_endpoint_skipping(4, POD_B, EP_B, ID_B, KILO_POLICY_ENFORCE_INGRESS, cases[i].skip);
		kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 41000 + i, 80, SYN, 0), cases[i].identity, NULL);
		kt_expect(&kt, KT_TO_POD, &TCP4(WORLD4, POD_B, 41000 + i, 443, SYN, 0), cases[i].any, NULL);
		kt_expect(&kt, KT_TO_POD, &TCP4(OUTSIDE4, POD_B, 41000 + i, 22, SYN, 0), cases[i].region, NULL);
	}
}

/*
 * An SCTP port (Diameter's 3868) is allowed apart from the same port over
 * TCP, both ways round; the INIT ACK answering an allowed INIT passes by
 * conntrack where the pod is isolated for egress with no rule.
 */
static void test_sctp_port_allowed_apart_from_tcp(void **state)
{
	(void)state;
	set_enforce(KILO_POLICY_ENFORCE_INGRESS | KILO_POLICY_ENFORCE_EGRESS);
	add_endpoint(4, POD_B, EP_B, ID_B, KILO_POLICY_ENFORCE_INGRESS | KILO_POLICY_ENFORCE_EGRESS);
	add_rule(EP_B, ID_REMOTE, KILO_POLICY_INGRESS, IPPROTO_SCTP, 3868, 16, 41);
	add_rule(EP_B, ID_REMOTE, KILO_POLICY_INGRESS, IPPROTO_TCP, 3869, 16, 51);
	kt_expect(&kt, KT_TO_POD, &SCTP4(REMOTE_POD, POD_B, 40000, 3868, KT_SCTP_INIT), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_FROM_POD, &SCTP4(POD_B, REMOTE_POD, 3868, 40000, KT_SCTP_INIT_ACK), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40001, 3868, SYN, 0), TC_ACT_SHOT, NULL);
	kt_expect(&kt, KT_TO_POD, &SCTP4(REMOTE_POD, POD_B, 40002, 3869, KT_SCTP_INIT), TC_ACT_SHOT, NULL);
	kt_expect(&kt, KT_TO_POD, &TCP4(REMOTE_POD, POD_B, 40003, 3869, SYN, 0), TC_ACT_OK, NULL);
	/* Not a reply: no INIT came from 40004. */
	kt_expect(&kt, KT_FROM_POD, &SCTP4(POD_B, REMOTE_POD, 3868, 40004, KT_SCTP_INIT_ACK), TC_ACT_SHOT, NULL);
	assert_int_equal(kt_counter(&kt, KILO_LB_POLICY_FORWARD_NEW), 2);
	assert_int_equal(kt_counter(&kt, KILO_LB_POLICY_DENY_INGRESS), 2);
	assert_int_equal(kt_counter(&kt, KILO_LB_POLICY_DENY_EGRESS), 1);
	assert_int_equal(rule_counter(41), 1);
	assert_int_equal(rule_counter(51), 1);
	assert_int_equal(read_events(), 5);
	assert_int_equal(events[0].proto, IPPROTO_SCTP);
	assert_int_equal(events[0].sport, htons(40000));
	assert_int_equal(events[0].dport, htons(3868));
	assert_int_equal(events[0].rule_id, 41);
}

/* An SCTP datagram in IPv4 fragments: the later one takes the first's ports, as UDP's does, and passes. */
static void test_sctp_fragments_follow_the_first(void **state)
{
	struct kt_packet first = SCTP4(REMOTE_POD, POD_B, 40000, 3868, KT_SCTP_INIT);
	struct kt_packet later;

	(void)state;
	first.payload_len = 64;
	first.fragment = true;
	first.frag_id = 77;
	first.frag_len = 48;
	first.more_fragments = true;
	later = first;
	later.frag_offset = 6;
	later.frag_len = 0;
	later.more_fragments = false;
	set_enforce(KILO_POLICY_ENFORCE_INGRESS);
	add_endpoint(4, POD_B, EP_B, ID_B, KILO_POLICY_ENFORCE_INGRESS);
	add_rule(EP_B, ID_REMOTE, KILO_POLICY_INGRESS, IPPROTO_SCTP, 3868, 16, 41);
	kt_expect(&kt, KT_TO_POD, &first, TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &later, TC_ACT_OK, NULL);
	assert_int_equal(kt_counter(&kt, KILO_LB_POLICY_DENY_INGRESS), 0);
	assert_int_equal(rule_counter(41), 1);
}

static void test_ipv6_allow_and_deny(void **state)
{
	(void)state;
	set_enforce(KILO_POLICY_ENFORCE_EGRESS);
	add_endpoint(6, POD_A6, EP_A, ID_A, KILO_POLICY_ENFORCE_EGRESS);
	add_identity(6, "fd00:4:1::", 48, ID_REMOTE);
	add_rule(EP_A, ID_REMOTE, KILO_POLICY_EGRESS, IPPROTO_UDP, 53, 16, 11);
	kt_expect(&kt, KT_FROM_POD, &UDP6(POD_A6, "fd00:4:1::35", 40000, 53, 20), TC_ACT_OK, NULL);
	kt_expect(&kt, KT_FROM_POD, &UDP6(POD_A6, "fd00:5::35", 40000, 53, 20), TC_ACT_SHOT, NULL);
	kt_expect(&kt, KT_TO_POD, &UDP6("fd00:4:1::35", POD_A6, 53, 40000, 20), TC_ACT_OK, NULL);
}

/* Neighbour discovery is not judged: the node must resolve a policed pod's address, and the pod answer. */
static void test_ipv6_neighbour_discovery_passes(void **state)
{
	struct kt_packet solicit = {.family = 6, .proto = IPPROTO_ICMPV6, .src = "fe80::1", .dst = POD_A6,
				    .icmp_type = 135, .payload_len = 20};
	struct kt_packet advert = {.family = 6, .proto = IPPROTO_ICMPV6, .src = POD_A6, .dst = "fe80::1",
				   .icmp_type = 136, .payload_len = 20};
	struct kt_packet echo = {.family = 6, .proto = IPPROTO_ICMPV6, .src = "fe80::1", .dst = POD_A6,
				 .icmp_type = 128, .payload_len = 20};

	(void)state;
	set_enforce(KILO_POLICY_ENFORCE_INGRESS | KILO_POLICY_ENFORCE_EGRESS);
	add_endpoint(6, POD_A6, EP_A, ID_A, KILO_POLICY_ENFORCE_INGRESS | KILO_POLICY_ENFORCE_EGRESS);
	kt_expect(&kt, KT_TO_POD, &solicit, TC_ACT_OK, NULL);
	kt_expect(&kt, KT_FROM_POD, &advert, TC_ACT_OK, NULL);
	kt_expect(&kt, KT_TO_POD, &echo, TC_ACT_SHOT, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_allow_by_identity, reset),
		cmocka_unit_test_setup(test_allow_by_any_peer, reset),
		cmocka_unit_test_setup(test_allow_by_port_range_prefix, reset),
		cmocka_unit_test_setup(test_allow_by_cidr_region_except_denied, reset),
		cmocka_unit_test_setup(test_default_deny_ingress_and_egress, reset),
		cmocka_unit_test_setup(test_reply_of_allowed_flow_passes, reset),
		cmocka_unit_test_setup(test_reply_into_pod_isolated_the_other_way_passes, reset),
		cmocka_unit_test_setup(test_established_flow_not_judged_again, reset),
		cmocka_unit_test_setup(test_unpoliced_pod_untouched, reset),
		cmocka_unit_test_setup(test_endpoint_change_seen_by_next_packet, reset),
		cmocka_unit_test_setup(test_service_flow_judged_on_backend, reset),
		cmocka_unit_test_setup(test_service_flow_judged_at_local_backend_ingress, reset),
		cmocka_unit_test_setup(test_snatted_service_flow_judged_on_the_client, reset),
		cmocka_unit_test_setup(test_identity_longest_prefix_and_world, reset),
		cmocka_unit_test_setup(test_pod_inside_ip_block_peer_prefix_and_world, reset),
		cmocka_unit_test_setup(test_endpoint_skips_the_lookups_it_has_no_entry_for, reset),
		cmocka_unit_test_setup(test_sctp_port_allowed_apart_from_tcp, reset),
		cmocka_unit_test_setup(test_sctp_fragments_follow_the_first, reset),
		cmocka_unit_test_setup(test_ipv6_allow_and_deny, reset),
		cmocka_unit_test_setup(test_ipv6_neighbour_discovery_passes, reset),
		cmocka_unit_test_setup(test_events_name_the_flow, reset),
		cmocka_unit_test_setup(test_a_drop_names_the_endpoints_deny_rule, reset),
		cmocka_unit_test_setup(test_load_balancer_drops_are_events, reset),
		cmocka_unit_test_setup(test_events_rate_limited, reset),
		cmocka_unit_test_setup(test_all_flows_unpoliced_pod, reset),
		cmocka_unit_test_setup(test_all_flows_pod_policed_the_other_way, reset),
		cmocka_unit_test_setup(test_all_flows_service_flow, reset),
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
	events_ring = ring_buffer__new(bpf_map__fd(kt.skel->maps.kilo_policy_events), on_event, NULL, NULL);
	if (!events_ring) {
		fprintf(stderr, "ring buffer: %s\n", strerror(errno));
		kt_lb_close(&kt);
		return 1;
	}
	r = cmocka_run_group_tests(tests, NULL, NULL);
	ring_buffer__free(events_ring);
	kt_lb_close(&kt);
	return r;
}
