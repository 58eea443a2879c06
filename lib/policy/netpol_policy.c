// SPDX-License-Identifier: Apache-2.0
/*
 * One NetworkPolicy, read and checked whole: the same function decides
 * what apply accepts and what the compile reads, so that a stored policy
 * always means what it was checked to mean.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "../core/error.h"
#include "../serial/manifest_check.h"
#include "netpol.h"

static const char *const direction_names[2] = { "ingress", "egress" };
static const char *const peer_members[2] = { "from", "to" };

/* An optional member: absent and null are NULL; else it must be of type. */
static int optional(json_t *object, const char *key, json_type type, const char *path, const char *what,
		    json_t **out, struct kilo_error *err)
{
	char item[KILO_NP_PATH_MAX];

	*out = json_object_get(object, key);
	if (json_is_null(*out))
		*out = NULL;
	if (*out && json_typeof(*out) != type) {
		snprintf(item, sizeof(item), "%.180s%s%s", path, path[0] ? "." : "", key);
		return kilo_np_field_bad(err, item, *out, what);
	}
	return 0;
}

static int read_cidr(json_t *value, const char *path, struct kilo_cidr *out, struct kilo_error *err)
{
	if (!json_is_string(value) || kilo_cidr_parse(json_string_value(value), out, NULL) < 0)
		return kilo_np_field_bad(err, path, value, "a CIDR");
	*out = kilo_cidr_masked(out);
	return 0;
}

static int read_ipblock(struct kilo_arena *arena, json_t *block, const char *path, struct kilo_np_peer *peer,
			struct kilo_error *err)
{
	char item[KILO_NP_PATH_MAX];
	struct kilo_cidr *except;
	json_t *list, *v;
	size_t i;
	int r;

	peer->kind = KILO_NP_PEER_IPBLOCK;
	snprintf(item, sizeof(item), "%.180s.cidr", path);
	if ((r = read_cidr(json_object_get(block, "cidr"), item, &peer->cidr, err)) < 0 ||
	    (r = optional(block, "except", JSON_ARRAY, path, "an array of CIDRs", &list, err)) < 0)
		return r;
	except = kilo_arena_array(arena, json_array_size(list) + 1, sizeof(*except));
	if (!except)
		return kilo_error_set(err, ENOMEM, "out of memory");
	json_array_foreach(list, i, v) {
		snprintf(item, sizeof(item), "%.180s.except[%zu]", path, i);
		if ((r = read_cidr(v, item, &except[i], err)) < 0)
			return r;
		if (except[i].addr.family != peer->cidr.addr.family || except[i].prefix <= peer->cidr.prefix ||
		    !kilo_cidr_contains(&peer->cidr, &except[i].addr))
			return kilo_np_field_bad(err, item, v, "a CIDR strictly inside cidr");
	}
	peer->except = except;
	peer->n_except = json_array_size(list);
	return 0;
}

static int read_selector(struct kilo_arena *arena, json_t *value, const char *path,
			 const struct kilo_np_selector **out, struct kilo_error *err)
{
	struct kilo_np_selector *selector;

	*out = NULL;
	if (!value || json_is_null(value))
		return 0;
	selector = kilo_arena_alloc(arena, sizeof(*selector));
	if (!selector)
		return kilo_error_set(err, ENOMEM, "out of memory");
	*out = selector;
	return kilo_np_selector_read(arena, value, path, selector, err);
}

static int read_peer(struct kilo_arena *arena, json_t *entry, const char *path, struct kilo_np_peer *peer,
		     struct kilo_error *err)
{
	json_t *pods = json_object_get(entry, "podSelector"), *namespaces = json_object_get(entry, "namespaceSelector");
	json_t *block = json_object_get(entry, "ipBlock");
	char item[KILO_NP_PATH_MAX];
	int r;

	if (!json_is_object(entry))
		return kilo_np_field_bad(err, path, entry, "an object (podSelector, namespaceSelector or ipBlock)");
	if (json_is_null(pods))
		pods = NULL;
	if (json_is_null(namespaces))
		namespaces = NULL;
	if (block && !json_is_null(block)) {
		snprintf(item, sizeof(item), "%.180s.ipBlock", path);
		if (!json_is_object(block))
			return kilo_np_field_bad(err, item, block, "an object (cidr, except)");
		if (pods || namespaces)
			return kilo_error_set(err, EINVAL, "%s: ipBlock must be alone in its entry (not with %s)", path,
					      pods ? "podSelector" : "namespaceSelector");
		return read_ipblock(arena, block, item, peer, err);
	}
	if (!pods && !namespaces)
		return kilo_error_set(err, EINVAL, "%s: podSelector, namespaceSelector or ipBlock required", path);
	peer->kind = KILO_NP_PEER_SELECTOR;
	snprintf(item, sizeof(item), "%.180s.podSelector", path);
	if ((r = read_selector(arena, pods, item, &peer->pod_selector, err)) < 0)
		return r;
	snprintf(item, sizeof(item), "%.180s.namespaceSelector", path);
	return read_selector(arena, namespaces, item, &peer->namespace_selector, err);
}

