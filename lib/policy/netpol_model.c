// SPDX-License-Identifier: Apache-2.0
/*
 * The policy model: Pods, Namespaces and NetworkPolicies as the store lists
 * them, the mesh's nodes and VPN peers, and the identities (distinct label
 * sets) of pods and peers (netpol_identity.c), in the canonical form
 * netpol.h defines.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../mesh/model.h"
#include "../core/array.h"
#include "../serial/manifest_check.h"
#include "netpol_compile.h"
#include "netpol_identity.h"
#include "netpol_list.h"
#include "netpol.h"

#define NAME_TEXT_MAX 128

static int no_memory(struct kilo_error *err)
{
	return kilo_error_set(err, ENOMEM, "out of memory");
}

static const char *text_or(json_t *value, const char *fallback)
{
	return json_is_string(value) ? json_string_value(value) : fallback;
}

int kilo_np_label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kilo_np_label *)a)->key, ((const struct kilo_np_label *)b)->key);
}

/*
 * labels (a JSON object of label strings; may be NULL) with the labels of
 * extra (n_extra keys and values, NULL values skipped) set over them,
 * sorted. -EINVAL when a label is not one Kubernetes allows, -ENOMEM.
 */
static int build_labels(struct kilo_arena *arena, json_t *labels, const struct kilo_np_label *extra, size_t n_extra,
			struct kilo_np_labels *out)
{
	struct kilo_np_label *items = kilo_arena_array(arena, json_object_size(labels) + n_extra + 1, sizeof(*items));
	const char *key;
	json_t *value;
	size_t n = 0;

	if (!items)
		return -ENOMEM;
	json_object_foreach(labels, key, value) {
		bool replaced = false;

		if (!kilo_label_key_valid(key) || !json_is_string(value) || !kilo_label_value_valid(json_string_value(value)))
			return -EINVAL;
		for (size_t i = 0; i < n_extra; i++)
			replaced |= strcmp(extra[i].key, key) == 0;
		if (replaced)
			continue;
		/* Copied: the JSON is freed once read. */
		items[n].key = kilo_arena_strdup(arena, key);
		items[n].value = kilo_arena_strdup(arena, json_string_value(value));
		if (!items[n].key || !items[n++].value)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n_extra; i++)
		if (extra[i].value)
			items[n++] = extra[i];
	qsort(items, n, sizeof(*items), kilo_np_label_cmp);
	*out = (struct kilo_np_labels){ items, n };
	return 0;
}

/* An object's namespace and name, copied; false (reported) when it has no name. */
static int read_name(struct kilo_arena *arena, json_t *object, const char *kind, const char **ns, const char **name,
		     struct kilo_lb_report *report, bool *ok)
{
	json_t *metadata = json_object_get(object, "metadata");

	*ok = json_is_string(json_object_get(metadata, "name"));
	if (!*ok) {
		kilo_lb_report_add(report, "%s without metadata.name: left out", kind);
		return 0;
	}
	*name = kilo_arena_strdup(arena, json_string_value(json_object_get(metadata, "name")));
	if (ns)
		*ns = kilo_arena_strdup(arena, text_or(json_object_get(metadata, "namespace"), "default"));
	return !*name || (ns && !*ns) ? -ENOMEM : 0;
}

static void report_object(struct kilo_lb_report *report, const char *kind, const char *ns, const char *name,
			  const char *why)
{
	char a[NAME_TEXT_MAX], b[NAME_TEXT_MAX];

	kilo_lb_report_add(report, "%s %s%s%s: %s", kind, ns ? kilo_escape(ns, a, sizeof(a)) : "", ns ? "/" : "",
			   kilo_escape(name, b, sizeof(b)), why);
}

/* A Namespace, or a Peer object (a name and labels too); kind names it in reports. */
static int read_named_labels(struct kilo_arena *arena, json_t *object, const char *kind,
			     const struct kilo_np_label *extra, struct kilo_np_namespace *out,
			     struct kilo_lb_report *report, bool *keep)
{
	json_t *labels = json_object_get(json_object_get(object, "metadata"), "labels");
	struct kilo_np_label with_name;
	bool ok;
	int r;

