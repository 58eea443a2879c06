/* SPDX-License-Identifier: Apache-2.0 */
/* Cases of the solver's building blocks and of endpoints, addresses and readiness. */
#include "runner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * The CIDRs of a JSON list, in a new array (free it); NULL and a failed
 * check when an entry is not a CIDR. An empty list gives a 1-entry array.
 */
static struct kilo_cidr *cidr_array(json_t *list, size_t *n, struct check *c)
{
	struct kilo_cidr *cidrs = calloc(json_array_size(list) + 1, sizeof(*cidrs));
	json_t *ip;
	size_t i;

	*n = 0;
	json_array_foreach(list, i, ip) {
		if (!cidrs || kilo_cidr_parse(json_string_value(ip), &cidrs[i], NULL) < 0) {
			check_fail(c, "input %s is not a CIDR", json_string_value(ip) ? json_string_value(ip) : "?");
			free(cidrs);
			return NULL;
		}
	}
	*n = json_array_size(list);
	return cidrs;
}

static json_t *cidr_text(const struct kilo_cidr *cidr)
{
	char text[KILO_CIDR_STRLEN];

	kilo_cidr_format(cidr, text);
	return json_string(text);
}

/* An endpoint from a Go-shaped {"ip","port","dns":"host:port"} object; NULL gives none. */
static struct kilo_endpoint endpoint_struct(json_t *o)
{
	struct kilo_endpoint ep = { 0 };
	const char *dns = json_string_value(json_object_get(o, "dns"));

	if (json_is_string(json_object_get(o, "ip")))
		kilo_addr_parse(json_string_value(json_object_get(o, "ip")), &ep.addr, NULL);
	ep.port = (uint16_t)json_integer_value(json_object_get(o, "port"));
	if (dns)
		snprintf(ep.dns, sizeof(ep.dns), "%.*s", (int)strcspn(dns, ":"), dns);
	return ep;
}

static void check_find_leader(json_t *input, json_t *expected, struct check *c)
{
	json_t *nodes = json_object_get(input, "nodes_in_given_order"), *n, *got;
	struct kilo_leader_candidate *candidates = calloc(json_array_size(nodes) + 1, sizeof(*candidates));
	size_t i;

	if (!candidates) {
		check_fail(c, "out of memory");
		return;
	}
	json_array_foreach(nodes, i, n) {
		candidates[i].leader = json_is_true(json_object_get(n, "leader"));
		candidates[i].endpoint = endpoint_struct(json_object_get(n, "endpoint"));
	}
	got = json_integer((json_int_t)kilo_find_leader(candidates, json_array_size(nodes)));
	check_json(c, "leader_index", json_object_get(expected, "leader_index"), got);
	json_decref(got);
	free(candidates);
}

static void check_dedupe(json_t *input, json_t *expected, struct check *c)
{
	json_t *peers = json_object_get(input, "peers_in_order"), *p, *got = json_array();
	struct kilo_cidr_list *lists = calloc(json_array_size(peers) + 1, sizeof(*lists));
	size_t i, j;

	json_array_foreach(peers, i, p)
		if (lists && c->ok)
			lists[i].cidrs = cidr_array(json_object_get(p, "allowed_ips"), &lists[i].n, c);
	if (!lists)
		check_fail(c, "out of memory");
	else if (c->ok && kilo_dedupe_cidr_lists(lists, json_array_size(peers), NULL) < 0)
		check_fail(c, "kilo_dedupe_cidr_lists failed");
	json_array_foreach(peers, i, p) {
		json_t *ips;

		if (!c->ok)
			break;
		ips = lists[i].n ? json_array() : json_null();
		for (j = 0; j < lists[i].n; j++)
			json_array_append_new(ips, cidr_text(&lists[i].cidrs[j]));
		json_array_append_new(got, json_pack("{s:O, s:O, s:o}", "name", json_object_get(p, "name"), "public_key",
						     json_object_get(p, "public_key"), "allowed_ips", ips));
	}
	check_json(c, "peers", json_object_get(expected, "peers"), got);
	json_decref(got);
	json_array_foreach(peers, i, p)
		if (lists)
			free(lists[i].cidrs);
	free(lists);
}

