// SPDX-License-Identifier: Apache-2.0
/*
 * What one computation keeps for the next: each endpoint's entries with
 * the fingerprint of what they were made from, and the identities seen. A
 * pod's label change is then one identity gone and one new: the endpoints
 * whose own inputs did not change drop the gone one's entries and add the
 * new one's, matched against their selectors alone, and every endpoint's
 * entries are joined in key order without sorting them all again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "netpol_compile.h"

/* By key, then the lowest rule id first: of rules allowing the same key, that one names it. */
static int rule_cmp(const void *a, const void *b)
{
	const struct kilo_np_desired_rule *x = a, *y = b;
	int c = memcmp(&x->key, &y->key, sizeof(x->key));

	return c ? c : (x->value.rule_id > y->value.rule_id) - (x->value.rule_id < y->value.rule_id);
}

static int cidr_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct kilo_np_desired_cidr *)a)->key, &((const struct kilo_np_desired_cidr *)b)->key,
		      sizeof(struct kilo_policy_cidr_key));
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

void kilo_np_rules_settle(struct np_rules *rules)
{
	if (!rules->n)
		return;
	qsort(rules->items, rules->n, sizeof(*rules->items), rule_cmp);
	rules->n = unique(rules->items, rules->n, sizeof(*rules->items), sizeof(struct kilo_policy_key));
}

void kilo_np_cidrs_settle(struct np_cidrs *cidrs)
{
	if (!cidrs->n)
		return;
	qsort(cidrs->items, cidrs->n, sizeof(*cidrs->items), cidr_cmp);
	cidrs->n = unique(cidrs->items, cidrs->n, sizeof(*cidrs->items), sizeof(struct kilo_policy_cidr_key));
}

static int number_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static bool removed_identity(uint32_t identity, const uint32_t *removed, size_t n_removed)
{
	return identity >= KILO_IDENTITY_FIRST_ALLOCATED && !(identity & KILO_POLICY_REGION_FLAG) && n_removed &&
	       bsearch(&identity, removed, n_removed, sizeof(*removed), number_cmp);
}

int kilo_np_rules_update(struct np_rules *rules, const uint32_t *removed, size_t n_removed, struct np_rules *changes)
{
	struct kilo_np_desired_rule *merged;
	size_t kept = 0, i = 0, j = 0, n = 0, before = rules->n;

	for (size_t k = 0; n_removed && k < rules->n; k++)
		if (!removed_identity(rules->items[k].key.identity, removed, n_removed))
			rules->items[kept++] = rules->items[k];
	rules->n = n_removed ? kept : rules->n;
	if (!changes->n)
		return rules->n != before;
	kilo_np_rules_settle(changes);
	merged = malloc((rules->n + changes->n) * sizeof(*merged));
	if (!merged)
		return -ENOMEM;
	while (i < rules->n || j < changes->n) {
		if (j == changes->n || (i < rules->n && rule_cmp(&rules->items[i], &changes->items[j]) <= 0))
			merged[n++] = rules->items[i++];
		else
			merged[n++] = changes->items[j++];
	}
	free(rules->items);
	rules->items = merged;
	rules->cap = n;
	rules->n = unique(merged, n, sizeof(*merged), sizeof(struct kilo_policy_key));
	return 1;
}

static int hash_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/*
 * A hash of each identity's pods' container ports (egress's named ports
 * resolve at them): of the distinct lists its pods have, so that a pod
 * that comes or goes with the ports others of its label set have changes
 * no rule, as its entries are those of the others.
 */
static int hash_ports(struct np_build *b)
{
	const struct kilo_np_model *model = b->model;
	uint64_t *pods = malloc((model->n_pods + 1) * sizeof(*pods));
	int r = kilo_np_index_pods(b);

	if (r < 0 || !pods) {
		free(pods);
		return -ENOMEM;
	}
	b->ports_hashes = calloc(model->n_identities + 1, sizeof(*b->ports_hashes));
	if (!b->ports_hashes) {
		free(pods);
		return -ENOMEM;
	}
	for (size_t i = 0; i < model->n_identities; i++) {
		size_t n = b->first[i + 1] - b->first[i];
		uint64_t h = KILO_NP_HASH_INIT;

		for (size_t k = 0; k < n; k++)
			pods[k] = model->pods[b->pods_of[b->first[i] + k]].ports_hash;
		qsort(pods, n, sizeof(*pods), hash_cmp);
		for (size_t k = 0; k < n; k++)
			if (k == 0 || pods[k] != pods[k - 1])
				h = kilo_np_hash(h, &pods[k], sizeof(pods[k]));
		b->ports_hashes[i] = h;
	}
	free(pods);
	return 0;
}

