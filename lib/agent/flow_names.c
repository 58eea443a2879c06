// SPDX-License-Identifier: Apache-2.0
/*
 * What names a flow's addresses, identities, rule and service: a snapshot
 * of the store's Pods and Services, the mesh and the policy, built at each
 * store change so that naming an event (thousands a second) is a few
 * binary searches, not a walk over the objects.
 */
#include "flows.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../core/arena.h"
#include "../core/array.h"
#include "../policy/netpol.h"

/* An address of a pod or a node, exact. */
struct addr_name {
	uint8_t family;
	uint8_t bytes[16];
	size_t order; /* of adding: of equal addresses, the first added names it */
	struct kilo_flow_where where;
};

/* A pod CIDR (its node) or a peer's allowed IP: the longest that holds the address. */
struct cidr_name {
	struct kilo_cidr cidr;
	struct kilo_flow_where where;
};

struct id_name {
	uint32_t id;
	const char *name;
};

/* A Service by a ClusterIP (family != 0) or by a NodePort (family 0, any node's address). */
struct service_name {
	uint8_t family;
	uint8_t bytes[16];
	uint16_t port; /* host order; 0 for a ClusterIP */
	const char *name;
};

struct kilo_flow_names {
	struct kilo_arena arena;
	struct addr_name *addrs;
	size_t n_addrs, cap_addrs;
	struct cidr_name *cidrs;
	size_t n_cidrs, cap_cidrs;
	struct id_name *labels; /* by identity */
	size_t n_labels;
	struct id_name *rules; /* by rule id */
	size_t n_rules;
	struct service_name *services;
	size_t n_services, cap_services;
};

/* Kept in struct kilo_addr's families (4, 6); the events have the socket's (AF_INET, AF_INET6). */
static uint8_t addr_family(uint8_t socket_family)
{
	return socket_family == AF_INET ? 4 : socket_family == AF_INET6 ? 6 : 0;
}

static size_t addr_len(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

static int cmp_addr_name(const void *a, const void *b)
{
	const struct addr_name *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->bytes, y->bytes, sizeof(x->bytes));
}

static int cmp_addr_name_order(const void *a, const void *b)
{
	const struct addr_name *x = a, *y = b;
	int c = cmp_addr_name(a, b);

	return c ? c : (x->order > y->order) - (x->order < y->order);
}

