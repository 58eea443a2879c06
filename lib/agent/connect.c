/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kgctl connect (kilo-reference.md §3.3): this machine joins the mesh as a
 * VPN peer. It adds itself to the store, runs a WireGuard device with the
 * peer's view of the mesh (PeerConf) and routes the mesh's networks into it.
 */
#include "internal.h"

#include <kilo/agent.h>
#include <kilo/store.h>

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/arena.h"
#include "../core/error.h"
#include "../core/opts.h"
#include "../core/wgconf.h"
#include "../mesh/model.h"
#include "../store/store.h"

struct kilo_connect {
	const char *peer_name;
	const char *interface;
	struct kilo_cidr address;       /* the allowed IP, masked as Kilo's flag parser does */
	struct kilo_cidr *extra;        /* --allowed-ips */
	size_t n_extra;
	uint16_t port;
	uint32_t window;
	int64_t resync_ms;
	int64_t next_resync;            /* monotonic milliseconds; 0: at the next step */
	bool clean_up;
	bool device_made;
	struct kilo_key private_key, public_key;
	kilo_store *store;
	kilo_wg *wg;
	kilo_net *net;
	struct kilo_arena arena;        /* copies of the option strings */
};

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool mesh_has_peer(const struct kilo_mesh *mesh, const char *name)
{
	for (size_t i = 0; i < mesh->n_peers; i++)
		if (!strcmp(mesh->peers[i].name, name))
			return true;
	return false;
}

/* Kilo creates the peer only when it is missing, and leaves an existing one as it is. */
static int ensure_peer(kilo_connect *c, uint32_t keepalive, struct kilo_error *err)
{
	char key[KILO_KEY_B64_LEN + 1], ip[KILO_CIDR_STRLEN];
	kilo_mesh *mesh = NULL;
	json_t *o;
	char *text;
	bool present;
	int r;

	r = kilo_store_load(c->store, NULL, &mesh, NULL, err);
	if (r < 0)
		return r;
	present = mesh_has_peer(mesh, c->peer_name);
	kilo_mesh_free(mesh);
	if (present)
		return 0;
	kilo_key_format(&c->public_key, key);
	kilo_cidr_format(&c->address, ip);
	o = json_pack("{s:s, s:s, s:[s]}", "name", c->peer_name, "publicKey", key, "allowedIPs", ip);
	if (o && keepalive && json_object_set_new(o, "persistentKeepalive", json_integer(keepalive)) < 0) {
		json_decref(o);
		o = NULL;
	}
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return kilo_error_set(err, ENOMEM, "peer %s: out of memory", c->peer_name);
	/* Created only if still missing: another connect of the same name may have come first. */
	r = kilo_store_put_if(c->store, KILO_STORE_PEER, text, 0, err);
	free(text);
	if (r == -EAGAIN && err)
		memset(err, 0, sizeof(*err));
	return r == -EAGAIN ? 0 : r;
}

/* The device with the peer's address and MTU, up. */
static int make_device(kilo_connect *c, uint32_t mtu, struct kilo_error *err)
{
	struct kilo_link_opts link = { .sz = sizeof(link), .mtu = mtu ? mtu : KILO_DEFAULT_MTU };
	int ifindex, r;

	r = kilo_wg_device_create(c->wg, c->interface, err);
	if (r < 0)
		return r;
	c->device_made = true;
	r = kilo_net_link_index(c->net, c->interface, &ifindex, err);
	if (r == 0)
		r = kilo_net_addresses_sync(c->net, ifindex, &c->address, 1, NULL, err);
	if (r == 0)
		r = kilo_net_link_set(c->net, ifindex, &link, NULL, err);
	return r;
}

/*
 * Kilo takes the WireGuard subnet from the first node that publishes a
 * WireGuard IP: a peer cannot know the agents' --subnet otherwise.
 */
