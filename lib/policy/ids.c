/* SPDX-License-Identifier: Apache-2.0 */
#include "ids.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define INITIAL_CAP 64

struct kilo_lb_ids *kilo_lb_ids_new(void)
{
	struct kilo_lb_ids *ids = calloc(1, sizeof(*ids));

	if (!ids)
		return NULL;
	ids->frontends.key_size = sizeof(struct kilo_lb_service_key);
	ids->backends.key_size = sizeof(struct kilo_lb_backend_key);
	ids->objects.key_size = KILO_LB_ID_KEY_MAX;
	ids->frontends.next = ids->backends.next = ids->objects.next = 1;
	return ids;
}

static void table_release(struct kilo_lb_id_table *table)
{
	for (size_t i = 0; i < table->cap; i++)
		if (table->entries[i].cache)
			table->drop(table->entries[i].cache);
	free(table->entries);
	free(table->in_use);
}

void kilo_lb_ids_free(struct kilo_lb_ids *ids)
{
	if (!ids)
		return;
	table_release(&ids->frontends);
	table_release(&ids->backends);
	table_release(&ids->objects);
	free(ids);
}

/* FNV-1a over the key, then a finaliser that spreads it over the low bits the mask keeps. */
static uint64_t key_hash(const uint8_t *key, size_t size)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (size_t i = 0; i < size; i++)
		h = (h ^ key[i]) * 0x100000001b3u;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdu;
	h ^= h >> 33;
	return h;
}

static struct kilo_lb_id_entry *slot_of(const struct kilo_lb_id_table *table, struct kilo_lb_id_entry *entries,
					size_t cap, const uint8_t *key)
{
	size_t i = key_hash(key, table->key_size) & (cap - 1);

	while (entries[i].id && memcmp(entries[i].key, key, table->key_size) != 0)
		i = (i + 1) & (cap - 1);
	return &entries[i];
}

/* Moves the entries that pass keep into a table of cap places. */
static int rehash(struct kilo_lb_id_table *table, size_t cap, uint32_t keep_generation)
{
	struct kilo_lb_id_entry *entries = calloc(cap, sizeof(*entries));
	size_t n = 0;

	if (!entries)
		return -ENOMEM;
	for (size_t i = 0; i < table->cap; i++) {
		const struct kilo_lb_id_entry *e = &table->entries[i];

		if (!e->id)
			continue;
		if (keep_generation && e->generation != keep_generation) {
			if (e->cache)
				table->drop(e->cache);
			continue;
		}
		*slot_of(table, entries, cap, e->key) = *e;
		n++;
	}
	free(table->entries);
	table->entries = entries;
	table->cap = cap;
	table->n = n;
	return 0;
}

static int compare_ids(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* After the counter went round, the ids in use, so that a new one skips them. */
static int snapshot_in_use(struct kilo_lb_id_table *table)
{
	uint32_t *in_use = NULL;
	size_t n = 0;

	if (!table->wrapped)
		return 0;
	if (table->n) {
		in_use = malloc(table->n * sizeof(*in_use));
		if (!in_use)
			return -ENOMEM;
	}
	for (size_t i = 0; i < table->cap; i++)
		if (table->entries[i].id)
			in_use[n++] = table->entries[i].id;
	qsort(in_use, n, sizeof(*in_use), compare_ids);
	free(table->in_use);
	table->in_use = in_use;
	table->n_in_use = n;
	return 0;
}

int kilo_lb_ids_begin(struct kilo_lb_ids *ids)
{
	int r = snapshot_in_use(&ids->frontends);

	if (r < 0)
		return r;
	r = snapshot_in_use(&ids->backends);
	if (r < 0)
		return r;
	r = snapshot_in_use(&ids->objects);
	if (r < 0)
		return r;
	/* Generation 0 is "keep everything" to rehash: skip it. */
	if (++ids->generation == 0)
		ids->generation = 1;
	return 0;
}

static uint32_t new_id(struct kilo_lb_id_table *table)
{
	for (;;) {
		uint32_t id = table->next++;

		if (table->next == 0) {
			table->next = 1;
			table->wrapped = true;
		}
		if (!table->in_use ||
		    !bsearch(&id, table->in_use, table->n_in_use, sizeof(*table->in_use), compare_ids))
			return id;
	}
}

/* The place of key, made when missing; the table grows first so that it stays at most half full. */
static int place_of(struct kilo_lb_id_table *table, const void *key, struct kilo_lb_id_entry **out)
{
	if ((table->n + 1) * 2 > table->cap) {
		int r = rehash(table, table->cap ? table->cap * 2 : INITIAL_CAP, 0);

		if (r < 0)
			return r;
	}
	*out = slot_of(table, table->entries, table->cap, key);
	return 0;
}

int kilo_lb_ids_adopt(struct kilo_lb_ids *ids, struct kilo_lb_id_table *table, const void *key, uint32_t id)
{
	struct kilo_lb_id_entry *e;
	int r;

	if (!id)
		return 0;
	r = place_of(table, key, &e);
	if (r < 0 || e->id)
		return r;
	memcpy(e->key, key, table->key_size);
	e->id = id;
	e->generation = ids->generation;
	table->n++;
	if (id >= table->next) {
		table->next = id + 1;
		if (table->next == 0) {
			table->next = 1;
			table->wrapped = true;
		}
	}
	return 0;
}

int kilo_lb_ids_get(struct kilo_lb_ids *ids, struct kilo_lb_id_table *table, const void *key,
		    struct kilo_lb_id_entry **entry, bool *first)
{
	struct kilo_lb_id_entry *e;
	int r = place_of(table, key, &e);

	if (r < 0)
		return r;
	if (!e->id) {
		memcpy(e->key, key, table->key_size);
		e->id = new_id(table);
		table->n++;
	}
	*first = e->generation != ids->generation;
	e->generation = ids->generation;
	*entry = e;
	return 0;
}

static size_t cap_for(size_t n)
{
	size_t cap = INITIAL_CAP;

	while (cap < n * 2)
		cap *= 2;
	return cap;
}

int kilo_lb_ids_commit(struct kilo_lb_ids *ids)
{
	struct kilo_lb_id_table *tables[] = {&ids->frontends, &ids->backends, &ids->objects};
	size_t kept[3] = {0, 0, 0};

	for (size_t t = 0; t < 3; t++)
		for (size_t i = 0; i < tables[t]->cap; i++)
			kept[t] += tables[t]->entries[i].id && tables[t]->entries[i].generation == ids->generation;
	for (size_t t = 0; t < 3; t++) {
		int r = rehash(tables[t], cap_for(kept[t]), ids->generation);

		if (r < 0)
			return r;
	}
	return 0;
}
