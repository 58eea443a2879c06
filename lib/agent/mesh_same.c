// SPDX-License-Identifier: Apache-2.0
/*
 * Whether a mesh just loaded differs from the last one for the solver. A
 * mesh of 10,000 nodes is loaded again at every check-in of any node, so
 * objects are compared field by field, never serialised.
 */
#include "internal.h"

#include <sodium.h>
#include <string.h>

static bool same_strings(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static bool same_array(const void *a, size_t n_a, const void *b, size_t n_b, size_t size)
{
	return n_a == n_b && (n_a == 0 || memcmp(a, b, n_a * size) == 0);
}

/*
 * Whether the solver sees a and b alike apart from heartbeats, as Kilo's
 * nodesAreEqual ignores LastSeen: a node that only checked in changes
 * nothing. This node's own discovered endpoints are left aside: they are
 * read from the device before every solve, whatever the store holds.
 * Objects are compared field by field, never serialised: a mesh of
 * 10,000 nodes is loaded again at every check-in of any node.
 */
static bool same_node(const struct kilo_node *a, const struct kilo_node *b, bool self)
{
	struct kilo_node x = *a, y = *b;

	/* Parsed objects start zeroed, so the rest (padding, an endpoint's unused name bytes) compares bytewise. */
	x.name = y.name = x.location = y.location = NULL;
	x.allowed_location_ips = y.allowed_location_ips = NULL;
	x.discovered_endpoints = y.discovered_endpoints = NULL;
	x.last_seen = y.last_seen = 0;
	if (self)
		x.n_discovered_endpoints = y.n_discovered_endpoints = 0;
	return memcmp(&x, &y, sizeof(x)) == 0 && same_strings(a->name, b->name) &&
	       same_strings(a->location, b->location) &&
	       same_array(a->allowed_location_ips, a->n_allowed_location_ips, b->allowed_location_ips,
			  b->n_allowed_location_ips, sizeof(*a->allowed_location_ips)) &&
	       (self || same_array(a->discovered_endpoints, a->n_discovered_endpoints, b->discovered_endpoints,
				   b->n_discovered_endpoints, sizeof(*a->discovered_endpoints)));
}

static bool same_peer(const struct kilo_peer *a, const struct kilo_peer *b)
{
	struct kilo_peer x = *a, y = *b;
	bool same;

	x.name = y.name = NULL;
	x.allowed_ips = y.allowed_ips = NULL;
	same = sodium_memcmp(&x, &y, sizeof(x)) == 0 && same_strings(a->name, b->name) &&
	       same_array(a->allowed_ips, a->n_allowed_ips, b->allowed_ips, b->n_allowed_ips, sizeof(*a->allowed_ips));
	/* The copies hold preshared keys. */
	sodium_memzero(&x, sizeof(x));
	sodium_memzero(&y, sizeof(y));
	return same;
}

bool kilo_agent_mesh_same(const struct kilo_mesh *old, const struct kilo_mesh *mesh, const char *hostname)
{
	if (old->n_nodes != mesh->n_nodes || old->n_peers != mesh->n_peers)
		return false;
	for (size_t i = 0; i < mesh->n_nodes; i++)
		if (!same_node(&old->nodes[i], &mesh->nodes[i], same_strings(mesh->nodes[i].name, hostname)))
			return false;
	for (size_t i = 0; i < mesh->n_peers; i++)
		if (!same_peer(&old->peers[i], &mesh->peers[i]))
			return false;
	return true;
}
