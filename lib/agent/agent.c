/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kg's reconcile loop (Kilo's Mesh.Run, kilo-reference.md §4.3) on a store:
 * publish this node, watch the store, and on every real change, liveness
 * change and resync solve the mesh and apply the difference.
 */
#include "apply.h"
#include "internal.h"
#include "lb.h"
#include "policy.h"
#include "resolve.h"

#include <kilo/serial.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/error.h"
#include "../core/log.h"
#include "../core/opts.h"
#include "../serial/mesh_json.h"
#include "../store/store.h"

/* How soon a failed reconcile is tried again, in milliseconds. */
#define RETRY_MS 1000
/*
 * A dead leader's location turns to its next leader at the end of the
 * ready window; other locations follow a second later, when that leader
 * is set up to answer their handshakes. Sooner, a NATed site's first
 * handshake would be lost and WireGuard would wait 5 s to try again.
 */
#define REMOTE_READY_GRACE 1

typedef uint8_t digest[crypto_generichash_BYTES];

/* A topology and a mesh replaced while a caller held the topology: freed at the last release. */
struct retired {
	struct retired *next;
	kilo_topology *topology;
	kilo_mesh *mesh;
};

struct kilo_agent {
	struct kilo_apply_opts apply;
	const char *hostname;
	const char *cni_path;
	char *settings;             /* the settings document every load uses */
	int64_t check_in_ms, resync_ms;
	uint32_t window;
	bool clean_up;
	struct kilo_key private_key, public_key;
	kilo_store *store;
	kilo_applier *applier;      /* applies the plans; its WireGuard handle reads the device */
	struct kilo_agent_lb lb;    /* --bpf: the load balancer's programs and the links they are on */
	struct kilo_agent_policy policy; /* --bpf: network policy's flows */
	json_t *initial;            /* this node as the options made it */
	kilo_mesh *mesh;            /* as last loaded */
	kilo_mesh *solved_mesh;     /* the mesh topology points into */
	kilo_topology *topology;    /* as last solved */
	digest live_digest;         /* the names of the live nodes */
	digest live_now;            /* the same, as live_digest last computed it */
	bool live_known;            /* live_now is of this mesh (a new one is not known yet) */
	digest problems_digest;     /* the store's last report */
	digest owned_digest;        /* WireGuard IP and discovered endpoints as published */
	struct kilo_cidr wireguard_ip;
	struct kilo_discovered_endpoint *discovered;
	size_t n_discovered;
	struct kilo_cidr cni_pod_cidr; /* as last written */
	struct kilo_cidr cni_secondary_pod_cidr;
	/* Deadlines in wall-clock milliseconds (lastSeen is wall-clock time); 0: none. */
	int64_t next_check_in, next_resync, next_retry, next_expiry;
	bool healthy;
	bool cut_off;               /* the last check-in could not be written */
	bool presence;              /* the store's liveness by presence: no heartbeat writes */
	int64_t published;          /* when the last heartbeat was written; 0: never */
	bool rejoin;                /* the heartbeat lapsed: the next reconcile shakes hands anew */
	int64_t started;            /* the lastSeen this node publishes with presence: its record changes only with it */
	uint64_t reconciles, errors;
	struct kilo_logger log;
	struct kilo_resolver *resolver; /* looks endpoint names up off the loop */
	struct kilo_names names;    /* what they resolve to */
	int epoll_fd;               /* the store's and the resolver's fds, for the caller's loop */
	struct kilo_arena arena;    /* copies of the option strings */
	unsigned holds;             /* kilo_agent_topology_hold without its release yet */
	struct retired *retired;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Counts the error r (if any) of one part of a step, hands the first of the
 * step to the caller and clears local for the next part.
 */
static void note(kilo_agent *a, struct kilo_error *err, struct kilo_error *local, int r, int *first)
{
	if (r >= 0)
		return;
	a->errors++;
	if (*first == 0) {
		*first = r;
		if (err && local->code)
			*err = *local;
		else if (err)
			*err = (struct kilo_error){ .code = -r };
		if (err && !local->code)
			snprintf(err->message, sizeof(err->message), "%s", strerror(-r));
	}
	memset(local, 0, sizeof(*local));
}

/*
 * This node as the store has it, or NULL. Looked up by name order (a
 * store's load sorts it), as the agent does at every step: scanning
 * 10,000 nodes' names cost more than the lookup of a name.
 */
static struct kilo_node *stored_self(const kilo_agent *a)
{
	const struct kilo_node *self = a->mesh ? kilo_mesh_find_node(a->mesh, &a->mesh->orders, a->hostname) : NULL;

