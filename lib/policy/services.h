/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The load balancer's policy: a node's Services and EndpointSlices (JSON
 * arrays of Kubernetes objects, as the store lists them) and the mesh ->
 * what the node's BPF maps should hold (lb_desired.h). Pure: no I/O.
 */
#ifndef KILO_LIB_POLICY_SERVICES_H
#define KILO_LIB_POLICY_SERVICES_H

#include "../mesh/model.h"
#include "ids.h"
#include "lb_desired.h"
#include "objects.h"

struct kilo_lb_inputs {
	const char *services;         /* JSON array of v1 Services; NULL: none */
	const char *slices;           /* JSON array of discovery.k8s.io/v1 EndpointSlices; NULL: none */
	const struct kilo_mesh *mesh; /* nodes' locations and internal IPs; NULL: none known */
	const char *self;             /* the node computing; NULL: a view from outside, no NodePorts */
	uint32_t maglev_m;            /* Maglev table size, a prime; 0: KILO_LB_MAGLEV_DEFAULT */
	/*
	 * No Maglev tables: new flows pick a slot by hash. Each table holds
	 * 4 * M bytes (64 KiB at the default M) per frontend, in the desired
	 * state and in the kernel: 10,000 frontends take 640 MiB.
	 */
	bool no_maglev;
	/*
	 * At most this many frontends get a Maglev table, the first in
	 * frontend order (by address, port, protocol); the others pick a slot
	 * by hash, and each is reported. 0: KILO_LB_MAGLEV_TABLES_DEFAULT.
	 */
	uint32_t maglev_max_tables;
};

#define KILO_LB_MAGLEV_TABLES_DEFAULT 1024 /* 64 MiB of tables at the default M */

/*
 * Computes into out what the maps of in->self should hold, with ids from
 * ids (not NULL; kept by the caller from one computation to the next).
 * What did not change since the last computation is not done again: a
 * frontend or backend keeps its id, a frontend whose backends are the
 * same keeps its Maglev table (the same memory), and an object of the
 * same text is not parsed again; so ids hold about the size of the
 * objects' text, and free it with kilo_lb_ids_free. Objects or fields
 * that cannot be used are left out and counted in report (may be NULL).
 * -EINVAL when a text is not a JSON array or maglev_m is not a valid
 * size, -ENOMEM; then out is empty and ids are as before, but for ids
 * that no later computation hands back. Release out with
 * kilo_lb_desired_release.
 */
int kilo_lb_compute(const struct kilo_lb_inputs *in, struct kilo_lb_ids *ids, struct kilo_lb_desired *out,
		    struct kilo_lb_report *report, struct kilo_error *err);

/*
 * Frees what a state kilo_lb_compute filled holds (its arrays; its Maglev
 * tables, which it shares with ids' cache and with other states) and
 * empties it; NULL-safe. A state and its ids are used from one thread.
 */
void kilo_lb_desired_release(struct kilo_lb_desired *desired);

#endif