	if ((r = read_name(arena, object, kind, NULL, &out->name, report, &ok)) < 0 || !ok)
		return r;
	with_name = (struct kilo_np_label){ extra ? extra->key : NULL, out->name };
	r = build_labels(arena, json_is_object(labels) ? labels : NULL, &with_name, extra ? 1 : 0, &out->labels);
	if (r == -EINVAL || (labels && !json_is_object(labels)))
		report_object(report, kind, NULL, out->name, "metadata.labels: not valid labels; left out");
	*keep = r == 0 && (!labels || json_is_object(labels));
	return r == -EINVAL ? 0 : r;
}

static int read_namespace(struct kilo_arena *arena, json_t *object, const char *text, size_t len, void *item,
			  struct kilo_lb_report *report, bool *keep)
{
	static const struct kilo_np_label name_label = { KILO_NP_NAMESPACE_LABEL, NULL };

	(void)text;
	(void)len;
	return read_named_labels(arena, object, "Namespace", &name_label, item, report, keep);
}

/*
 * A Peer object (metadata.name and .labels), or a peer as the store lists
 * its mesh peers ({"name": ...}, with no labels of its own).
 */
static int read_peer_object(struct kilo_arena *arena, json_t *object, const char *text, size_t len, void *item,
			    struct kilo_lb_report *report, bool *keep)
{
	static const struct kilo_np_label name_label = { KILO_NP_PEER_LABEL, NULL };
	json_t *name = json_object_get(object, "name");
	json_t *wrapped = NULL;
	int r;

	(void)text;
	(void)len;
	if (!json_object_get(object, "metadata") && json_is_string(name)) {
		wrapped = json_pack("{s:{s:O}}", "metadata", "name", name);
		if (!wrapped)
			return -ENOMEM;
		object = wrapped;
	}
	r = read_named_labels(arena, object, "Peer", &name_label, item, report, keep);
	json_decref(wrapped);
	return r;
}

static int read_policy(struct kilo_arena *arena, json_t *object, const char *text, size_t len, void *item,
		       struct kilo_lb_report *report, bool *keep)
{
	struct kilo_error perr = { 0 };
	int r = kilo_np_policy_read(arena, object, item, &perr);

	((struct kilo_np_policy *)item)->hash = kilo_np_hash(KILO_NP_HASH_INIT, text, len);

	if (r == -EINVAL) {
		const struct kilo_np_policy *policy = item;

		if (policy->name)
			report_object(report, "NetworkPolicy", policy->namespace, policy->name, perr.message);
		else
			kilo_lb_report_add(report, "NetworkPolicy: %s", perr.message);
	}
	*keep = r == 0;
	return r == -EINVAL ? 0 : r;
}

static int protocol_number(json_t *value, uint8_t *out)
{
	const char *text = text_or(value, "TCP");

	*out = !strcmp(text, "TCP") ? IPPROTO_TCP : !strcmp(text, "UDP") ? IPPROTO_UDP
						 : !strcmp(text, "SCTP") ? IPPROTO_SCTP : 0;
	return *out && (!value || json_is_string(value)) ? 0 : -EINVAL;
}

