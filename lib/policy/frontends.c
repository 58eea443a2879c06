/* SPDX-License-Identifier: Apache-2.0 */
#include "frontends.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/array.h"
#include "../core/error.h"

/* What the frontends are built from: the objects and the node computing. */
struct view {
	const struct kilo_mesh *mesh;
	struct kilo_node_orders orders;
	const struct kilo_node *self; /* NULL: outside the mesh */
	const char *self_name;        /* NULL: outside the mesh; else local endpoints are its, even before it joins */
};

bool kilo_lb_same_location(const struct kilo_node *a, const struct kilo_node *b)
{
	if (!a || !b)
		return false;
	if (a == b)
		return true;
	/* A node without a private IP is a location of its own: the topology makes it a segment alone. */
	if (!a->internal_ip.addr.family || !b->internal_ip.addr.family)
		return false;
	return strcmp(a->location, b->location) == 0;
}

static void set_key_addr(union kilo_lb_addr *out, const struct kilo_addr *addr)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->bytes, addr->bytes, addr->family == 4 ? 4 : 16);
}

static __u8 socket_family(uint8_t family)
{
	return family == 4 ? AF_INET : AF_INET6;
}

void kilo_lb_endpoint_name(char out[KILO_LB_BACKEND_NAME_MAX], const struct kilo_addr *addr, uint16_t port)
{
	char text[KILO_ADDR_STRLEN];

	kilo_addr_format(addr, text);
	snprintf(out, KILO_LB_BACKEND_NAME_MAX, addr->family == 6 ? "[%s]:%u" : "%s:%u", text, port);
}

void kilo_lb_frontend_name(const struct kilo_lb_frontend *f, char out[KILO_LB_FRONTEND_NAME_MAX])
{
	struct kilo_addr addr = {.family = f->key.family == AF_INET ? 4 : 6};
	char name[KILO_LB_BACKEND_NAME_MAX];

	memcpy(addr.bytes, f->key.addr.bytes, sizeof(addr.bytes));
	kilo_lb_endpoint_name(name, &addr, ntohs(f->key.port));
	snprintf(out, KILO_LB_FRONTEND_NAME_MAX, "%s/%s", name, f->key.proto == IPPROTO_TCP ? "TCP" : "UDP");
}

/* The port of slice that serves port: the one of the same name and protocol. */
static const struct kilo_lb_port *slice_port(const struct kilo_lb_slice *slice, const struct kilo_lb_port *port)
{
	for (size_t i = 0; i < slice->n_ports; i++)
		if (slice->ports[i].proto == port->proto && strcmp(slice->ports[i].name, port->name) == 0)
			return &slice->ports[i];
	return NULL;
}

/* How usable an endpoint is, so that one listed in two slices counts once, as its best. */
static int usability(const struct kilo_lb_endpoint *ep)
{
	return ep->ready ? 2 : ep->serving && ep->terminating ? 1 : 0;
}

static int compare_choices(const void *a, const void *b)
{
	const struct kilo_lb_choice *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	c = usability(y->endpoint) - usability(x->endpoint);
	if (c)
		return c;
	return strcmp(x->endpoint->node ? x->endpoint->node : "", y->endpoint->node ? y->endpoint->node : "");
}

