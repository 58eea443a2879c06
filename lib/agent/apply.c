/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One application of a node's plan to the host (Kilo's applyTopology), all
 * or nothing: everything that can be checked is checked before the first
 * change, and a failure after it undoes what this application did
 * (apply_undo.c).
 */
#include "apply.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../core/opts.h"
#include "../core/wgconf.h"
#include "../topology/model.h"
#include "../net/saving.h"
#include "../wg/sync.h"

int kilo_apply_opts_read(const struct kilo_apply_opts *in, struct kilo_apply_opts *opts, struct kilo_error *err)
{
	int r = KILO_OPTS_COPY(opts, in, kilo_apply_opts, err);

	if (r < 0)
		return r;
	if (!opts->interface)
		opts->interface = KILO_DEFAULT_INTERFACE;
	if (!opts->tunnel_interface)
		opts->tunnel_interface = KILO_DEFAULT_TUNNEL;
	if (!opts->mtu)
		opts->mtu = KILO_DEFAULT_MTU;
	return 0;
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
	bool tunnel;         /* the plan routes through the IPIP tunnel */
	bool tunnel_missing; /* which does not exist yet */
	struct kilo_apply_memo *last; /* what the last successful apply sent, or NULL */
	struct kilo_apply_memo next;  /* the digests of this plan */
};

static void plan_free(struct plan *plan)
{
	kilo_wg_config_free(plan->config);
	kilo_free(plan->routes);
	kilo_free(plan->rules);
	kilo_free(plan->nat);
}

/*
 * The links the plan names: the private ones must exist; the WireGuard
 * device and the tunnel are looked up (index 0: this application creates
 * it), and with create_interface off the device must exist.
 */
static int find_links(const struct kilo_topology *t, const struct kilo_apply_opts *opts, kilo_net *net, kilo_wg *wg,
		      struct plan *plan, struct kilo_error *err)
{
	struct kilo_routes_opts *routes = &plan->routes_opts;
	struct kilo_error why = { 0 };
	kilo_wg_config *device = NULL;
	int r;

	if (opts->no_create_interface) {
		r = kilo_wg_device_get(wg, opts->interface, &device, &why);
		kilo_wg_config_free(device);
		if (r < 0)
			return kilo_error_set(err, ENODEV,
					      "interface %s: no such WireGuard device, and create_interface is off (%s)",
					      opts->interface, why.code ? why.message : strerror(-r));
	}
	r = kilo_net_link_index(net, opts->interface, &routes->wg_ifindex, &why);
	if (r < 0 && r != -ENODEV)
		return kilo_error_set(err, -r, "%s", why.message);
	if (t->private_ip.addr.family == 0)
		return 0;
	r = kilo_net_address_link(&t->private_ip.addr, &routes->private_ifindex, err);
	if (r == 0 && t->secondary_private_ip.addr.family)
		r = kilo_net_address_link(&t->secondary_private_ip.addr, &routes->secondary_private_ifindex, err);
	if (r < 0)
		return r;
	/* Kilo encapsulates inside a location only where it routes there itself. */
	plan->tunnel = !opts->no_local && opts->encapsulate != KILO_ENCAPSULATE_NEVER;
	if (!plan->tunnel)
		return 0;
	memset(&why, 0, sizeof(why));
	r = kilo_net_link_index(net, opts->tunnel_interface, &routes->tunnel_ifindex, &why);
	plan->tunnel_missing = r == -ENODEV;
	if (r < 0 && r != -ENODEV)
		return kilo_error_set(err, -r, "%s", why.message);
	return 0;
}

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

static int make_plan(const struct kilo_topology *t, const struct kilo_apply_opts *opts, struct plan *plan,
		     struct kilo_error *err)
{
	struct kilo_nat_opts nat = {
		.sz = sizeof(nat),
		.no_cni = opts->no_cni,
		.forward_rules = opts->forward_rules,
		.ipip_rules = kilo_topology_ipip_rules(t, &plan->routes_opts),
	};
	int r = 0;

	if (t->leader)
		r = kilo_topology_conf(t, &plan->config, err);
	if (r == 0)
		r = kilo_topology_nat_rules(t, &nat, &plan->nat, &plan->n_nat, err);
	if (r < 0)
		return r;
	if (t->leader && !plan->config->has_private_key)
		return kilo_error_set(err, EINVAL, "interface %s: the topology was solved without a private key",
				      opts->interface);
	drop_unresolved_endpoints(plan->config);
	/* Digest first: the NAT rules the last apply sent passed this check then. */
	kilo_apply_memo_nat(plan->nat, plan->n_nat, plan->next.nat);
	if (plan->last && memcmp(plan->last->nat, plan->next.nat, sizeof(plan->next.nat)) == 0)
		return 0;
	return kilo_net_nat_check(plan->nat, plan->n_nat, err);
}

/*
 * The routes and rules for the links' indices as they are now (0 for a
 * link still to be created), checked as the kernel will get them.
 */
