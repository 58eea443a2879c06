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

int kilo_apply_plan_new(const kilo_topology *t, const struct kilo_apply_opts *opts, kilo_plan **out,
			struct kilo_error *err)
{
	struct kilo_routes_opts routes = { .sz = sizeof(routes),
					   .no_local = opts->no_local,
					   .encapsulate = opts->encapsulate,
					   .compatibility = opts->compatibility,
					   .wg_interface = opts->interface };
	struct kilo_nat_opts nat = {
		.sz = sizeof(nat),
		.no_cni = opts->no_cni,
		.forward_rules = opts->forward_rules,
		.ipip_rules = kilo_topology_ipip_rules(t, &routes),
	};
	struct kilo_plan_opts plan = { .sz = sizeof(plan), .routes = &routes, .nat = &nat };

	return kilo_plan_new(t, &plan, out, err);
}

/* One application of a plan: its parts for the links as they are now, checked before the host is touched. */
struct application {
	const kilo_plan *plan;
	const kilo_wg_config *config; /* the plan's; leaders only */
	kilo_wg_config *memo_device;  /* a copy of config for the memo, made before the first change */
	struct kilo_route *routes;
	size_t n_routes;
	struct kilo_rule *rules;
	size_t n_rules;
	struct kilo_plan_links links;
	bool tunnel_missing; /* the plan needs the tunnel, which does not exist yet */
	struct kilo_apply_memo *last; /* what the last successful apply sent, or NULL */
	struct kilo_apply_memo next;  /* the digests of this plan */
};

static void application_free(struct application *app)
{
	kilo_wg_config_free(app->memo_device);
	kilo_free(app->routes);
	kilo_free(app->rules);
}

/*
 * The links the plan names: the private ones must exist; the WireGuard
 * device and the tunnel are looked up (index 0: this application creates
 * it), and with create_interface off the device must exist.
 */
static int find_links(const struct kilo_apply_opts *opts, kilo_net *net, kilo_wg *wg, struct application *app,
		      struct kilo_error *err)
{
	struct kilo_plan_links *links = &app->links;
	struct kilo_error why = { 0 };
	kilo_wg_config *device = NULL;
	struct kilo_cidr private_ip, secondary_private_ip;
	int r;

	if (opts->no_create_interface) {
		r = kilo_wg_device_get(wg, opts->interface, &device, &why);
		kilo_wg_config_free(device);
		if (r < 0)
			return kilo_error_set(err, ENODEV,
					      "interface %s: no such WireGuard device, and create_interface is off (%s)",
					      opts->interface, why.code ? why.message : strerror(-r));
	}
	r = kilo_net_link_index(net, opts->interface, &links->wireguard, &why);
	if (r < 0 && r != -ENODEV)
		return kilo_error_set(err, -r, "%s", why.message);
	if (!kilo_plan_private_ip(app->plan, &private_ip))
		return 0;
	r = kilo_net_address_link(&private_ip.addr, &links->private_ip, err);
	if (r == 0 && kilo_plan_secondary_private_ip(app->plan, &secondary_private_ip))
		r = kilo_net_address_link(&secondary_private_ip.addr, &links->secondary_private_ip, err);
	if (r < 0 || !kilo_plan_needs_tunnel(app->plan))
		return r;
	memset(&why, 0, sizeof(why));
	r = kilo_net_link_index(net, opts->tunnel_interface, &links->tunnel, &why);
	app->tunnel_missing = r == -ENODEV;
	if (r < 0 && r != -ENODEV)
		return kilo_error_set(err, -r, "%s", why.message);
	return 0;
}

/* What can be checked of the plan itself: the private key, and the NAT rules as the kernel will get them. */
static int check_plan(const struct kilo_apply_opts *opts, struct application *app, bool memo,
		      struct kilo_error *err)
{
	size_t n_nat;
	const struct kilo_nat_rule *nat = kilo_plan_nat_rules(app->plan, &n_nat);

	if (app->config && !app->config->has_private_key)
		return kilo_error_set(err, EINVAL, "interface %s: the topology was solved without a private key",
				      opts->interface);
	if (app->config && memo) {
		app->memo_device = kilo_wg_config_copy(app->config);
		if (!app->memo_device)
			return kilo_error_set(err, ENOMEM, "interface %s: out of memory", opts->interface);
	}
	/* Digest first: the NAT rules the last apply sent passed this check then. */
	kilo_apply_memo_nat(nat, n_nat, app->next.nat);
	if (app->last && memcmp(app->last->nat, app->next.nat, sizeof(app->next.nat)) == 0)
		return 0;
	return kilo_net_nat_check(nat, n_nat, err);
}

/*
 * The routes and rules for the links' indices as they are now (0 for a
 * link still to be created), checked as the kernel will get them.
 */
