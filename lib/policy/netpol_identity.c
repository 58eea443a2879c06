// SPDX-License-Identifier: Apache-2.0
/*
 * The model's identities: each pod's label set (its labels and its
 * namespace's, each with its node's location) and each VPN peer's, in the
 * canonical text netpol.h defines, distinct and in order.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "netpol_identity.h"

static size_t labels_text_size(const char *source, const struct kilo_np_labels *labels)
{
	size_t size = 0;

	for (size_t i = 0; i < labels->n; i++)
		size += strlen(source) + strlen(labels->items[i].key) + strlen(labels->items[i].value) + 3;
	return size;
}

static char *append(char *p, const char *text)
{
	size_t n = strlen(text);

	memcpy(p, text, n);
	return p + n;
}

static char *append_labels(char *p, const char *source, const struct kilo_np_labels *labels, bool *first)
{
	for (size_t i = 0; i < labels->n; i++) {
		if (!*first)
			*p++ = ',';
		p = append(p, source);
		*p++ = ':';
		p = append(p, labels->items[i].key);
		*p++ = '=';
		p = append(p, labels->items[i].value);
		*first = false;
	}
	return p;
}

/* The canonical label set of an identity: sources in byte order (ns, peer, pod), each by key. */
static int label_set_text(struct kilo_arena *arena, struct kilo_np_identity *identity)
{
	size_t size = labels_text_size("ns", &identity->ns) + labels_text_size("peer", &identity->peer) +
		      labels_text_size("pod", &identity->pod) + 1;
	char *text = kilo_arena_alloc_raw(arena, size), *p = text;
	bool first = true;

	if (!text)
		return -ENOMEM;
	p = append_labels(p, "ns", &identity->ns, &first);
	p = append_labels(p, "peer", &identity->peer, &first);
	p = append_labels(p, "pod", &identity->pod, &first);
	*p = '\0';
	identity->label_set = text;
	return 0;
}

/* labels with key set to value (NULL: removed), sorted. -ENOMEM. */
static int with_label(struct kilo_arena *arena, const struct kilo_np_labels *labels, const char *key,
		      const char *value, struct kilo_np_labels *out)
{
	struct kilo_np_label *items = kilo_arena_array(arena, labels->n + 1, sizeof(*items));
	size_t n = 0;

	if (!items)
		return -ENOMEM;
	for (size_t i = 0; i < labels->n; i++)
		if (strcmp(labels->items[i].key, key) != 0)
			items[n++] = labels->items[i];
	if (value)
		items[n++] = (struct kilo_np_label){ key, value };
	qsort(items, n, sizeof(*items), kilo_np_label_cmp);
	*out = (struct kilo_np_labels){ items, n };
	return 0;
}

/* The last namespace and node pod_identity found: pods come sorted by namespace, many of a node in a row. */
struct pod_places {
	const struct kilo_np_namespace *ns;
	const struct kilo_np_node *node;
};

/*
 * A pod's identity: its labels and its namespace's as seen for it, each
 * with its node's location; with a state's epoch (else 0), the one kept
 * with the pod when made in the same epoch.
 */
static int pod_identity(struct kilo_np_model *model, struct kilo_np_pod *pod, struct pod_places *last, uint64_t epoch,
			struct kilo_np_identity *out, uint64_t *hash)
{
	struct kilo_np_namespace key = { .name = pod->namespace };
	struct kilo_np_node node_key = { .name = pod->node };
	struct kilo_np_pod_memo *memo = epoch ? pod->memo : NULL;
	struct kilo_arena *arena = memo ? &memo->arena : &model->arena;
	const struct kilo_np_namespace *ns;
	const struct kilo_np_node *node;
	struct kilo_np_label name_label = { KILO_NP_NAMESPACE_LABEL, pod->namespace };
	struct kilo_np_labels bare = { &name_label, 1 };
	const char *location;
	int r;

	if (!last->ns || kilo_np_namespace_cmp(last->ns, &key) != 0)
		last->ns = kilo_np_find(model->namespaces, model->n_namespaces, sizeof(*model->namespaces), &key, kilo_np_namespace_cmp);
	if (!last->node || kilo_np_node_cmp(last->node, &node_key) != 0)
		last->node = kilo_np_find(model->nodes, model->n_nodes, sizeof(*model->nodes), &node_key, kilo_np_node_cmp);
	ns = last->ns;
	node = last->node;
	pod->location = node ? node->location : "";
	if (memo && memo->epoch == epoch) {
		*out = memo->identity;
		*hash = memo->hash;
		return 0;
	}
	if (memo) {
		kilo_arena_release(arena);
		memo->epoch = 0;
	}
	/* Copied when kept: the mesh the location is read from goes before the next read. */
	location = !pod->location[0] ? NULL : memo ? kilo_arena_strdup(arena, pod->location) : pod->location;
	*out = (struct kilo_np_identity){ 0 };
	if (pod->location[0] && !location)
		return -ENOMEM;
	if ((r = with_label(arena, &pod->labels, KILO_NP_LOCATION_LABEL, location, &out->pod)) < 0 ||
	    (r = with_label(arena, ns ? &ns->labels : &bare, KILO_NP_LOCATION_LABEL, location, &out->ns)) < 0 ||
	    (r = label_set_text(arena, out)) < 0)
		return r;
	*hash = kilo_np_hash(KILO_NP_HASH_INIT, out->label_set, strlen(out->label_set));
	if (memo)
		*memo = (struct kilo_np_pod_memo){ epoch, *hash, *out, memo->arena };
	return 0;
}

