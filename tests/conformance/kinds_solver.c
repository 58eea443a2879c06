/* SPDX-License-Identifier: Apache-2.0 */
/* Cases that solve a whole mesh: topology, routes, configs, NAT rules, graph. */
#include "runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *input_string(json_t *input, const char *key)
{
	return json_string_value(json_object_get(input, key));
}

/* Renames the keys of a vector object to libkilo's JSON names; drops those mapped to NULL. */
static json_t *renamed(json_t *from, const char *const (*names)[2])
{
	json_t *to = json_object();

	for (; (*names)[0]; names++) {
		json_t *v = json_object_get(from, (*names)[0]);

		if (v && (*names)[1])
			json_object_set(to, (*names)[1], v);
	}
	return to;
}

static void set_endpoint_text(json_t *obj, json_t *vector_endpoint)
{
	json_object_set_new(obj, "endpoint", vector_endpoint_text(vector_endpoint));
}

static json_t *expected_topology(json_t *e)
{
	static const char *const top[][2] = { { "hostname", "hostname" }, { "location", "location" },
					      { "leader", "leader" },     { "subnet", "subnet" },
					      { "private_ip", "privateIP" }, { "wireguard_cidr", "wireGuardCIDR" },
					      { "port", "port" },         { "node_location", "nodeLocation" },
					      { NULL, NULL } };
	static const char *const seg[][2] = { { "location", "location" },
					      { "node_location", "nodeLocation" },
					      { "hostnames", "hostnames" },
					      { "leader", "leader" },
					      { "key", "publicKey" },
					      { "cidrs", "cidrs" },
					      { "private_ips", "privateIPs" },
					      { "cni_compatibility_ips", "cniCompatibilityIPs" },
					      { "allowed_ips", "allowedIPs" },
					      { "allowed_location_ips", "allowedLocationIPs" },
					      { "wireguard_ip", "wireGuardIP" },
					      { NULL, NULL } };
	static const char *const peer[][2] = { { "name", "name" }, { "allowed_ips", "allowedIPs" },
					       { "public_key", "publicKey" }, { NULL, NULL } };
	json_t *t = renamed(e, top), *segments = json_array(), *peers = json_array(), *v;
	size_t i;

	json_array_foreach(json_object_get(e, "segments"), i, v) {
		json_t *s = renamed(v, seg);

		set_endpoint_text(s, json_object_get(v, "endpoint"));
		json_object_set_new(s, "persistentKeepalive",
				    json_integer(vector_seconds(json_object_get(v, "persistent_keepalive_ns"))));
		json_array_append_new(segments, s);
	}
	json_array_foreach(json_object_get(e, "peers"), i, v) {
		json_t *p = renamed(v, peer);

		set_endpoint_text(p, json_object_get(v, "endpoint"));
		json_array_append_new(peers, p);
	}
	json_object_set_new(t, "segments", segments);
	json_object_set_new(t, "peers", peers);
	return t;
}

static void check_topology(kilo_topology *t, json_t *expected, struct check *c)
{
	json_t *want = expected_topology(expected), *got;
	char *text = NULL;

	if (kilo_topology_to_json(t, &text, NULL) < 0 || !(got = json_loads(text, 0, NULL))) {
		check_fail(c, "kilo_topology_to_json failed");
	} else {
		check_json(c, "topology", want, got);
		json_decref(got);
	}
	kilo_free(text);
	json_decref(want);
}

static json_t *addr_json(const struct kilo_addr *a)
{
	char text[KILO_ADDR_STRLEN];

	if (a->family == 0)
		return json_null();
	kilo_addr_format(a, text);
	return json_string(text);
}

static json_t *cidr_json(const struct kilo_cidr *cidr)
{
	char text[KILO_CIDR_STRLEN];

	if (cidr->addr.family == 0)
		return json_null();
	kilo_cidr_format(cidr, text);
	return json_string(text);
}

