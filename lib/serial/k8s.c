/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kilo's Kubernetes backend, as data: a Node's kilo.squat.ai/ annotations
 * and a Peer object become mesh document nodes and peers, and a node
 * becomes the annotations that kg writes. Bad annotation values are
 * dropped the way Kilo drops them; only a malformed object is an error.
 */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../core/strbuf.h"
#include "mesh_json.h"

#define ANNOTATION(name) "kilo.squat.ai/" name
#define DEFAULT_TOPOLOGY_LABEL "topology.kubernetes.io/region"
#define KEEPALIVE_MAX 65535

/* ---- reading objects ------------------------------------------------- */

static json_t *load_object(const char *text, const char *what, struct kilo_error *err)
{
	json_error_t jerr;
	json_t *root;

	if (!text) {
		kilo_error_set(err, EINVAL, "%s: no object given", what);
		return NULL;
	}
	root = json_loads(text, 0, &jerr);
	if (!root) {
		kilo_error_set(err, EINVAL, "%s: line %d, column %d: %s", what, jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		kilo_error_set(err, EINVAL, "%s: not a JSON object", what);
		json_decref(root);
		return NULL;
	}
	return root;
}

static int bad_value(struct kilo_error *err, const char *path, json_t *value, const char *what)
{
	char text[KILO_JSON_VALUE_MAX];

	kilo_json_value_text(value, text);
	return kilo_error_set(err, EINVAL, "%s: %s is not %s", path, text, what);
}

/* The member key of object, or NULL when absent or null; a value of another type is an error. */
static int optional_member(json_t *object, const char *key, const char *path, json_t **out, bool (*is)(const json_t *),
			   const char *what, struct kilo_error *err)
{
	json_t *v = json_object_get(object, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!is(v))
		return bad_value(err, path, v, what);
	*out = v;
	return 0;
}

static bool is_object(const json_t *v)
{
	return json_is_object(v);
}

static bool is_string(const json_t *v)
{
	return json_is_string(v);
}

static bool is_array(const json_t *v)
{
	return json_is_array(v);
}

static bool is_integer(const json_t *v)
{
	return json_is_integer(v);
}

/* A map of strings (annotations, labels), or NULL when absent. */
static int string_map(json_t *object, const char *key, const char *path, json_t **out, struct kilo_error *err)
{
	const char *k;
	json_t *v;
	int r;

	r = optional_member(object, key, path, out, is_object, "an object", err);
	if (r < 0 || !*out)
		return r;
	json_object_foreach(*out, k, v) {
		if (!json_is_string(v))
			return kilo_error_set(err, EINVAL, "%s[\"%.80s\"]: not a string", path, k);
	}
	return 0;
}

static const char *map_get(json_t *map, const char *key)
{
	return json_string_value(json_object_get(map, key));
}

static int metadata_name(json_t *root, const char *what, json_t **metadata, const char **name,
			 struct kilo_error *err)
{
	json_t *v;
	int r;

	r = optional_member(root, "metadata", "metadata", metadata, is_object, "an object", err);
	if (r < 0)
		return r;
	v = json_object_get(*metadata, "name");
	if (!json_is_string(v) || json_string_length(v) == 0)
		return kilo_error_set(err, EINVAL, "%s: metadata.name: a non-empty string is required", what);
	*name = json_string_value(v);
	return 0;
}

/* Go's strconv.ParseInt(text, 10, 64): an optional sign and decimal digits only. */
static bool parse_int64(const char *text, int64_t *out)
{
	const char *digits = text + (text[0] == '+' || text[0] == '-');
	char *end;

	if (!*digits || strspn(digits, "0123456789") != strlen(digits))
		return false;
	errno = 0;
	*out = strtoll(text, &end, 10);
	return errno == 0 && *end == '\0';
}

/* ---- nodes ----------------------------------------------------------- */

/* Kilo keeps only the entries that parse; entries are not trimmed. */
static int allowed_location_ips(const char *text, struct kilo_arena *arena, struct kilo_node *node)
{
	size_t n = 1;
	char *copy, *item, *save = NULL;

	for (const char *p = text; *p; p++)
		n += *p == ',';
	node->allowed_location_ips = kilo_arena_array(arena, n, sizeof(*node->allowed_location_ips));
	copy = kilo_arena_strdup(arena, text);
	if (!node->allowed_location_ips || !copy)
		return -ENOMEM;
	/* strtok would merge empty entries, which are dropped anyway. */
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		if (kilo_cidr_parse(item, &node->allowed_location_ips[node->n_allowed_location_ips], NULL) == 0)
			node->n_allowed_location_ips++;
	}
	return 0;
}