int kilo_np_identity_changes(struct np_build *b)
{
	const struct kilo_np_model *model = b->model;
	const struct kilo_np_state *state = b->state;
	size_t i = 0, j = 0;
	int r;

	if ((r = hash_ports(b)) < 0)
		return r;
	b->removed = malloc((state->n_seen + 1) * sizeof(*b->removed));
	b->added = malloc((model->n_identities + 1) * sizeof(*b->added));
	if (!b->removed || !b->added)
		return -ENOMEM;
	while (i < state->n_seen || j < model->n_identities) {
		int c = i == state->n_seen ? 1 : j == model->n_identities
			? -1 : strcmp(state->seen[i].label_set, model->identities[j].label_set);
		bool same = c == 0 && state->seen[i].number == b->numbers[j] && state->seen[i].ports_hash == b->ports_hashes[j];

		if (c <= 0 && !same && state->seen[i].number)
			b->removed[b->n_removed++] = state->seen[i].number;
		if (c >= 0 && !same && b->numbers[j])
			b->added[b->n_added++] = j;
		i += c <= 0;
		j += c >= 0;
	}
	qsort(b->removed, b->n_removed, sizeof(*b->removed), number_cmp);
	return 0;
}

/* An id's place in the maps' keys' order (memcmp of its bytes), as a number: its bytes read big-endian. */
static uint32_t key_rank(uint32_t id)
{
	unsigned char b[sizeof(id)];

	memcpy(b, &id, sizeof(id));
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

struct np_endpoint *kilo_np_cache_find(struct kilo_np_state *state, uint32_t id)
{
	size_t lo = 0, hi = state->n_sorted;
	uint32_t rank = key_rank(id);

	/* Those commit sorted (key_order): this computation's new ones, appended after them, are other ids. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t at = key_rank(state->cache[mid].id);

		if (at == rank)
			return &state->cache[mid];
		if (at < rank)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct np_endpoint *kilo_np_cache_add(struct kilo_np_state *state, uint32_t id)
{
	struct np_endpoint *e;

	if (kilo_array_reserve((void **)&state->cache, &state->cap_cache, state->n_cache + 1, sizeof(*e)) < 0)
		return NULL;
	e = &state->cache[state->n_cache++];
	*e = (struct np_endpoint){ .id = id, .generation = state->generation };
	return e;
}

void kilo_np_endpoint_release(struct np_endpoint *e)
{
	free(e->rules.items);
	free(e->cidrs.items);
	free(e->deny_names[KILO_POLICY_INGRESS]);
	free(e->deny_names[KILO_POLICY_EGRESS]);
	free(e->selected);
}

/* The order of the endpoints' ids in a key. */
static int key_order(const void *a, const void *b)
{
	uint32_t x = key_rank(((const struct np_endpoint *)a)->id), y = key_rank(((const struct np_endpoint *)b)->id);

	return (x > y) - (x < y);
}

/* The remembered identities: this computation's, their strings kept from the last where they are the same. */
static int remember_identities(struct np_build *b)
{
	const struct kilo_np_model *model = b->model;
	struct kilo_np_state *state = b->state;
	struct np_seen_identity *seen = calloc(model->n_identities + 1, sizeof(*seen));
	size_t i = 0, j;

	if (!seen)
		goto fail;
	for (j = 0; j < model->n_identities; j++) {
		const char *label_set = model->identities[j].label_set;

		while (i < state->n_seen && strcmp(state->seen[i].label_set, label_set) < 0)
			i++;
		if (i < state->n_seen && strcmp(state->seen[i].label_set, label_set) == 0) {
			seen[j].label_set = state->seen[i].label_set;
			state->seen[i++].label_set = NULL;
		} else if (!(seen[j].label_set = strdup(label_set))) {
			goto fail;
		}
		seen[j].number = b->numbers[j];
		seen[j].ports_hash = b->ports_hashes[j];
	}
	kilo_np_cache_forget_identities(state);
	state->seen = seen;
	state->n_seen = model->n_identities;
	return 0;
fail:
	for (size_t k = 0; seen && k < model->n_identities; k++)
		free(seen[k].label_set);
	free(seen);
	kilo_np_cache_release(state);
	return -ENOMEM;
}

/*
 * The index after the run of items (size bytes each, sorted, n) whose key's
 * prefix length (its first 32 bits) is that of item k: found by halving.
 */
static size_t next_length(const void *items, size_t k, size_t n, size_t size)
{
	const char *base = items;
	__u32 len, other;
	size_t lo = k + 1, hi = n;

	memcpy(&len, base + k * size, sizeof(len));
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		memcpy(&other, base + mid * size, sizeof(other));
		if (other == len)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Copies the run of items (sorted, n) of the prefix length of item *at to out, as one block: *at moves past it. */
static size_t take_run(const void *items, size_t *at, size_t n, size_t size, void *out)
{
	size_t end = next_length(items, *at, n, size), taken = end - *at;

	memcpy(out, (const char *)items + *at * size, taken * size);
	*at = end;
	return taken;
}

/*
 * Every endpoint's rules and bounds (endpoints in key order), by prefix
 * length, then endpoint, then the rest of the key.
 */
static int join(struct np_build *b, const struct np_endpoint *endpoints, size_t n)
{
	struct kilo_np_desired *out = b->out;
	size_t n_rules = 0, n_cidrs = 0, *rule_at, *cidr_at;
	int r = -ENOMEM;

	bool present[256] = { false };

	for (size_t i = 0; i < n; i++) {
		n_rules += endpoints[i].rules.n;
		n_cidrs += endpoints[i].cidrs.n;
		/* Each endpoint's are sorted: its runs of one prefix length, a handful, mark the lengths to join. */
		for (size_t k = 0; k < endpoints[i].rules.n; k = next_length(endpoints[i].rules.items, k, endpoints[i].rules.n,
									   sizeof(*endpoints[i].rules.items)))
			present[endpoints[i].rules.items[k].key.prefixlen & 0xff] = true;
		for (size_t k = 0; k < endpoints[i].cidrs.n; k = next_length(endpoints[i].cidrs.items, k, endpoints[i].cidrs.n,
									   sizeof(*endpoints[i].cidrs.items)))
			present[endpoints[i].cidrs.items[k].key.prefixlen & 0xff] = true;
	}
	out->rules = malloc((n_rules + 1) * sizeof(*out->rules));
	out->cidrs = malloc((n_cidrs + 1) * sizeof(*out->cidrs));
	rule_at = calloc(n + 1, sizeof(*rule_at));
	cidr_at = calloc(n + 1, sizeof(*cidr_at));
	if (!out->rules || !out->cidrs || !rule_at || !cidr_at)
		goto out;
	/* Prefix lengths are below 256, so the first byte of a key orders them. */
	for (uint32_t len = 0; len < 256 && (out->n_rules < n_rules || out->n_cidrs < n_cidrs); len++) {
		for (size_t i = 0; present[len] && i < n; i++) {
			const struct np_endpoint *e = &endpoints[i];

			if (rule_at[i] < e->rules.n && e->rules.items[rule_at[i]].key.prefixlen == len)
				out->n_rules += take_run(e->rules.items, &rule_at[i], e->rules.n, sizeof(*out->rules),
							 out->rules + out->n_rules);
			if (cidr_at[i] < e->cidrs.n && e->cidrs.items[cidr_at[i]].key.prefixlen == len)
				out->n_cidrs += take_run(e->cidrs.items, &cidr_at[i], e->cidrs.n, sizeof(*out->cidrs),
							 out->cidrs + out->n_cidrs);
		}
	}
	r = 0;
out:
	free(rule_at);
	free(cidr_at);
	return r;
}

int kilo_np_cache_commit(struct np_build *b)
{
	struct kilo_np_state *state = b->state;
	struct kilo_np_desired_changes *changes = &b->out->changes;
	size_t kept = 0, sorted = 1;
	int r;

	if (!(changes->endpoints = malloc((state->n_cache + 1) * sizeof(*changes->endpoints))))
		return -ENOMEM;
	for (size_t i = 0; i < state->n_cache; i++) {
		/* Gone, its entries with it; or changed: the sync compares what it had of these only. */
		if (state->cache[i].generation != state->generation || state->cache[i].changed)
			changes->endpoints[changes->n_endpoints++] = state->cache[i].id;
		if (state->cache[i].generation != state->generation) {
			kilo_np_endpoint_release(&state->cache[i]);
			continue;
		}
		state->cache[kept++] = state->cache[i];
	}
	state->n_cache = kept;
	if (changes->n_endpoints)
		qsort(changes->endpoints, changes->n_endpoints, sizeof(*changes->endpoints), number_cmp);
	/* In order but for this computation's new ones, if any: checked, cheaper than sorting large items again. */
	while (sorted < kept && key_order(&state->cache[sorted - 1], &state->cache[sorted]) < 0)
		sorted++;
	if (sorted < kept)
		qsort(state->cache, kept, sizeof(*state->cache), key_order);
	state->n_sorted = kept;
	r = join(b, state->cache, kept);
	return r < 0 ? r : remember_identities(b);
}

void kilo_np_cache_forget_identities(struct kilo_np_state *state)
{
	for (size_t i = 0; i < state->n_seen; i++)
		free(state->seen[i].label_set);
	free(state->seen);
	state->seen = NULL;
	state->n_seen = 0;
}

void kilo_np_cache_release(struct kilo_np_state *state)
{
	for (size_t i = 0; i < state->n_cache; i++)
		kilo_np_endpoint_release(&state->cache[i]);
	free(state->cache);
	state->cache = NULL;
	state->n_cache = state->cap_cache = state->n_sorted = 0;
	/* The next computation has nothing to compare with: the endpoints this one made are not known gone. */
	state->serial = 0;
	kilo_np_cache_forget_identities(state);
	kilo_np_ipcache_order_release(&state->ipcache);
}