static int cmp_id_name(const void *a, const void *b)
{
	const struct id_name *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_service_name(const void *a, const void *b)
{
	const struct service_name *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return memcmp(x->bytes, y->bytes, sizeof(x->bytes));
}

static const char *keep(struct kilo_flow_names *n, const char *s)
{
	return s && *s ? kilo_arena_strdup(&n->arena, s) : NULL;
}

static int add_addr(struct kilo_flow_names *n, const struct kilo_addr *addr, const struct kilo_flow_where *where)
{
	struct addr_name *a;

	if (!addr->family)
		return 0;
	if (kilo_array_reserve((void **)&n->addrs, &n->cap_addrs, n->n_addrs + 1, sizeof(*n->addrs)) < 0)
		return -ENOMEM;
	a = &n->addrs[n->n_addrs++];
	memset(a, 0, sizeof(*a));
	a->family = addr->family;
	memcpy(a->bytes, addr->bytes, addr_len(addr->family));
	a->order = n->n_addrs - 1;
	a->where = *where;
	return 0;
}

static int add_cidr(struct kilo_flow_names *n, const struct kilo_cidr *cidr, const struct kilo_flow_where *where)
{
	if (!cidr->addr.family)
		return 0;
	if (kilo_array_reserve((void **)&n->cidrs, &n->cap_cidrs, n->n_cidrs + 1, sizeof(*n->cidrs)) < 0)
		return -ENOMEM;
	n->cidrs[n->n_cidrs++] = (struct cidr_name){ .cidr = *cidr, .where = *where };
	return 0;
}

static const struct kilo_node *find_node(const struct kilo_mesh *mesh, const char *name)
{
	for (size_t i = 0; mesh && name && i < mesh->n_nodes; i++)
		if (!strcmp(mesh->nodes[i].name, name))
			return &mesh->nodes[i];
	return NULL;
}

/* Nodes by their addresses, pods of unknown name by their node's pod CIDR, peers by their allowed IPs. */
static int add_mesh(struct kilo_flow_names *n, const struct kilo_mesh *mesh)
{
	int r = 0;

	for (size_t i = 0; mesh && r == 0 && i < mesh->n_nodes; i++) {
		const struct kilo_node *node = &mesh->nodes[i];
		struct kilo_flow_where w = { .node = keep(n, node->name), .location = keep(n, node->location) };

		r = add_addr(n, &node->internal_ip.addr, &w);
		if (r == 0)
			r = add_addr(n, &node->secondary_internal_ip.addr, &w);
		if (r == 0)
			r = add_addr(n, &node->wireguard_ip.addr, &w);
		if (r == 0)
			r = add_cidr(n, &node->pod_cidr, &w);
		if (r == 0)
			r = add_cidr(n, &node->secondary_pod_cidr, &w);
	}
	for (size_t i = 0; mesh && r == 0 && i < mesh->n_peers; i++) {
		struct kilo_flow_where w = { .peer = keep(n, mesh->peers[i].name) };

		for (size_t j = 0; r == 0 && j < mesh->peers[i].n_allowed_ips; j++)
			r = add_cidr(n, &mesh->peers[i].allowed_ips[j], &w);
	}
	return r;
}

static const char *member_string(const json_t *object, const char *key)
{
	return json_string_value(json_object_get(object, key));
}

static int add_pod_ip(struct kilo_flow_names *n, const char *ip, const struct kilo_flow_where *w)
{
	struct kilo_addr addr;

	if (!ip || kilo_addr_parse(ip, &addr, NULL) < 0)
		return 0;
	return add_addr(n, &addr, w);
}

static int add_pods(struct kilo_flow_names *n, const json_t *pods, const struct kilo_mesh *mesh)
{
	size_t i, j;
	json_t *pod, *ip;
	int r = 0;

	json_array_foreach(pods, i, pod) {
		const json_t *meta = json_object_get(pod, "metadata"), *status = json_object_get(pod, "status");
		const char *node_name = member_string(json_object_get(pod, "spec"), "nodeName");
		const struct kilo_node *node = find_node(mesh, node_name);
		struct kilo_flow_where w = {
			.namespace = keep(n, member_string(meta, "namespace")),
			.pod = keep(n, member_string(meta, "name")),
			.node = keep(n, node_name),
			.location = node ? keep(n, node->location) : NULL,
		};

		if (!w.pod)
			continue;
		if (!w.namespace)
			w.namespace = "default";
		r = add_pod_ip(n, member_string(status, "podIP"), &w);
		json_array_foreach(json_object_get(status, "podIPs"), j, ip) {
			if (r < 0)
				break;
			r = add_pod_ip(n, member_string(ip, "ip"), &w);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* s kept, as last (the copy kept for the pod before) when it is the same: pods come by namespace, many of a node. */
static const char *keep_again(struct kilo_flow_names *n, const char *s, const char *last)
{
	return last && s && strcmp(last, s) == 0 ? last : keep(n, s);
}

/* The pods as the policy layer read them: no JSON parsed a second time. */
static int add_model_pods(struct kilo_flow_names *n, const struct kilo_np_model *model)
{
	struct kilo_flow_where last = { 0 };
	int r = 0;

	for (size_t i = 0; r == 0 && i < model->n_pods; i++) {
		const struct kilo_np_pod *pod = &model->pods[i];
		struct kilo_flow_where w = {
			.namespace = keep_again(n, pod->namespace, last.namespace),
			.pod = keep(n, pod->name),
			.node = keep_again(n, pod->node, last.node),
			.location = keep_again(n, pod->location, last.location),
		};

		last = w;
		for (size_t j = 0; r == 0 && j < pod->n_addrs; j++)
			r = add_addr(n, &pod->addrs[j], &w);
	}
	return r;
}

static int add_service(struct kilo_flow_names *n, const struct service_name *s)
{
	if (kilo_array_reserve((void **)&n->services, &n->cap_services, n->n_services + 1, sizeof(*n->services)) < 0)
		return -ENOMEM;
	n->services[n->n_services++] = *s;
	return 0;
}

/* "NAMESPACE/NAME" of a Service by its ClusterIPs and NodePorts. */
static int add_services(struct kilo_flow_names *n, const json_t *services)
{
	size_t i, j;
	json_t *svc, *v;
	int r = 0;

	json_array_foreach(services, i, svc) {
		const json_t *meta = json_object_get(svc, "metadata"), *spec = json_object_get(svc, "spec");
		const char *ns = member_string(meta, "namespace"), *name = member_string(meta, "name"), *ip;
		struct service_name s = { 0 };
		struct kilo_addr addr;
		char *full;

		if (!name || !spec)
			continue;
		full = kilo_arena_alloc(&n->arena, strlen(ns ? ns : "default") + strlen(name) + 2);
		if (!full)
			return -ENOMEM;
		strcpy(full, ns ? ns : "default");
		strcat(full, "/");
		strcat(full, name);
		s.name = full;
		json_array_foreach(json_object_get(spec, "clusterIPs"), j, v) {
			ip = json_string_value(v);
			if (r == 0 && ip && kilo_addr_parse(ip, &addr, NULL) == 0) {
				s.family = addr.family;
				memcpy(s.bytes, addr.bytes, sizeof(s.bytes));
				r = add_service(n, &s);
			}
		}
		ip = member_string(spec, "clusterIP");
		if (r == 0 && ip && kilo_addr_parse(ip, &addr, NULL) == 0) {
			s.family = addr.family;
			memcpy(s.bytes, addr.bytes, sizeof(s.bytes));
			r = add_service(n, &s);
		}
		memset(s.bytes, 0, sizeof(s.bytes));
		s.family = 0;
		json_array_foreach(json_object_get(spec, "ports"), j, v) {
			json_int_t port = json_integer_value(json_object_get(v, "nodePort"));

			if (r == 0 && port > 0 && port <= 65535) {
				s.port = (uint16_t)port;
				r = add_service(n, &s);
			}
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_ids(struct kilo_flow_names *n, struct id_name **out, size_t *n_out, size_t count,
		   uint32_t (*id_at)(const void *, size_t), const char *(*name_at)(const void *, size_t),
		   const void *items)
{
	if (!count)
		return 0;
	*out = kilo_arena_array(&n->arena, count, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++)
		(*out)[i] = (struct id_name){ .id = id_at(items, i), .name = keep(n, name_at(items, i)) };
	*n_out = count;
	qsort(*out, count, sizeof(**out), cmp_id_name);
	return 0;
}

/* last's Services' names, copied: sorted as they are. */
static int copy_services(struct kilo_flow_names *n, const struct kilo_flow_names *last)
{
	for (size_t i = 0; i < last->n_services; i++) {
		struct service_name s = last->services[i];

		if (!(s.name = keep(n, s.name)) || add_service(n, &s) < 0)
			return -ENOMEM;
	}
	return 0;
}

static uint32_t identity_at(const void *items, size_t i)
{
	return ((const struct kilo_flow_identity *)items)[i].identity;
}

static const char *identity_labels_at(const void *items, size_t i)
{
	return ((const struct kilo_flow_identity *)items)[i].labels;
}

static uint32_t rule_id_at(const void *items, size_t i)
{
	return ((const struct kilo_np_rule_name *)items)[i].rule_id;
}

static const char *rule_name_at(const void *items, size_t i)
{
	return ((const struct kilo_np_rule_name *)items)[i].name;
}

static json_t *parse_array(const char *text)
{
	json_t *v = text ? json_loads(text, 0, NULL) : NULL;

	if (v && !json_is_array(v)) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

/*
 * The addresses put in last's order, when each was added at the index its
 * equal was in last (labels changed, no pod moved): the sort by address,
 * then index, then gives last's order, without sorting 10,000 pods' again.
 * false: not so (or out of memory), to be sorted.
 */
static bool sort_as(struct kilo_flow_names *n, const struct kilo_flow_names *last)
{
	struct addr_name *sorted;

	if (!last || last->n_addrs != n->n_addrs)
		return false;
	for (size_t k = 0; k < n->n_addrs; k++)
		if (last->addrs[k].order >= n->n_addrs || cmp_addr_name(&n->addrs[last->addrs[k].order], &last->addrs[k]))
			return false;
	sorted = malloc(n->n_addrs * sizeof(*sorted));
	if (!sorted)
		return false;
	for (size_t k = 0; k < n->n_addrs; k++)
		sorted[k] = n->addrs[last->addrs[k].order];
	free(n->addrs);
	n->addrs = sorted;
	n->cap_addrs = n->n_addrs;
	return true;
}

int kilo_flow_names_build(const struct kilo_flow_names_inputs *in, struct kilo_flow_names **out)
{
	bool services_as_last = in->services_as_last && in->last;
	struct kilo_flow_names *n = calloc(1, sizeof(*n));
	json_t *pods = in->model ? NULL : parse_array(in->pods);
	json_t *services = services_as_last ? NULL : parse_array(in->services);
	int r = n ? 0 : -ENOMEM;

	/* Pods first: a pod's address named by its pod wins over its node's (hostNetwork pods share it). */
	if (r == 0)
		r = in->model ? add_model_pods(n, in->model) : add_pods(n, pods, in->mesh);
	if (r == 0)
		r = add_mesh(n, in->mesh);
	if (r == 0)
		r = services_as_last ? copy_services(n, in->last) : add_services(n, services);
	if (r == 0)
		r = add_ids(n, &n->labels, &n->n_labels, in->n_identities, identity_at, identity_labels_at,
			    in->identities);
	if (r == 0 && in->policy)
		r = add_ids(n, &n->rules, &n->n_rules, in->policy->n_rule_names, rule_id_at, rule_name_at,
			    in->policy->rule_names);
	json_decref(pods);
	json_decref(services);
	if (r < 0) {
		kilo_flow_names_free(n);
		return r;
	}
	if (n->n_addrs && !sort_as(n, in->last))
		qsort(n->addrs, n->n_addrs, sizeof(*n->addrs), cmp_addr_name_order);
	if (n->n_services && !services_as_last)
		qsort(n->services, n->n_services, sizeof(*n->services), cmp_service_name);
	*out = n;
	return 0;
}

void kilo_flow_names_free(struct kilo_flow_names *n)
{
	if (!n)
		return;
	free(n->addrs);
	free(n->cidrs);
	free(n->services);
	kilo_arena_release(&n->arena);
	free(n);
}

static struct addr_name key_of(uint8_t socket_family, const union kilo_lb_addr *addr)
{
	struct addr_name key = { .family = addr_family(socket_family) };

	memcpy(key.bytes, addr->bytes, addr_len(key.family));
	return key;
}

void kilo_flow_names_where(const struct kilo_flow_names *n, uint8_t family, const union kilo_lb_addr *addr,
			   struct kilo_flow_where *out)
{
	struct addr_name key = key_of(family, addr);
	const struct addr_name *found;
	struct kilo_addr a = { .family = key.family };
	int best = -1;

	*out = (struct kilo_flow_where){ 0 };
	if (!n || !key.family)
		return;
	found = n->n_addrs ? bsearch(&key, n->addrs, n->n_addrs, sizeof(*n->addrs), cmp_addr_name) : NULL;
	/* bsearch may land on any of equal keys: the first added is the one to name. */
	while (found && found > n->addrs && cmp_addr_name(found - 1, &key) == 0)
		found--;
	if (found) {
		*out = found->where;
		return;
	}
	memcpy(a.bytes, key.bytes, sizeof(a.bytes));
	for (size_t i = 0; i < n->n_cidrs; i++)
		if ((int)n->cidrs[i].cidr.prefix > best && kilo_cidr_contains(&n->cidrs[i].cidr, &a)) {
			best = n->cidrs[i].cidr.prefix;
			*out = n->cidrs[i].where;
		}
}

static const char *find_id(const struct id_name *items, size_t count, uint32_t id)
{
	struct id_name key = { .id = id };
	const struct id_name *found = count ? bsearch(&key, items, count, sizeof(*items), cmp_id_name) : NULL;

	return found ? found->name : NULL;
}

const char *kilo_flow_names_labels(const struct kilo_flow_names *n, uint32_t identity)
{
	return n ? find_id(n->labels, n->n_labels, identity) : NULL;
}

const char *kilo_flow_names_rule(const struct kilo_flow_names *n, uint32_t rule_id)
{
	return n ? find_id(n->rules, n->n_rules, rule_id) : NULL;
}

size_t kilo_flow_names_n_rules(const struct kilo_flow_names *n)
{
	return n ? n->n_rules : 0;
}

uint32_t kilo_flow_names_rule_id(const struct kilo_flow_names *n, size_t i)
{
	return n->rules[i].id;
}

const char *kilo_flow_names_service(const struct kilo_flow_names *n, uint8_t family, const union kilo_lb_addr *addr,
				    uint16_t port_be)
{
	struct service_name key = { .family = addr_family(family) };
	const struct service_name *found;

	if (!n || !n->n_services || !key.family)
		return NULL;
	memcpy(key.bytes, addr->bytes, addr_len(key.family));
	found = bsearch(&key, n->services, n->n_services, sizeof(*n->services), cmp_service_name);
	if (found)
		return found->name;
	key = (struct service_name){ .port = ntohs(port_be) };
	found = bsearch(&key, n->services, n->n_services, sizeof(*n->services), cmp_service_name);
	return found ? found->name : NULL;
}
