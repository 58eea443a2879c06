/* SPDX-License-Identifier: Apache-2.0 */
/* A node's plan: what a topology asks of its host, for an applier or a reader. */
#include <kilo/plan.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../core/opts.h"
#include "../core/wgconf.h"
#include "model.h"

struct kilo_plan {
	const struct kilo_topology *topology; /* outlives the plan; the routes are solved from it */
	struct kilo_routes_opts routes_opts;  /* wg_interface points at interface */
	char *interface;
	kilo_wg_config *config; /* leaders only */
	struct kilo_nat_rule *nat;
	size_t n_nat;
};

/*
 * A peer's endpoint that is still a DNS name cannot be given to a device
 * (both the kernel and UAPI take addresses): the peer is configured
 * without it until a resolver puts an address in its place, rather than
 * failing the whole application for one peer.
 */
static void drop_unresolved_endpoints(kilo_wg_config *config)
{
	for (size_t i = 0; config && i < config->n_peers; i++) {
		struct kilo_endpoint *ep = &config->peers[i].endpoint;

		*ep = (struct kilo_endpoint){ .addr = ep->addr, .port = ep->addr.family ? ep->port : 0 };
	}
}

static int read_opts(const struct kilo_topology *t, const struct kilo_plan_opts *in, struct kilo_plan *plan,
		     struct kilo_nat_opts *nat, struct kilo_error *err)
{
	struct kilo_plan_opts opts;
	int r = KILO_OPTS_COPY(&opts, in, kilo_plan_opts, err);

	if (r == 0)
		r = KILO_OPTS_COPY(&plan->routes_opts, opts.routes, kilo_routes_opts, err);
	if (r == 0)
		r = KILO_OPTS_COPY(nat, opts.nat, kilo_nat_opts, err);
	if (r < 0)
		return r;
	if (!opts.nat)
		nat->ipip_rules = kilo_topology_ipip_rules(t, &plan->routes_opts);
	/* The links are the applier's to find. */
	plan->routes_opts.wg_ifindex = plan->routes_opts.private_ifindex = 0;
	plan->routes_opts.tunnel_ifindex = plan->routes_opts.secondary_private_ifindex = 0;
	plan->interface = strdup(plan->routes_opts.wg_interface ? plan->routes_opts.wg_interface
								: KILO_DEFAULT_INTERFACE);
	if (!plan->interface)
		return kilo_error_set(err, ENOMEM, "plan: out of memory");
	plan->routes_opts.wg_interface = plan->interface;
	return 0;
}

int kilo_plan_new(const kilo_topology *t, const struct kilo_plan_opts *opts, kilo_plan **out, struct kilo_error *err)
{
	struct kilo_nat_opts nat;
	kilo_plan *plan;
	int r;

	if (!t || !out)
		return kilo_error_set(err, EINVAL, "plan: %s is NULL", t ? "out" : "topology");
	*out = NULL;
	plan = calloc(1, sizeof(*plan));
	if (!plan)
		return kilo_error_set(err, ENOMEM, "plan: out of memory");
	plan->topology = t;
	r = read_opts(t, opts, plan, &nat, err);
	if (r == 0 && t->leader)
		r = kilo_topology_conf(t, &plan->config, err);
	if (r == 0)
		r = kilo_topology_nat_rules(t, &nat, &plan->nat, &plan->n_nat, err);
	if (r < 0) {
		kilo_plan_free(plan);
		return r;
	}
	drop_unresolved_endpoints(plan->config);
	*out = plan;
	return 0;
}

void kilo_plan_free(kilo_plan *plan)
{
	if (!plan)
		return;
	kilo_wg_config_free(plan->config);
	kilo_free(plan->nat);
	free(plan->interface);
	free(plan);
}

bool kilo_plan_is_leader(const kilo_plan *plan)
{
	return plan && plan->topology->leader;
}

const char *kilo_plan_interface(const kilo_plan *plan)
{
	return plan ? plan->interface : NULL;
}

const kilo_wg_config *kilo_plan_wg_config(const kilo_plan *plan)
{
	return plan ? plan->config : NULL;
}

/* *out = *cidr when plan has one (family not 0); else zero. */
static bool cidr_out(const kilo_plan *plan, const struct kilo_cidr *cidr, struct kilo_cidr *out)
{
	bool set = plan && cidr->addr.family != 0;

	*out = set ? *cidr : (struct kilo_cidr){ 0 };
	return set;
}

static const struct kilo_cidr none;

bool kilo_plan_wireguard_ip(const kilo_plan *plan, struct kilo_cidr *out)
{
	/* A follower's wireguard_cidr is the pool, which is no address of its own. */
	return cidr_out(plan, kilo_plan_is_leader(plan) ? &plan->topology->wireguard_cidr : &none, out);
}

bool kilo_plan_private_ip(const kilo_plan *plan, struct kilo_cidr *out)
{
	return cidr_out(plan, plan ? &plan->topology->private_ip : &none, out);
}

bool kilo_plan_secondary_private_ip(const kilo_plan *plan, struct kilo_cidr *out)
{
	return cidr_out(plan, plan ? &plan->topology->secondary_private_ip : &none, out);
}

bool kilo_plan_pod_cidr(const kilo_plan *plan, struct kilo_cidr *out)
{
	return cidr_out(plan, plan ? &plan->topology->subnet : &none, out);
}

bool kilo_plan_needs_tunnel(const kilo_plan *plan)
{
	return plan && plan->topology->private_ip.addr.family != 0 && !plan->routes_opts.no_local &&
	       plan->routes_opts.encapsulate != KILO_ENCAPSULATE_NEVER;
}

const struct kilo_nat_rule *kilo_plan_nat_rules(const kilo_plan *plan, size_t *n)
{
	if (n)
		*n = plan ? plan->n_nat : 0;
	return plan ? plan->nat : NULL;
}

int kilo_plan_routes(const kilo_plan *plan, const struct kilo_plan_links *links, struct kilo_route **routes,
		     size_t *n_routes, struct kilo_rule **rules, size_t *n_rules, struct kilo_error *err)
{
	struct kilo_routes_opts opts;

	if (!plan || !routes || !n_routes || !rules || !n_rules)
		return kilo_error_set(err, EINVAL, "plan routes: %s is NULL", !plan ? "plan" : "an output");
	opts = plan->routes_opts;
	if (links) {
		opts.wg_ifindex = links->wireguard;
		opts.private_ifindex = links->private_ip;
		opts.secondary_private_ifindex = links->secondary_private_ip;
		opts.tunnel_ifindex = links->tunnel;
	}
	return kilo_topology_routes(plan->topology, &opts, routes, n_routes, rules, n_rules, err);
}
