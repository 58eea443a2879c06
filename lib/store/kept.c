// SPDX-License-Identifier: Apache-2.0
/*
 * A kind's objects kept between calls, each as its user makes it (the
 * parsed nodes and peers a load reads, cache.c; the listings' checked
 * text, listing.c; the identities' parsed records, store_identities.c).
 * The agent lists Pods and identities at each change of the store, a
 * heartbeat included; reading and checking 10,000 files
 * again each time would cost far more than what the agent does with them.
 * A store that names what changed (the file store from its inotify
 * events, etcd from its watch) has only those objects read again; the
 * others are kept. When the store cannot tell (the first call, lost
 * events, a folder not watched), every object is read again.
 */
#include <errno.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/error.h"
#include "store.h"

int kilo_store_kept_head_take(struct kilo_store_kept_head *head, const struct kilo_store_item_ops *ops,
			      enum kilo_store_kind kind, struct kilo_store_entry *entry)
{
	char *key = ops->key_of ? ops->key_of(kind, entry->name) : strdup(entry->name);

	if (!key)
		return -ENOMEM;
	head->name = entry->name;
	entry->name = NULL;
	head->key = key;
	head->reread = !entry->text || entry->unwatched;
	return 0;
}

void kilo_store_kept_head_clear(struct kilo_store_kept_head *head)
{
	free(head->name);
	free(head->key);
	memset(head, 0, sizeof(*head));
}

int kilo_store_kept_compare(const void *a, const void *b)
{
	return strcmp((*(struct kilo_store_kept_head *const *)a)->key, (*(struct kilo_store_kept_head *const *)b)->key);
}

/* Marks kept changed: a stamp from one count for every store, so that no two lists' states share one. */
static void restamp(struct kilo_store_kept *kept)
{
	static atomic_uint_fast64_t last;

	kept->stamp = atomic_fetch_add(&last, 1) + 1;
}

void kilo_store_kept_clear(struct kilo_store_kept *kept)
{
	for (size_t i = 0; i < kept->n; i++)
		kept->ops->drop(kept->items[i]);
	free(kept->items);
	kept->items = NULL;
	kept->n = kept->cap = 0;
	kept->listed = false;
	restamp(kept);
}

struct kilo_store_kept *kilo_store_kept_of(kilo_store *store, enum kilo_store_kind kind,
					   const struct kilo_store_item_ops *ops)
{
	if (!store->kept[kind] && (store->kept[kind] = calloc(1, sizeof(*store->kept[kind]))))
		store->kept[kind]->ops = ops;
	return store->kept[kind];
}

void kilo_store_kept_free_all(kilo_store *store)
{
	for (size_t k = 0; k < KILO_STORE_KINDS; k++) {
		if (!store->kept[k])
			continue;
		kilo_store_kept_clear(store->kept[k]);
		kilo_store_layout_free(store->kept[k]->layout);
		free(store->kept[k]);
		store->kept[k] = NULL;
	}
}

static struct kilo_store_kept_head *head_at(const struct kilo_store_kept *kept, size_t i)
{
	return kept->items[i];
}

int kilo_store_list_items(kilo_store *store, enum kilo_store_kind kind, const struct kilo_store_item_ops *ops,
			  void ***items_out, size_t *n_out, struct kilo_store_report *report, struct kilo_error *err)
{
	struct kilo_store_entry *entries = NULL;
	void **items;
	size_t n = 0;
	int r;

	r = store->ops->list(store, kind, &entries, &n, report, err);
	if (r < 0)
		return r;
	items = calloc(n ? n : 1, sizeof(*items));
	for (size_t i = 0; items && i < n; i++) {
		items[i] = ops->make(kind, &entries[i]);
		if (!items[i]) {
			for (size_t j = 0; j < i; j++)
				ops->drop(items[j]);
			free(items);
			items = NULL;
		}
	}
	kilo_store_entries_free(entries, n);
	if (!items)
		return kilo_error_set(err, ENOMEM, "out of memory");
	qsort(items, n, sizeof(*items), ops->compare);
	*items_out = items;
	*n_out = n;
	return 0;
}

/* Every object again, from a fresh list. */
static int read_all(kilo_store *store, enum kilo_store_kind kind, struct kilo_store_kept *kept,
		    struct kilo_store_report *report, struct kilo_error *err)
{
	void **items = NULL;
	size_t n = 0;
	int r;

	r = kilo_store_list_items(store, kind, kept->ops, &items, &n, report, err);
	if (r < 0)
		return r;
	/* None before and none now (a kind nobody wrote yet, whose folder no watch can name): nothing changed. */
	if (kept->listed && !kept->n && !n) {
		free(items);
		return 0;
	}
	kilo_store_kept_clear(kept);
	kept->items = items;
	kept->n = kept->cap = n;
	kept->listed = true;
	restamp(kept);
	if (kept->ops->changed)
		kept->ops->changed(kept, kind, NULL, NULL);
	return 0;
}