static int make_routes(struct application *app, struct kilo_error *err)
{
	int r;

	kilo_free(app->routes);
	kilo_free(app->rules);
	r = kilo_plan_routes(app->plan, &app->links, &app->routes, &app->n_routes, &app->rules, &app->n_rules, err);
	if (r < 0)
		return r;
	/* Digest first: the routes and rules the last apply sent passed these checks then. */
	kilo_apply_memo_routes(app->routes, app->n_routes, app->next.routes);
	kilo_apply_memo_rules(app->rules, app->n_rules, app->next.rules);
	if (!app->last || memcmp(app->last->routes, app->next.routes, sizeof(app->next.routes)))
		r = kilo_net_routes_check(app->routes, app->n_routes, err);
	if (r == 0 && (!app->last || memcmp(app->last->rules, app->next.rules, sizeof(app->next.rules))))
		r = kilo_net_rules_check(app->rules, app->n_rules, err);
	return r;
}

/* The device and the tunnel, where they do not exist yet; the first changes. */
static int create_links(const struct kilo_apply_opts *opts, kilo_net *net, kilo_wg *wg, struct application *app,
			struct kilo_apply_undo *undo, struct kilo_apply_report *report, struct kilo_error *err)
{
	int r = 0;

	if (!opts->no_create_interface) {
		r = kilo_wg_device_create(wg, opts->interface, err);
		report->device_created = undo->device_created = r > 0;
	}
	/* Named when missing: a userspace socket of another namespace's device says it exists. */
	if (r >= 0 && app->links.wireguard == 0)
		r = kilo_net_link_index(net, opts->interface, &app->links.wireguard, err);
	if (r >= 0 && app->tunnel_missing) {
		r = kilo_net_ipip_create(net, opts->tunnel_interface, &app->links.tunnel, err);
		undo->tunnel_created = r == 0;
	}
	return r < 0 ? r : 0;
}

/* Kilo's tunnel: the first address of the local pod CIDR, and up. */
static int apply_tunnel(const kilo_plan *plan, kilo_net *net, int ifindex, struct kilo_apply_report *report,
			struct kilo_error *err)
{
	struct kilo_link_opts up = { .sz = sizeof(up) };
	struct kilo_cidr pod_cidr, first;
	int r;

	if (ifindex == 0 || !kilo_plan_pod_cidr(plan, &pod_cidr))
		return 0;
	r = kilo_wireguard_ip(&pod_cidr, 0, &first, NULL);
	if (r < 0)
		return kilo_error_set(err, -r, "the pod CIDR has no address for the tunnel");
	first = kilo_cidr_host(&first.addr);
	r = kilo_net_addresses_sync(net, ifindex, &first, 1, &report->addresses, err);
	return r < 0 ? r : kilo_net_link_set(net, ifindex, &up, &report->link, err);
}

/* The leader's device: its configuration, address and state up; other nodes' down. */
static int apply_device(const struct kilo_apply_opts *opts, kilo_wg *wg, kilo_net *net, struct application *app,
			struct kilo_apply_undo *undo, struct kilo_apply_report *report, struct kilo_error *err)
{
	struct kilo_link_opts link = { .sz = sizeof(link), .down = !app->config, .mtu = opts->mtu };
	struct kilo_wg_sync_report sync;
	struct kilo_cidr address;
	int r = 0;

	if (app->config) {
		/* The device this call created holds nothing yet; one created by someone else is read. */
		if (app->last && !undo->device_created) {
			undo->device = app->last->device;
			app->last->device = NULL;
		}
		r = kilo_wg_device_sync_saving(wg, opts->interface, app->config, &sync,
					       undo->device_created ? NULL : &undo->device, err);
		if (r == -EADDRINUSE)
			kilo_error_prefix(err, "listen port %u", app->config->listen_port);
		report->wg_peers_changed = sync.peers_changed;
		report->wg_interface_changed = sync.interface_changed;
		report->wg_peers_added = sync.peers_added;
		report->wg_peers_removed = sync.peers_removed;
		report->wg_peers_updated = sync.peers_updated;
		kilo_plan_wireguard_ip(app->plan, &address);
		if (r == 0)
			r = kilo_net_addresses_sync(net, app->links.wireguard, &address, 1, &report->addresses, err);
	}
	if (r == 0)
		r = kilo_net_link_set(net, app->links.wireguard, &link, &report->link, err);
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

static int change(const struct kilo_apply_opts *opts, kilo_wg *wg, kilo_net *net, struct kilo_apply_memo *memo,
		  struct application *app, struct kilo_apply_undo *undo, struct kilo_apply_report *report,
		  struct kilo_error *err)
{
	const struct kilo_apply_memo *last = app->last;
	const struct kilo_apply_memo *next = &app->next;
	size_t n_nat;
	const struct kilo_nat_rule *nat = kilo_plan_nat_rules(app->plan, &n_nat);
	int r = create_links(opts, net, wg, app, undo, report, err);