static json_t *route_json(const struct kilo_route *r, bool with_key)
{
	char key[KILO_ROUTE_KEY_STRLEN];
	json_t *o = json_object();

	json_object_set_new(o, "dst", cidr_json(&r->dst));
	json_object_set_new(o, "gw", addr_json(&r->gw));
	json_object_set_new(o, "src", addr_json(&r->src));
	json_object_set_new(o, "link", json_integer(r->ifindex));
	json_object_set_new(o, "table", json_integer(r->table));
	json_object_set_new(o, "onlink", json_boolean(r->onlink));
	json_object_set_new(o, "protocol", json_string(r->protocol == KILO_RTPROT_STATIC ? "static" : "other"));
	if (with_key) {
		kilo_route_key(r, key);
		json_object_set_new(o, "key", json_string(key));
	}
	return o;
}

static json_t *rule_json(const struct kilo_rule *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "src", cidr_json(&r->src));
	json_object_set_new(o, "dst", cidr_json(&r->dst));
	json_object_set_new(o, "table", json_integer(r->table));
	json_object_set_new(o, "iif", json_string(r->iif));
	return o;
}

static json_t *rule_key_json(const struct kilo_rule *r)
{
	char key[KILO_ROUTE_KEY_STRLEN];

	kilo_rule_key(r, key);
	return json_string(key);
}

static int parse_enum_input(json_t *input, struct kilo_routes_opts *opts)
{
	const char *compat = input_string(input, "compatibility");

	if (kilo_encapsulate_parse(input_string(input, "encapsulate"), &opts->encapsulate, NULL) < 0)
		return -1;
	/* Kilo's tests name the plain IPIP encapsulator in words. */
	if (!compat || strncmp(compat, "none", 4) == 0 || strcmp(compat, "ipip") == 0)
		opts->compatibility = KILO_COMPATIBILITY_NONE;
	else if (kilo_compatibility_parse(compat, &opts->compatibility, NULL) < 0)
		return -1;
	return 0;
}

static void check_routes(kilo_topology *t, json_t *input, json_t *expected, struct check *c)
{
	struct kilo_routes_opts opts = {
		.sz = sizeof(opts),
		.no_local = !json_is_true(json_object_get(input, "local")),
		.wg_interface = input_string(input, "kilo_iface_name"),
		.wg_ifindex = (int)json_integer_value(json_object_get(input, "kilo_iface_index")),
		.private_ifindex = (int)json_integer_value(json_object_get(input, "priv_iface_index")),
		.tunnel_ifindex = (int)json_integer_value(json_object_get(input, "tunl_iface_index")),
	};
	struct kilo_route *routes = NULL;
	struct kilo_rule *rules = NULL;
	size_t n_routes = 0, n_rules = 0;
	json_t *got_routes = json_array(), *got_rules = json_array(), *route_keys = json_array(),
	       *rule_keys = json_array();

	if (parse_enum_input(input, &opts) < 0) {
		check_fail(c, "unknown encapsulate or compatibility");
	} else if (kilo_topology_routes(t, &opts, &routes, &n_routes, &rules, &n_rules, NULL) < 0) {
		check_fail(c, "kilo_topology_routes failed");
	} else {
		for (size_t i = 0; i < n_routes; i++) {
			json_t *r = route_json(&routes[i], true);

			json_array_append(route_keys, json_object_get(r, "key"));
			json_object_del(r, "key");
			json_array_append_new(got_routes, r);
		}
		for (size_t i = 0; i < n_rules; i++) {
			json_array_append_new(got_rules, rule_json(&rules[i]));
			json_array_append_new(rule_keys, rule_key_json(&rules[i]));
		}
		check_json(c, "routes", json_object_get(expected, "routes"), got_routes);
		check_json(c, "rules", json_object_get(expected, "rules"), got_rules);
		if (json_object_get(expected, "routes_as_reconciler_keys"))
			check_json(c, "route keys", json_object_get(expected, "routes_as_reconciler_keys"), route_keys);
		if (json_object_get(expected, "rules_as_reconciler_keys"))
			check_json(c, "rule keys", json_object_get(expected, "rules_as_reconciler_keys"), rule_keys);
	}
	kilo_free(routes);
	kilo_free(rules);
	json_decref(got_routes);
	json_decref(got_rules);
	json_decref(route_keys);
	json_decref(rule_keys);
}