static int adopt_subnet(struct kilo_mesh *mesh, struct kilo_error *err)
{
	for (size_t i = 0; i < mesh->n_nodes; i++) {
		if (mesh->nodes[i].wireguard_ip.addr.family) {
			mesh->settings.subnet = kilo_cidr_masked(&mesh->nodes[i].wireguard_ip);
			return 0;
		}
	}
	return kilo_error_set(err, ENOENT, "did not find a valid Kilo subnet on any node");
}

/* PeerConf with our key and port, and the extra networks behind the first segment. */
static int desired_config(kilo_connect *c, const kilo_topology *t, kilo_wg_config **out, struct kilo_error *err)
{
	kilo_wg_config *conf = NULL;
	int r;

	r = kilo_topology_peer_conf(t, c->peer_name, &conf, err);
	if (r < 0)
		return r;
	conf->has_interface = true;
	conf->has_private_key = true;
	conf->private_key = c->private_key;
	conf->has_listen_port = true;
	conf->listen_port = c->port;
	for (size_t i = 0; i < c->n_extra && conf->n_peers && r == 0; i++) {
		struct kilo_wg_peer *first = &conf->peers[0];
		bool known = false;

		for (size_t j = 0; j < first->n_allowed_ips && !known; j++)
			known = kilo_cidr_equal(&first->allowed_ips[j], &c->extra[i]);
		if (!known)
			r = kilo_wg_peer_add_allowed_ip(conf, first, &c->extra[i]);
	}
	if (r < 0) {
		kilo_wg_config_free(conf);
		return kilo_error_set(err, -r, "peer %s: out of memory", c->peer_name);
	}
	*out = conf;
	return 0;
}

/* One sync of the device and the routes with the mesh as the store holds it now. */
static int sync_mesh(kilo_connect *c, struct kilo_error *err)
{
	struct kilo_solve_opts solve = {
		.sz = sizeof(solve),
		.now = (int64_t)time(NULL),
		.ready_window = c->window,
	};
	struct kilo_route *routes = NULL;
	kilo_topology *t = NULL;
	kilo_wg_config *conf = NULL;
	kilo_mesh *mesh = NULL;
	size_t n_routes = 0;
	int ifindex, r;

	r = kilo_store_load(c->store, NULL, &mesh, NULL, err);
	if (r < 0)
		return r;
	r = adopt_subnet(mesh, err);
	if (r == 0)
		r = kilo_topology_solve(mesh, &solve, &t, err);
	if (r == 0 && kilo_topology_segment_count(t) == 0)
		r = kilo_error_set(err, ENOENT, "did not find any valid Kilo nodes in the store");
	if (r == 0)
		r = desired_config(c, t, &conf, err);
	if (r == 0)
		r = kilo_wg_device_sync(c->wg, c->interface, conf, NULL, err);
	if (r == 0)
		r = kilo_net_link_index(c->net, c->interface, &ifindex, err);
	if (r == 0)
		r = kilo_topology_peer_routes(t, c->peer_name, ifindex, c->extra, c->n_extra, &routes, &n_routes, err);
	if (r == 0)
		r = kilo_net_routes_sync(c->net, routes, n_routes, NULL, err);
	kilo_free(routes);
	kilo_wg_config_free(conf);
	kilo_topology_free(t);
	kilo_mesh_free(mesh);
	return r;
}

static int copy_options(kilo_connect *c, const struct kilo_connect_opts *o, struct kilo_error *err)
{
	const char *allowed_ip = o->allowed_ip ? o->allowed_ip : KILO_CONNECT_DEFAULT_ALLOWED_IP;

	int r = kilo_cidr_parse(allowed_ip, &c->address, NULL);

	if (r < 0)
		return kilo_error_set(err, EINVAL, "allowed-ip: \"%s\" is %s", allowed_ip, kilo_addr_refusal(r, "not a CIDR"));
	c->address = kilo_cidr_masked(&c->address);
	c->peer_name = kilo_arena_strdup(&c->arena, o->peer_name);
	c->interface = kilo_arena_strdup(&c->arena, o->interface ? o->interface : KILO_DEFAULT_INTERFACE);
	if (o->n_allowed_ips) {
		c->extra = kilo_arena_array(&c->arena, o->n_allowed_ips, sizeof(*c->extra));
		if (c->extra)
			memcpy(c->extra, o->allowed_ips, o->n_allowed_ips * sizeof(*c->extra));
		c->n_extra = o->n_allowed_ips;
	}
	if (!c->peer_name || !c->interface || (o->n_allowed_ips && !c->extra))
		return kilo_error_set(err, ENOMEM, "connect: out of memory");
	c->port = o->port ? o->port : KILO_DEFAULT_PORT;
	c->window = o->ready_window ? o->ready_window : KILO_DEFAULT_READY_WINDOW;
	c->resync_ms = 1000 * (int64_t)(o->resync_period ? o->resync_period : KILO_DEFAULT_RESYNC_PERIOD);
	c->clean_up = !o->no_clean_up;
	return 0;
}

