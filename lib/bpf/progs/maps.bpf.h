/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The load balancer's maps as the programs declare them. Every program that
 * includes this gets the same maps: each is pinned by name under
 * KILO_LB_PIN_DIR (libkilo opens the skeletons with that pin_root_path), so
 * the tc and cgroup programs share them and a restarted kg finds them again
 * with their flows.
 */
#ifndef KILO_MAPS_BPF_H
#define KILO_MAPS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "lb_maps.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KILO_LB_MAX_SERVICES);
	__type(key, struct kilo_lb_service_key);
	__type(value, struct kilo_lb_service);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kilo_lb_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KILO_LB_MAX_SLOTS);
	__type(key, struct kilo_lb_slot_key);
	__type(value, __u32); /* backend id */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kilo_lb_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KILO_LB_MAX_BACKENDS);
	__type(key, __u32); /* backend id */
	__type(value, struct kilo_lb_backend);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kilo_lb_backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KILO_LB_MAX_SERVICES);
	__type(key, __u32); /* service id */
	__type(value, struct kilo_lb_revnat);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kilo_lb_revnat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KILO_LB_MAX_BACKENDS);
	__type(key, struct kilo_lb_backend_addr);
	__type(value, struct kilo_lb_backend_frontends);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kilo_lb_backend_frontends SEC(".maps");

/* The inner map's shape; libkilo creates one ARRAY per table and swaps it in whole. */
struct kilo_lb_maglev_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KILO_LB_MAGLEV_DEFAULT);
	__type(key, __u32);
	__type(value, __u32); /* backend id */
	__uint(map_flags, BPF_F_INNER_MAP); /* tables of either size (M) fit the outer map */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, KILO_LB_MAX_SERVICES);
	__type(key, __u32); /* service id */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct kilo_lb_maglev_inner);
} kilo_lb_maglev SEC(".maps");

/*
 * One LRU list for all CPUs, not BPF_F_NO_COMMON_LRU: per-CPU lists each get
 * max_entries / (possible CPUs) entries and evict only their own, so a CPU
 * that opens most flows (one busy client pod) would evict its live flows
 * while the table has room, and on hosts with many possible CPUs the share
 * is small; nor was it faster here (bench-lb-test-run: a new flow 10-70 ns
 * slower). A HASH without LRU inserts 30-50 ns faster but needs a collector of
 * expired entries and drops new flows when full.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KILO_LB_MAX_CONNTRACK);
	__type(key, struct kilo_lb_ct_key);
	__type(value, struct kilo_lb_ct);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kilo_lb_conntrack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KILO_LB_MAX_AFFINITY);
	__type(key, struct kilo_lb_affinity_key);
	__type(value, struct kilo_lb_affinity);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kilo_lb_affinity SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KILO_LB_COUNTER_MAX);
	__type(key, __u32);
	__type(value, struct kilo_lb_counter_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kilo_lb_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KILO_LB_MAX_FRAGMENTS);
	__type(key, struct kilo_lb_fragment_key);
	__type(value, struct kilo_lb_fragment);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kilo_lb_fragments SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KILO_LB_MAX_SOCK_REVNAT);
	__type(key, struct kilo_lb_sock_revnat_key);
	__type(value, struct kilo_lb_revnat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kilo_lb_sock_revnat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kilo_lb_node);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kilo_lb_node SEC(".maps");

#endif