static int read_port(json_t *entry, const char *path, struct kilo_np_port *port, struct kilo_error *err)
{
	static const char *const protocols[] = { "TCP", "UDP", "SCTP" };
	static const uint8_t numbers[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP };
	json_t *proto = json_object_get(entry, "protocol"), *number = json_object_get(entry, "port");
	json_t *end = json_object_get(entry, "endPort");
	char item[KILO_NP_PATH_MAX];
	size_t i;

	if (!json_is_object(entry))
		return kilo_np_field_bad(err, path, entry, "an object (protocol, port, endPort)");
	snprintf(item, sizeof(item), "%.180s.protocol", path);
	for (i = 0; proto && !json_is_null(proto) && i < 3; i++)
		if (json_is_string(proto) && strcmp(json_string_value(proto), protocols[i]) == 0)
			break;
	if (i == 3)
		return kilo_np_field_bad(err, item, proto, "TCP, UDP or SCTP");
	port->proto = proto && !json_is_null(proto) ? numbers[i] : IPPROTO_TCP;
	snprintf(item, sizeof(item), "%.180s.port", path);
	if (json_is_string(number)) {
		if (!kilo_port_name_valid(json_string_value(number)))
			return kilo_np_field_bad(err, item, number, "a port (1-65535) or a port name (an IANA service name)");
		port->name = json_string_value(number);
	} else if (number && !json_is_null(number)) {
		if (!json_is_integer(number) || json_integer_value(number) < 1 || json_integer_value(number) > 65535)
			return kilo_np_field_bad(err, item, number, "a port (1-65535) or a port name (an IANA service name)");
		port->port = port->end_port = (uint16_t)json_integer_value(number);
	}
	if (!end || json_is_null(end))
		return 0;
	snprintf(item, sizeof(item), "%.180s.endPort", path);
	if (!port->port)
		return kilo_error_set(err, EINVAL, "%s: only with a numeric port", item);
	if (!json_is_integer(end) || json_integer_value(end) < port->port || json_integer_value(end) > 65535) {
		char what[48];

		snprintf(what, sizeof(what), "a port from port (%u) to 65535", port->port);
		return kilo_np_field_bad(err, item, end, what);
	}
	port->end_port = (uint16_t)json_integer_value(end);
	return 0;
}

static int read_rule(struct kilo_arena *arena, json_t *entry, const char *path, int direction,
		     struct kilo_np_rule *rule, struct kilo_error *err)
{
	struct kilo_np_peer *peers;
	struct kilo_np_port *ports;
	char item[KILO_NP_PATH_MAX];
	json_t *list, *v;
	size_t i;
	int r;

	if (!json_is_object(entry))
		return kilo_np_field_bad(err, path, entry, "an object (ports and peers)");
	if ((r = optional(entry, peer_members[direction], JSON_ARRAY, path, "an array of peers", &list, err)) < 0)
		return r;
	peers = kilo_arena_array(arena, json_array_size(list) + 1, sizeof(*peers));
	if (!peers)
		return kilo_error_set(err, ENOMEM, "out of memory");
	json_array_foreach(list, i, v) {
		snprintf(item, sizeof(item), "%.180s.%s[%zu]", path, peer_members[direction], i);
		if ((r = read_peer(arena, v, item, &peers[i], err)) < 0)
			return r;
	}
	rule->peers = peers;
	rule->n_peers = json_array_size(list);
	if ((r = optional(entry, "ports", JSON_ARRAY, path, "an array of ports", &list, err)) < 0)
		return r;
	ports = kilo_arena_array(arena, json_array_size(list) + 1, sizeof(*ports));
	if (!ports)
		return kilo_error_set(err, ENOMEM, "out of memory");
	json_array_foreach(list, i, v) {
		snprintf(item, sizeof(item), "%.180s.ports[%zu]", path, i);
		if ((r = read_port(v, item, &ports[i], err)) < 0)
			return r;
		if (ports[i].name && !(ports[i].name = kilo_arena_strdup(arena, ports[i].name)))
			return kilo_error_set(err, ENOMEM, "out of memory");
	}
	rule->ports = ports;
	rule->n_ports = json_array_size(list);
	return 0;
}

/* The peers annotation of direction: one more rule, from (to) the VPN peers it selects, every port. */
static int read_vpn_rule(struct kilo_arena *arena, json_t *annotations, const struct kilo_np_policy *policy,
			 int direction, struct kilo_np_rule *rules, size_t *n, struct kilo_error *err)
{
	const char *key = direction == KILO_POLICY_INGRESS ? KILO_NP_INGRESS_PEERS_ANNOTATION
							   : KILO_NP_EGRESS_PEERS_ANNOTATION;
	json_t *text = json_object_get(annotations, key), *selector;
	struct kilo_np_peer *peer;
	char item[KILO_NP_PATH_MAX], name[600];
	json_error_t jerr;
	int r;

	if (!text)
		return 0;
	snprintf(item, sizeof(item), "metadata.annotations[\"%s\"]", key);
	if (!json_is_string(text))
		return kilo_np_field_bad(err, item, text, "a label selector as JSON");
	selector = json_loads(json_string_value(text), JSON_REJECT_DUPLICATES, &jerr);
	if (!selector)
		return kilo_np_field_bad(err, item, text, "a label selector as JSON ({\"matchLabels\": {...}, \"matchExpressions\": [...]})");
	peer = kilo_arena_alloc(arena, sizeof(*peer));
	if (!peer) {
		json_decref(selector);
		return kilo_error_set(err, ENOMEM, "out of memory");
	}
	peer->kind = KILO_NP_PEER_VPN;
	r = read_selector(arena, selector, item, &peer->vpn_selector, err);
	json_decref(selector);
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "%s/%s %s-peers", policy->namespace, policy->name, direction_names[direction]);
	rules[*n] = (struct kilo_np_rule){ .name = kilo_arena_strdup(arena, name), .peers = peer, .n_peers = 1 };
	if (!rules[(*n)++].name)
		return kilo_error_set(err, ENOMEM, "out of memory");
	return 0;
}

