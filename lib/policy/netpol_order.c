// SPDX-License-Identifier: Apache-2.0
#include "netpol_order.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void kilo_np_label_order_release(struct kilo_np_label_order *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->sets[i]);
	free(o->sets);
	free(o->hashes);
	free(o->table);
	*o = (struct kilo_np_label_order){ 0 };
}

/* The index of key's label set in o's sets, or SIZE_MAX. */
static size_t find(const struct kilo_np_label_order *o, const struct kilo_np_label_key *key)
{
	if (!o->cap)
		return SIZE_MAX;
	for (size_t slot = key->hash & (o->cap - 1); o->table[slot] != SIZE_MAX; slot = (slot + 1) & (o->cap - 1)) {
		size_t i = o->table[slot];

		if (o->hashes[i] == key->hash && strcmp(o->sets[i], key->labels) == 0)
			return i;
	}
	return SIZE_MAX;
}

static int key_cmp(const void *a, const void *b, void *keys)
{
	const struct kilo_np_label_key *k = keys;

	return strcmp(k[*(const size_t *)a].labels, k[*(const size_t *)b].labels);
}

/* o made the order of keys as sorted: the sets it had (rank) moved, the others copied. -ENOMEM leaves o empty. */
static int remember(struct kilo_np_label_order *o, const struct kilo_np_label_key *keys, const size_t *sorted,
		    size_t n, const size_t *rank)
{
	struct kilo_np_label_order next = { .cap = 16 };

	while (next.cap < 2 * n)
		next.cap *= 2;
	next.sets = calloc(n + 1, sizeof(*next.sets));
	next.hashes = malloc((n + 1) * sizeof(*next.hashes));
	next.table = malloc(next.cap * sizeof(*next.table));
	if (!next.sets || !next.hashes || !next.table)
		goto fail;
	memset(next.table, 0xff, next.cap * sizeof(*next.table));
	for (size_t k = 0; k < n; k++) {
		const struct kilo_np_label_key *key = &keys[sorted[k]];
		size_t was = rank[sorted[k]], slot = key->hash & (next.cap - 1);

		if (was != SIZE_MAX) {
			next.sets[k] = o->sets[was];
			o->sets[was] = NULL;
		} else if (!(next.sets[k] = strdup(key->labels))) {
			goto fail;
		}
		next.n = k + 1;
		next.hashes[k] = key->hash;
		while (next.table[slot] != SIZE_MAX)
			slot = (slot + 1) & (next.cap - 1);
		next.table[slot] = k;
	}
	kilo_np_label_order_release(o);
	*o = next;
	return 0;
fail:
	kilo_np_label_order_release(&next);
	kilo_np_label_order_release(o);
	return -ENOMEM;
}

int kilo_np_label_order_sort(struct kilo_np_label_order *o, const struct kilo_np_label_key *keys, size_t n,
			     size_t *sorted)
{
	size_t *rank = NULL, *by_rank = NULL, *fresh = NULL, n_fresh = 0, k = 0, a = 0, b = 0;
	int r = -ENOMEM;

	if (!o) {
		for (size_t i = 0; i < n; i++)
			sorted[i] = i;
		qsort_r(sorted, n, sizeof(*sorted), key_cmp, (void *)keys);
		return 0;
	}
	rank = malloc((n + 1) * sizeof(*rank));
	fresh = malloc((n + 1) * sizeof(*fresh));
	by_rank = malloc((o->n + 1) * sizeof(*by_rank));
	if (!rank || !fresh || !by_rank) {
		kilo_np_label_order_release(o);
		goto out;
	}
	memset(by_rank, 0xff, o->n * sizeof(*by_rank));
	for (size_t i = 0; i < n; i++) {
		rank[i] = find(o, &keys[i]);
		if (rank[i] == SIZE_MAX)
			fresh[n_fresh++] = i;
		else
			by_rank[rank[i]] = i;
	}
	if (n_fresh)
		qsort_r(fresh, n_fresh, sizeof(*fresh), key_cmp, (void *)keys);
	/* The sets the last order had in it, those it had not merged in. */
	while (a < o->n || b < n_fresh) {
		if (a < o->n && by_rank[a] == SIZE_MAX)
			a++;
		else if (b == n_fresh || (a < o->n && strcmp(keys[by_rank[a]].labels, keys[fresh[b]].labels) < 0))
			sorted[k++] = by_rank[a++];
		else
			sorted[k++] = fresh[b++];
	}
	/* The same sets as the last order's: it stays. */
	r = n_fresh == 0 && n == o->n ? 0 : remember(o, keys, sorted, n, rank);
out:
	free(rank);
	free(fresh);
	free(by_rank);
	return r;
}
