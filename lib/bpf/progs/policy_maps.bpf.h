/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Network policy's maps as the tc programs declare them, pinned by name
 * beside the load balancer's (maps.bpf.h), so that libkilo's loader and a
 * restarted kg find them with their entries. Keys and values:
 * policy_maps.h.
 */
#ifndef KILO_POLICY_MAPS_BPF_H
#define KILO_POLICY_MAPS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "policy_maps.h"

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, KILO_POLICY_MAX_IPCACHE);
	__type(key, struct kilo_ipcache_key);
	__type(value, struct kilo_ipcache_value);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kilo_policy_ipcache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KILO_POLICY_MAX_IPCACHE);
	__type(key, struct kilo_policy_endpoint_key); /* an address */
	__type(value, struct kilo_ipcache_value);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kilo_policy_ipcache_hosts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KILO_POLICY_MAX_ENDPOINTS);
	__type(key, struct kilo_policy_endpoint_key);
	__type(value, struct kilo_policy_endpoint);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kilo_policy_endpoints SEC(".maps");

/*
 * Each CPU's copies of the endpoints its packets were last about, one slot
 * per pod veth and family: an array lookup where kilo_policy_endpoints is
 * a hash's (~15 ns a packet). A copy serves a packet of its address while
 * kilo_policy_state's generation is the one it was made in. Two veths in
 * one slot only cost each other the hash lookup. 4096 slots of 48 bytes:
 * 192 KiB a CPU. Not pinned: a new program starts with none.
 */
#define KILO_POLICY_ENDPOINT_COPIES 4096

struct kilo_policy_endpoint_copy {
	union kilo_lb_addr addr;
	__u32 generation;
	__u8 family; /* 0: no copy */
	__u8 found;  /* 0: the address is no endpoint */
	__u8 pad[2];
	struct kilo_policy_endpoint endpoint;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KILO_POLICY_ENDPOINT_COPIES);
	__type(key, __u32);
	__type(value, struct kilo_policy_endpoint_copy);
} kilo_policy_endpoint_copies SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, KILO_POLICY_MAX_RULES);
	__type(key, struct kilo_policy_key);
	__type(value, struct kilo_policy_value);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kilo_policy_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, KILO_POLICY_MAX_CIDRS);
	__type(key, struct kilo_policy_cidr_key);
	__type(value, struct kilo_policy_cidr_value);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kilo_policy_cidrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KILO_POLICY_MAX_RULE_IDS);
	__type(key, __u32); /* rule id */
	__type(value, struct kilo_lb_counter_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kilo_policy_rule_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kilo_policy_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kilo_policy_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, KILO_POLICY_EVENTS_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kilo_policy_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kilo_flow_event_budget);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kilo_policy_event_budget SEC(".maps");

#endif
