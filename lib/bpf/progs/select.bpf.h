/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Backend selection shared by the tc programs (lb.bpf.c) and the cgroup
 * socket programs (sock.bpf.c), so that a pod and a host process reaching
 * the same service pick backends by the same rules: session affinity first,
 * then the service's Maglev table, then its slots.
 */
#ifndef KILO_SELECT_BPF_H
#define KILO_SELECT_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "maps.bpf.h"

#define KILO_LB_NS_PER_SEC 1000000000ULL

/*
 * The clock of conntrack and affinity entries: CLOCK_MONOTONIC at tick
 * resolution, ample for timeouts in seconds; bpf_ktime_get_ns() cost ~30 ns
 * more per packet on a VM (bench/lb/test_run.c: a hit 117 -> 89 ns).
 */
static __always_inline __u64 kilo_lb_now(void)
{
	return bpf_ktime_get_coarse_ns();
}

static __always_inline void kilo_lb_count(enum kilo_lb_counter counter, __u64 bytes)
{
	__u32 key = counter;
	struct kilo_lb_counter_value *value = bpf_map_lookup_elem(&kilo_lb_counters, &key);

	/* Per-CPU: no other writer, so plain increments are exact. */
	if (value) {
		value->packets++;
		value->bytes += bytes;
	}
}

static __always_inline struct kilo_lb_service *
kilo_lb_lookup_service(const struct kilo_lb_service_key *key)
{
	return bpf_map_lookup_elem(&kilo_lb_services, key);
}

/* The frontend at addr and port of scope, or NULL. */
static __always_inline struct kilo_lb_service *kilo_lb_frontend_at(const union kilo_lb_addr *addr, __be16 port,
								   __u8 proto, __u8 family, __u8 scope)
{
	struct kilo_lb_service_key key;

	__builtin_memset(&key, 0, sizeof(key));
	key.addr = *addr;
	key.port = port;
	key.proto = proto;
	key.family = family;
	key.scope = scope;
	return kilo_lb_lookup_service(&key);
}

/*
 * A backend that may take a new flow: present, and in some frontend's slots
 * (a terminating one too, when kube-proxy's fallback gave it one). The check
 * keeps an affinity entry, or a slot not yet rewritten, from pinning a new
 * flow to a backend that has left every frontend's slots.
 */
static __always_inline struct kilo_lb_backend *kilo_lb_backend_for_new_flow(__u32 backend_id)
{
	struct kilo_lb_backend *backend = bpf_map_lookup_elem(&kilo_lb_backends, &backend_id);

	if (!backend || (backend->flags & KILO_LB_BACKEND_NO_NEW_FLOWS))
		return NULL;
	return backend;
}

static __always_inline void kilo_lb_affinity_key_init(struct kilo_lb_affinity_key *key,
						      const struct kilo_lb_service *svc,
						      const union kilo_lb_addr *client, __u8 family)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->client = *client;
	key->service_id = svc->id;
	key->family = family;
}

/*
 * The backend a ClientIP-affine service already gave this client, if the
 * entry is younger than the service's timeout and the backend still takes
 * new flows; the entry's clock restarts, as kube-proxy's does on every flow.
 */
static __always_inline struct kilo_lb_backend *
kilo_lb_select_by_affinity(const struct kilo_lb_affinity_key *key, __u32 timeout_s, __u64 now,
			   __u32 *backend_id)
{
	struct kilo_lb_affinity *entry = bpf_map_lookup_elem(&kilo_lb_affinity, key);
	struct kilo_lb_backend *backend;

	if (!entry || now - entry->last_used_ns > (__u64)timeout_s * KILO_LB_NS_PER_SEC)
		return NULL;
	backend = kilo_lb_backend_for_new_flow(entry->backend_id);
	if (!backend)
		return NULL;
	entry->last_used_ns = now;
	*backend_id = entry->backend_id;
	return backend;
}

/*
 * The service's Maglev table has M entries, M one of two primes. The service
 * says which (KILO_LB_SERVICE_MAGLEV_LARGE); a table smaller than the flag
 * claims answers nothing and the slots decide.
 */
static __always_inline int kilo_lb_select_by_maglev(const struct kilo_lb_service *svc,
						    __u32 flow_hash, __u32 *backend_id)
{
	__u32 m = (svc->flags & KILO_LB_SERVICE_MAGLEV_LARGE) ? KILO_LB_MAGLEV_LARGE
							       : KILO_LB_MAGLEV_DEFAULT;
	__u32 index = flow_hash % m;
	__u32 *id;
	void *table;

	table = bpf_map_lookup_elem(&kilo_lb_maglev, &svc->id);
	if (!table)
		return -1;
	id = bpf_map_lookup_elem(table, &index);
	if (!id)
		return -1;
	*backend_id = *id;
	return 0;
}

static __always_inline int kilo_lb_select_by_slot(const struct kilo_lb_service *svc,
						  __u32 flow_hash, __u32 *backend_id)
{
	struct kilo_lb_slot_key key = {
		.service_id = svc->id,
		.slot = flow_hash % svc->backend_count + 1,
	};
	__u32 *id = bpf_map_lookup_elem(&kilo_lb_slots, &key);

	if (!id)
		return -1;
	*backend_id = *id;
	return 0;
}

/*
 * The backend for a new flow of this service, or NULL when none takes new
 * flows (the caller drops or rejects). flow_hash must be the same for every
 * packet of the flow; client/family identify the client for affinity.
 */
static __always_inline struct kilo_lb_backend *
kilo_lb_select_backend(const struct kilo_lb_service *svc, __u32 flow_hash,
		       const union kilo_lb_addr *client, __u8 family, __u32 *backend_id)
{
	struct kilo_lb_affinity_key affinity_key;
	struct kilo_lb_affinity affinity = {};
	struct kilo_lb_backend *backend;
	__u64 now = 0;
	__u32 id = 0;

	if (svc->backend_count == 0)
		return NULL;
	if (svc->flags & KILO_LB_SERVICE_AFFINITY) {
		now = kilo_lb_now();
		kilo_lb_affinity_key_init(&affinity_key, svc, client, family);
		backend = kilo_lb_select_by_affinity(&affinity_key, svc->affinity_timeout, now,
						     backend_id);
		if (backend)
			return backend;
	}
	backend = NULL;
	if ((svc->flags & KILO_LB_SERVICE_MAGLEV) && kilo_lb_select_by_maglev(svc, flow_hash, &id) == 0)
		backend = kilo_lb_backend_for_new_flow(id);
	/* No table, or one not yet rebuilt after its backend left: the slots decide. */
	if (!backend && kilo_lb_select_by_slot(svc, flow_hash, &id) == 0)
		backend = kilo_lb_backend_for_new_flow(id);
	if (!backend)
		return NULL;
	if (svc->flags & KILO_LB_SERVICE_AFFINITY) {
		affinity.last_used_ns = now;
		affinity.backend_id = id;
		bpf_map_update_elem(&kilo_lb_affinity, &affinity_key, &affinity, BPF_ANY);
	}
	*backend_id = id;
	return backend;
}

#endif