	/* The agent's own mesh: the node is its to change. */
	return self ? &a->mesh->nodes[self - a->mesh->nodes] : NULL;
}

/*
 * A store with liveness by presence holds only live nodes (a dead one's
 * lease took it away): every node there is seen now.
 */
static void mark_present(kilo_agent *a, int64_t now)
{
	for (size_t i = 0; a->presence && a->mesh && i < a->mesh->n_nodes; i++)
		a->mesh->nodes[i].last_seen = now / 1000;
}

/* The digest of the live nodes at now, and when the first of them drops out. */
static void live_digest(kilo_agent *a, int64_t now, digest out)
{
	const struct kilo_node *self;
	crypto_generichash_state st;

	/* Until a node drops out, only a new mesh changes who is live: the agent steps far more often than that. */
	if (a->live_known && (a->next_expiry == 0 || now < a->next_expiry)) {
		memcpy(out, a->live_now, sizeof(digest));
		return;
	}
	self = stored_self(a);
	a->next_expiry = 0;
	crypto_generichash_init(&st, NULL, 0, sizeof(digest));
	for (size_t i = 0; a->mesh && i < a->mesh->n_nodes; i++) {
		const struct kilo_node *n = &a->mesh->nodes[i];
		uint32_t window = kilo_node_window(n, self, a->window, REMOTE_READY_GRACE);
		int64_t expiry = (n->last_seen + window) * 1000;

		if (!kilo_node_ready(n, now / 1000, window))
			continue;
		kilo_agent_hash_text(&st, n->name);
		if (a->next_expiry == 0 || expiry < a->next_expiry)
			a->next_expiry = expiry;
	}
	crypto_generichash_final(&st, out, sizeof(digest));
	memcpy(a->live_now, out, sizeof(digest));
	a->live_known = true;
}

static void problems_digest(const struct kilo_store_report *report, digest out)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, sizeof(digest));
	for (size_t i = 0; i < report->n_problems && i < 16; i++) {
		kilo_agent_hash_text(&st, report->problems[i].path);
		kilo_agent_hash_text(&st, report->problems[i].message);
	}
	crypto_generichash_final(&st, out, sizeof(digest));
}

/*
 * Frees a topology and a mesh the agent no longer uses, or keeps them
 * until the last kilo_agent_topology_release while a caller reads them.
 */
static void retire(kilo_agent *a, kilo_topology *t, kilo_mesh *mesh)
{
	struct retired *r;

	if (a->holds == 0) {
		kilo_topology_free(t);
		kilo_mesh_free(mesh);
		return;
	}
	if (!t && !mesh)
		return;
	/* Out of memory, leaking them is safe and freeing them is not. */
	r = malloc(sizeof(*r));
	if (!r)
		return;
	*r = (struct retired){ .next = a->retired, .topology = t, .mesh = mesh };
	a->retired = r;
}

static void replace_mesh(kilo_agent *a, kilo_mesh *mesh)
{
	if (a->mesh != a->solved_mesh)
		retire(a, NULL, a->mesh);
	a->mesh = mesh;
	a->live_known = false;
}

static void replace_topology(kilo_agent *a, kilo_topology *t)
{
	retire(a, a->topology, a->solved_mesh != a->mesh ? a->solved_mesh : NULL);
	a->topology = t;
	a->solved_mesh = t ? a->mesh : NULL;
}

/*
 * Loads the mesh again. A file the store left out is reported once, not
 * on every load, and never fails the load. *changed says whether the
 * solver would see a difference.
 */
