// SPDX-License-Identifier: Apache-2.0
/*
 * The compile for one node: from the model and the identities' numbers,
 * the maps of np_desired.h. Rules are keyed by the peers' identities, so a
 * pod that comes or goes changes the ipcache and the rules of the
 * endpoints whose policies select its label set, nothing else.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/array.h"
#include "../core/error.h"
#include "netpol.h"
#include "netpol_compile.h"
#include "netpol_list.h"

struct kilo_np_state *kilo_np_state_new(void)
{
	return calloc(1, sizeof(struct kilo_np_state));
}

void kilo_np_state_free(struct kilo_np_state *state)
{
	if (!state)
		return;
	kilo_np_names_release(&state->endpoints);
	kilo_np_names_release(&state->rules);
	kilo_np_names_release(&state->locations);
	kilo_np_cache_release(state);
	for (size_t i = 0; i < KILO_NP_LISTS; i++)
		kilo_np_list_memo_release(&state->lists[i]);
	kilo_np_label_order_release(&state->label_order);
	free(state->places);
	free(state);
}

void kilo_np_desired_release(struct kilo_np_desired *desired)
{
	for (size_t i = 0; i < desired->n_rule_names; i++)
		free((char *)desired->rule_names[i].name);
	free(desired->ipcache);
	free(desired->endpoints);
	free(desired->rules);
	free(desired->cidrs);
	free(desired->rule_names);
	free(desired->changes.endpoints);
	*desired = (struct kilo_np_desired){ 0 };
}

/* The identities' numbers, by the model's identity index (0: none), from ids sorted as the identities are. */
static int number_identities(struct np_build *b, const struct kilo_np_identity_number *ids, size_t n_ids)
{
	const struct kilo_np_model *model = b->model;
	size_t j = 0;

	b->numbers = calloc(model->n_identities + 1, sizeof(*b->numbers));
	if (!b->numbers)
		return -ENOMEM;
	for (size_t i = 0; i < model->n_identities; i++) {
		int c = 1;

		while (j < n_ids && (c = strcmp(ids[j].label_set, model->identities[i].label_set)) < 0)
			j++;
		if (c == 0 && ids[j].identity >= KILO_IDENTITY_FIRST_ALLOCATED &&
		    ids[j].identity <= KILO_IDENTITY_LAST_ALLOCATED)
			b->numbers[i] = ids[j].identity;
		else
			kilo_lb_report_add(b->report, "label set \"%.200s\": no identity yet; its pods and peers are left out",
					   model->identities[i].label_set);
	}
	return 0;
}

static void set_addr(union kilo_lb_addr *out, __u8 *family, const struct kilo_addr *addr, unsigned prefix)
{
	unsigned size = addr->family == 4 ? 4 : 16;

	memset(out, 0, sizeof(*out));
	memcpy(out->bytes, addr->bytes, size);
	/* The bits past the prefix cleared by bytes: bit by bit, 10,000 pods' /32s cost more than their sort. */
	if (prefix % 8)
		out->bytes[prefix / 8] &= (__u8)(0xff << (8 - prefix % 8));
	for (unsigned i = (prefix + 7) / 8; i < size; i++)
		out->bytes[i] = 0;
	*family = addr->family == 4 ? AF_INET : AF_INET6;
}

static unsigned addr_bits(const struct kilo_addr *addr)
{
	return addr->family == 4 ? 32 : 128;
}

static int add_ipcache(struct np_build *b, const struct kilo_addr *addr, unsigned prefix, uint32_t identity,
		       const char *location)
{
	struct kilo_np_desired_ipcache *e;

	if (kilo_array_reserve((void **)&b->out->ipcache, &b->cap_ipcache, b->out->n_ipcache + 1, sizeof(*e)) < 0)
		return -ENOMEM;
	e = &b->out->ipcache[b->out->n_ipcache++];
	memset(e, 0, sizeof(*e));
	e->key.prefixlen = 32 + prefix;
	set_addr(&e->key.addr, &e->key.family, addr, prefix);
	e->value.identity = identity;
	if (location && location[0]) {
		/* The last entry's kept: runs of one location (a node's, its pods') need no search among the names. */
		if (!b->location.name || strcmp(b->location.name, location) != 0) {
			b->location.name = location;
			b->location.number = kilo_np_names_get(&b->state->locations, location);
		}
		if (!b->location.number)
			return -ENOMEM;
		e->value.location = (__u16)b->location.number;
	}
	return 0;
}

