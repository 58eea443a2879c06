/* SPDX-License-Identifier: Apache-2.0 */
/* Meshes for the topology tests, built on the internal model. */
#ifndef KILO_TEST_TOPOLOGY_FIXTURE_H
#define KILO_TEST_TOPOLOGY_FIXTURE_H

#include <stddef.h>

#include "topology/model.h"

struct fixture_node {
	const char *name;
	const char *endpoint; /* "ip:port", or NULL */
	const char *internal_ip; /* or NULL */
	const char *location;
	const char *pod_cidr;
	const char *key; /* base64 */
	uint32_t keepalive;
	bool leader;
	const char *allowed_location_ip; /* one, or NULL */
	/* Dual stack: the pod CIDR and internal IP of the other family, or NULL. */
	const char *secondary_pod_cidr;
	const char *secondary_internal_ip;
};

struct fixture_peer {
	const char *name;
	const char *key;
	const char *allowed_ips[3]; /* NULL-terminated */
	const char *endpoint;
	uint32_t keepalive;
	const char *psk;
};

/* An empty mesh with room for 16 nodes and 16 peers. */
struct kilo_mesh *fixture_mesh_new(enum kilo_granularity granularity);
struct kilo_node *fixture_add_node(struct kilo_mesh *mesh, const struct fixture_node *node);
struct kilo_peer *fixture_add_peer(struct kilo_mesh *mesh, const struct fixture_peer *peer);
void fixture_mesh_free(struct kilo_mesh *mesh);

/*
 * Kilo's own test fixture: a (location 1), b and c (location 2, sharing
 * a's internal IP for b), d (location 1, no internal IP), peers a and b.
 */
struct kilo_mesh *fixture_kilo(enum kilo_granularity granularity);
/* Solves mesh for hostname with Kilo's test private key; fails the test on error. */
kilo_topology *fixture_solve(const struct kilo_mesh *mesh, const char *hostname);

/* Text of a CIDR list joined by ", " into a static buffer. */
const char *fixture_cidrs(const struct kilo_cidr *cidrs, size_t n);
/* "dst via gw src S dev N table T onlink" into a static buffer. */
const char *fixture_route(const struct kilo_route *route);
struct kilo_key fixture_key(const char *base64);

#endif