static int make_routes(const struct kilo_topology *t, struct plan *plan, struct kilo_error *err)
{
	int r;

	kilo_free(plan->routes);
	kilo_free(plan->rules);
	r = kilo_topology_routes(t, &plan->routes_opts, &plan->routes, &plan->n_routes, &plan->rules,
				 &plan->n_rules, err);
	if (r < 0)
		return r;
	/* Digest first: the routes and rules the last apply sent passed these checks then. */
	kilo_apply_memo_routes(plan->routes, plan->n_routes, plan->next.routes);
	kilo_apply_memo_rules(plan->rules, plan->n_rules, plan->next.rules);
	if (!plan->last || memcmp(plan->last->routes, plan->next.routes, sizeof(plan->next.routes)))
		r = kilo_net_routes_check(plan->routes, plan->n_routes, err);
	if (r == 0 && (!plan->last || memcmp(plan->last->rules, plan->next.rules, sizeof(plan->next.rules))))
		r = kilo_net_rules_check(plan->rules, plan->n_rules, err);
	return r;
}

/* The device and the tunnel, where they do not exist yet; the first changes. */
static int create_links(const struct kilo_apply_opts *opts, kilo_net *net, kilo_wg *wg, struct plan *plan,
			struct kilo_apply_undo *undo, struct kilo_apply_report *report, struct kilo_error *err)
{
	int r = 0;

	if (!opts->no_create_interface) {
		r = kilo_wg_device_create(wg, opts->interface, err);
		report->device_created = undo->device_created = r > 0;
	}
	/* Named when missing: a userspace socket of another namespace's device says it exists. */
	if (r >= 0 && plan->routes_opts.wg_ifindex == 0)
		r = kilo_net_link_index(net, opts->interface, &plan->routes_opts.wg_ifindex, err);
	if (r >= 0 && plan->tunnel_missing) {
		r = kilo_net_ipip_create(net, opts->tunnel_interface, &plan->routes_opts.tunnel_ifindex, err);
		undo->tunnel_created = r == 0;
	}
	return r < 0 ? r : 0;
}

/* Kilo's tunnel: the first address of the local pod CIDR, and up. */
static int apply_tunnel(const struct kilo_topology *t, kilo_net *net, int ifindex, struct kilo_apply_report *report,
			struct kilo_error *err)
{
	struct kilo_link_opts up = { .sz = sizeof(up) };
	struct kilo_cidr first;
	int r;

	if (ifindex == 0 || t->subnet.addr.family == 0)
		return 0;
	r = kilo_wireguard_ip(&t->subnet, 0, &first, NULL);
	if (r < 0)
		return kilo_error_set(err, -r, "the pod CIDR has no address for the tunnel");
	first = kilo_cidr_host(&first.addr);
	r = kilo_net_addresses_sync(net, ifindex, &first, 1, &report->addresses, err);
	return r < 0 ? r : kilo_net_link_set(net, ifindex, &up, &report->link, err);
}

/* The leader's device: its configuration, address and state up; other nodes' down. */
static int apply_device(const struct kilo_topology *t, const struct kilo_apply_opts *opts, kilo_wg *wg,
			kilo_net *net, struct plan *plan, struct kilo_apply_undo *undo,
			struct kilo_apply_report *report, struct kilo_error *err)
{
	struct kilo_link_opts link = { .sz = sizeof(link), .down = !t->leader, .mtu = opts->mtu };
	struct kilo_wg_sync_report sync;
	int r = 0;