/* Nodes first: of two entries for one address the first stays (a host-network pod has its node's). */
static int build_ipcache(struct np_build *b)
{
	const struct kilo_np_model *model = b->model;
	int r;

	for (size_t i = 0; i < model->n_nodes; i++) {
		const struct kilo_np_node *node = &model->nodes[i];
		uint32_t identity = strcmp(node->name, b->self) == 0 ? KILO_IDENTITY_HOST : KILO_IDENTITY_REMOTE_NODE;

		for (size_t j = 0; j < node->n_addrs; j++)
			if ((r = add_ipcache(b, &node->addrs[j], addr_bits(&node->addrs[j]), identity, node->location)) < 0)
				return r;
	}
	for (size_t i = 0; i < model->n_pods; i++) {
		const struct kilo_np_pod *pod = &model->pods[i];

		if (pod->identity == KILO_NP_NO_IDENTITY || !b->numbers[pod->identity])
			continue;
		for (size_t j = 0; j < pod->n_addrs; j++)
			if ((r = add_ipcache(b, &pod->addrs[j], addr_bits(&pod->addrs[j]), b->numbers[pod->identity],
					     pod->location)) < 0)
				return r;
	}
	for (size_t i = 0; i < model->n_peers; i++) {
		const struct kilo_np_vpn_peer *peer = &model->peers[i];

		if (!b->numbers[peer->identity])
			continue;
		for (size_t j = 0; j < peer->n_allowed_ips; j++)
			if ((r = add_ipcache(b, &peer->allowed_ips[j].addr, peer->allowed_ips[j].prefix,
					     b->numbers[peer->identity], NULL)) < 0)
				return r;
	}
	return 0;
}

static int key_cmp_ipcache(const void *a, const void *b)
{
	return memcmp(&((const struct kilo_np_desired_ipcache *)a)->key, &((const struct kilo_np_desired_ipcache *)b)->key,
		      sizeof(struct kilo_ipcache_key));
}

static int key_cmp_endpoint(const void *a, const void *b)
{
	return memcmp(&((const struct kilo_np_desired_endpoint *)a)->key,
		      &((const struct kilo_np_desired_endpoint *)b)->key, sizeof(struct kilo_policy_endpoint_key));
}

static int rule_name_cmp(const void *a, const void *b)
{
	const struct kilo_np_rule_name *x = a, *y = b;

	return (x->rule_id > y->rule_id) - (x->rule_id < y->rule_id);
}

/* Keeps the first of each run of equal keys (key_size bytes at the start) of n sorted items. */
static size_t unique(void *items, size_t n, size_t size, size_t key_size)
{
	char *base = items;
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		if (kept && memcmp(base + (kept - 1) * size, base + i * size, key_size) == 0)
			continue;
		if (kept != i)
			memcpy(base + kept * size, base + i * size, size);
		kept++;
	}
	return kept;
}

/* A stable sort for the ipcache, whose first entry of an address wins: by key, then by position. */
struct ipcache_item {
	struct kilo_np_desired_ipcache entry;
	size_t position;
};

static int ipcache_item_cmp(const void *a, const void *b)
{
	const struct ipcache_item *x = a, *y = b;
	int c = key_cmp_ipcache(&x->entry, &y->entry);

	return c ? c : (x->position > y->position) - (x->position < y->position);
}

void kilo_np_ipcache_order_release(struct np_ipcache_order *o)
{
	free(o->keys);
	free(o->order);
	*o = (struct np_ipcache_order){ 0 };
}

/* Whether out's ipcache, as built, has the last one's keys at every position. */
static bool same_keys(const struct np_ipcache_order *last, const struct kilo_np_desired *out)
{
	if (!last->keys || last->n_keys != out->n_ipcache)
		return false;
	for (size_t i = 0; i < out->n_ipcache; i++)
		if (memcmp(&last->keys[i], &out->ipcache[i].key, sizeof(last->keys[i])) != 0)
			return false;
	return true;
}

/* The ipcache taken in the order of positions (n), kept in out. -ENOMEM. */
static int take_in_order(struct kilo_np_desired *out, const size_t *order, size_t n)
{
	struct kilo_np_desired_ipcache *sorted = malloc((n + 1) * sizeof(*sorted));

	if (!sorted)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		sorted[i] = out->ipcache[order[i]];
	free(out->ipcache);
	out->ipcache = sorted;
	out->n_ipcache = n;
	return 0;
}