/* Takes r and config from the call that made config, and frees config. */
static void check_config_text(struct check *c, const char *what, int r, kilo_wg_config *config, const char *expected)
{
	char *text = NULL;

	if (r < 0 || kilo_wg_config_format(config, &text, NULL) < 0)
		check_fail(c, "%s: no configuration (%d)", what, r);
	else
		check_text(c, what, expected, text);
	kilo_free(text);
	kilo_wg_config_free(config);
}

/* kilo_nat_rules as the vector's append and prepend lists of {proto, string}. */
static void check_nat(kilo_topology *t, bool forward, bool ipip, json_t *expected, json_t *append_default,
		      struct check *c)
{
	struct kilo_nat_opts opts = { .sz = sizeof(opts), .forward_rules = forward, .ipip_rules = ipip };
	struct kilo_nat_rule *rules = NULL;
	json_t *lists[2] = { json_array(), json_array() }, *want, *entry;
	size_t n = 0, i;

	if (kilo_topology_nat_rules(t, &opts, &rules, &n, NULL) < 0) {
		check_fail(c, "kilo_topology_nat_rules failed");
		goto out;
	}
	for (i = 0; i < n; i++) {
		char *text = NULL;

		if (kilo_nat_rule_format(&rules[i], &text, NULL) < 0) {
			check_fail(c, "kilo_nat_rule_format failed");
			goto out;
		}
		json_array_append_new(lists[rules[i].list],
				      json_pack("{s:i, s:s}", "proto", rules[i].family, "string", text));
		kilo_free(text);
	}
	for (int l = 0; l < 2; l++) {
		json_t *source = json_object_get(expected, l == KILO_NAT_APPEND ? "append" : "prepend");

		if (l == KILO_NAT_APPEND && !source)
			source = append_default;
		want = json_array();
		json_array_foreach(source, i, entry)
			json_array_append_new(want, json_pack("{s:O, s:O}", "proto", json_object_get(entry, "proto"),
							      "string", json_object_get(entry, "string")));
		check_json(c, l == KILO_NAT_APPEND ? (forward ? "forward append" : "append")
						   : (forward ? "forward prepend" : "prepend"),
			   want, lists[l]);
		json_decref(want);
	}
out:
	kilo_free(rules);
	json_decref(lists[0]);
	json_decref(lists[1]);
}

static void check_showconf_node(kilo_mesh *mesh, json_t *input, json_t *expected, struct check *c)
{
	const char *node = input_string(input, "node");
	json_t *port = json_object_get(json_object_get(input, "flags"), "--port");
	struct kilo_solve_opts opts = { .sz = sizeof(opts), .hostname = node };
	struct kilo_error err = { 0 };
	kilo_topology *t = NULL;
	kilo_wg_config *config = NULL;
	const char *as_peer = json_string_value(json_object_get(expected, "stdout_with_--as-peer"));

	opts.port = port ? (uint16_t)json_integer_value(port) : KILO_DEFAULT_PORT;
	if (kilo_topology_solve(mesh, &opts, &t, &err) < 0) {
		check_fail(c, "solve failed: %s", err.message);
		return;
	}
	/* kgctl prints nothing on stdout for a node that does not lead its segment. */
	if (!kilo_topology_is_leader(t)) {
		check_text(c, "stdout", json_string_value(json_object_get(expected, "stdout")), "");
	} else {
		int r = kilo_topology_conf(t, &config, NULL);

		check_config_text(c, "stdout", r, config, json_string_value(json_object_get(expected, "stdout")));
		if (as_peer) {
			config = NULL;
			r = kilo_topology_as_peer(t, NULL, 0, &config, NULL);
			check_config_text(c, "--as-peer stdout", r, config, as_peer);
		}
	}
	kilo_topology_free(t);
}