/* The endpoints of svc's slices of family that serve port, by name, each once. */
static int gather(struct kilo_arena *arena, const struct view *v, const struct kilo_lb_svc *svc, uint8_t family,
		  const struct kilo_lb_port *port, struct kilo_lb_frontend *f)
{
	size_t n = 0, kept = 0;

	for (size_t s = 0; s < svc->n_slices; s++)
		if (svc->slices[s].family == family && slice_port(&svc->slices[s], port))
			n += svc->slices[s].n_endpoints;
	if (n == 0)
		return 0;
	f->backends = kilo_arena_array(arena, n, sizeof(*f->backends));
	if (!f->backends)
		return -ENOMEM;
	for (size_t s = 0; s < svc->n_slices; s++) {
		const struct kilo_lb_slice *slice = &svc->slices[s];
		const struct kilo_lb_port *target = slice->family == family ? slice_port(slice, port) : NULL;

		for (size_t e = 0; target && e < slice->n_endpoints; e++) {
			const struct kilo_lb_endpoint *ep = &slice->endpoints[e];
			struct kilo_lb_choice *c = &f->backends[f->n_backends++];

			set_key_addr(&c->key.addr, &ep->addr);
			c->key.port = htons(target->port);
			c->key.proto = port->proto;
			c->key.family = socket_family(family);
			kilo_lb_endpoint_name(c->name, &ep->addr, target->port);
			c->endpoint = ep;
			c->node = ep->node && v->mesh ? kilo_mesh_find_node(v->mesh, &v->orders, ep->node) : NULL;
			c->local = ep->node && v->self_name && strcmp(ep->node, v->self_name) == 0;
		}
	}
	qsort(f->backends, f->n_backends, sizeof(*f->backends), compare_choices);
	for (size_t i = 0; i < f->n_backends; i++)
		if (kept == 0 || strcmp(f->backends[kept - 1].name, f->backends[i].name) != 0)
			f->backends[kept++] = f->backends[i];
	f->n_backends = kept;
	return 0;
}

/*
 * kube-proxy's choice of the endpoints that take new flows: the ready
 * ones, or, when none is ready anywhere, the serving terminating ones;
 * with a Local traffic policy the same among this node's endpoints alone.
 * Kilo's location preference narrows the ready ones to the node's
 * location when any is there. Sets KILO_LB_SERVICE_ICMP_REJECT when no
 * endpoint is usable anywhere (kube-proxy rejects then; it drops when
 * only the Local policy leaves none).
 */
static void choose(struct kilo_lb_frontend *f, const struct view *v, bool local_only, bool prefer_location)
{
	bool any_ready = false, any_fallback = false, local_ready = false, location_ready = false;

	for (size_t i = 0; i < f->n_backends; i++) {
		const struct kilo_lb_choice *c = &f->backends[i];
		bool ready = c->endpoint->ready, fallback = !ready && c->endpoint->serving && c->endpoint->terminating;

		any_ready |= ready;
		any_fallback |= fallback;
		local_ready |= ready && c->local;
		location_ready |= ready && kilo_lb_same_location(c->node, v->self);
	}
	f->n_slots = 0;
	for (size_t i = 0; i < f->n_backends; i++) {
		struct kilo_lb_choice *c = &f->backends[i];
		bool ready = c->endpoint->ready, fallback = !ready && c->endpoint->serving && c->endpoint->terminating;

		if (local_only)
			c->slot = c->local && (local_ready ? ready : fallback);
		else if (any_ready)
			c->slot = ready && (!prefer_location || !location_ready || kilo_lb_same_location(c->node, v->self));
		else
			c->slot = fallback;
		f->n_slots += c->slot;
	}
	if (!any_ready && !any_fallback)
		f->flags |= KILO_LB_SERVICE_ICMP_REJECT;
}

static struct kilo_lb_frontend *frontend_new(struct kilo_lb_frontends *out, size_t *cap,
					      const struct kilo_lb_svc *svc, const struct kilo_lb_port *port)
{
	struct kilo_lb_frontend *f;

	if (kilo_array_reserve((void **)&out->items, cap, out->n + 1, sizeof(*out->items)) < 0)
		return NULL;
	f = &out->items[out->n++];
	*f = (struct kilo_lb_frontend){.svc = svc, .port = port};
	f->key.proto = port->proto;
	if (svc->affinity)
		f->flags |= KILO_LB_SERVICE_AFFINITY;
	return f;
}