/*
 * Kilo unmarshals the whole map at once: any malformed entry discards it.
 * An entry whose key or port we cannot represent is dropped alone.
 */
static int discovered_endpoints(const char *text, struct kilo_arena *arena, struct kilo_node *node)
{
	struct kilo_discovered_endpoint *eps;
	json_t *map = json_loads(text, 0, NULL), *v;
	const char *key;
	size_t n = 0;
	int r = 0;

	if (!json_is_object(map))
		goto out;
	eps = kilo_arena_array(arena, json_object_size(map), sizeof(*eps));
	if (!eps) {
		r = -ENOMEM;
		goto out;
	}
	json_object_foreach(map, key, v) {
		json_t *ip = json_object_get(v, "IP"), *port = json_object_get(v, "Port");

		if (json_is_null(v))
			continue;
		if (!json_is_object(v) || !json_is_string(ip) || (port && !json_is_integer(port)) ||
		    kilo_addr_parse(json_string_value(ip), &eps[n].endpoint.addr, NULL) < 0)
			goto out;
		if (kilo_key_parse(key, &eps[n].key, NULL) < 0 || json_integer_value(port) < 1 ||
		    json_integer_value(port) > 65535)
			continue;
		eps[n].endpoint.port = (uint16_t)json_integer_value(port);
		n++;
	}
	node->discovered_endpoints = eps;
	node->n_discovered_endpoints = n;
out:
	json_decref(map);
	return r;
}

static void node_endpoint(json_t *annotations, struct kilo_node *node)
{
	if (kilo_endpoint_parse(map_get(annotations, ANNOTATION("force-endpoint")), &node->endpoint, NULL) < 0 &&
	    kilo_endpoint_parse(map_get(annotations, ANNOTATION("endpoint")), &node->endpoint, NULL) < 0)
		memset(&node->endpoint, 0, sizeof(node->endpoint));
}

static void node_internal_ip(json_t *annotations, struct kilo_node *node)
{
	const char *force = map_get(annotations, ANNOTATION("force-internal-ip"));

	if (force && kilo_cidr_parse(force, &node->internal_ip, NULL) == 0)
		return;
	/* "" or "-" says "this node has no internal IP"; anything else falls back. */
	if ((force && (!strcmp(force, "") || !strcmp(force, "-"))) ||
	    kilo_cidr_parse(map_get(annotations, ANNOTATION("internal-ip")) ?: "", &node->internal_ip, NULL) < 0)
		memset(&node->internal_ip, 0, sizeof(node->internal_ip));
}

static void optional_cidr(const char *text, struct kilo_cidr *out)
{
	if (!text || kilo_cidr_parse(text, out, NULL) < 0)
		memset(out, 0, sizeof(*out));
}

/*
 * Dual stack: Kubernetes lists a node's pod CIDRs in spec.podCIDRs, the
 * first equal to spec.podCIDR. Kilo reads only that one; the second, of
 * the other family, becomes the secondary pod CIDR.
 */
static void secondary_pod_cidr(json_t *pod_cidrs, struct kilo_node *node)
{
	optional_cidr(json_string_value(json_array_get(pod_cidrs, 1)), &node->secondary_pod_cidr);
	if (node->secondary_pod_cidr.addr.family == node->pod_cidr.addr.family || node->pod_cidr.addr.family == 0)
		memset(&node->secondary_pod_cidr, 0, sizeof(node->secondary_pod_cidr));
	else
		node->secondary_pod_cidr = kilo_cidr_masked(&node->secondary_pod_cidr);
}

static int translate_node(json_t *annotations, json_t *labels, const char *topology_label, const char *pod_cidr,
			  struct kilo_arena *arena, struct kilo_node *node)
{
	const char *v;
	int64_t n;
	int r;

