/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The topology as JSON, with the camelCase names of the mesh document.
 * Only public keys appear: the local private key is never written.
 */
#include <errno.h>
#include <string.h>

#include <kilo/serial.h>

#include "../core/error.h"
#include "jsonval.h"
#include "mesh_json.h"
#include "topology_json.h"

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *segment_json(const struct kilo_segment *s)
{
	json_t *seg = json_object(), *hostnames = json_array(), *private_ips = json_array(), *cni_ips = json_array();

	if (!seg || !hostnames || !private_ips || !cni_ips)
		goto fail;
	for (size_t j = 0; j < s->n_nodes; j++)
		if (kilo_jsonval_append(hostnames, json_string(s->nodes[j]->name)) < 0 ||
		    kilo_jsonval_append(cni_ips, s->cni_compatibility_ips ? kilo_jsonval_cidr(&s->cni_compatibility_ips[j])
									 : json_null()) < 0)
			goto fail;
	for (size_t j = 0; j < s->n_private_ips; j++)
		if (kilo_jsonval_append(private_ips, kilo_jsonval_addr(&s->private_ips[j])) < 0)
			goto fail;
	if (kilo_jsonval_set(seg, "location", json_string(s->location)) < 0 ||
	    kilo_jsonval_set(seg, "nodeLocation", string_or_null(s->node_location)) < 0 ||
	    kilo_jsonval_set(seg, "hostnames", json_incref(hostnames)) < 0 ||
	    kilo_jsonval_set(seg, "leader", json_integer((json_int_t)s->leader)) < 0 ||
	    kilo_jsonval_set(seg, "endpoint", kilo_jsonval_endpoint(s->endpoint)) < 0 ||
	    kilo_jsonval_set(seg, "publicKey", kilo_jsonval_key(&s->key)) < 0 ||
	    kilo_jsonval_set(seg, "persistentKeepalive", json_integer(s->persistent_keepalive)) < 0 ||
	    kilo_jsonval_set(seg, "cidrs", kilo_jsonval_cidrs(s->cidrs, s->n_nodes)) < 0 ||
	    kilo_jsonval_set(seg, "privateIPs", json_incref(private_ips)) < 0 ||
	    kilo_jsonval_set(seg, "cniCompatibilityIPs", json_incref(cni_ips)) < 0 ||
	    kilo_jsonval_set(seg, "allowedIPs", kilo_jsonval_cidrs(s->allowed_ips, s->n_allowed_ips)) < 0 ||
	    kilo_jsonval_set(seg, "allowedLocationIPs",
			     kilo_jsonval_cidrs(s->allowed_location_ips, s->n_allowed_location_ips)) < 0 ||
	    kilo_jsonval_set(seg, "wireGuardIP", kilo_jsonval_addr(&s->wireguard_ip)) < 0)
		goto fail;
	/* Only a dual-stack segment has the key, so Kilo's plans stay as Kilo prints them. */
	for (size_t j = 0; j < s->n_nodes; j++) {
		if (s->secondary_cidrs[j].addr.family) {
			if (kilo_jsonval_set(seg, "secondaryCIDRs", kilo_jsonval_cidrs(s->secondary_cidrs, s->n_nodes)) < 0)
				goto fail;
			break;
		}
	}
	json_decref(hostnames);
	json_decref(private_ips);
	json_decref(cni_ips);
	return seg;
fail:
	json_decref(hostnames);
	json_decref(private_ips);
	json_decref(cni_ips);
	json_decref(seg);
	return NULL;
}

static json_t *peer_json(const struct kilo_topology_peer *p)
{
	json_t *peer = json_object();

	if (!peer)
		return NULL;
	if (kilo_jsonval_set(peer, "name", json_string(p->peer->name)) < 0 ||
	    kilo_jsonval_set(peer, "publicKey", kilo_jsonval_key(&p->peer->public_key)) < 0 ||
	    kilo_jsonval_set(peer, "endpoint", kilo_jsonval_endpoint(&p->peer->endpoint)) < 0 ||
	    kilo_jsonval_set(peer, "allowedIPs", kilo_jsonval_cidrs(p->allowed_ips, p->n_allowed_ips)) < 0) {
		json_decref(peer);
		return NULL;
	}
	return peer;
}

json_t *kilo_topology_json(const struct kilo_topology *t)
{
	json_t *root = json_object(), *segments = json_array(), *peers = json_array();

	if (!root || !segments || !peers)
		goto fail;
	for (size_t i = 0; i < t->n_segments; i++)
		if (kilo_jsonval_append(segments, segment_json(&t->segments[i])) < 0)
			goto fail;
	for (size_t i = 0; i < t->n_peers; i++)
		if (kilo_jsonval_append(peers, peer_json(&t->peers[i])) < 0)
			goto fail;
	if (kilo_jsonval_set(root, "hostname", json_string(t->hostname ? t->hostname : "")) < 0 ||
	    kilo_jsonval_set(root, "location", json_string(t->location ? t->location : "")) < 0 ||
	    kilo_jsonval_set(root, "nodeLocation", string_or_null(t->node_location)) < 0 ||
	    kilo_jsonval_set(root, "leader", json_boolean(t->leader)) < 0 ||
	    kilo_jsonval_set(root, "subnet", kilo_jsonval_cidr(&t->subnet)) < 0 ||
	    kilo_jsonval_set(root, "privateIP", kilo_jsonval_cidr(&t->private_ip)) < 0 ||
	    kilo_jsonval_set(root, "wireGuardCIDR", kilo_jsonval_cidr(&t->wireguard_cidr)) < 0 ||
	    kilo_jsonval_set(root, "port", json_integer(t->port)) < 0 ||
	    kilo_jsonval_set(root, "segments", json_incref(segments)) < 0 ||
	    kilo_jsonval_set(root, "peers", json_incref(peers)) < 0)
		goto fail;
	json_decref(segments);
	json_decref(peers);
	return root;
fail:
	json_decref(segments);
	json_decref(peers);
	json_decref(root);
	return NULL;
}

int kilo_topology_to_json(const kilo_topology *topology, char **out, struct kilo_error *err)
{
	json_t *root;
	int r;

	if (!topology || !out)
		return kilo_error_set(err, EINVAL, "topology JSON: %s is NULL", topology ? "out" : "topology");
	*out = NULL;
	root = kilo_topology_json(topology);
	r = root ? kilo_json_dump(root, out) : -ENOMEM;
	json_decref(root);
	if (r < 0)
		return kilo_error_set(err, -r, "topology JSON of %zu segments: %s", topology->n_segments, strerror(-r));
	return 0;
}