	if (t->leader) {
		/* The device this call created holds nothing yet; one created by someone else is read. */
		if (plan->last && !undo->device_created) {
			undo->device = plan->last->device;
			plan->last->device = NULL;
		}
		r = kilo_wg_device_sync_saving(wg, opts->interface, plan->config, &sync,
					       undo->device_created ? NULL : &undo->device, err);
		if (r == -EADDRINUSE)
			kilo_error_prefix(err, "listen port %u", plan->config->listen_port);
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

/* Every change, in order; the first failure stops them and is undone by the caller. */
static bool net_changed(const struct kilo_net_changes *c)
{
	return c->added || c->removed || c->replaced;
}

static bool links_changed(const struct kilo_apply_report *report)
{
	return report->device_created || net_changed(&report->link) || net_changed(&report->addresses);
}

static int change(const struct kilo_topology *t, const struct kilo_apply_opts *opts, kilo_wg *wg, kilo_net *net,
		  struct kilo_apply_memo *memo, struct plan *plan, struct kilo_apply_undo *undo,
		  struct kilo_apply_report *report, struct kilo_error *err)
{
	const struct kilo_apply_memo *last = plan->last;
	const struct kilo_apply_memo *next = &plan->next;
	int r = create_links(opts, net, wg, plan, undo, report, err);

	/* The routes name the links this call created by their new indices. */
	if (r == 0 && (undo->device_created || undo->tunnel_created))
		r = make_routes(t, plan, err);
	if (r == 0)
		r = apply_tunnel(t, net, plan->routes_opts.tunnel_ifindex, report, err);
	if (r == 0)
		r = apply_device(t, opts, wg, net, plan, undo, report, err);
	/*
	 * The kernel drops routes when a link goes down or loses the address
	 * they leave from: after such a change the host is compared whole.
	 */
	if (links_changed(report))
		last = NULL;
	/* A part that equals what the last successful apply sent is neither read back nor sent. */
	if (r == 0 && !(last && memcmp(last->routes, next->routes, sizeof(next->routes)) == 0))
		r = kilo_net_routes_sync_saving(net, plan->routes, plan->n_routes, &report->routes, &undo->routes,
						&undo->n_routes, err);
	if (r == 0 && !(last && memcmp(last->rules, next->rules, sizeof(next->rules)) == 0))
		r = kilo_net_rules_sync_saving(net, plan->rules, plan->n_rules, &report->rules, &undo->rules,
					       &undo->n_rules, err);
	/* Last: one transaction that applies whole or not at all, so nothing after it can fail. */
	if (r == 0 && !(last && memcmp(last->nat, next->nat, sizeof(next->nat)) == 0))
		r = kilo_net_nat_apply(net, plan->nat, plan->n_nat, err);
	if (r == 0 && memo) {
		/* What the device holds now: the plan's configuration. */
		kilo_apply_memo_reset(memo);
		*memo = *next;
		if (t->leader) {
			memo->device = plan->config;
			plan->config = NULL;
		}
	}
	return r;
}

int kilo_apply_with(const kilo_topology *t, const struct kilo_apply_opts *opts, kilo_wg *wg, kilo_net *net,
		    struct kilo_apply_memo *memo, struct kilo_apply_report *report, struct kilo_error *err)
{
	struct kilo_apply_undo undo = { 0 };
	struct plan plan = { 0 };
	int r;

	memset(report, 0, sizeof(*report));
	plan.routes_opts = (struct kilo_routes_opts){ .sz = sizeof(plan.routes_opts),
						       .no_local = opts->no_local,
						       .encapsulate = opts->encapsulate,
						       .compatibility = opts->compatibility,
						       .wg_interface = opts->interface };
	plan.last = memo && memo->valid ? memo : NULL;
	plan.next.valid = true;
	r = find_links(t, opts, net, wg, &plan, err);
	if (r == 0)
		r = make_plan(t, opts, &plan, err);
	if (r == 0)
		r = make_routes(t, &plan, err);
	if (r == 0) {
		r = change(t, opts, wg, net, memo, &plan, &undo, report, err);
		if (r < 0) {
			kilo_apply_undo_run(opts, wg, net, &undo, err);
			memset(report, 0, sizeof(*report));
		}
	}
	/* What the host holds now is unknown to the memo: the next apply compares everything. */
	if (r < 0 && memo)
		kilo_apply_memo_reset(memo);
	kilo_apply_undo_free(&undo);
	plan_free(&plan);
	return r;
}

int kilo_apply(const kilo_topology *t, const struct kilo_apply_opts *opts_in, struct kilo_apply_report *report,
	       struct kilo_error *err)
{
	struct kilo_apply_opts opts;
	kilo_wg *wg = NULL;
	kilo_net *net = NULL;
	int r;

	memset(report, 0, sizeof(*report));
	r = kilo_apply_opts_read(opts_in, &opts, err);
	if (r == 0)
		r = kilo_wg_open(opts.wg, &wg, err);
	if (r == 0)
		r = kilo_net_open(&net, err);
	if (r == 0)
		r = kilo_apply_with(t, &opts, wg, net, NULL, report, err);
	kilo_net_close(net);
	kilo_wg_close(wg);
	return r;
}

void kilo_apply_memo_reset(struct kilo_apply_memo *memo)
{
	kilo_wg_config_free(memo->device);
	memset(memo, 0, sizeof(*memo));
}

int kilo_apply_clean_up_with(const struct kilo_apply_opts *opts, kilo_wg *wg, kilo_net *net,
			     struct kilo_error *err)
{
	kilo_wg *own = NULL;
	int r;

	r = kilo_net_nat_remove(net, err);
	if (r == 0)
		r = kilo_net_routes_sync(net, NULL, 0, NULL, err);
	if (r == 0)
		r = kilo_net_rules_sync(net, NULL, 0, NULL, err);
	/* Kilo leaves its link, with its configuration, unless told to delete it. */
	if (r == 0 && opts->clean_up_interface && !wg) {
		r = kilo_wg_open(opts->wg, &own, err);
		wg = own;
	}
	if (r == 0 && opts->clean_up_interface)
		r = kilo_wg_device_delete(wg, opts->interface, err);
	kilo_wg_close(own);
	return r;
}

int kilo_apply_clean_up(const struct kilo_apply_opts *opts_in, struct kilo_error *err)
{
	struct kilo_apply_opts opts;
	kilo_net *net = NULL;
	int r;

	r = kilo_apply_opts_read(opts_in, &opts, err);
	if (r == 0)
		r = kilo_net_open(&net, err);
	if (r == 0)
		r = kilo_apply_clean_up_with(&opts, NULL, net, err);
	kilo_net_close(net);
	return r;
}
