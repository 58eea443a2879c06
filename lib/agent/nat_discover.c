/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where NATed nodes and peers are really seen: the endpoint the device
 * learnt from their packets (Kilo's discoverNATEndpoints, kilo-reference.md §1.8).
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct kilo_wg_peer *device_peer(const struct kilo_wg_config *device, const struct kilo_key *key)
{
	for (size_t i = 0; i < device->n_peers; i++)
		if (kilo_key_equal(&device->peers[i].public_key, key))
			return &device->peers[i];
	return NULL;
}

/*
 * Whether peer p's endpoint lies inside its own allowed IPs: WireGuard
 * roamed there after its packets came back through the tunnel, and would
 * send every packet round the loop again. Such an endpoint is never
 * reported (the merge drops it too, whoever reports it).
 */
static bool endpoint_in_own_tunnel(const struct kilo_wg_peer *p)
{
	for (size_t j = 0; j < p->n_allowed_ips; j++)
		if (kilo_cidr_contains(&p->allowed_ips[j], &p->endpoint.addr))
			return true;
	return false;
}

static int by_key(const void *a, const void *b)
{
	return memcmp(((const struct kilo_discovered_endpoint *)a)->key.bytes,
		      ((const struct kilo_discovered_endpoint *)b)->key.bytes, KILO_KEY_LEN);
}

/*
 * Records key's endpoint once, if the device has shaken hands with it and
 * it is news: not the advertised endpoint, not the private IP (private:
 * family 0 for none). Every node merges the reports first come first served,
 * so a report of what the mesh already knows, made from inside the
 * location, would hide the NAT address an outsider saw.
 */
static void record(const struct kilo_wg_config *device, const struct kilo_key *key,
		   const struct kilo_endpoint *advertised, const struct kilo_addr *private,
		   struct kilo_discovered_endpoint *out, size_t *n)
{
	const struct kilo_wg_peer *p = device_peer(device, key);

	if (!p || (p->last_handshake_sec == 0 && p->last_handshake_nsec == 0) || !kilo_endpoint_is_set(&p->endpoint))
		return;
	if (kilo_endpoint_equal(&p->endpoint, advertised) ||
	    (private->family && kilo_addr_equal(&p->endpoint.addr, private)) || endpoint_in_own_tunnel(p))
		return;
	for (size_t i = 0; i < *n; i++)
		if (kilo_key_equal(&out[i].key, key))
			return;
	out[*n].key = *key;
	out[*n].endpoint = p->endpoint;
	(*n)++;
}

/* The nodes and peers whose endpoints the device may have learnt. */
static bool node_watched(const struct kilo_node *node, int64_t now, uint32_t window)
{
	return node->persistent_keepalive && kilo_node_ready(node, now, window);
}

/* Every peer counts: Kilo gives every Peer object a keepalive, zero or not. */
static bool peer_watched(const struct kilo_peer *peer)
{
	return kilo_peer_ready(peer);
}

bool kilo_agent_nat_watched(const struct kilo_mesh *mesh, int64_t now, uint32_t window)
{
	for (size_t i = 0; i < mesh->n_nodes && !mesh->known_without_keepalives; i++)
		if (node_watched(&mesh->nodes[i], now, window))
			return true;
	for (size_t i = 0; i < mesh->n_peers; i++)
		if (peer_watched(&mesh->peers[i]))
			return true;
	return false;
}

int kilo_agent_nat_endpoints(const struct kilo_mesh *mesh, int64_t now, uint32_t window,
			     const struct kilo_wg_config *device, struct kilo_discovered_endpoint **out,
			     size_t *n_out)
{
	size_t n = 0, cap = mesh->n_nodes + mesh->n_peers;
	struct kilo_discovered_endpoint *list;

	*out = NULL;
	*n_out = 0;
	list = calloc(cap ? cap : 1, sizeof(*list));
	if (!list)
		return -ENOMEM;
	for (size_t i = 0; device && i < mesh->n_nodes; i++) {
		const struct kilo_node *node = &mesh->nodes[i];

		if (node_watched(node, now, window))
			record(device, &node->public_key, &node->endpoint, &node->internal_ip.addr, list, &n);
	}
	for (size_t i = 0; device && i < mesh->n_peers; i++) {
		const struct kilo_peer *peer = &mesh->peers[i];

		if (peer_watched(peer))
			record(device, &peer->public_key, &peer->endpoint, &(struct kilo_addr){ 0 }, list, &n);
	}
	qsort(list, n, sizeof(*list), by_key);
	*out = list;
	*n_out = n;
	return 0;
}

bool kilo_agent_heartbeat_lapsed(int64_t published_ms, int64_t now_ms, uint32_t window)
{
	/* As the others judge it: in whole seconds of lastSeen (kilo_node_ready). */
	if (!window)
		window = KILO_READY_WINDOW_SECONDS;
	return published_ms > 0 && now_ms / 1000 - published_ms / 1000 >= window;
}