int kilo_connect_new(const struct kilo_connect_opts *opts_in, kilo_connect **out, struct kilo_error *err)
{
	struct kilo_connect_opts opts;
	uint32_t keepalive;
	kilo_connect *c;
	int r;

	*out = NULL;
	r = KILO_OPTS_COPY(&opts, opts_in, kilo_connect_opts, err);
	if (r < 0)
		return r;
	keepalive = opts.no_keepalive ? 0 : opts.persistent_keepalive ? opts.persistent_keepalive
								    : KILO_CONNECT_DEFAULT_KEEPALIVE;
	if (!opts.store || !opts.peer_name || !*opts.peer_name || !opts.key_path)
		return kilo_error_set(err, EINVAL, "connect: %s is required",
				      !opts.store ? "store" : !opts.key_path ? "key_path" : "peer_name");
	c = calloc(1, sizeof(*c));
	if (!c)
		return kilo_error_set(err, ENOMEM, "connect: out of memory");
	r = copy_options(c, &opts, err);
	if (r == 0)
		r = kilo_agent_key_load(opts.key_path, &c->private_key, err);
	if (r == 0)
		r = kilo_key_public(&c->private_key, &c->public_key, err);
	if (r == 0)
		r = kilo_store_open_opts(opts.store, opts.store_opts, &c->store, err);
	if (r == 0)
		r = kilo_wg_open(opts.wg, &c->wg, err);
	if (r == 0)
		r = kilo_net_open(&c->net, err);
	if (r == 0)
		r = ensure_peer(c, keepalive, err);
	if (r == 0)
		r = make_device(c, opts.mtu, err);
	if (r < 0) {
		kilo_connect_free(c);
		return r;
	}
	*out = c;
	return 0;
}

int kilo_connect_fd(const kilo_connect *c)
{
	return kilo_store_fd(c->store);
}

int kilo_connect_timeout_ms(const kilo_connect *c)
{
	int64_t wait = c->next_resync - monotonic_ms();

	return wait < 0 ? 0 : wait > INT_MAX ? INT_MAX : (int)wait;
}

int kilo_connect_step(kilo_connect *c, struct kilo_error *err)
{
	struct pollfd p = { .fd = kilo_store_fd(c->store), .events = POLLIN };
	int64_t now = monotonic_ms();
	bool changed = false;
	int r;

	if (p.fd >= 0 && poll(&p, 1, 0) > 0) {
		r = kilo_store_changed(c->store, &changed, err);
		if (r < 0)
			return r;
	}
	if (!changed && now < c->next_resync)
		return 0;
	c->next_resync = now + c->resync_ms;
	return sync_mesh(c, err);
}

void kilo_connect_free(kilo_connect *c)
{
	if (!c)
		return;
	if (c->clean_up && c->store)
		kilo_store_delete_peer(c->store, c->peer_name, NULL);
	if (c->clean_up && c->net)
		kilo_net_routes_sync(c->net, NULL, 0, NULL, NULL);
	if (c->clean_up && c->device_made)
		kilo_wg_device_delete(c->wg, c->interface, NULL);
	kilo_net_close(c->net);
	kilo_wg_close(c->wg);
	kilo_store_close(c->store);
	kilo_key_wipe(&c->private_key);
	kilo_arena_release(&c->arena);
	free(c);
}