static int reload(kilo_agent *a, bool *changed, struct kilo_error *err)
{
	struct kilo_store_report report = { 0 };
	kilo_mesh *mesh = NULL;
	digest d;
	int r;

	*changed = false;
	r = kilo_store_load(a->store, a->settings, &mesh, &report, err);
	if (r < 0)
		return r;
	/* The last mesh holds the addresses its names resolved to: so must this one, or every load would differ. */
	kilo_names_fill(&a->names, mesh);
	*changed = !a->mesh || !kilo_agent_mesh_same(a->mesh, mesh, a->hostname);
	replace_mesh(a, mesh);
	problems_digest(&report, d);
	if (memcmp(d, a->problems_digest, sizeof(d)) == 0 || report.n_problems == 0) {
		memcpy(a->problems_digest, d, sizeof(d));
		return 0;
	}
	memcpy(a->problems_digest, d, sizeof(d));
	return kilo_error_set(err, EINVAL, "store: %zu file%s left out, first %s: %s", report.n_problems,
			      report.n_problems == 1 ? "" : "s", report.problems[0].path, report.problems[0].message);
}

static int publish(kilo_agent *a, int64_t now, bool from_store, struct kilo_error *err)
{
	struct kilo_agent_owned owned = {
		.public_key = &a->public_key,
		.last_seen = (a->presence ? a->started : now) / 1000,
		.ttl = a->window,
		.wireguard_ip = a->wireguard_ip,
		.discovered = a->discovered,
		.n_discovered = a->n_discovered,
	};

	int r;

	a->next_check_in = now + a->check_in_ms;
	r = kilo_agent_node_publish(a->store, a->initial, from_store, &owned, err);
	if (r == 0)
		a->published = now;
	return r;
}

static void owned_digest(const kilo_agent *a, digest out)
{
	char text[KILO_ENDPOINT_STRLEN > KILO_CIDR_STRLEN ? KILO_ENDPOINT_STRLEN : KILO_CIDR_STRLEN];
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, sizeof(digest));
	kilo_cidr_format(&a->wireguard_ip, text);
	kilo_agent_hash_text(&st, text);
	for (size_t i = 0; i < a->n_discovered; i++) {
		crypto_generichash_update(&st, a->discovered[i].key.bytes, KILO_KEY_LEN);
		kilo_endpoint_format(&a->discovered[i].endpoint, text);
		kilo_agent_hash_text(&st, text);
	}
	crypto_generichash_final(&st, out, sizeof(digest));
}

/* The endpoints at which the device sees the NATed nodes and the peers now. */
static int read_nat(kilo_agent *a, int64_t now, struct kilo_discovered_endpoint **list, size_t *n)
{
	struct kilo_error ignored = { 0 };
	kilo_wg_config *device = NULL;
	int r;

	/* A mesh of 10,000 nodes makes a device dump of a megabyte, which is parsed only when of use. */
	if (!kilo_agent_nat_watched(a->mesh, now / 1000, a->window)) {
		*list = NULL;
		*n = 0;
		return 0;
	}
	/* No device yet (the first apply makes it): nothing seen. */
	if (kilo_wg_device_get(kilo_applier_wg(a->applier), a->apply.interface, &device, &ignored) < 0)
		device = NULL;
	r = kilo_agent_nat_endpoints(a->mesh, now / 1000, a->window, device, list, n);
	kilo_wg_config_free(device);
	return r;
}

/*
 * Whether the device sees a NATed node or a peer elsewhere than at the
 * last reconcile. Kilo looks only when it reconciles for another reason
 * (every 30 s at worst), so a NAT address seen after the first handshake
 * would reach the other nodes and VPN clients that late.
 */
static bool nat_moved(kilo_agent *a, int64_t now)
{
	struct kilo_discovered_endpoint *list = NULL;
	size_t n = 0;
	bool moved;

	if (!a->mesh || read_nat(a, now, &list, &n) < 0)
		return false;
	moved = n != a->n_discovered;
	for (size_t i = 0; i < n && !moved; i++)
		moved = !kilo_key_equal(&list[i].key, &a->discovered[i].key) ||
			!kilo_endpoint_equal(&list[i].endpoint, &a->discovered[i].endpoint);
	free(list);
	return moved;
}

/* Kilo sets the local node's discovered endpoints from the device before every solve. */
static int discover_nat(kilo_agent *a, struct kilo_node *self, int64_t now)
{
	struct kilo_discovered_endpoint *list = NULL, *copy;
	size_t n = 0;
	int r;

	r = read_nat(a, now, &list, &n);
	if (r < 0)
		return r;
	copy = n ? kilo_arena_array(&a->mesh->arena, n, sizeof(*copy)) : NULL;
	if (n && !copy) {
		free(list);
		return -ENOMEM;
	}
	if (n)
		memcpy(copy, list, n * sizeof(*copy));
	self->discovered_endpoints = copy;
	self->n_discovered_endpoints = n;
	free(a->discovered);
	a->discovered = list;
	a->n_discovered = n;
	return 0;
}