	/* The routes name the links this call created by their new indices. */
	if (r == 0 && (undo->device_created || undo->tunnel_created))
		r = make_routes(app, err);
	if (r == 0)
		r = apply_tunnel(app->plan, net, app->links.tunnel, report, err);
	if (r == 0)
		r = apply_device(opts, wg, net, app, undo, report, err);
	/*
	 * The kernel drops routes when a link goes down or loses the address
	 * they leave from: after such a change the host is compared whole.
	 */
	if (links_changed(report))
		last = NULL;
	/* A part that equals what the last successful apply sent is neither read back nor sent. */
	if (r == 0 && !(last && memcmp(last->routes, next->routes, sizeof(next->routes)) == 0))
		r = kilo_net_routes_sync_saving(net, app->routes, app->n_routes, &report->routes, &undo->routes,
						&undo->n_routes, err);
	if (r == 0 && !(last && memcmp(last->rules, next->rules, sizeof(next->rules)) == 0))
		r = kilo_net_rules_sync_saving(net, app->rules, app->n_rules, &report->rules, &undo->rules,
					       &undo->n_rules, err);
	/* Last: one transaction that applies whole or not at all, so nothing after it can fail. */
	if (r == 0 && !(last && memcmp(last->nat, next->nat, sizeof(next->nat)) == 0))
		r = kilo_net_nat_apply(net, nat, n_nat, err);
	if (r == 0 && memo) {
		/* What the device holds now: the plan's configuration. */
		kilo_apply_memo_reset(memo);
		*memo = *next;
		memo->device = app->memo_device;
		app->memo_device = NULL;
	}
	return r;
}

int kilo_apply_plan_with(const kilo_plan *plan, const struct kilo_apply_opts *opts, kilo_wg *wg, kilo_net *net,
			 struct kilo_apply_memo *memo, struct kilo_apply_report *report, struct kilo_error *err)
{
	struct kilo_apply_undo undo = { 0 };
	struct application app = { .plan = plan, .config = kilo_plan_wg_config(plan) };
	int r;

	memset(report, 0, sizeof(*report));
	if (!plan)
		return kilo_error_set(err, EINVAL, "apply: plan is NULL");
	/* The rules name the WireGuard link: a plan for another one would route past this device. */
	if (strcmp(kilo_plan_interface(plan), opts->interface) != 0)
		return kilo_error_set(err, EINVAL, "plan: made for interface %s, applied to %s",
				      kilo_plan_interface(plan), opts->interface);
	app.last = memo && memo->valid ? memo : NULL;
	app.next.valid = true;
	r = find_links(opts, net, wg, &app, err);
	if (r == 0)
		r = check_plan(opts, &app, memo != NULL, err);
	if (r == 0)
		r = make_routes(&app, err);
	if (r == 0) {
		r = change(opts, wg, net, memo, &app, &undo, report, err);
		if (r < 0) {
			kilo_apply_undo_run(opts, wg, net, &undo, err);
			memset(report, 0, sizeof(*report));
		}
	}
	/* What the host holds now is unknown to the memo: the next apply compares everything. */
	if (r < 0 && memo)
		kilo_apply_memo_reset(memo);
	kilo_apply_undo_free(&undo);
	application_free(&app);
	return r;
}

int kilo_apply(const kilo_topology *t, const struct kilo_apply_opts *opts_in, struct kilo_apply_report *report,
	       struct kilo_error *err)
{
	struct kilo_apply_opts opts;
	kilo_plan *plan = NULL;
	kilo_wg *wg = NULL;
	kilo_net *net = NULL;
	int r;

	memset(report, 0, sizeof(*report));
	r = kilo_apply_opts_read(opts_in, &opts, err);
	if (r == 0)
		r = kilo_apply_plan_new(t, &opts, &plan, err);
	if (r == 0)
		r = kilo_wg_open(opts.wg, &wg, err);
	if (r == 0)
		r = kilo_net_open(&net, err);
	if (r == 0)
		r = kilo_apply_plan_with(plan, &opts, wg, net, NULL, report, err);
	kilo_plan_free(plan);
	kilo_net_close(net);
	kilo_wg_close(wg);
	return r;
}

void kilo_apply_memo_reset(struct kilo_apply_memo *memo)
{
	kilo_wg_config_free(memo->device);
	memset(memo, 0, sizeof(*memo));
}

/* Every step runs, also after one failed, so that one stuck route does not leave the device behind. */
int kilo_apply_clean_up_with(const struct kilo_apply_opts *opts, kilo_wg *wg, kilo_net *net,
			     struct kilo_error *err)
{
	struct kilo_error step = { 0 }, first = { 0 };
	kilo_wg *own = NULL;

	kilo_apply_keep_first(kilo_net_nat_remove(net, &step), &step, &first);
	kilo_apply_keep_first(kilo_net_routes_sync(net, NULL, 0, NULL, &step), &step, &first);
	kilo_apply_keep_first(kilo_net_rules_sync(net, NULL, 0, NULL, &step), &step, &first);
	/* Kilo leaves its link, with its configuration, unless told to delete it. */
	if (opts->clean_up_interface && !wg) {
		kilo_apply_keep_first(kilo_wg_open(opts->wg, &own, &step), &step, &first);
		wg = own;
	}
	if (opts->clean_up_interface && wg)
		kilo_apply_keep_first(kilo_wg_device_delete(wg, opts->interface, &step), &step, &first);
	kilo_wg_close(own);
	if (first.code == 0)
		return 0;
	if (err)
		*err = first;
	return -first.code;
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