	v = map_get(annotations, ANNOTATION("location"));
	if (!v)
		v = map_get(labels, topology_label ? topology_label : DEFAULT_TOPOLOGY_LABEL);
	node->location = kilo_arena_strdup(arena, v ? v : "");
	if (!node->location)
		return -ENOMEM;
	node->leader = json_object_get(annotations, ANNOTATION("leader")) != NULL;
	node_endpoint(annotations, node);
	node_internal_ip(annotations, node);
	optional_cidr(pod_cidr, &node->pod_cidr);
	if (node->pod_cidr.addr.family)
		node->pod_cidr = kilo_cidr_masked(&node->pod_cidr);
	optional_cidr(map_get(annotations, ANNOTATION("wireguard-ip")), &node->wireguard_ip);
	optional_cidr(map_get(annotations, ANNOTATION("cni-compatibility-ip")), &node->cni_compatibility_ip);
	v = map_get(annotations, ANNOTATION("key"));
	if (!v || kilo_key_parse(v, &node->public_key, NULL) < 0)
		memset(&node->public_key, 0, sizeof(node->public_key));
	/* An invalid keepalive is 0; so is one that WireGuard cannot carry. */
	v = map_get(annotations, ANNOTATION("persistent-keepalive"));
	if (v && parse_int64(v, &n) && n > 0 && n <= KEEPALIVE_MAX)
		node->persistent_keepalive = (uint32_t)n;
	/* A last-seen before 1970 reads as "never", which is what it means. */
	v = map_get(annotations, ANNOTATION("last-seen"));
	if (v && parse_int64(v, &n) && n > 0)
		node->last_seen = n;
	v = map_get(annotations, ANNOTATION("allowed-location-ips"));
	if (v && (r = allowed_location_ips(v, arena, node)) < 0)
		return r;
	v = map_get(annotations, ANNOTATION("discovered-endpoints"));
	if (v && (r = discovered_endpoints(v, arena, node)) < 0)
		return r;
	return 0;
}

int kilo_node_from_kubernetes(const char *node_object, const char *topology_label, char **node_json,
			      struct kilo_error *err)
{
	json_t *root, *metadata, *annotations = NULL, *labels = NULL, *spec, *pod_cidr = NULL, *pod_cidrs = NULL;
	json_t *out = NULL;
	struct kilo_arena arena = { 0 };
	struct kilo_node node = { 0 };
	const char *name = NULL;
	int r;

	*node_json = NULL;
	root = load_object(node_object, "node object", err);
	if (!root)
		return -EINVAL;
	if ((r = metadata_name(root, "node object", &metadata, &name, err)) < 0 ||
	    (r = string_map(metadata, "annotations", "metadata.annotations", &annotations, err)) < 0 ||
	    (r = string_map(metadata, "labels", "metadata.labels", &labels, err)) < 0 ||
	    (r = optional_member(root, "spec", "spec", &spec, is_object, "an object", err)) < 0 ||
	    (r = optional_member(spec, "podCIDR", "spec.podCIDR", &pod_cidr, is_string, "a string", err)) < 0 ||
	    (r = optional_member(spec, "podCIDRs", "spec.podCIDRs", &pod_cidrs, is_array, "an array", err)) < 0)
		goto out;
	node.name = name;
	r = translate_node(annotations, labels, topology_label, json_string_value(pod_cidr), &arena, &node);
	if (r < 0)
		goto out;
	secondary_pod_cidr(pod_cidrs, &node);
	out = kilo_json_write_node(&node);
	r = out ? kilo_json_dump(out, node_json) : -ENOMEM;
out:
	json_decref(out);
	json_decref(root);
	kilo_arena_release(&arena);
	return r;
}

/* ---- peers ----------------------------------------------------------- */

static int peer_allowed_ips(json_t *spec, struct kilo_arena *arena, struct kilo_peer *peer, struct kilo_error *err)
{
	json_t *list, *v;
	size_t i;
	int r;

	r = optional_member(spec, "allowedIPs", "spec.allowedIPs", &list, is_array, "an array", err);
	if (r < 0 || !list)
		return r;
	peer->allowed_ips = kilo_arena_array(arena, json_array_size(list), sizeof(*peer->allowed_ips));
	if (!peer->allowed_ips)
		return -ENOMEM;
	json_array_foreach(list, i, v) {
		if (!json_is_string(v))
			return kilo_error_set(err, EINVAL, "spec.allowedIPs[%zu]: not a string", i);
		/* Kilo skips the entries that do not parse. */
		if (kilo_cidr_parse(json_string_value(v), &peer->allowed_ips[peer->n_allowed_ips], NULL) == 0)
			peer->n_allowed_ips++;
	}
	return 0;
}