/* Writes the CNI configuration when the pod CIDR changed, and on every resync. */
static int update_cni(kilo_agent *a, const struct kilo_node *self, bool resync, struct kilo_error *err)
{
	int r;

	if (!a->cni_path || (!resync && kilo_cidr_equal(&a->cni_pod_cidr, &self->pod_cidr) &&
			     kilo_cidr_equal(&a->cni_secondary_pod_cidr, &self->secondary_pod_cidr)))
		return 0;
	r = kilo_agent_cni_write(a->cni_path, &self->pod_cidr, &self->secondary_pod_cidr, a->apply.mtu, err);
	if (r == 0) {
		a->cni_pod_cidr = self->pod_cidr;
		a->cni_secondary_pod_cidr = self->secondary_pod_cidr;
	}
	return r;
}

/*
 * Follows the endpoint names of the mesh: names new to it are looked up
 * (every name with all). Endpoints get their addresses where they are
 * compared (reload) and used (reconcile).
 */
static int follow_names(kilo_agent *a, bool all)
{
	int r = kilo_names_track(&a->names, a->mesh);

	return r < 0 ? r : kilo_names_ask(&a->names, a->resolver, all);
}

/*
 * Back after its heartbeat lapsed, a node others reach only through its
 * NAT (it has a keepalive) must shake hands again: the others threw its
 * sessions away when it dropped out, and took it back at its advertised,
 * private endpoint. WireGuard would go on sending keepalives in the old
 * sessions, which start no handshake, for up to two minutes. Removing
 * every peer ends them; the apply adds the peers back, and each new peer
 * with a keepalive shakes hands at once.
 */
static void forget_sessions(kilo_agent *a)
{
	kilo_wg_config *none = kilo_wg_config_new(0);

	if (!none)
		return;
	none->replace_peers = true;
	/* No device yet: no session either. */
	kilo_wg_device_set(kilo_applier_wg(a->applier), a->apply.interface, none, NULL);
	kilo_wg_config_free(none);
	kilo_applier_recheck(a->applier);
}

/* Kilo's applyTopology, then whatever of this node changed is published. */
static int reconcile(kilo_agent *a, int64_t now, bool resync, struct kilo_error *err)
{
	struct kilo_solve_opts solve = {
		.sz = sizeof(solve),
		.hostname = a->hostname,
		.private_key = &a->private_key,
		.now = now / 1000,
		.ready_window = a->window,
		.remote_ready_grace = REMOTE_READY_GRACE,
	};
	struct kilo_apply_report report;
	struct kilo_node *self;
	kilo_topology *t = NULL;
	kilo_plan *plan = NULL;
	digest d;
	int r;

	a->reconciles++;
	a->healthy = false;
	a->next_retry = now + RETRY_MS;
	if (!a->mesh)
		return kilo_error_set(err, ENODATA, "no mesh has been loaded from the store yet");
	self = stored_self(a);
	/* Retrying is no use: the store changes when this node is back (its next check-in at the latest). */
	if (!self || !kilo_node_ready(self, now / 1000, a->window))
		a->next_retry = 0;
	if (!self)
		return kilo_error_set(err, ENOENT, "node %s: not in the store", a->hostname);
	if (!kilo_node_ready(self, now / 1000, a->window))
		return kilo_error_set(err, ENOENT, "node %s: not ready (last seen %" PRId64 ", now %" PRId64 ")",
				      a->hostname, self->last_seen, now / 1000);
	/* The addresses of the latest answers, before the device's sightings are compared with them. */
	kilo_names_fill(&a->names, a->mesh);
	r = discover_nat(a, self, now);
	if (r < 0)
		return kilo_error_set(err, -r, "discovering NAT endpoints: %s", strerror(-r));
	r = kilo_topology_solve(a->mesh, &solve, &t, err);
	if (r < 0)
		return r;
	replace_topology(a, t);
	if (a->rejoin && self->persistent_keepalive)
		forget_sessions(a);
	a->rejoin = false;
	/* A resync compares everything with the host again, and puts right what others changed. */
	if (resync)
		kilo_applier_recheck(a->applier);
	r = kilo_apply_plan_new(t, &a->apply, &plan, err);
	if (r < 0)
		return r;
	r = kilo_applier_apply_plan(a->applier, plan, &report, err);
	kilo_agent_log_changes(&a->log, a->apply.interface, &report);
	if (r == 0)
		r = update_cni(a, self, resync, err);
	if (r == 0)
		r = kilo_agent_lb_node(&a->lb, &self->internal_ip.addr, err);
	if (r == 0)
		kilo_plan_wireguard_ip(plan, &a->wireguard_ip);
	kilo_plan_free(plan);
	if (r < 0)
		return r;
	owned_digest(a, d);
	if (memcmp(d, a->owned_digest, sizeof(d))) {
		r = publish(a, now, true, err);
		if (r < 0)
			return r;
		memcpy(a->owned_digest, d, sizeof(d));
	}
	a->healthy = true;
	a->next_retry = 0;
	return 0;
}