/* The NodePort frontend of cluster on addr, one of this node's internal IPs: cluster's endpoints, chosen again. */
static int add_node_port(struct kilo_lb_frontends *out, size_t *cap, const struct view *v, size_t cluster,
			 const struct kilo_addr *addr)
{
	const struct kilo_lb_frontend *c = &out->items[cluster];
	struct kilo_lb_frontend *f = frontend_new(out, cap, c->svc, c->port);

	if (!f)
		return -ENOMEM;
	c = &out->items[cluster]; /* the array may have moved */
	set_key_addr(&f->key.addr, addr);
	f->key.port = htons(c->port->node_port);
	f->key.family = c->key.family;
	f->key.scope = KILO_LB_SCOPE_NODEPORT;
	if (c->n_backends) {
		f->backends = kilo_arena_array(&out->arena, c->n_backends, sizeof(*f->backends));
		if (!f->backends)
			return -ENOMEM;
		memcpy(f->backends, c->backends, c->n_backends * sizeof(*f->backends));
	}
	f->n_backends = c->n_backends;
	choose(f, v, f->svc->external_local, f->svc->prefer_location && !f->svc->external_local);
	/* A reply from another node must come back through this one to be reversed. */
	for (size_t i = 0; i < f->n_backends; i++)
		if (f->backends[i].slot && !f->backends[i].local)
			f->flags |= KILO_LB_SERVICE_SNAT;
	return 0;
}

/* This node's internal IP of family, or NULL. */
static const struct kilo_addr *self_address(const struct view *v, uint8_t family)
{
	if (!v->self)
		return NULL;
	if (v->self->internal_ip.addr.family == family)
		return &v->self->internal_ip.addr;
	if (v->self->secondary_internal_ip.addr.family == family)
		return &v->self->secondary_internal_ip.addr;
	return NULL;
}

static void node_addresses(const struct view *v, struct kilo_lb_node *out)
{
	const struct kilo_addr *v4 = self_address(v, 4), *v6 = self_address(v, 6);

	if (v4) {
		set_key_addr(&out->v4, v4);
		out->has_v4 = 1;
	}
	if (v6) {
		set_key_addr(&out->v6, v6);
		out->has_v6 = 1;
	}
}

static int add_service(struct kilo_lb_frontends *out, size_t *cap, const struct view *v, const struct kilo_lb_svc *svc)
{
	for (size_t a = 0; a < svc->n_cluster_ips; a++) {
		const struct kilo_addr *ip = &svc->cluster_ips[a];

		for (size_t p = 0; p < svc->n_ports; p++) {
			const struct kilo_addr *node_ip = self_address(v, ip->family);
			struct kilo_lb_frontend *f = frontend_new(out, cap, svc, &svc->ports[p]);
			int r;

			if (!f)
				return -ENOMEM;
			set_key_addr(&f->key.addr, ip);
			f->key.port = htons(svc->ports[p].port);
			f->key.family = socket_family(ip->family);
			f->key.scope = KILO_LB_SCOPE_CLUSTER;
			r = gather(&out->arena, v, svc, ip->family, &svc->ports[p], f);
			if (r < 0)
				return r;
			choose(f, v, svc->internal_local, svc->prefer_location && !svc->internal_local);
			if (svc->node_ports && svc->ports[p].node_port && node_ip) {
				r = add_node_port(out, cap, v, out->n - 1, node_ip);
				if (r < 0)
					return r;
			}
		}
	}
	return 0;
}

int kilo_lb_frontends_build(const struct kilo_lb_objects *objects, const struct kilo_mesh *mesh, const char *self,
			    struct kilo_lb_frontends *out, struct kilo_error *err)
{
	struct view v = {.mesh = mesh};
	size_t cap = 0;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (mesh) {
		r = kilo_mesh_node_orders(mesh, &out->arena, &v.orders);
		if (r < 0)
			goto out;
		v.self = self ? kilo_mesh_find_node(mesh, &v.orders, self) : NULL;
	}
	v.self_name = self;
	node_addresses(&v, &out->node);
	for (size_t i = 0; i < objects->n_services; i++) {
		r = add_service(out, &cap, &v, &objects->services[i]);
		if (r < 0)
			goto out;
	}
out:
	if (r < 0)
		kilo_error_set(err, -r, "services: out of memory");
	return r;
}

void kilo_lb_frontends_release(struct kilo_lb_frontends *frontends)
{
	free(frontends->items);
	kilo_arena_release(&frontends->arena);
	memset(frontends, 0, sizeof(*frontends));
}