static int read_container_ports(struct kilo_arena *arena, json_t *spec, struct kilo_np_pod *pod)
{
	struct kilo_np_container_port *ports;
	json_t *container, *port;
	size_t i, j, n = 0;

	json_array_foreach(json_object_get(spec, "containers"), i, container)
		n += json_array_size(json_object_get(container, "ports"));
	ports = kilo_arena_array(arena, n + 1, sizeof(*ports));
	if (!ports)
		return -ENOMEM;
	pod->ports_hash = KILO_NP_HASH_INIT;
	json_array_foreach(json_object_get(spec, "containers"), i, container) {
		json_array_foreach(json_object_get(container, "ports"), j, port) {
			struct kilo_np_container_port *p = &ports[pod->n_ports];
			json_t *number = json_object_get(port, "containerPort");

			if (!json_is_integer(number) || json_integer_value(number) < 1 ||
			    json_integer_value(number) > 65535 || protocol_number(json_object_get(port, "protocol"), &p->proto) < 0)
				continue;
			p->port = (uint16_t)json_integer_value(number);
			p->name = kilo_arena_strdup(arena, text_or(json_object_get(port, "name"), ""));
			if (!p->name)
				return -ENOMEM;
			pod->ports_hash = kilo_np_hash(pod->ports_hash, p->name, strlen(p->name) + 1);
			pod->ports_hash = kilo_np_hash(pod->ports_hash, &p->proto, sizeof(p->proto));
			pod->ports_hash = kilo_np_hash(pod->ports_hash, &p->port, sizeof(p->port));
			pod->n_ports++;
		}
	}
	pod->ports = ports;
	return 0;
}

/* status.podIPs, else status.podIP: at most one address of each family. */
static void read_pod_ips(json_t *status, struct kilo_np_pod *pod)
{
	json_t *ips = json_object_get(status, "podIPs"), *v;
	size_t i;

	if (json_array_size(ips) == 0)
		ips = NULL;
	for (i = 0; i < (ips ? json_array_size(ips) : 1); i++) {
		struct kilo_addr addr;

		v = ips ? json_object_get(json_array_get(ips, i), "ip") : json_object_get(status, "podIP");
		if (!json_is_string(v) || kilo_addr_parse(json_string_value(v), &addr, NULL) < 0)
			continue;
		if (pod->n_addrs == 2 || (pod->n_addrs == 1 && pod->addrs[0].family == addr.family))
			continue;
		pod->addrs[pod->n_addrs++] = addr;
	}
}

static int read_pod(struct kilo_arena *arena, json_t *object, const char *text, size_t len, void *item,
		    struct kilo_lb_report *report, bool *keep)
{
	struct kilo_np_pod *pod = item;
	json_t *spec = json_object_get(object, "spec"), *labels;
	bool ok;
	int r;

	(void)text;
	(void)len;
	*pod = (struct kilo_np_pod){ 0 };
	if ((r = read_name(arena, object, "Pod", &pod->namespace, &pod->name, report, &ok)) < 0 || !ok)
		return r;
	labels = json_object_get(json_object_get(object, "metadata"), "labels");
	r = build_labels(arena, json_is_object(labels) ? labels : NULL, NULL, 0, &pod->labels);
	if (r == -EINVAL || (labels && !json_is_object(labels))) {
		report_object(report, "Pod", pod->namespace, pod->name, "metadata.labels: not valid labels; left out");
		return 0;
	}
	if (r < 0)
		return r;
	pod->node = kilo_arena_strdup(arena, text_or(json_object_get(spec, "nodeName"), ""));
	if (!pod->node || read_container_ports(arena, spec, pod) < 0)
		return -ENOMEM;
	read_pod_ips(json_object_get(object, "status"), pod);
	pod->identity = KILO_NP_NO_IDENTITY;
	if (!(pod->memo = kilo_arena_alloc(arena, sizeof(*pod->memo))))
		return -ENOMEM;
	pod->memo->arena.first_chunk = 512;
	*keep = true;
	return 0;
}

static void release_pod(void *item)
{
	kilo_arena_release(&((struct kilo_np_pod *)item)->memo->arena);
}

static int name_cmp(const char *a_ns, const char *a, const char *b_ns, const char *b)
{
	int c = a_ns && b_ns ? strcmp(a_ns, b_ns) : 0;

	return c ? c : strcmp(a, b);
}

static int pod_cmp(const void *a, const void *b)
{
	const struct kilo_np_pod *x = a, *y = b;

	return name_cmp(x->namespace, x->name, y->namespace, y->name);
}

static int policy_cmp(const void *a, const void *b)
{
	const struct kilo_np_policy *x = a, *y = b;

	return name_cmp(x->namespace, x->name, y->namespace, y->name);
}

