/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network policy's maps and its flow events: every key and value, in
 * fixed-width types, shared by the BPF programs (lib/bpf/progs) and libkilo,
 * which fills the maps and reads the events. As in lb_maps.h, a field is
 * never reordered or resized, addresses are union kilo_lb_addr and ports are
 * in network byte order.
 *
 * How a packet is judged (at a pod's veth, after load balancing):
 *   1. The local endpoint: kilo_policy_endpoints by the pod's address (the
 *      source leaving the pod, the destination entering it). Not an endpoint,
 *      or no policy selects it for this direction: allowed.
 *   2. A packet of a flow already judged (conntrack) passes; so does its reply.
 *   3. The peer's identity: the longest prefix of its address in
 *      kilo_policy_ipcache; none: KILO_IDENTITY_WORLD.
 *   4. kilo_policy_rules, longest prefix over (endpoint, direction, identity,
 *      protocol, port): first with the peer's identity, then with
 *      KILO_IDENTITY_ANY; then, for ipBlock rules, the peer's address in
 *      kilo_policy_cidrs gives a region, looked up in kilo_policy_rules as
 *      its identity. An entry found allows, and names the rule that did;
 *      none: dropped (the endpoint's default deny). Of the three, the
 *      endpoint's skip bits leave out those it has no entry for.
 */
#ifndef KILO_POLICY_MAPS_H
#define KILO_POLICY_MAPS_H

#include <linux/types.h>

#include "lb_maps.h"

#define KILO_POLICY_MAX_IPCACHE 262144   /* LPM: pods of every location, peers' allowed IPs, nodes */
#define KILO_POLICY_MAX_ENDPOINTS 65536  /* this node's pods */
#define KILO_POLICY_MAX_RULES 1048576    /* LPM, over every local endpoint */
#define KILO_POLICY_MAX_CIDRS 262144     /* LPM, over every local endpoint */
#define KILO_POLICY_MAX_RULE_IDS 65536   /* per-rule counters, indexed by rule id */
#define KILO_POLICY_EVENTS_BYTES (4U << 20) /* the flow events' ring buffer */

/*
 * Identities. An allocated identity (a pod's or a VPN peer's label set) is
 * the same number on every node: the store hands it out. The reserved ones
 * need no store. A CIDR region is local to one endpoint and direction.
 */
enum kilo_identity {
	KILO_IDENTITY_ANY = 0,          /* in a rule key: any peer */
	KILO_IDENTITY_HOST = 1,         /* this node: always allowed in, as kubelet's probes need */
	KILO_IDENTITY_WORLD = 2,        /* an address no entry of the ipcache covers */
	KILO_IDENTITY_REMOTE_NODE = 3,  /* another node of the mesh (its addresses) */
	KILO_IDENTITY_FIRST_ALLOCATED = 256,
	KILO_IDENTITY_LAST_ALLOCATED = 0x00ffffff,
};

#define KILO_POLICY_REGION_FLAG 0x80000000U /* identity | flag: a CIDR region of kilo_policy_cidrs */

enum kilo_policy_direction {
	KILO_POLICY_INGRESS = 0, /* arriving at the endpoint */
	KILO_POLICY_EGRESS = 1,  /* leaving the endpoint */
};

/* ipcache: LPM trie. prefixlen counts the bits after it: 32 (family, pad) + the address's prefix. */
struct kilo_ipcache_key {
	__u32 prefixlen;
	__u8 family; /* AF_INET, AF_INET6 */
	__u8 pad[3];
	union kilo_lb_addr addr;
};

struct kilo_ipcache_value {
	__u32 identity;
	__u16 location; /* the location's number in the policy layer's table; 0: none (world) */
	__u16 flags;    /* none yet */
};

/* Local endpoints, a hash by the pod's address: one entry per address of each pod of this node. */
struct kilo_policy_endpoint_key {
	union kilo_lb_addr addr;
	__u8 family;
	__u8 pad[3];
};

enum kilo_policy_endpoint_flags {
	KILO_POLICY_ENFORCE_INGRESS = 1 << 0, /* some policy selects it for Ingress: default deny in */
	KILO_POLICY_ENFORCE_EGRESS = 1 << 1,  /* ... for Egress: default deny out */
	/*
	 * kilo_policy_state's only (kg --flow-events all): every new flow of
	 * every local pod is an event, forwarded with rule 0 where no policy
	 * selects the pod for that direction.
	 */
	KILO_POLICY_ALL_FLOWS = 1 << 2,
};

/*
 * The lookups of step 4 an endpoint has no entry for, per direction (bits
 * << KILO_POLICY_SKIP_SHIFT(direction)): the loader derives them from the
 * rules and regions it writes, so that a denied flow, or one allowed by
 * any peer or an ipBlock, pays only for the lookups that can answer. 0
 * (an older loader's entry): every lookup.
 */
enum kilo_policy_skip {
	KILO_POLICY_SKIP_IDENTITIES = 1 << 0, /* no rule keyed by a peer's identity */
	KILO_POLICY_SKIP_ANY = 1 << 1,        /* none by KILO_IDENTITY_ANY */
	KILO_POLICY_SKIP_REGIONS = 1 << 2,    /* no ipBlock: kilo_policy_cidrs has no entry */
	KILO_POLICY_SKIP_ALL = (1 << 3) - 1,
};

#define KILO_POLICY_SKIP_SHIFT(direction) ((direction) * 3)

struct kilo_policy_endpoint {
	__u32 id;       /* the endpoint's number in kilo_policy_rules and kilo_policy_cidrs keys; never 0 */
	__u32 identity; /* its own identity, for events */
	__u32 flags;    /* enum kilo_policy_endpoint_flags */
	__u32 skip;     /* enum kilo_policy_skip, per direction; the policy layer leaves it 0, the loader sets it */
	/*
	 * Per direction, the rule a default deny counts and reports: one per
	 * set of policies that isolate endpoints, named after them, so that a
	 * drop says which policies to change. 0 (an older loader's entry):
	 * rule 0, "default deny".
	 */
	__u32 deny_rule[2];
};

/*
 * Rules: LPM trie. prefixlen counts the bits after it: 72 fixed (endpoint,
 * identity, direction), +8 with a protocol, +1..16 over the port (a range
 * is several prefixes). prefixlen 72: every protocol and port.
 */
struct kilo_policy_key {
	__u32 prefixlen;
	__u32 endpoint;
	__u32 identity;  /* a peer's identity, KILO_IDENTITY_ANY, or a region | KILO_POLICY_REGION_FLAG */
	__u8 direction;  /* enum kilo_policy_direction */
	__u8 proto;      /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP */
	__be16 port;     /* destination port */
};

#define KILO_POLICY_KEY_FIXED_BITS 72

struct kilo_policy_value {
	__u32 rule_id; /* the rule that allows (see struct kilo_np_desired's rule names); never 0 */
	__u32 pad;
};

/*
 * ipBlock: LPM trie per endpoint and direction. prefixlen counts the bits
 * after it: 64 fixed + the address's prefix. The policy layer flattens the
 * endpoint's ipBlocks (cidr minus except) into disjoint regions, each with
 * its own number, whose ports are rules keyed by the region.
 */
struct kilo_policy_cidr_key {
	__u32 prefixlen;
	__u32 endpoint;
	__u8 direction;
	__u8 family;
	__u8 pad[2];
	union kilo_lb_addr addr;
};

#define KILO_POLICY_CIDR_KEY_FIXED_BITS 64

struct kilo_policy_cidr_value {
	__u32 region; /* 0: no ipBlock covers it (an except); else look up region | KILO_POLICY_REGION_FLAG */
	__u32 pad;
};

/* Flow events, in the ring buffer: every new flow judged at an endpoint (KILO_POLICY_ALL_FLOWS: at any), and every drop. */
enum kilo_flow_verdict {
	KILO_FLOW_FORWARDED = 0,
	KILO_FLOW_DROPPED = 1,
};

enum kilo_flow_reason {
	KILO_FLOW_REASON_NONE = 0,          /* forwarded */
	KILO_FLOW_REASON_POLICY_DENIED = 1, /* selected for this direction, and no rule allows */
	KILO_FLOW_REASON_NO_BACKEND = 2,    /* the load balancer's drops, as enum kilo_lb_counter names them */
	KILO_FLOW_REASON_MALFORMED = 3,
};

struct kilo_flow_event {
	__u64 time_ns;            /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	union kilo_lb_addr saddr; /* after load balancing */
	union kilo_lb_addr daddr;
	union kilo_lb_addr service_addr; /* the frontend it was balanced from, when service_id != 0 */
	__be16 sport;
	__be16 dport;
	__be16 service_port;
	__u8 proto;
	__u8 family;
	__u32 src_identity;
	__u32 dst_identity;
	__u32 rule_id;    /* the rule that allowed it, or the endpoint's deny rule; 0: none applied, or default deny */
	__u32 service_id; /* 0: not balanced */
	__u32 ifindex;    /* the veth it was judged at */
	__u8 verdict;     /* enum kilo_flow_verdict */
	__u8 reason;      /* enum kilo_flow_reason */
	__u8 direction;   /* enum kilo_policy_direction of the endpoint that judged it */
	__u8 pad[9];
};

/* Events per CPU per second before the ring buffer drops them (counted as lost). */
#define KILO_FLOW_EVENTS_PER_SEC 10000

/* Per-rule counters: a PERCPU_ARRAY indexed by rule id, the same value as the load balancer's. */

/*
 * Appended by the datapath. kilo_policy_state, an ARRAY of one entry (key
 * 0) the loader writes with the endpoints: the OR of every endpoint's
 * flags, so that while no policy selects a pod for a direction no packet
 * pays for the endpoint lookup, and KILO_POLICY_ALL_FLOWS when every flow
 * is an event (then every pod's packets pay for it).
 *
 * generation: the one the programs' per-CPU copies of endpoints were
 * made in (policy_maps.bpf.h). Whoever changes kilo_policy_endpoints
 * writes the next one once it is done, so that no copy outlives a change.
 */
struct kilo_policy_state {
	__u32 enforce; /* enum kilo_policy_endpoint_flags */
	__u32 generation;
};

/*
 * kilo_policy_ipcache_hosts: a hash of the ipcache's full-length prefixes
 * (a pod's, a node's address), keyed by the address as the endpoints are
 * (struct kilo_policy_endpoint_key), valued by struct kilo_ipcache_value.
 * The loader puts them there instead of in the trie, which then holds only
 * the shorter prefixes: with 100k pods a trie lookup walks ~20 nodes, each
 * a cache miss on a new flow (~1.2 us), a hash lookup one or two. The
 * programs look the address up here first; a miss goes to the trie.
 */

/* kilo_policy_event_budget: a PERCPU_ARRAY of one entry, the rate limit's window on each CPU. */
struct kilo_flow_event_budget {
	__u64 window_ns; /* bpf_ktime_get_coarse_ns() when the current second began */
	__u32 sent;      /* events written in it */
	__u32 pad;
};

#endif
