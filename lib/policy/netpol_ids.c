// SPDX-License-Identifier: Apache-2.0
#include "netpol_ids.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"

static struct kilo_np_name_id *find(struct kilo_np_name_id *items, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(items[mid].name, name);

		if (c == 0)
			return &items[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int id_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kilo_np_name_id *)a)->name, ((const struct kilo_np_name_id *)b)->name);
}

/*
 * The lowest number no name holds, the earlier ones of this computation
 * included: the gaps below the highest number held, found once per
 * computation, then the numbers above it.
 */
static uint32_t lowest_free(struct kilo_np_names *names)
{
	if (!names->gaps_found) {
		uint32_t *used = malloc((names->n + 1) * sizeof(*used)), next = 1;

		if (!used)
			return 0;
		for (size_t i = 0; i < names->n; i++)
			used[i] = names->items[i].id;
		qsort(used, names->n, sizeof(*used), id_cmp);
		names->n_gaps = names->next_gap = 0;
		for (size_t i = 0; i < names->n; next = used[i++] + 1) {
			for (uint32_t id = next; id < used[i]; id++) {
				if (kilo_array_reserve((void **)&names->gaps, &names->cap_gaps, names->n_gaps + 1,
						       sizeof(*names->gaps)) < 0) {
					free(used);
					return 0;
				}
				names->gaps[names->n_gaps++] = id;
			}
		}
		names->above = next;
		names->gaps_found = true;
		free(used);
	}
	if (names->next_gap < names->n_gaps)
		return names->gaps[names->next_gap++];
	return names->above++;
}

uint32_t kilo_np_names_get(struct kilo_np_names *names, const char *name)
{
	struct kilo_np_name_id *item = find(names->items, names->n, name);

	if (item) {
		item->asked = true;
		return item->id;
	}
	for (size_t i = 0; i < names->n_added; i++)
		if (strcmp(names->added[i].name, name) == 0)
			return names->added[i].id;
	if (kilo_array_reserve((void **)&names->added, &names->cap_added, names->n_added + 1, sizeof(*names->added)) < 0)
		return 0;
	item = &names->added[names->n_added];
	item->id = lowest_free(names);
	item->name = strdup(name);
	item->asked = true;
	if (!item->id || !item->name) {
		free(item->name);
		return 0;
	}
	names->n_added++;
	return item->id;
}

int kilo_np_names_commit(struct kilo_np_names *names)
{
	size_t kept = 0, added = names->n_added;

	if (kilo_array_reserve((void **)&names->items, &names->cap, names->n + names->n_added, sizeof(*names->items)) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < names->n; i++) {
		if (!names->items[i].asked) {
			free(names->items[i].name);
			continue;
		}
		names->items[i].asked = false;
		names->items[kept++] = names->items[i];
	}
	for (size_t i = 0; i < names->n_added; i++) {
		names->added[i].asked = false;
		names->items[kept++] = names->added[i];
	}
	names->n = kept;
	names->n_added = 0;
	names->gaps_found = false;
	/* The names kept stay in order: sorted again only with new ones. */
	if (added && names->n)
		qsort(names->items, names->n, sizeof(*names->items), name_cmp);
	return 0;
}

void kilo_np_names_abort(struct kilo_np_names *names)
{
	for (size_t i = 0; i < names->n_added; i++)
		free(names->added[i].name);
	names->n_added = 0;
	names->gaps_found = false;
	for (size_t i = 0; i < names->n; i++)
		names->items[i].asked = false;
}

void kilo_np_names_release(struct kilo_np_names *names)
{
	kilo_np_names_abort(names);
	for (size_t i = 0; i < names->n; i++)
		free(names->items[i].name);
	free(names->items);
	free(names->added);
	free(names->gaps);
	*names = (struct kilo_np_names){ 0 };
}