int kilo_np_namespace_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kilo_np_namespace *)a)->name, ((const struct kilo_np_namespace *)b)->name);
}

int kilo_np_node_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kilo_np_node *)a)->name, ((const struct kilo_np_node *)b)->name);
}

static int peer_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kilo_np_vpn_peer *)a)->name, ((const struct kilo_np_vpn_peer *)b)->name);
}

static int string_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const void *kilo_np_find(const void *items, size_t n, size_t size, const void *key,
			 int (*cmp)(const void *, const void *))
{
	return n ? bsearch(key, items, n, size, cmp) : NULL;
}

static void add_node_addr(struct kilo_np_node *node, const struct kilo_cidr *cidr)
{
	if (cidr->addr.family && node->n_addrs < KILO_NP_NODE_ADDRS_MAX)
		node->addrs[node->n_addrs++] = cidr->addr;
}

/* The first address of a pod CIDR: the node's bridge (kube-bridge), from which it reaches its own pods. */
static void add_bridge_addr(struct kilo_np_node *node, const struct kilo_cidr *pod_cidr)
{
	struct kilo_cidr bridge = kilo_cidr_masked(pod_cidr);
	int last = bridge.addr.family == 4 ? 3 : 15;

	if (!bridge.addr.family)
		return;
	for (int i = last; i >= 0 && ++bridge.addr.bytes[i] == 0; i--)
		;
	add_node_addr(node, &bridge);
}

static int read_mesh(struct kilo_np_model *model, const kilo_mesh *mesh)
{
	size_t n_nodes = mesh ? mesh->n_nodes : 0, n_peers = mesh ? mesh->n_peers : 0;

	model->nodes = kilo_arena_array(&model->arena, n_nodes + 1, sizeof(*model->nodes));
	model->peers = kilo_arena_array(&model->arena, n_peers + 1, sizeof(*model->peers));
	model->locations = kilo_arena_array(&model->arena, n_nodes + 1, sizeof(*model->locations));
	if (!model->nodes || !model->peers || !model->locations)
		return -ENOMEM;
	for (size_t i = 0; i < n_nodes; i++) {
		const struct kilo_node *src = &mesh->nodes[i];
		struct kilo_np_node *node = &model->nodes[i];

		node->name = src->name;
		node->location = src->location ? src->location : "";
		add_node_addr(node, &src->internal_ip);
		add_node_addr(node, &src->secondary_internal_ip);
		add_node_addr(node, &src->wireguard_ip);
		add_bridge_addr(node, &src->pod_cidr);
		add_bridge_addr(node, &src->secondary_pod_cidr);
		if (node->location[0])
			model->locations[model->n_locations++] = node->location;
	}
	model->n_nodes = n_nodes;
	for (size_t i = 0; i < n_peers; i++)
		model->peers[i] = (struct kilo_np_vpn_peer){ mesh->peers[i].name, mesh->peers[i].allowed_ips,
							     mesh->peers[i].n_allowed_ips, (size_t)-1 };
	model->n_peers = n_peers;
	qsort(model->nodes, model->n_nodes, sizeof(*model->nodes), kilo_np_node_cmp);
	qsort(model->peers, model->n_peers, sizeof(*model->peers), peer_cmp);
	qsort(model->locations, model->n_locations, sizeof(*model->locations), string_cmp);
	for (size_t i = 0, kept = 0; i < model->n_locations; i++) {
		if (kept == 0 || strcmp(model->locations[kept - 1], model->locations[i]) != 0)
			model->locations[kept++] = model->locations[i];
		if (i + 1 == model->n_locations)
			model->n_locations = kept;
	}
	return 0;
}


/*
 * Sorts n items unless they are in order already: the store lists objects
 * by key, which is mostly this order, and the check costs a fraction of
 * qsort's comparisons at every sync of 10,000 pods.
 */
