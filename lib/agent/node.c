/* SPDX-License-Identifier: Apache-2.0 */
/*
 * This node as the agent publishes it (Kilo's handleLocal): its settings
 * come from the options at start and from the store afterwards, so that an
 * operator's edit sticks; the agent owns only its key, heartbeat,
 * WireGuard IP and discovered endpoints.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../serial/mesh_json.h"
#include "../store/store.h"

static int parse_cidr_option(const char *option, const char *text, struct kilo_cidr *out, struct kilo_error *err)
{
	int r = kilo_cidr_parse(text, out, NULL);

	if (r < 0)
		return kilo_error_set(err, EINVAL, "%s: \"%s\" is %s", option, text, kilo_addr_refusal(r, "not a CIDR"));
	return 0;
}

/*
 * "CIDR" or, for dual stack, "CIDR,CIDR" with one of each family (as
 * Kubernetes writes dual-stack CIDRs) into primary and secondary.
 */
static int parse_dual_stack_option(const char *option, const char *text, struct kilo_cidr *primary,
				   struct kilo_cidr *secondary, struct kilo_error *err)
{
	const char *comma = strchr(text, ',');
	char first[KILO_CIDR_STRLEN];
	size_t len = comma ? (size_t)(comma - text) : 0;

	memset(secondary, 0, sizeof(*secondary));
	if (!comma)
		return parse_cidr_option(option, text, primary, err);
	if (len < sizeof(first)) {
		memcpy(first, text, len);
		first[len] = '\0';
		if (kilo_cidr_parse(first, primary, NULL) == 0 && kilo_cidr_parse(comma + 1, secondary, NULL) == 0 &&
		    primary->addr.family != secondary->addr.family)
			return 0;
	}
	return kilo_error_set(err, EINVAL, "%s: \"%s\" is not a CIDR or two CIDRs (one IPv4, one IPv6)", option, text);
}

/* A comma-separated list of CIDRs into a malloc'ed array. */
static int parse_cidr_list(const char *option, const char *text, struct kilo_cidr **out, size_t *n,
			   struct kilo_error *err)
{
	size_t cap = 1;
	char *copy, *item, *save = NULL;
	int r = 0;

