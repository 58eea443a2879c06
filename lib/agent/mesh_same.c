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

/* The same name, port and address: a name with the address it resolved to. */
static bool same_endpoint(const struct kilo_endpoint *a, const struct kilo_endpoint *b)
{
	return a->port == b->port && kilo_addr_equal(&a->addr, &b->addr) && same_strings(a->dns, b->dns);
}

/*
 * Whether the solver sees a and b alike apart from heartbeats, as Kilo's
 * nodesAreEqual ignores LastSeen: a node that only checked in changes
 * nothing. This node's own discovered endpoints are left aside: they are
 * read from the device before every solve, whatever the store holds.
 * Field by field, never as struct bytes: an endpoint's name is copied
 * only up to its end (kilo_node_copy). A field added to struct kilo_node
 * must be added here.
 */
static bool same_node(const struct kilo_node *a, const struct kilo_node *b, bool self)
{
	return same_strings(a->name, b->name) && same_strings(a->location, b->location) &&
	       same_endpoint(&a->endpoint, &b->endpoint) && kilo_cidr_equal(&a->internal_ip, &b->internal_ip) &&
	       kilo_cidr_equal(&a->pod_cidr, &b->pod_cidr) &&
	       memcmp(a->public_key.bytes, b->public_key.bytes, KILO_KEY_LEN) == 0 && a->leader == b->leader &&
	       a->persistent_keepalive == b->persistent_keepalive &&
	       same_array(a->allowed_location_ips, a->n_allowed_location_ips, b->allowed_location_ips,
			  b->n_allowed_location_ips, sizeof(*a->allowed_location_ips)) &&
	       kilo_cidr_equal(&a->cni_compatibility_ip, &b->cni_compatibility_ip) &&
	       (self || same_array(a->discovered_endpoints, a->n_discovered_endpoints, b->discovered_endpoints,
				   b->n_discovered_endpoints, sizeof(*a->discovered_endpoints))) &&
	       kilo_cidr_equal(&a->wireguard_ip, &b->wireguard_ip) &&
	       kilo_cidr_equal(&a->secondary_pod_cidr, &b->secondary_pod_cidr) &&
	       kilo_cidr_equal(&a->secondary_internal_ip, &b->secondary_internal_ip);
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