/* Kilo's test overwrites every segment's list, then filters segments 0, 1, 2... in turn. */
static void check_filter(json_t *input, json_t *expected, json_t *fixture, struct check *c)
{
	json_t *by_index = json_object_get(input, "allowed_location_ips_by_segment_index"), *list, *mesh_input;
	kilo_mesh *mesh;
	kilo_topology *t;
	const char *key;

	mesh_input = json_pack("{s:s, s:s, s:i}", "granularity", "location", "kilo_subnet", "10.4.0.0/16", "port",
			       KILO_DEFAULT_PORT);
	mesh = vector_mesh(mesh_input, fixture, c);
	t = mesh ? vector_solve(mesh, mesh_input, "a", c) : NULL;
	for (int pass = 0; t && pass < 2; pass++) {
		json_object_foreach(by_index, key, list) {
			size_t n;
			struct kilo_cidr *cidrs = cidr_array(list, &n, c);

			if (cidrs && kilo_topology_set_allowed_location_ips(t, strtoul(key, NULL, 10), cidrs, n, pass == 1, NULL) < 0)
				check_fail(c, "segment %s: kilo_topology_set_allowed_location_ips failed", key);
			free(cidrs);
		}
	}
	if (t) {
		char *text = NULL;
		json_t *got = NULL, *segments, *filtered = json_object();

		if (kilo_topology_to_json(t, &text, NULL) == 0 && (got = json_loads(text, 0, NULL))) {
			segments = json_object_get(got, "segments");
			json_object_foreach(by_index, key, list)
				json_object_set(filtered, key,
						json_object_get(json_array_get(segments, strtoul(key, NULL, 10)),
								"allowedLocationIPs"));
			check_json(c, "filtered", json_object_get(expected, "filtered_by_segment_index"), filtered);
		} else {
			check_fail(c, "kilo_topology_to_json failed");
		}
		json_decref(filtered);
		json_decref(got);
		kilo_free(text);
	}
	kilo_topology_free(t);
	kilo_mesh_free(mesh);
	json_decref(mesh_input);
}

static void check_allocator(json_t *input, json_t *expected, struct check *c)
{
	struct kilo_cidr subnet, ip;
	json_t *got = json_array();
	json_int_t calls = json_integer_value(json_object_get(input, "calls"));

	if (kilo_cidr_parse(json_string_value(json_object_get(input, "cidr")), &subnet, NULL) < 0)
		check_fail(c, "bad cidr");
	for (json_int_t i = 0; c->ok && i < calls; i++) {
		int r = kilo_wireguard_ip(&subnet, (size_t)i, &ip, NULL);

		json_array_append_new(got, r == 0 ? cidr_text(&ip) : json_sprintf("error %d (%s)", r, strerror(-r)));
	}
	check_json(c, "next_strings", json_object_get(expected, "next_strings"), got);
	json_decref(got);
}

static void check_sort(json_t *input, json_t *expected, struct check *c)
{
	json_t *got = json_array();
	size_t n;
	struct kilo_cidr *cidrs = cidr_array(json_object_get(input, "ips"), &n, c);

	if (cidrs) {
		kilo_cidr_sort(cidrs, n);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(got, cidr_text(&cidrs[i]));
		check_json(c, "sorted", json_object_get(expected, "sorted"), got);
	}
	json_decref(got);
	free(cidrs);
}

static void check_is_public(json_t *input, json_t *expected, struct check *c)
{
	struct kilo_addr addr;

	if (kilo_addr_parse(json_string_value(json_object_get(input, "ip")), &addr, NULL) < 0)
		check_fail(c, "bad ip");
	else if (kilo_addr_is_public(&addr) != json_is_true(json_object_get(expected, "public")))
		check_fail(c, "public is %s", kilo_addr_is_public(&addr) ? "true" : "false");
}

/* Kilo's TestReady cases are named in words; each maps to a node that lacks what its name says. */
static const char *ready_case_document(const char *name)
{
	static const struct {
		const char *prefix, *node;
	} docs[] = {
		{ "empty fields", "{\"name\":\"n\"}" },
		{ "empty endpoint", "{\"name\":\"n\",\"internalIP\":\"1.1.1.1/32\",\"podCIDR\":\"10.2.0.0/16\","
				    "\"publicKey\":\"a2V5MQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}" },
		{ "empty internal IP", "{\"name\":\"n\",\"endpoint\":\"2.2.2.2:51820\",\"podCIDR\":\"10.2.0.0/16\"}" },
		{ "empty key", "{\"name\":\"n\",\"endpoint\":\"2.2.2.2:51820\",\"internalIP\":\"1.1.1.1/32\","
			       "\"podCIDR\":\"10.2.0.0/16\"}" },
		{ "empty subnet", "{\"name\":\"n\",\"endpoint\":\"2.2.2.2:51820\",\"internalIP\":\"1.1.1.1/32\","
				  "\"publicKey\":\"a2V5MQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}" },
		{ "valid", "{\"name\":\"n\",\"endpoint\":\"2.2.2.2:51820\",\"internalIP\":\"1.1.1.1/32\","
			   "\"podCIDR\":\"10.2.0.0/16\",\"publicKey\":\"a2V5MQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}" },
	};

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		if (strncmp(name, docs[i].prefix, strlen(docs[i].prefix)) == 0)
			return docs[i].node;
	return NULL;
}