static int peer_endpoint(json_t *spec, struct kilo_peer *peer, struct kilo_error *err)
{
	json_t *endpoint, *dns_or_ip = NULL, *dns = NULL, *ip = NULL, *port = NULL;
	char text[KILO_DNS_NAME_MAX + 16];
	json_int_t p;
	int r;

	if ((r = optional_member(spec, "endpoint", "spec.endpoint", &endpoint, is_object, "an object", err)) < 0 ||
	    !endpoint ||
	    (r = optional_member(endpoint, "dnsOrIP", "spec.endpoint.dnsOrIP", &dns_or_ip, is_object, "an object",
				 err)) < 0 ||
	    (r = optional_member(dns_or_ip, "dns", "spec.endpoint.dnsOrIP.dns", &dns, is_string, "a string", err)) < 0 ||
	    (r = optional_member(dns_or_ip, "ip", "spec.endpoint.dnsOrIP.ip", &ip, is_string, "a string", err)) < 0 ||
	    (r = optional_member(endpoint, "port", "spec.endpoint.port", &port, is_integer, "an integer", err)) < 0)
		return r;
	p = json_integer_value(port);
	if (p <= 0 || p > 65535)
		return 0;
	if (ip && kilo_addr_parse(json_string_value(ip), &peer->endpoint.addr, NULL) == 0)
		peer->endpoint.port = (uint16_t)p;
	/* Kilo lets the name win over the address, and a bad name leaves no endpoint at all. */
	if (dns && json_string_length(dns) > 0) {
		memset(&peer->endpoint, 0, sizeof(peer->endpoint));
		snprintf(text, sizeof(text), "%.*s:%d", KILO_DNS_NAME_MAX + 1, json_string_value(dns), (int)p);
		if (kilo_endpoint_parse(text, &peer->endpoint, NULL) < 0)
			memset(&peer->endpoint, 0, sizeof(peer->endpoint));
	}
	return 0;
}

static int translate_peer(json_t *spec, struct kilo_arena *arena, struct kilo_peer *peer, struct kilo_error *err)
{
	json_t *key, *psk, *keepalive;
	int r;

	if ((r = peer_allowed_ips(spec, arena, peer, err)) < 0 || (r = peer_endpoint(spec, peer, err)) < 0 ||
	    (r = optional_member(spec, "publicKey", "spec.publicKey", &key, is_string, "a string", err)) < 0 ||
	    (r = optional_member(spec, "presharedKey", "spec.presharedKey", &psk, is_string, "a string", err)) < 0 ||
	    (r = optional_member(spec, "persistentKeepalive", "spec.persistentKeepalive", &keepalive, is_integer,
				 "an integer", err)) < 0)
		return r;
	if (key && kilo_key_parse(json_string_value(key), &peer->public_key, NULL) < 0)
		memset(&peer->public_key, 0, sizeof(peer->public_key));
	peer->has_preshared_key = psk && kilo_key_parse(json_string_value(psk), &peer->preshared_key, NULL) == 0;
	kilo_json_wipe_string(psk);
	if (json_integer_value(keepalive) > 0 && json_integer_value(keepalive) <= KEEPALIVE_MAX)
		peer->persistent_keepalive = (uint32_t)json_integer_value(keepalive);
	return 0;
}

int kilo_peer_from_kubernetes(const char *peer_object, char **peer_json, struct kilo_error *err)
{
	json_t *root, *metadata, *spec = NULL, *out = NULL;
	struct kilo_arena arena = { 0 };
	struct kilo_peer peer = { 0 };
	int r;

	*peer_json = NULL;
	root = load_object(peer_object, "peer object", err);
	if (!root)
		return -EINVAL;
	if ((r = metadata_name(root, "peer object", &metadata, &peer.name, err)) < 0 ||
	    (r = optional_member(root, "spec", "spec", &spec, is_object, "an object", err)) < 0 ||
	    (r = translate_peer(spec, &arena, &peer, err)) < 0)
		goto out;
	out = kilo_json_write_peer(&peer);
	/* Only what is set: a Peer without a valid key is data, not a ready peer. */
	if (out && kilo_key_is_zero(&peer.public_key))
		json_object_del(out, "publicKey");
	r = out ? kilo_json_dump(out, peer_json) : -ENOMEM;
	kilo_json_wipe_string(json_object_get(out, "presharedKey"));
out:
	sodium_memzero(&peer.preshared_key, sizeof(peer.preshared_key));
	json_decref(out);
	json_decref(root);
	kilo_arena_release(&arena);
	return r;
}

/* ---- annotations ----------------------------------------------------- */

