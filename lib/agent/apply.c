/* SPDX-License-Identifier: Apache-2.0 */
/* One application of a node's plan to the host (Kilo's applyTopology). */
#include <kilo/agent.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../topology/model.h"

/* The options with their defaults filled in. */
static struct kilo_apply_opts with_defaults(const struct kilo_apply_opts *in)
{
	struct kilo_apply_opts opts = { .sz = sizeof(opts), .local = true, .encapsulate = KILO_ENCAPSULATE_ALWAYS,
					.cni = true, .create_interface = true, .clean_up_interface = true };

	if (in)
		memcpy(&opts, in, in->sz < sizeof(opts) ? in->sz : sizeof(opts));
	opts.sz = sizeof(opts);
	if (!opts.interface)
		opts.interface = KILO_DEFAULT_INTERFACE;
	if (!opts.tunnel_interface)
		opts.tunnel_interface = KILO_DEFAULT_TUNNEL;
	if (!opts.mtu)
		opts.mtu = KILO_DEFAULT_MTU;
	return opts;
}

/* The plan: everything computed and checked before the host is touched. */
struct plan {
	kilo_wg_config *config; /* leaders only */
	struct kilo_route *routes;
	size_t n_routes;
	struct kilo_rule *rules;
	size_t n_rules;
	struct kilo_nat_rule *nat;
	size_t n_nat;
	struct kilo_routes_opts routes_opts;
};

static void plan_free(struct plan *plan)
{
	kilo_wg_config_free(plan->config);
	kilo_free(plan->routes);
	kilo_free(plan->rules);
	kilo_free(plan->nat);
}

/*
 * The device must exist before its index can be routed to. Kilo creates
 * it, or with --create-interface=false only looks it up and stops there.
 */
static int ensure_device(kilo_wg *wg, const struct kilo_apply_opts *opts, struct kilo_apply_report *report,
			 struct kilo_error *err)
{
	struct kilo_error why = { 0 };
	kilo_wg_config *device = NULL;
	int r;

	if (opts->create_interface) {
		r = kilo_wg_device_create(wg, opts->interface, err);
		report->device_created = r > 0;
		return r > 0 ? 0 : r;
	}
	r = kilo_wg_device_get(wg, opts->interface, &device, &why);
	kilo_wg_config_free(device);
	if (r < 0)
		return kilo_error_set(err, ENODEV, "interface %s: no such WireGuard device, and create_interface is off (%s)",
				      opts->interface, why.code ? why.message : strerror(-r));
	return 0;
}

/* Kilo's tunnel: the first address of the local pod CIDR, and up. */
static int apply_tunnel(const struct kilo_topology *t, kilo_net *net, int ifindex, struct kilo_apply_report *report,
			struct kilo_error *err)
{
	struct kilo_link_opts up = { .sz = sizeof(up), .up = true };
	struct kilo_cidr first;
	int r;

	if (ifindex == 0 || t->subnet.addr.family == 0)
		return 0;
	r = kilo_wireguard_ip(&t->subnet, 0, &first);
	if (r < 0)
		return kilo_error_set(err, -r, "the pod CIDR has no address for the tunnel");
	first = kilo_cidr_host(&first.addr);
	r = kilo_net_addresses_sync(net, ifindex, &first, 1, &report->addresses, err);
	return r < 0 ? r : kilo_net_link_set(net, ifindex, &up, &report->link, err);
}

/* Links the routes name: the WireGuard device, the private interface, the tunnel. */
static int find_links(const struct kilo_topology *t, const struct kilo_apply_opts *opts, kilo_net *net,
		      struct kilo_routes_opts *routes, struct kilo_error *err)
{
	int r = kilo_net_link_index(net, opts->interface, &routes->wg_ifindex, err);

	if (r < 0 || t->private_ip.addr.family == 0)
		return r;
	r = kilo_net_address_link(&t->private_ip.addr, &routes->private_ifindex, err);
	if (r == 0 && t->secondary_private_ip.addr.family)
		r = kilo_net_address_link(&t->secondary_private_ip.addr, &routes->secondary_private_ifindex, err);
	if (r < 0)
		return r;
	/* Kilo encapsulates inside a location only where it routes there itself. */
	if (opts->local && opts->encapsulate != KILO_ENCAPSULATE_NEVER)
		r = kilo_net_ipip_create(net, opts->tunnel_interface, &routes->tunnel_ifindex, err);
	return r;
}