	*out = NULL;
	*n = 0;
	if (!text || !*text)
		return 0;
	for (const char *p = text; *p; p++)
		cap += *p == ',';
	copy = strdup(text);
	*out = calloc(cap, sizeof(**out));
	if (!copy || !*out) {
		r = kilo_error_set(err, ENOMEM, "%s: out of memory", option);
		goto out;
	}
	for (item = strtok_r(copy, ", ", &save); item && r == 0; item = strtok_r(NULL, ", ", &save))
		r = parse_cidr_option(option, item, &(*out)[(*n)++], err);
out:
	free(copy);
	if (r < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return r;
}

static const char *const *ignored_links(const struct kilo_agent_opts *opts, const char *buf[4])
{
	const struct kilo_apply_opts *apply = opts->apply;

	buf[0] = apply && apply->interface ? apply->interface : KILO_DEFAULT_INTERFACE;
	buf[1] = apply && apply->tunnel_interface ? apply->tunnel_interface : KILO_DEFAULT_TUNNEL;
	buf[2] = KILO_AGENT_CNI_BRIDGE;
	buf[3] = NULL;
	return buf;
}

/* Kilo's endpoint and internal IP: forced ones, else discovered ones. */
static int addresses(const struct kilo_agent_opts *opts, struct kilo_node *node, struct kilo_error *err)
{
	struct kilo_cidr *internal = NULL;
	struct kilo_host_ips ips;
	size_t n_internal = 0;
	const char *ignore[4];
	int r = 0;

	if (opts->force_endpoint && (r = kilo_endpoint_parse(opts->force_endpoint, &node->endpoint, NULL)) < 0)
		return kilo_error_set(err, EINVAL, "force-endpoint: \"%s\" is %s", opts->force_endpoint,
				      kilo_addr_refusal(r, "not an endpoint (ip:port, [ip]:port or name:port)"));
	if (opts->force_internal_ip && *opts->force_internal_ip &&
	    (r = parse_dual_stack_option("force-internal-ip", opts->force_internal_ip, &node->internal_ip,
					 &node->secondary_internal_ip, err)) < 0)
		return r;
	if (opts->force_endpoint && opts->force_internal_ip)
		return 0;
	internal = calloc(opts->n_internal_cidrs ? opts->n_internal_cidrs : 1, sizeof(*internal));
	if (!internal)
		return kilo_error_set(err, ENOMEM, "internal-cidr: out of memory");
	for (size_t i = 0; i < opts->n_internal_cidrs && r == 0; i++, n_internal++)
		r = parse_cidr_option("internal-cidr", opts->internal_cidrs[i], &internal[i], err);
	if (r == 0)
		r = kilo_agent_discover_ips(opts->hostname, ignored_links(opts, ignore), internal, n_internal, &ips, err);
	free(internal);
	if (r < 0)
		return r;
	if (!opts->force_internal_ip) {
		node->internal_ip = ips.private_ip;
		/* Only a dual-stack node routes its pods' other family through a private IP of that family. */
		if (node->secondary_pod_cidr.addr.family)
			node->secondary_internal_ip = ips.secondary_private_ip;
	}
	if (!opts->force_endpoint) {
		const struct kilo_cidr *advertised =
			opts->prioritise_private_addresses && ips.private_ip.addr.family ? &ips.private_ip : &ips.public_ip;

		node->endpoint.addr = advertised->addr;
		node->endpoint.port = opts->port ? opts->port : KILO_DEFAULT_PORT;
	}
	return 0;
}

int kilo_agent_node_build(const struct kilo_agent_opts *opts, const struct kilo_key *public_key, int64_t now,
			  json_t **out, struct kilo_error *err)
{
	struct kilo_node node = {
		.name = opts->hostname,
		.location = opts->location ? opts->location : "",
		.public_key = *public_key,
		.leader = opts->leader,
		.persistent_keepalive = opts->persistent_keepalive,
		.last_seen = now,
	};
	int r;

	*out = NULL;
	if (!opts->pod_cidr)
		return kilo_error_set(err, EINVAL, "pod-cidr: this node needs a pod CIDR");
	r = parse_dual_stack_option("pod-cidr", opts->pod_cidr, &node.pod_cidr, &node.secondary_pod_cidr, err);
	if (r == 0) {
		node.pod_cidr = kilo_cidr_masked(&node.pod_cidr);
		node.secondary_pod_cidr = kilo_cidr_masked(&node.secondary_pod_cidr);
	}
	if (r == 0)
		r = parse_cidr_list("allowed-location-ips", opts->allowed_location_ips, &node.allowed_location_ips,
				    &node.n_allowed_location_ips, err);
	if (r == 0)
		r = addresses(opts, &node, err);
	if (r == 0) {
		*out = kilo_json_write_node(&node);
		if (!*out)
			r = kilo_error_set(err, ENOMEM, "node %s: out of memory", opts->hostname);
	}
	free(node.allowed_location_ips);
	return r;
}

/* The node as stored now, or NULL when it is missing or unreadable. */
static json_t *stored_node(kilo_store *store, const char *name)
{
	struct kilo_error ignored = { 0 };
	char *text = NULL;
	json_t *node;

	if (kilo_store_get_node(store, name, &text, &ignored) < 0)
		return NULL;
	node = json_loads(text, 0, NULL);
	kilo_free(text);
	return json_is_object(node) ? node : (json_decref(node), NULL);
}

int kilo_agent_node_publish(kilo_store *store, const json_t *initial, bool from_store,
			    const struct kilo_agent_owned *owned, struct kilo_error *err)
{
	const char *name = json_string_value(json_object_get(initial, "name"));
	struct kilo_node mine = {
		.name = name,
		.location = "",
		.public_key = *owned->public_key,
		.last_seen = owned->last_seen,
		.wireguard_ip = owned->wireguard_ip,
		.discovered_endpoints = (struct kilo_discovered_endpoint *)owned->discovered,
		.n_discovered_endpoints = owned->n_discovered,
	};
	json_t *base = from_store ? stored_node(store, name) : NULL, *fields;
	char *text = NULL;
	int r = 0;

	if (!base)
		base = json_deep_copy(initial);
	fields = kilo_json_write_node(&mine);
	if (!base || !fields) {
		r = kilo_error_set(err, ENOMEM, "node %s: out of memory", name);
		goto out;
	}
	text = kilo_store_node_take_agent_fields(base, fields) == 0 ? json_dumps(base, JSON_COMPACT) : NULL;
	r = text ? kilo_store_publish_self(store, text, owned->ttl, err) : kilo_error_set(err, ENOMEM, "node %s: out of memory", name);
out:
	free(text);
	json_decref(fields);
	json_decref(base);
	return r;
}