static void sort_items(void *items, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	const char *base = items;

	for (size_t i = 1; i < n; i++)
		if (cmp(base + (i - 1) * size, base + i * size) > 0) {
			qsort(items, n, size, cmp);
			return;
		}
}

static const struct kilo_np_list_reader pod_reader = { "pods", sizeof(struct kilo_np_pod), read_pod, release_pod };
static const struct kilo_np_list_reader namespace_reader = { "namespaces", sizeof(struct kilo_np_namespace),
							     read_namespace, NULL };
static const struct kilo_np_list_reader policy_reader = { "policies", sizeof(struct kilo_np_policy), read_policy,
							  NULL };
static const struct kilo_np_list_reader peer_reader = { "peers", sizeof(struct kilo_np_namespace), read_peer_object,
							NULL };

/* A text and its length, counted here. */
static struct kilo_np_text counted(const char *text)
{
	return (struct kilo_np_text){ .text = text, .len = text ? strlen(text) : 0 };
}

static struct kilo_np_texts counted_texts(const char *pods, const char *namespaces, const char *policies,
					  const char *peer_objects)
{
	return (struct kilo_np_texts){ counted(pods), counted(namespaces), counted(policies), counted(peer_objects) };
}

/*
 * The model, with a state's memos of the lists, its epoch (see struct
 * kilo_np_pod_memo) and its label sets' order; else NULL, 0 and NULL.
 */
static int read_model(struct kilo_np_list_memo *memos, uint64_t epoch, struct kilo_np_label_order *order,
		      const struct kilo_np_texts *texts,
		      const kilo_mesh *mesh, struct kilo_np_model *out, struct kilo_lb_report *report,
		      struct kilo_error *err)
{
	struct kilo_np_namespace *peers = NULL;
	size_t n_peers = 0;
	int r;

	*out = (struct kilo_np_model){ 0 };
	if ((r = kilo_np_read_list(&out->arena, memos ? &memos[0] : NULL, &texts->pods, &pod_reader,
				   (void **)&out->pods, &out->n_pods, report, err)) < 0 ||
	    (r = kilo_np_read_list(&out->arena, memos ? &memos[1] : NULL, &texts->namespaces, &namespace_reader,
				   (void **)&out->namespaces, &out->n_namespaces, report, err)) < 0 ||
	    (r = kilo_np_read_list(&out->arena, memos ? &memos[2] : NULL, &texts->policies, &policy_reader,
				   (void **)&out->policies, &out->n_policies, report, err)) < 0 ||
	    (r = kilo_np_read_list(&out->arena, memos ? &memos[3] : NULL, &texts->peer_objects, &peer_reader,
				   (void **)&peers, &n_peers, report, err)) < 0)
		goto out;
	r = -ENOMEM;
	if (read_mesh(out, mesh) < 0)
		goto out;
	sort_items(out->pods, out->n_pods, sizeof(*out->pods), pod_cmp);
	sort_items(out->namespaces, out->n_namespaces, sizeof(*out->namespaces), kilo_np_namespace_cmp);
	sort_items(out->policies, out->n_policies, sizeof(*out->policies), policy_cmp);
	sort_items(peers, n_peers, sizeof(*peers), kilo_np_namespace_cmp);
	if (kilo_np_build_identities(out, peers, n_peers, epoch, order) == 0)
		r = 0;
out:
	free(peers);
	return r == -ENOMEM ? no_memory(err) : r;
}

int kilo_np_model_read(const char *pods, const char *namespaces, const char *policies, const char *peer_objects,
		       const kilo_mesh *mesh, struct kilo_np_model *out, struct kilo_lb_report *report,
		       struct kilo_error *err)
{
	struct kilo_np_texts texts = counted_texts(pods, namespaces, policies, peer_objects);

	return read_model(NULL, 0, NULL, &texts, mesh, out, report, err);
}