static void check_showconf_peer(kilo_mesh *mesh, json_t *input, json_t *expected, struct check *c)
{
	const char *peer = input_string(input, "peer");
	json_t *nodes = json_object_get(input, "nodes"), *p, *want_routes = json_object_get(expected, "peer_routes_for_kgctl_connect");
	struct kilo_solve_opts opts = { .sz = sizeof(opts), .port = KILO_DEFAULT_PORT, .override_keepalive = true };
	struct kilo_error err = { 0 };
	kilo_topology *t = NULL;
	kilo_wg_config *config = NULL;
	size_t i;
	int r;

	/* kgctl solves from the last node it lists and with the peer's own keepalive. */
	opts.hostname = input_string(json_array_get(nodes, json_array_size(nodes) - 1), "name");
	json_array_foreach(json_object_get(input, "peers"), i, p)
		if (strcmp(input_string(p, "name"), peer) == 0)
			opts.persistent_keepalive = (uint32_t)vector_seconds(json_object_get(p, "pka_ns"));
	if (kilo_topology_solve(mesh, &opts, &t, &err) < 0) {
		check_fail(c, "solve failed: %s", err.message);
		return;
	}
	r = kilo_topology_peer_conf(t, peer, &config, NULL);
	check_config_text(c, "stdout", r, config, json_string_value(json_object_get(expected, "stdout")));
	if (want_routes) {
		struct kilo_route *routes = NULL;
		size_t n = 0;
		json_t *got = json_array();

		if (kilo_topology_peer_routes(t, peer, 0, NULL, 0, &routes, &n, NULL) < 0)
			check_fail(c, "kilo_topology_peer_routes failed");
		for (i = 0; i < n; i++)
			json_array_append_new(got, route_json(&routes[i], true));
		check_json(c, "peer routes", want_routes, got);
		json_decref(got);
		kilo_free(routes);
	}
	kilo_topology_free(t);
}

static void check_node_as_peer_object(kilo_mesh *mesh, json_t *input, json_t *expected, struct check *c)
{
	struct kilo_solve_opts opts = { .sz = sizeof(opts), .hostname = input_string(input, "node"),
					.port = KILO_DEFAULT_PORT };
	struct kilo_cidr extra[16];
	size_t n_extra = 0, i;
	json_t *flags = json_object_get(input, "flags"), *flag;
	kilo_topology *t = NULL;
	kilo_wg_config *config = NULL;
	struct kilo_error err = { 0 };
	char *yaml = NULL, *json = NULL;

	json_array_foreach(flags, i, flag) {
		const char *value = json_string_value(json_array_get(flags, i + 1));

		if (strcmp(json_string_value(flag), "--allowed-ips") == 0 && value && n_extra < 16 &&
		    kilo_cidr_parse(value, &extra[n_extra], NULL) == 0) {
			extra[n_extra] = kilo_cidr_masked(&extra[n_extra]);
			n_extra++;
		}
	}
	if (kilo_topology_solve(mesh, &opts, &t, &err) < 0) {
		check_fail(c, "solve failed: %s", err.message);
		return;
	}
	if (kilo_topology_as_peer(t, extra, n_extra, &config, NULL) < 0 ||
	    kilo_peer_object_format(config, 0, opts.hostname, KILO_PEER_YAML, &yaml, NULL) < 0 ||
	    kilo_peer_object_format(config, 0, opts.hostname, KILO_PEER_JSON, &json, NULL) < 0) {
		check_fail(c, "no Peer object");
	} else {
		check_text(c, "yaml", json_string_value(json_object_get(expected, "yaml_stdout")), yaml);
		check_text(c, "json", json_string_value(json_object_get(expected, "json_stdout_no_trailing_newline")), json);
	}
	kilo_free(yaml);
	kilo_free(json);
	kilo_wg_config_free(config);
	kilo_topology_free(t);
}