static int copy_options(kilo_agent *a, const struct kilo_agent_opts *o, struct kilo_error *err)
{
	struct kilo_apply_opts *ap = &a->apply;
	int r = kilo_apply_opts_read(o->apply, ap, err);

	if (r < 0)
		return r;
	ap->interface = kilo_arena_strdup(&a->arena, ap->interface);
	ap->tunnel_interface = kilo_arena_strdup(&a->arena, ap->tunnel_interface);
	a->hostname = kilo_arena_strdup(&a->arena, o->hostname);
	a->cni_path = o->cni_path ? kilo_arena_strdup(&a->arena, o->cni_path) : NULL;
	if (!ap->interface || !ap->tunnel_interface || !a->hostname || (o->cni_path && !a->cni_path))
		return kilo_error_set(err, ENOMEM, "agent: out of memory");
	a->check_in_ms = 1000 * (int64_t)(o->check_in_period ? o->check_in_period : KILO_DEFAULT_CHECK_IN_PERIOD);
	a->resync_ms = 1000 * (int64_t)(o->resync_period ? o->resync_period : KILO_DEFAULT_RESYNC_PERIOD);
	a->window = o->ready_window ? o->ready_window : KILO_DEFAULT_READY_WINDOW;
	a->clean_up = !o->no_clean_up;
	a->log = (struct kilo_logger){ .fn = o->log, .ctx = o->log_ctx };
	return kilo_agent_settings_document(o, &a->settings, err);
}

/* The resolver's thread, and one fd for the caller's loop over the store's and the resolver's. */
static int watch_fds(kilo_agent *a, struct kilo_error *err)
{
	struct epoll_event store = { .events = EPOLLIN }, resolver = { .events = EPOLLIN }, links = { .events = EPOLLIN },
			   flows = { .events = EPOLLIN };
	int r = kilo_resolver_new(&a->resolver), store_fd = kilo_store_fd(a->store);

	if (r < 0)
		return kilo_error_set(err, -r, "agent: starting the resolver: %s", strerror(-r));
	if (store_fd < 0)
		return kilo_error_set(err, -store_fd, "agent: watching the store: %s", strerror(-store_fd));
	a->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (a->epoll_fd < 0 || epoll_ctl(a->epoll_fd, EPOLL_CTL_ADD, store_fd, &store) < 0 ||
	    epoll_ctl(a->epoll_fd, EPOLL_CTL_ADD, kilo_resolver_fd(a->resolver), &resolver) < 0 ||
	    (kilo_agent_lb_fd(&a->lb) >= 0 && epoll_ctl(a->epoll_fd, EPOLL_CTL_ADD, kilo_agent_lb_fd(&a->lb), &links) < 0) ||
	    (kilo_agent_policy_fd(&a->policy) >= 0 &&
	     epoll_ctl(a->epoll_fd, EPOLL_CTL_ADD, kilo_agent_policy_fd(&a->policy), &flows) < 0))
		return kilo_error_set(err, errno, "agent: epoll: %s", strerror(errno));
	return 0;
}