static int peer_identity(struct kilo_np_model *model, const struct kilo_np_vpn_peer *peer,
			 const struct kilo_np_namespace *objects, size_t n_objects, struct kilo_np_identity *out)
{
	struct kilo_np_namespace key = { .name = peer->name };
	const struct kilo_np_namespace *object = kilo_np_find(objects, n_objects, sizeof(*objects), &key, kilo_np_namespace_cmp);
	struct kilo_np_labels none = { NULL, 0 };
	int r;

	*out = (struct kilo_np_identity){ .is_peer = true };
	r = with_label(&model->arena, object ? &object->labels : &none, KILO_NP_PEER_LABEL, peer->name, &out->peer);
	return r < 0 ? r : label_set_text(&model->arena, out);
}

struct candidate {
	struct kilo_np_identity identity;
	uint64_t hash;  /* of identity.label_set */
	size_t *owner;  /* the pod's or peer's identity field */
	size_t first;   /* the first candidate of its label set */
	size_t index;   /* a first's: its identity's index */
};

/*
 * Each candidate's first of the same label set, through a hash table
 * (a cluster has far fewer label sets than pods, whose sets share long
 * prefixes: sorting only the distinct ones saves most comparisons). The
 * firsts go to distinct, in candidate order. -ENOMEM.
 */
static int dedupe(struct candidate *all, size_t n, size_t *distinct, size_t *n_distinct)
{
	size_t cap = 16;
	size_t *table;

	while (cap < 2 * n)
		cap *= 2;
	if (!(table = malloc(cap * sizeof(*table))))
		return -ENOMEM;
	memset(table, 0xff, cap * sizeof(*table));
	*n_distinct = 0;
	for (size_t i = 0; i < n; i++) {
		size_t slot = all[i].hash & (cap - 1);

		while (table[slot] != SIZE_MAX && (all[table[slot]].hash != all[i].hash ||
						   strcmp(all[table[slot]].identity.label_set, all[i].identity.label_set)))
			slot = (slot + 1) & (cap - 1);
		if (table[slot] == SIZE_MAX) {
			table[slot] = i;
			distinct[(*n_distinct)++] = i;
		}
		all[i].first = table[slot];
	}
	free(table);
	return 0;
}

int kilo_np_build_identities(struct kilo_np_model *model, const struct kilo_np_namespace *peer_objects,
			     size_t n_peer_objects, uint64_t epoch, struct kilo_np_label_order *order)
{
	size_t max = model->n_pods + model->n_peers + 1, n = 0, n_distinct = 0;
	struct candidate *all = calloc(max, sizeof(*all));
	size_t *distinct = malloc(max * sizeof(*distinct)), *sorted = malloc(max * sizeof(*sorted));
	struct kilo_np_label_key *keys = malloc(max * sizeof(*keys));
	struct pod_places last = { 0 };
	int r = -ENOMEM;

	model->identities = kilo_arena_array(&model->arena, max, sizeof(*model->identities));
	if (!all || !distinct || !sorted || !keys || !model->identities)
		goto out;
	for (size_t i = 0; i < model->n_pods; i++) {
		if ((r = pod_identity(model, &model->pods[i], &last, epoch, &all[n].identity, &all[n].hash)) < 0)
			goto out;
		if (model->pods[i].n_addrs > 0)
			all[n++].owner = &model->pods[i].identity;
	}
	for (size_t i = 0; i < model->n_peers; i++) {
		if ((r = peer_identity(model, &model->peers[i], peer_objects, n_peer_objects, &all[n].identity)) < 0)
			goto out;
		all[n].hash = kilo_np_hash(KILO_NP_HASH_INIT, all[n].identity.label_set, strlen(all[n].identity.label_set));
		all[n++].owner = &model->peers[i].identity;
	}
	if ((r = dedupe(all, n, distinct, &n_distinct)) < 0)
		goto out;
	for (size_t i = 0; i < n_distinct; i++)
		keys[i] = (struct kilo_np_label_key){ all[distinct[i]].identity.label_set, all[distinct[i]].hash };
	if ((r = kilo_np_label_order_sort(order, keys, n_distinct, sorted)) < 0)
		goto out;
	for (size_t i = 0; i < n_distinct; i++) {
		struct candidate *first = &all[distinct[sorted[i]]];

		model->identities[i] = first->identity;
		model->identities[i].hash = first->hash;
		first->index = i;
	}
	model->n_identities = n_distinct;
	for (size_t i = 0; i < n; i++)
		*all[i].owner = all[all[i].first].index;
	r = 0;
out:
	free(all);
	free(distinct);
	free(sorted);
	free(keys);
	return r;
}