/* The nodes' names and locations as one text ("NAME LOCATION\n" each), to compare with the last read's. */
static char *node_places(const kilo_mesh *mesh, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		return NULL;
	for (size_t i = 0; mesh && i < mesh->n_nodes; i++)
		fprintf(f, "%s %s\n", mesh->nodes[i].name, mesh->nodes[i].location ? mesh->nodes[i].location : "");
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* A new epoch when the namespaces or the nodes' locations are not those of the last read: the pods' identities change. */
static int next_epoch(struct kilo_np_state *state, const struct kilo_np_text *namespaces, const kilo_mesh *mesh)
{
	const struct kilo_np_list_memo *last = &state->lists[1];
	const char *ns = namespaces->text ? namespaces->text : "[]";
	size_t len = 0, ns_len = namespaces->text ? namespaces->len : 2;
	char *places = node_places(mesh, &len);

	if (!places)
		return -ENOMEM;
	if (!last->text || last->len != ns_len || memcmp(last->text, ns, ns_len) != 0 || !state->places ||
	    len != state->places_len || memcmp(places, state->places, len) != 0)
		state->epoch++;
	free(state->places);
	state->places = places;
	state->places_len = len;
	return 0;
}

int kilo_np_model_update_texts(struct kilo_np_state *state, const struct kilo_np_texts *texts, const kilo_mesh *mesh,
			       struct kilo_np_model *out, struct kilo_lb_report *report, struct kilo_error *err)
{
	*out = (struct kilo_np_model){ 0 };
	if (next_epoch(state, &texts->namespaces, mesh) < 0)
		return no_memory(err);
	return read_model(state->lists, state->epoch, &state->label_order, texts, mesh, out, report, err);
}

int kilo_np_model_update(struct kilo_np_state *state, const char *pods, const char *namespaces,
			 const char *policies, const char *peer_objects, const kilo_mesh *mesh,
			 struct kilo_np_model *out, struct kilo_lb_report *report, struct kilo_error *err)
{
	struct kilo_np_texts texts = counted_texts(pods, namespaces, policies, peer_objects);

	return kilo_np_model_update_texts(state, &texts, mesh, out, report, err);
}

void kilo_np_model_release(struct kilo_np_model *model)
{
	free(model->pods);
	free(model->namespaces);
	free(model->policies);
	kilo_arena_release(&model->arena);
	*model = (struct kilo_np_model){ 0 };
}

const struct kilo_np_pod *kilo_np_model_find_pod(const struct kilo_np_model *model, const char *namespace,
						 const char *name)
{
	struct kilo_np_pod key = { .namespace = namespace, .name = name };

	return kilo_np_find(model->pods, model->n_pods, sizeof(*model->pods), &key, pod_cmp);
}

bool kilo_np_policy_selects(const struct kilo_np_policy *policy, const struct kilo_np_pod *pod,
			    const struct kilo_np_model *model)
{
	return pod->identity != KILO_NP_NO_IDENTITY && strcmp(policy->namespace, pod->namespace) == 0 &&
	       kilo_np_selector_matches(&policy->pod_selector, &model->identities[pod->identity].pod);
}

bool kilo_np_peer_matches(const struct kilo_np_peer *peer, const struct kilo_np_policy *policy,
			  const struct kilo_np_identity *identity)
{
	switch (peer->kind) {
	case KILO_NP_PEER_VPN:
		return identity->is_peer && kilo_np_selector_matches(peer->vpn_selector, &identity->peer);
	case KILO_NP_PEER_SELECTOR:
		if (identity->is_peer)
			return false;
		/* A pod selector alone selects in the policy's own namespace. */
		if (!peer->namespace_selector) {
			const char *ns = kilo_np_labels_get(&identity->ns, KILO_NP_NAMESPACE_LABEL);

			if (!ns || strcmp(ns, policy->namespace) != 0)
				return false;
		} else if (!kilo_np_selector_matches(peer->namespace_selector, &identity->ns)) {
			return false;
		}
		return !peer->pod_selector || kilo_np_selector_matches(peer->pod_selector, &identity->pod);
	case KILO_NP_PEER_IPBLOCK:
		break;
	}
	return false;
}