static int read_direction(struct kilo_arena *arena, json_t *spec, json_t *annotations, int direction,
			  struct kilo_np_policy *policy, struct kilo_error *err)
{
	struct kilo_np_rule *rules;
	char path[KILO_NP_PATH_MAX], name[600];
	json_t *list, *v;
	size_t i, n = 0;
	int r;

	snprintf(path, sizeof(path), "spec");
	if ((r = optional(spec, direction_names[direction], JSON_ARRAY, path, "an array of rules", &list, err)) < 0)
		return r;
	rules = kilo_arena_array(arena, json_array_size(list) + 1, sizeof(*rules));
	if (!rules)
		return kilo_error_set(err, ENOMEM, "out of memory");
	json_array_foreach(list, i, v) {
		snprintf(path, sizeof(path), "spec.%s[%zu]", direction_names[direction], i);
		if ((r = read_rule(arena, v, path, direction, &rules[n], err)) < 0)
			return r;
		snprintf(name, sizeof(name), "%s/%s %s[%zu]", policy->namespace, policy->name, direction_names[direction],
			 i);
		if (!(rules[n++].name = kilo_arena_strdup(arena, name)))
			return kilo_error_set(err, ENOMEM, "out of memory");
	}
	if ((r = read_vpn_rule(arena, annotations, policy, direction, rules, &n, err)) < 0)
		return r;
	policy->rules[direction] = rules;
	policy->n_rules[direction] = n;
	return 0;
}

/* policyTypes, or Kubernetes' default: Ingress, and Egress when there are egress rules. */
static int read_types(json_t *spec, struct kilo_np_policy *policy, struct kilo_error *err)
{
	char path[KILO_NP_PATH_MAX];
	json_t *list, *v;
	size_t i;
	int r;

	if ((r = optional(spec, "policyTypes", JSON_ARRAY, "spec", "an array of Ingress or Egress", &list, err)) < 0)
		return r;
	if (!list || json_array_size(list) == 0) {
		policy->types[KILO_POLICY_INGRESS] = true;
		policy->types[KILO_POLICY_EGRESS] = json_array_size(json_object_get(spec, "egress")) > 0;
		return 0;
	}
	json_array_foreach(list, i, v) {
		snprintf(path, sizeof(path), "spec.policyTypes[%zu]", i);
		if (json_is_string(v) && strcmp(json_string_value(v), "Ingress") == 0)
			policy->types[KILO_POLICY_INGRESS] = true;
		else if (json_is_string(v) && strcmp(json_string_value(v), "Egress") == 0)
			policy->types[KILO_POLICY_EGRESS] = true;
		else
			return kilo_np_field_bad(err, path, v, "Ingress or Egress");
	}
	return 0;
}

int kilo_np_policy_read(struct kilo_arena *arena, json_t *object, struct kilo_np_policy *out, struct kilo_error *err)
{
	json_t *metadata = json_object_get(object, "metadata"), *spec = json_object_get(object, "spec");
	json_t *ns = json_object_get(metadata, "namespace"), *name = json_object_get(metadata, "name");
	int r;

	*out = (struct kilo_np_policy){ 0 };
	if (!json_is_string(name))
		return kilo_np_field_bad(err, "metadata.name", name, "a name");
	out->namespace = kilo_arena_strdup(arena, json_is_string(ns) ? json_string_value(ns) : "default");
	out->name = kilo_arena_strdup(arena, json_string_value(name));
	if (!out->namespace || !out->name)
		return kilo_error_set(err, ENOMEM, "out of memory");
	if (!json_is_object(spec))
		return kilo_np_field_bad(err, "spec", spec, "an object");
	if (!json_object_get(spec, "podSelector"))
		return kilo_error_set(err, EINVAL, "spec.podSelector: required");
	if ((r = kilo_np_selector_read(arena, json_object_get(spec, "podSelector"), "spec.podSelector",
				       &out->pod_selector, err)) < 0 ||
	    (r = read_types(spec, out, err)) < 0)
		return r;
	for (int direction = KILO_POLICY_INGRESS; direction <= KILO_POLICY_EGRESS; direction++)
		if ((r = read_direction(arena, spec, json_object_get(metadata, "annotations"), direction, out, err)) < 0)
			return r;
	return 0;
}