int kilo_agent_new(const struct kilo_agent_opts *opts_in, kilo_agent **out, struct kilo_error *err)
{
	struct kilo_agent_opts opts;
	struct kilo_error local = { 0 };
	kilo_agent *a;
	int64_t now = now_ms();
	bool changed;
	int r, first;

	*out = NULL;
	r = KILO_OPTS_COPY(&opts, opts_in, kilo_agent_opts, err);
	if (r < 0)
		return r;
	if (!opts.store || !opts.hostname || !*opts.hostname)
		return kilo_error_set(err, EINVAL, "agent: %s is required", opts.store ? "hostname" : "store");
	if (!opts.key_path)
		return kilo_error_set(err, EINVAL, "agent: key_path is required");
	a = calloc(1, sizeof(*a));
	if (!a)
		return kilo_error_set(err, ENOMEM, "agent: out of memory");
	a->epoll_fd = -1;
	r = copy_options(a, &opts, err);
	/* From here on the apply options are the agent's copy, with their defaults. */
	opts.apply = &a->apply;
	if (r == 0)
		r = kilo_agent_key_load(opts.key_path, &a->private_key, err);
	if (r == 0)
		r = kilo_key_public(&a->private_key, &a->public_key, NULL);
	if (r == 0)
		r = kilo_agent_node_build(&opts, &a->public_key, now / 1000, &a->initial, err);
	if (r == 0)
		r = kilo_store_open_opts(opts.store, opts.store_opts, &a->store, err);
	a->presence = a->store && kilo_store_liveness_by_presence(a->store);
	a->started = now;
	if (r == 0)
		r = kilo_applier_new(&a->apply, &a->applier, err);
	/* One applier for the agent's life, which owns (and reaps) the wireguard-go it starts. */
	a->apply.wg = NULL; /* the caller's, which the applier copied */
	if (r == 0)
		r = kilo_agent_lb_start(&a->lb, &opts, a->apply.interface, &a->log, err);
	if (r == 0)
		r = kilo_agent_policy_start(&a->policy, &a->lb, a->hostname, &a->log, err);
	if (r == 0)
		r = watch_fds(a, err);
	/* The options are this node's settings at start, whatever the store held before. */
	now = now_ms();
	if (r == 0)
		r = publish(a, now, false, err);
	if (r < 0) {
		/* Nothing was applied yet; only what was published goes. */
		kilo_agent_free(a);
		return r;
	}
	a->next_resync = now + a->resync_ms;
	first = 0;
	note(a, err, &local, reload(a, &changed, &local), &first);
	if (!a->mesh) {
		kilo_agent_free(a);
		return first;
	}
	note(a, err, &local, follow_names(a, true), &first);
	mark_present(a, now);
	live_digest(a, now, a->live_digest);
	r = reconcile(a, now, true, &local);
	/*
	 * Missing from the store (a clash with another node, say) is reported
	 * but not fatal: it may heal. A host that cannot take the mesh is.
	 */
	if (r < 0 && r != -ENOENT) {
		if (err)
			*err = local;
		kilo_agent_free(a);
		return r;
	}
	note(a, err, &local, r, &first);
	note(a, err, &local, kilo_agent_bpf_sync(&a->lb, &a->policy, a->store, a->mesh, true, &a->log, &local), &first);
	*out = a;
	return 0;
}

int kilo_agent_fd(const kilo_agent *a)
{
	return a->epoll_fd;
}