static int make_plan(const struct kilo_topology *t, const struct kilo_apply_opts *opts, struct plan *plan)
{
	struct kilo_nat_opts nat = {
		.sz = sizeof(nat),
		.cni = opts->cni,
		.forward_rules = opts->forward_rules,
		.ipip_rules = opts->local && opts->encapsulate != KILO_ENCAPSULATE_NEVER && t->private_ip.addr.family,
	};
	int r = 0;

	if (t->leader)
		r = kilo_topology_conf(t, &plan->config);
	if (r == 0)
		r = kilo_topology_routes(t, &plan->routes_opts, &plan->routes, &plan->n_routes, &plan->rules,
					 &plan->n_rules);
	if (r == 0)
		r = kilo_topology_nat_rules(t, &nat, &plan->nat, &plan->n_nat);
	return r;
}

/* The leader's device: its configuration, address and state up; other nodes' down. */
static int apply_device(const struct kilo_topology *t, const struct kilo_apply_opts *opts, kilo_wg *wg,
			kilo_net *net, const struct plan *plan, struct kilo_apply_report *report,
			struct kilo_error *err)
{
	struct kilo_link_opts link = { .sz = sizeof(link), .up = t->leader, .mtu = opts->mtu };
	struct kilo_wg_sync_report sync;
	int r = 0;

	if (t->leader) {
		r = kilo_wg_device_sync(wg, opts->interface, plan->config, &sync, err);
		report->wg_peers_changed = sync.peers_changed;
		report->wg_interface_changed = sync.interface_changed;
		report->wg_peers_added = sync.peers_added;
		report->wg_peers_removed = sync.peers_removed;
		report->wg_peers_updated = sync.peers_updated;
		if (r == 0)
			r = kilo_net_addresses_sync(net, plan->routes_opts.wg_ifindex, &t->wireguard_cidr, 1,
						    &report->addresses, err);
	}
	if (r == 0)
		r = kilo_net_link_set(net, plan->routes_opts.wg_ifindex, &link, &report->link, err);
	return r;
}

int kilo_apply(const kilo_topology *t, const struct kilo_apply_opts *opts_in, struct kilo_apply_report *report,
	       struct kilo_error *err)
{
	struct kilo_apply_opts opts = with_defaults(opts_in);
	struct plan plan = { 0 };
	kilo_wg *wg = NULL;
	kilo_net *net = NULL;
	int r;

	memset(report, 0, sizeof(*report));
	plan.routes_opts = (struct kilo_routes_opts){ .sz = sizeof(plan.routes_opts),
						       .local = opts.local,
						       .encapsulate = opts.encapsulate,
						       .compatibility = opts.compatibility,
						       .wg_interface = opts.interface };
	r = kilo_wg_open(&opts.wg, &wg, err);
	if (r == 0)
		r = kilo_net_open(&net, err);
	if (r == 0)
		r = ensure_device(wg, &opts, report, err);
	if (r == 0)
		r = find_links(t, &opts, net, &plan.routes_opts, err);
	if (r == 0) {
		r = make_plan(t, &opts, &plan);
		if (r < 0)
			kilo_error_set(err, -r, "computing the plan: %s", strerror(-r));
	}
	if (r == 0)
		r = kilo_net_nat_apply(net, plan.nat, plan.n_nat, err);
	if (r == 0)
		r = apply_tunnel(t, net, plan.routes_opts.tunnel_ifindex, report, err);
	if (r == 0)
		r = apply_device(t, &opts, wg, net, &plan, report, err);
	if (r == 0)
		r = kilo_net_routes_sync(net, plan.routes, plan.n_routes, &report->routes, err);
	if (r == 0)
		r = kilo_net_rules_sync(net, plan.rules, plan.n_rules, &report->rules, err);
	plan_free(&plan);
	kilo_net_close(net);
	kilo_wg_close(wg);
	return r;
}

int kilo_apply_clean_up(const struct kilo_apply_opts *opts_in, struct kilo_error *err)
{
	struct kilo_apply_opts opts = with_defaults(opts_in);
	kilo_wg *wg = NULL;
	kilo_net *net = NULL;
	int r;

	r = kilo_net_open(&net, err);
	if (r == 0)
		r = kilo_net_nat_remove(net, err);
	if (r == 0)
		r = kilo_net_routes_sync(net, NULL, 0, NULL, err);
	if (r == 0)
		r = kilo_net_rules_sync(net, NULL, 0, NULL, err);
	/* Kilo leaves its link, with its configuration, unless told to delete it. */
	if (r == 0 && opts.clean_up_interface)
		r = kilo_wg_open(&opts.wg, &wg, err);
	if (r == 0 && opts.clean_up_interface)
		r = kilo_wg_device_delete(wg, opts.interface, err);
	kilo_wg_close(wg);
	kilo_net_close(net);
	return r;
}