/* Tells the user of kept that old is replaced by item (either may be NULL). */
static void changed(struct kilo_store_kept *kept, enum kilo_store_kind kind, void *old, void *item)
{
	restamp(kept);
	if (kept->ops->changed)
		kept->ops->changed(kept, kind, old, item);
}

static const char *kept_key(const void *items, size_t i)
{
	return ((struct kilo_store_kept_head *const *)items)[i]->key;
}

/* Where the object named name is kept (*found), or would be; -ENOMEM. */
static int locate(const struct kilo_store_kept *kept, enum kilo_store_kind kind, const char *name, size_t *at,
		  bool *found)
{
	char *key = kept->ops->key_of ? kept->ops->key_of(kind, name) : NULL;

	if (kept->ops->key_of && !key)
		return -ENOMEM;
	*at = kilo_array_find_name(kept->items, kept->n, kept_key, key ? key : name, found);
	free(key);
	return 0;
}

void *kilo_store_kept_find(const struct kilo_store_kept *kept, enum kilo_store_kind kind, const char *name)
{
	bool found = false;
	size_t at = 0;

	return locate(kept, kind, name, &at, &found) == 0 && found ? kept->items[at] : NULL;
}

/* Reads the object named name again: replaced, added, or gone. */
static int read_one(kilo_store *store, enum kilo_store_kind kind, struct kilo_store_kept *kept, const char *name,
		    struct kilo_error *err)
{
	struct kilo_store_entry entry = { 0 };
	bool found;
	size_t at;
	void *item;
	int r;

	if (locate(kept, kind, name, &at, &found) < 0)
		return kilo_error_set(err, ENOMEM, "out of memory");
	r = store->ops->get(store, kind, name, &entry, err);
	if (r == -ENOENT) {
		if (found) {
			changed(kept, kind, kept->items[at], NULL);
			kept->ops->drop(kept->items[at]);
			kilo_array_remove(kept->items, &kept->n, at, sizeof(*kept->items));
		}
		return 0;
	}
	if (r < 0)
		return r;
	item = kept->ops->make(kind, &entry);
	free(entry.name);
	free(entry.source);
	/* A peer may hold a preshared key. */
	if (entry.text)
		sodium_memzero(entry.text, entry.len);
	free(entry.text);
	if (!item)
		return kilo_error_set(err, ENOMEM, "out of memory");
	if (found) {
		changed(kept, kind, kept->items[at], item);
		kept->ops->drop(kept->items[at]);
		kept->items[at] = item;
		return 0;
	}
	if (kilo_array_insert((void **)&kept->items, &kept->n, &kept->cap, at, &item, sizeof(item)) < 0) {
		kept->ops->drop(item);
		return kilo_error_set(err, ENOMEM, "out of memory");
	}
	changed(kept, kind, NULL, item);
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads again the objects named and those that are read again every time. */
static int read_changed(kilo_store *store, enum kilo_store_kind kind, struct kilo_store_kept *kept, char **names,
			size_t n, struct kilo_error *err)
{
	char **reread = NULL;
	size_t n_reread = 0;
	int r = 0;

	if (n)
		qsort(names, n, sizeof(*names), compare_names);
	for (size_t i = 0; i < n && r == 0; i++)
		if (i == 0 || strcmp(names[i - 1], names[i]))
			r = read_one(store, kind, kept, names[i], err);
	for (size_t i = 0; i < kept->n && r == 0; i++)
		n_reread += head_at(kept, i)->reread;
	if (r < 0 || !n_reread)
		return r;
	/* By name: reading one again moves the others. */
	reread = calloc(n_reread, sizeof(*reread));
	n_reread = 0;
	for (size_t i = 0; reread && i < kept->n && r == 0; i++)
		if (head_at(kept, i)->reread && !(reread[n_reread++] = strdup(head_at(kept, i)->name)))
			r = -ENOMEM;
	if (!reread || r < 0)
		r = kilo_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n_reread && r == 0; i++)
		r = read_one(store, kind, kept, reread[i], err);
	for (size_t i = 0; reread && i < n_reread; i++)
		free(reread[i]);
	free(reread);
	return r;
}

int kilo_store_kept_refresh(kilo_store *store, enum kilo_store_kind kind, struct kilo_store_kept *kept, bool named,
			    struct kilo_store_report *report, struct kilo_error *err)
{
	char **names = NULL;
	size_t n = 0;
	bool all = true;
	int r = 0;

	if (named)
		r = store->ops->changes(store, kind, &names, &n, &all, err);
	if (r == 0)
		r = all || !kept->listed ? read_all(store, kind, kept, report, err)
					 : read_changed(store, kind, kept, names, n, err);
	/* Half updated, what is kept cannot be trusted: the next call reads everything. */
	if (r < 0)
		kilo_store_kept_clear(kept);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}