static int64_t earliest(int64_t a, int64_t b)
{
	return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

int kilo_agent_timeout_ms(const kilo_agent *a)
{
	int64_t next = earliest(earliest(a->next_check_in, a->next_resync), earliest(a->next_retry, a->next_expiry));
	int64_t wait = next - now_ms();

	return wait < 0 ? 0 : wait > INT_MAX ? INT_MAX : (int)wait;
}

static bool store_readable(const kilo_agent *a)
{
	struct pollfd p = { .fd = kilo_store_fd(a->store), .events = POLLIN };

	return p.fd >= 0 && poll(&p, 1, 0) > 0;
}

int kilo_agent_step(kilo_agent *a, struct kilo_error *err)
{
	struct kilo_error local = { 0 };
	int64_t now = now_ms();
	bool changed = false, need = false, resync = false;
	int first = 0;
	digest d;

	note(a, err, &local, kilo_agent_bpf_step(&a->lb, &a->policy, &local), &first);
	if (store_readable(a)) {
		note(a, err, &local, kilo_store_changed(a->store, &changed, &local), &first);
		if (changed)
			note(a, err, &local, reload(a, &need, &local), &first);
		if (changed && a->mesh)
			note(a, err, &local, follow_names(a, false), &first);
	}
	/* A name that moved, broke or recovered is solved again like a retry, also after a cut-off. */
	if (kilo_names_collect(&a->names, a->resolver, a->mesh, &a->log))
		a->next_retry = now;
	mark_present(a, now);
	if (now >= a->next_check_in) {
		int r;

		if (nat_moved(a, now))
			need = true;
		/* With presence the store keeps this node alive: nothing is written for a heartbeat. */
		if (a->presence) {
			a->next_check_in = now + a->check_in_ms;
		} else {
			bool lapsed = kilo_agent_heartbeat_lapsed(a->published, now, a->window);

			r = publish(a, now, true, &local);
			a->cut_off = r < 0;
			a->rejoin |= r == 0 && lapsed;
			note(a, err, &local, r, &first);
		}
	}
	/*
	 * Cut off from the store, the agent sees every heartbeat stop, its own
	 * too: it cannot tell dead nodes from a missing store, so it keeps the
	 * mesh as it is until it can check in again. Deadlines that passed
	 * wait for that check-in, or the loop would spin.
	 */
	if (a->cut_off) {
		live_digest(a, now, d);
		if (a->next_retry && a->next_retry <= now)
			a->next_retry = a->next_check_in;
		return first;
	}
	if (now >= a->next_resync) {
		need = resync = true;
		a->next_resync = now + a->resync_ms;
		/* Kilo resolves every name before every solve; the answers come at their own pace. */
		note(a, err, &local, follow_names(a, true), &first);
	}
	if (a->next_retry && now >= a->next_retry)
		need = true;
	live_digest(a, now, d);
	if (memcmp(d, a->live_digest, sizeof(d))) {
		memcpy(a->live_digest, d, sizeof(d));
		need = true;
	}
	if (need)
		note(a, err, &local, reconcile(a, now, resync, &local), &first);
	/* Services and EndpointSlices change without the mesh changing. */
	if (changed || need)
		note(a, err, &local, kilo_agent_bpf_sync(&a->lb, &a->policy, a->store, a->mesh, resync, &a->log, &local),
		     &first);
	return first;
}

void kilo_agent_free(kilo_agent *a)
{
	struct kilo_error err = { 0 };

	if (!a)
		return;
	/* Others drop this node at once instead of after the readiness window. */
	if (a->clean_up && a->store && kilo_store_delete_node(a->store, a->hostname, &err) < 0)
		kilo_log(&a->log, KILO_LOG_WARNING, "leaving: %s", err.message);
	memset(&err, 0, sizeof(err));
	if (a->clean_up && a->topology && kilo_applier_clean_up(a->applier, &err) < 0)
		kilo_log(&a->log, KILO_LOG_WARNING, "leaving: %s", err.message);
	kilo_agent_policy_stop(&a->policy);
	kilo_agent_lb_stop(&a->lb, a->clean_up);
	replace_topology(a, NULL);
	replace_mesh(a, NULL);
	kilo_store_close(a->store);
	kilo_applier_free(a->applier);
	kilo_resolver_free(a->resolver);
	kilo_names_free(&a->names);
	if (a->epoll_fd >= 0)
		close(a->epoll_fd);
	json_decref(a->initial);
	free(a->settings);
	free(a->discovered);
	kilo_key_wipe(&a->private_key);
	kilo_arena_release(&a->arena);
	free(a);
}

bool kilo_agent_healthy(const kilo_agent *a)
{
	return a->healthy;
}

/* The store's health as the agent sees it: a check-in that could not be written counts too. */
static void store_health(kilo_agent *a, struct kilo_store_health *h)
{
	kilo_store_health(a->store, h);
	if (h->up && a->cut_off) {
		h->up = false;
		snprintf(h->why, sizeof(h->why), "the last check-in could not be written");
	}
}

/* The agent's text getters are called from a program's HTTP handlers: a NULL agent is a message, not a crash. */
static int no_agent(const char *what, struct kilo_error *err)
{
	return kilo_error_set(err, EINVAL, "%s: agent is NULL", what);
}

int kilo_agent_store_problem(kilo_agent *a, char **out, struct kilo_error *err)
{
	struct kilo_store_health h;
	struct kilo_strbuf text = { 0 };

	if (!a)
		return no_agent("the store's problem", err);
	store_health(a, &h);
	kilo_strbuf_append(&text, "");
	if (!h.up)
		kilo_strbuf_printf(&text, "store: unreachable: %s\n", h.why);
	return kilo_strbuf_finish_named(&text, out, "the store's problem", err);
}

int kilo_agent_metrics(kilo_agent *a, char **out, struct kilo_error *err)
{
	struct kilo_error ignored = { 0 };
	struct kilo_agent_counts counts;
	struct kilo_bpf_counters lb;
	struct kilo_store_health health;
	kilo_wg_config *device = NULL;
	int64_t now = now_ms() / 1000;
	int r;

	if (!a)
		return no_agent("metrics", err);
	counts = (struct kilo_agent_counts){
		.leader = a->topology && kilo_topology_is_leader(a->topology),
		.reconciles = a->reconciles,
		.errors = a->errors,
		.unresolved = kilo_names_unresolved(&a->names, a->mesh, NULL),
	};
	store_health(a, &health);
	counts.store_up = health.up;
	counts.lb = kilo_agent_lb_counters(&a->lb, &lb) ? &lb : NULL;
	counts.policy = &a->policy;
	counts.store_revision = health.revision;
	for (size_t i = 0; a->mesh && i < a->mesh->n_nodes; i++)
		counts.nodes += kilo_node_ready(&a->mesh->nodes[i], now, a->window);
	for (size_t i = 0; a->mesh && i < a->mesh->n_peers; i++)
		counts.peers += kilo_peer_ready(&a->mesh->peers[i]);
	if (kilo_wg_device_get(kilo_applier_wg(a->applier), a->apply.interface, &device, &ignored) < 0)
		device = NULL;
	r = kilo_agent_metrics_format(&counts, device, now, out);
	kilo_wg_config_free(device);
	if (r < 0)
		return kilo_error_set(err, -r, "metrics: %s", strerror(-r));
	return 0;
}

int kilo_agent_flows(kilo_agent *a, uint64_t after, const struct kilo_flow_filter *filter, char **out, uint64_t *next,
		     struct kilo_error *err)
{
	if (!a)
		return no_agent("flows", err);
	return kilo_agent_policy_flows(&a->policy, after, filter, out, next, err);
}

int kilo_agent_unresolved(kilo_agent *a, char **out, struct kilo_error *err)
{
	struct kilo_strbuf text = { 0 };
	size_t n;

	if (!a)
		return no_agent("unresolved names", err);
	kilo_strbuf_append(&text, "");
	n = kilo_names_unresolved(&a->names, a->mesh, &text);
	if (kilo_strbuf_finish_named(&text, out, "unresolved names", err) < 0)
		return -ENOMEM;
	return n > INT_MAX ? INT_MAX : (int)n;
}

static int no_topology_yet(const kilo_agent *a, const char *what, struct kilo_error *err)
{
	return kilo_error_set(err, ENODATA, "%s of node \"%s\": the mesh has not been solved yet", what, a->hostname);
}

int kilo_agent_graph(kilo_agent *a, char **out, struct kilo_error *err)
{
	if (!a)
		return no_agent("graph", err);
	*out = NULL;
	if (!a->topology)
		return no_topology_yet(a, "graph", err);
	return kilo_topology_dot(a->topology, out, err);
}

int kilo_agent_topology_hold(kilo_agent *a, const kilo_topology **out, struct kilo_error *err)
{
	if (!a)
		return no_agent("topology", err);
	*out = a->topology;
	if (!a->topology)
		return no_topology_yet(a, "topology", err);
	a->holds++;
	return 0;
}

void kilo_agent_topology_release(kilo_agent *a)
{
	struct retired *r;

	if (a->holds == 0 || --a->holds > 0)
		return;
	while ((r = a->retired)) {
		a->retired = r->next;
		kilo_topology_free(r->topology);
		kilo_mesh_free(r->mesh);
		free(r);
	}
}