static void check_dot(kilo_topology *t, json_t *expected, struct check *c)
{
	const char *graph_stdout = json_string_value(json_object_get(expected, "kgctl_graph_stdout"));
	char *dot = NULL;

	if (kilo_topology_dot(t, &dot, NULL) < 0) {
		check_fail(c, "kilo_topology_dot failed");
		return;
	}
	check_text(c, "dot", json_string_value(json_object_get(expected, "dot")), dot);
	/* kgctl graph prints the graph with one more newline. */
	if (graph_stdout && c->ok && (strlen(graph_stdout) != strlen(dot) + 1 || graph_stdout[strlen(dot)] != '\n'))
		check_fail(c, "kgctl graph stdout is not the graph and a newline");
	kilo_free(dot);
}

bool check_solver_kind(const char *kind, json_t *tc, json_t *fixture, struct check *c)
{
	static const char *const kinds[] = { "topology",          "routes",		 "wg_conf_text",
					     "iptables_ruleset",  "kgctl_showconf_node", "kgctl_showconf_peer",
					     "kgctl_showconf_node_as_peer", "graphviz_dot", NULL };
	json_t *input = json_object_get(tc, "input"), *expected = json_object_get(tc, "expected");
	const char *hostname = input_string(input, "hostname");
	kilo_wg_config *config = NULL;
	kilo_topology *t = NULL;
	kilo_mesh *mesh;
	size_t k = 0;

	while (kinds[k] && strcmp(kinds[k], kind) != 0)
		k++;
	if (!kinds[k])
		return false;
	mesh = vector_mesh(input, fixture, c);
	if (!mesh)
		return true;
	if (strcmp(kind, "kgctl_showconf_node") == 0) {
		check_showconf_node(mesh, input, expected, c);
	} else if (strcmp(kind, "kgctl_showconf_peer") == 0) {
		check_showconf_peer(mesh, input, expected, c);
	} else if (strcmp(kind, "kgctl_showconf_node_as_peer") == 0) {
		check_node_as_peer_object(mesh, input, expected, c);
	} else if ((t = vector_solve(mesh, input, hostname, c))) {
		if (strcmp(kind, "topology") == 0)
			check_topology(t, expected, c);
		else if (strcmp(kind, "routes") == 0)
			check_routes(t, input, expected, c);
		else if (strcmp(kind, "wg_conf_text") == 0) {
			int r = kilo_topology_conf(t, &config, NULL);

			check_config_text(c, "conf", r, config, json_string_value(json_object_get(expected, "conf_text")));
		} else if (strcmp(kind, "iptables_ruleset") == 0) {
			json_t *plain = json_object_get(expected, "cni_true_forward_false");
			bool ipip = false;

			/* Optional: kg's --local, --encapsulate and --compatibility, which add the encapsulator's rules. */
			if (json_object_get(input, "encapsulate")) {
				struct kilo_routes_opts routes = {
					.sz = sizeof(routes), .no_local = !json_is_true(json_object_get(input, "local")),
				};

				if (parse_enum_input(input, &routes) < 0)
					check_fail(c, "unknown encapsulate or compatibility");
				ipip = kilo_topology_ipip_rules(t, &routes);
			}
			check_nat(t, false, ipip, plain, NULL, c);
			check_nat(t, true, ipip, json_object_get(expected, "cni_true_forward_true"),
				  json_object_get(plain, "append"), c);
		} else
			check_dot(t, expected, c);
	}
	kilo_topology_free(t);
	kilo_mesh_free(mesh);
	return true;
}