/* The sort's kept positions, by a sort (with the keys built, for the next computation). -ENOMEM. */
static int sort_ipcache(const struct kilo_np_desired *out, struct np_ipcache_order *o)
{
	struct ipcache_item *items = malloc((out->n_ipcache + 1) * sizeof(*items));
	int r = -ENOMEM;

	*o = (struct np_ipcache_order){ .keys = malloc((out->n_ipcache + 1) * sizeof(*o->keys)),
					.order = malloc((out->n_ipcache + 1) * sizeof(*o->order)) };
	if (!items || !o->keys || !o->order)
		goto out;
	for (size_t i = 0; i < out->n_ipcache; i++) {
		items[i] = (struct ipcache_item){ out->ipcache[i], i };
		o->keys[i] = out->ipcache[i].key;
	}
	o->n_keys = out->n_ipcache;
	qsort(items, out->n_ipcache, sizeof(*items), ipcache_item_cmp);
	o->n_order = unique(items, out->n_ipcache, sizeof(*items), sizeof(struct kilo_ipcache_key));
	for (size_t i = 0; i < o->n_order; i++)
		o->order[i] = items[i].position;
	r = 0;
out:
	free(items);
	return r;
}

/* Sorts the ipcache, each key once: as the last computation's when its keys are those, else by a sort. */
static int finish_ipcache(struct kilo_np_state *state, struct kilo_np_desired *out)
{
	struct np_ipcache_order sorted;

	if (same_keys(&state->ipcache, out))
		return take_in_order(out, state->ipcache.order, state->ipcache.n_order);
	kilo_np_ipcache_order_release(&state->ipcache);
	if (sort_ipcache(out, &sorted) < 0) {
		kilo_np_ipcache_order_release(&sorted);
		return -ENOMEM;
	}
	state->ipcache = sorted;
	return take_in_order(out, sorted.order, sorted.n_order);
}

/* The computations' serials: of every state in the process, so that no two outputs share one. */
static uint64_t serials;

int kilo_np_compile(struct kilo_np_state *state, const struct kilo_np_model *model, const char *self,
		    const struct kilo_np_identity_number *ids, size_t n_ids, struct kilo_np_desired *out,
		    struct kilo_lb_report *report, struct kilo_error *err)
{
	struct np_build b = { .state = state, .model = model, .self = self ? self : "", .out = out, .report = report };
	int r;

	*out = (struct kilo_np_desired){ .changes.base = state->serial };
	/* Generation 0 is no computation's: a new cache entry of an old state must not look asked for. */
	if (++state->generation == 0)
		state->generation = 1;
	if ((r = number_identities(&b, ids, n_ids)) < 0 || (r = kilo_np_identity_changes(&b)) < 0 ||
	    (r = build_ipcache(&b)) < 0 || (r = kilo_np_build_endpoints(&b)) < 0 || (r = finish_ipcache(state, out)) < 0 ||
	    (r = kilo_np_cache_commit(&b)) < 0)
		goto fail;
	/* qsort's array may not be NULL, even when empty. */
	if (out->n_endpoints)
		qsort(out->endpoints, out->n_endpoints, sizeof(*out->endpoints), key_cmp_endpoint);
	if (out->n_rule_names)
		qsort(out->rule_names, out->n_rule_names, sizeof(*out->rule_names), rule_name_cmp);
	if ((r = kilo_np_names_commit(&state->endpoints)) < 0 || (r = kilo_np_names_commit(&state->rules)) < 0 ||
	    (r = kilo_np_names_commit(&state->locations)) < 0)
		goto fail;
	/* Without a computation to compare with, the endpoints listed are not all that may differ. */
	if (!out->changes.base)
		out->changes.n_endpoints = 0;
	out->changes.serial = state->serial = __atomic_add_fetch(&serials, 1, __ATOMIC_RELAXED);
	kilo_np_build_release(&b);
	return 0;
fail:
	kilo_np_names_abort(&state->endpoints);
	kilo_np_names_abort(&state->rules);
	kilo_np_names_abort(&state->locations);
	kilo_np_cache_release(state);
	kilo_np_build_release(&b);
	kilo_np_desired_release(out);
	return kilo_error_set(err, -r, "network policy compile: out of memory");
}