/* Go's json.Marshal of map[string]*net.UDPAddr: sorted keys, no spaces. */
static char *discovered_text(const struct kilo_node *node)
{
	char key[KILO_KEY_B64_LEN + 1], ip[KILO_ADDR_STRLEN];
	json_t *map = json_object();
	char *text = NULL;

	for (size_t i = 0; map && i < node->n_discovered_endpoints; i++) {
		const struct kilo_discovered_endpoint *d = &node->discovered_endpoints[i];

		kilo_key_format(&d->key, key);
		kilo_addr_format(&d->endpoint.addr, ip);
		if (json_object_set_new(map, key, json_pack("{s:s,s:i,s:s}", "IP", ip, "Port", (int)d->endpoint.port,
							    "Zone", "")) < 0)
			goto out;
	}
	if (map)
		text = json_dumps(map, JSON_COMPACT | JSON_SORT_KEYS);
out:
	json_decref(map);
	return text;
}

static void append_cidr_list(struct kilo_strbuf *sb, const struct kilo_cidr *cidrs, size_t n)
{
	char text[KILO_CIDR_STRLEN];

	for (size_t i = 0; i < n; i++) {
		kilo_cidr_format(&cidrs[i], text);
		kilo_strbuf_printf(sb, "%s%s", i ? "," : "", text);
	}
}

static int set(json_t *object, const char *key, const char *value)
{
	return json_object_set_new(object, key, json_string(value));
}

static int set_cidr(json_t *object, const char *key, const struct kilo_cidr *cidr)
{
	char text[KILO_CIDR_STRLEN] = "";

	if (cidr->addr.family)
		kilo_cidr_format(cidr, text);
	return set(object, key, text);
}

static int node_annotations(const struct kilo_node *node, json_t *out)
{
	char endpoint[KILO_ENDPOINT_STRLEN], key[KILO_KEY_B64_LEN + 1], number[24];
	struct kilo_strbuf sb = { 0 };
	char *text;
	int r;

	kilo_endpoint_format(&node->endpoint, endpoint);
	kilo_key_format(&node->public_key, key);
	snprintf(number, sizeof(number), "%" PRId64, node->last_seen);
	/* kg always writes these (its clean-up patch removes them all at once). */
	if (set(out, ANNOTATION("endpoint"), endpoint) < 0 || set_cidr(out, ANNOTATION("internal-ip"), &node->internal_ip) < 0 ||
	    set(out, ANNOTATION("key"), key) < 0 || set(out, ANNOTATION("last-seen"), number) < 0 ||
	    set_cidr(out, ANNOTATION("wireguard-ip"), &node->wireguard_ip) < 0 ||
	    set_cidr(out, ANNOTATION("cni-compatibility-ip"), &node->cni_compatibility_ip) < 0)
		return -ENOMEM;
	text = node->n_discovered_endpoints ? discovered_text(node) : strdup("");
	r = text ? set(out, ANNOTATION("discovered-endpoints"), text) : -ENOMEM;
	free(text);
	if (r < 0)
		return -ENOMEM;
	/* The ones a user sets, where the node has them. */
	if (node->location[0] && set(out, ANNOTATION("location"), node->location) < 0)
		return -ENOMEM;
	if (node->leader && set(out, ANNOTATION("leader"), "true") < 0)
		return -ENOMEM;
	if (kilo_endpoint_is_set(&node->endpoint) && set(out, ANNOTATION("force-endpoint"), endpoint) < 0)
		return -ENOMEM;
	snprintf(number, sizeof(number), "%" PRIu32, node->persistent_keepalive);
	if (node->persistent_keepalive && set(out, ANNOTATION("persistent-keepalive"), number) < 0)
		return -ENOMEM;
	if (node->n_allowed_location_ips) {
		append_cidr_list(&sb, node->allowed_location_ips, node->n_allowed_location_ips);
		r = kilo_strbuf_finish(&sb, &text);
		if (r < 0)
			return r;
		r = set(out, ANNOTATION("allowed-location-ips"), text);
		free(text);
		if (r < 0)
			return -ENOMEM;
	}
	return 0;
}

int kilo_node_to_annotations(const char *node_json, char **annotations_json, struct kilo_error *err)
{
	struct kilo_arena arena = { 0 };
	struct kilo_node node;
	json_t *root, *out = NULL;
	int r;

	*annotations_json = NULL;
	root = load_object(node_json, "node", err);
	if (!root)
		return -EINVAL;
	r = kilo_json_read_node(root, "node", &arena, &node, err);
	if (r < 0)
		goto out;
	out = json_object();
	r = out ? node_annotations(&node, out) : -ENOMEM;
	if (r == 0)
		r = kilo_json_dump(out, annotations_json);
out:
	json_decref(out);
	json_decref(root);
	kilo_arena_release(&arena);
	return r;
}
