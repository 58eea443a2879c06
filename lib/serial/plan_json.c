/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A node's whole plan as JSON: what it would configure, without secrets,
 * so that an operator or a test can read it before anything is applied.
 */
#include <errno.h>
#include <string.h>

#include <kilo/serial.h>

#include "../core/error.h"
#include "../core/opts.h"
#include "jsonval.h"
#include "mesh_json.h"
#include "topology_json.h"

static int add_config(json_t *plan, const struct kilo_topology *t)
{
	kilo_wg_config *config = NULL;
	char *text = NULL;
	int r;

	/* The shape of kilo_wg_config_to_json, reused rather than written twice. */
	r = kilo_topology_conf(t, &config, NULL);
	if (r == 0)
		r = kilo_wg_config_to_json(config, false, &text, NULL);
	if (r == 0)
		r = kilo_jsonval_set(plan, "config", json_loads(text, 0, NULL));
	kilo_free(text);
	kilo_wg_config_free(config);
	return r;
}

static json_t *route_json(const struct kilo_route *route)
{
	json_t *r = json_object();

	if (!r)
		return NULL;
	if (kilo_jsonval_set(r, "dst", kilo_jsonval_cidr(&route->dst)) < 0 ||
	    kilo_jsonval_set(r, "gw", kilo_jsonval_addr(&route->gw)) < 0 ||
	    kilo_jsonval_set(r, "src", kilo_jsonval_addr(&route->src)) < 0 ||
	    kilo_jsonval_set(r, "dev", json_integer(route->ifindex)) < 0 ||
	    kilo_jsonval_set(r, "table", json_integer(route->table)) < 0 ||
	    kilo_jsonval_set(r, "onlink", json_boolean(route->onlink)) < 0 ||
	    kilo_jsonval_set(r, "protocol", route->protocol == KILO_RTPROT_STATIC ? json_string("static")
										: json_integer(route->protocol)) < 0) {
		json_decref(r);
		return NULL;
	}
	return r;
}

static json_t *rule_json(const struct kilo_rule *rule)
{
	json_t *r = json_object();

	if (!r)
		return NULL;
	if (kilo_jsonval_set(r, "src", kilo_jsonval_cidr(&rule->src)) < 0 ||
	    kilo_jsonval_set(r, "dst", kilo_jsonval_cidr(&rule->dst)) < 0 ||
	    kilo_jsonval_set(r, "table", json_integer(rule->table)) < 0 ||
	    kilo_jsonval_set(r, "iif", rule->iif[0] ? json_stringn(rule->iif, strnlen(rule->iif, KILO_IFNAMSIZ))
						    : json_null()) < 0) {
		json_decref(r);
		return NULL;
	}
	return r;
}

static json_t *nat_rule_json(const struct kilo_nat_rule *rule)
{
	json_t *r = json_object();
	char *text = NULL;

	if (!r || kilo_nat_rule_format(rule, &text, NULL) < 0)
		goto fail;
	if (kilo_jsonval_set(r, "list", json_string(rule->list == KILO_NAT_PREPEND ? "prepend" : "append")) < 0 ||
	    kilo_jsonval_set(r, "family", json_integer(rule->family)) < 0 ||
	    kilo_jsonval_set(r, "table", json_string(rule->table)) < 0 ||
	    kilo_jsonval_set(r, "chain", json_string(rule->chain)) < 0 ||
	    kilo_jsonval_set(r, "rule", json_string(text)) < 0)
		goto fail;
	kilo_free(text);
	return r;
fail:
	kilo_free(text);
	json_decref(r);
	return NULL;
}

static int add_routes(json_t *plan, const struct kilo_topology *t, const struct kilo_routes_opts *opts)
{
	struct kilo_route *routes = NULL;
	struct kilo_rule *rules = NULL;
	size_t n_routes = 0, n_rules = 0;
	json_t *route_list = json_array(), *rule_list = json_array();
	int r;

	r = kilo_topology_routes(t, opts, &routes, &n_routes, &rules, &n_rules, NULL);
	if (r < 0)
		goto out;
	r = route_list && rule_list ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < n_routes; i++)
		r = kilo_jsonval_append(route_list, route_json(&routes[i]));
	for (size_t i = 0; r == 0 && i < n_rules; i++)
		r = kilo_jsonval_append(rule_list, rule_json(&rules[i]));
	if (r == 0)
		r = kilo_jsonval_set(plan, "routes", json_incref(route_list));
	if (r == 0)
		r = kilo_jsonval_set(plan, "rules", json_incref(rule_list));
out:
	json_decref(route_list);
	json_decref(rule_list);
	kilo_free(routes);
	kilo_free(rules);
	return r;
}

static int add_nat_rules(json_t *plan, const struct kilo_topology *t, const struct kilo_nat_opts *opts)
{
	struct kilo_nat_rule *rules = NULL;
	size_t n_rules = 0;
	json_t *list = json_array();
	int r;

	r = kilo_topology_nat_rules(t, opts, &rules, &n_rules, NULL);
	if (r < 0)
		goto out;
	r = list ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < n_rules; i++)
		r = kilo_jsonval_append(list, nat_rule_json(&rules[i]));
	if (r == 0)
		r = kilo_jsonval_set(plan, "natRules", json_incref(list));
out:
	json_decref(list);
	kilo_free(rules);
	return r;
}

int kilo_plan_to_json(const kilo_topology *topology, const struct kilo_plan_opts *opts_in, char **out,
		      struct kilo_error *err)
{
	struct kilo_plan_opts opts;
	/* Without NAT options, the IPIP rules are Kilo's for the routes asked for. */
	struct kilo_nat_opts nat = { .sz = sizeof(nat) };
	json_t *plan;
	int r;

	if (!topology || !out)
		return kilo_error_set(err, EINVAL, "plan: %s is NULL", topology ? "out" : "topology");
	*out = NULL;
	r = KILO_OPTS_COPY(&opts, opts_in, kilo_plan_opts, err);
	if (r < 0)
		return r;
	if (!opts.nat) {
		nat.ipip_rules = kilo_topology_ipip_rules(topology, opts.routes);
		opts.nat = &nat;
	}
	plan = json_object();
	r = plan ? 0 : -ENOMEM;
	if (r == 0)
		r = kilo_jsonval_set(plan, "topology", kilo_topology_json(topology));
	if (r == 0)
		r = add_config(plan, topology);
	if (r == 0)
		r = add_routes(plan, topology, opts.routes);
	if (r == 0)
		r = add_nat_rules(plan, topology, opts.nat);
	if (r == 0)
		r = kilo_json_dump(plan, out);
	json_decref(plan);
	if (r < 0)
		return kilo_error_set(err, -r, "plan of node \"%s\": %s", topology->hostname, strerror(-r));
	return 0;
}
