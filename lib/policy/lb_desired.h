/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the load balancer's maps should hold on one node: computed by
 * lib/policy from the store's Services and EndpointSlices (pure), written to
 * the maps by lib/bpf, which changes only the entries that differ. Ids are
 * stable from one computation to the next (struct kilo_lb_ids), so one
 * changed EndpointSlice changes only its service's entries.
 */
#ifndef KILO_LIB_POLICY_LB_DESIRED_H
#define KILO_LIB_POLICY_LB_DESIRED_H

#include <stddef.h>

#include "../bpf/progs/lb_maps.h"

struct kilo_lb_desired_service {
	struct kilo_lb_service_key key;
	struct kilo_lb_service value;
};

struct kilo_lb_desired_backend {
	__u32 id;
	struct kilo_lb_backend value;
};

struct kilo_lb_desired_slot {
	struct kilo_lb_slot_key key;
	__u32 backend_id;
};

struct kilo_lb_desired_revnat {
	__u32 service_id;
	struct kilo_lb_revnat value;
};

/* How a reply finds its flow: the frontends of a backend (at most KILO_LB_BACKEND_FRONTENDS). */
struct kilo_lb_desired_backend_frontends {
	struct kilo_lb_backend_addr key;
	struct kilo_lb_backend_frontends value;
};

struct kilo_lb_desired_maglev {
	__u32 service_id;
	__u32 m;            /* KILO_LB_MAGLEV_DEFAULT or KILO_LB_MAGLEV_LARGE */
	const __u32 *table; /* m backend ids */
};

/* Each array sorted by its key (memcmp order), so that two states diff in one merge pass. */
struct kilo_lb_desired {
	size_t n_services;
	struct kilo_lb_desired_service *services;
	size_t n_backends;
	struct kilo_lb_desired_backend *backends;
	size_t n_slots;
	struct kilo_lb_desired_slot *slots;
	size_t n_revnat;
	struct kilo_lb_desired_revnat *revnat;
	size_t n_maglev;
	struct kilo_lb_desired_maglev *maglev;
	size_t n_backend_frontends;
	struct kilo_lb_desired_backend_frontends *backend_frontends;
	struct kilo_lb_node node; /* this node's addresses, for the SNAT of flows from outside its pods */
};

#endif