static void check_node_ready(json_t *expected, struct check *c)
{
	long long now = (long long)time(NULL);
	json_t *tc;
	size_t i;

	json_array_foreach(json_object_get(expected, "cases"), i, tc) {
		const char *name = json_string_value(json_object_get(tc, "name")), *node = ready_case_document(name);
		json_t *doc = json_pack("{s:i, s:[]}", "version", 1, "nodes"), *n;
		kilo_mesh *mesh = NULL;
		struct kilo_error err = { 0 };
		char *text;
		bool ready;
		int r;

		/* "nil" is no node at all: index 0 of an empty mesh. */
		if (strcmp(name, "nil") != 0 && !node) {
			check_fail(c, "no node for the case \"%s\"", name);
			json_decref(doc);
			return;
		}
		if (node && (n = json_loads(node, 0, NULL))) {
			if (strncmp(name, "empty fields", 12) != 0)
				json_object_set_new(n, "lastSeen", json_integer(now));
			json_array_append_new(json_object_get(doc, "nodes"), n);
		}
		text = json_dumps(doc, JSON_COMPACT);
		r = kilo_mesh_from_json(text, strlen(text), &mesh, &err);
		free(text);
		json_decref(doc);
		if (r < 0) {
			check_fail(c, "%s: %s", name, err.message);
			return;
		}
		ready = kilo_mesh_node_ready(mesh, 0, (int64_t)now);
		kilo_mesh_free(mesh);
		if (ready != json_is_true(json_object_get(tc, "ready")))
			check_fail(c, "%s: ready is %s", name, ready ? "true" : "false");
	}
}

static void check_endpoint_ready(json_t *expected, struct check *c)
{
	json_t *tc;
	size_t i;

	json_array_foreach(json_object_get(expected, "cases"), i, tc) {
		struct kilo_endpoint ep = endpoint_struct(json_object_get(tc, "in"));

		if (kilo_endpoint_ready(&ep) != json_is_true(json_object_get(tc, "ready")))
			check_fail(c, "case %zu: ready is %s", i, kilo_endpoint_ready(&ep) ? "true" : "false");
	}
}

static void check_parse_endpoint(json_t *input, json_t *expected, struct check *c)
{
	struct kilo_endpoint ep;
	char addr[KILO_ADDR_STRLEN], text[KILO_ENDPOINT_STRLEN];
	json_t *got = json_null();

	if (kilo_endpoint_parse(json_string_value(json_object_get(input, "s")), &ep, NULL) == 0) {
		kilo_addr_format(&ep.addr, addr);
		kilo_endpoint_format(&ep, text);
		got = ep.dns[0] ? json_pack("{s:s}", "dns", text) : json_pack("{s:s, s:i}", "ip", addr, "port", ep.port);
	}
	check_json(c, "endpoint", json_object_get(expected, "endpoint"), got);
	json_decref(got);
}

static void check_endpoint_equal(json_t *input, json_t *expected, struct check *c)
{
	struct kilo_endpoint a = endpoint_struct(json_object_get(input, "a"));
	struct kilo_endpoint b = endpoint_struct(json_object_get(input, "b"));
	bool dns_first = json_is_true(json_object_get(input, "dns_first"));
	bool equal = kilo_endpoint_equal_opt(&a, &b, dns_first);

	if (equal != json_is_true(json_object_get(expected, "equal")))
		check_fail(c, "equal is %s", equal ? "true" : "false");
}

bool check_building_block_kind(const char *kind, json_t *tc, json_t *fixture, struct check *c)
{
	json_t *input = json_object_get(tc, "input"), *expected = json_object_get(tc, "expected");

	if (strcmp(kind, "find_leader") == 0)
		check_find_leader(input, expected, c);
	else if (strcmp(kind, "dedupe_peer_ips") == 0)
		check_dedupe(input, expected, c);
	else if (strcmp(kind, "filter_allowed_location_ips") == 0)
		check_filter(input, expected, fixture, c);
	else if (strcmp(kind, "allocator") == 0)
		check_allocator(input, expected, c);
	else if (strcmp(kind, "sort_ips") == 0)
		check_sort(input, expected, c);
	else if (strcmp(kind, "is_public") == 0)
		check_is_public(input, expected, c);
	else if (strcmp(kind, "node_ready") == 0)
		check_node_ready(expected, c);
	else if (strcmp(kind, "wg_endpoint_ready") == 0)
		check_endpoint_ready(expected, c);
	else if (strcmp(kind, "wg_parse_endpoint") == 0)
		check_parse_endpoint(input, expected, c);
	else if (strcmp(kind, "wg_endpoint_equal") == 0)
		check_endpoint_equal(input, expected, c);
	else
		return false;
	return true;
}
