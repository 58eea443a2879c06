// SPDX-License-Identifier: Apache-2.0
/*
 * Listings of Kubernetes objects kept between calls. The agent lists every
 * Pod at each change of the store, a heartbeat included; reading and
 * checking 10,000 files again each time would cost far more than what the
 * agent does with them. A store that names what changed (the file store,
 * from its inotify events) has only those objects read and checked again;
 * the others' checked text is reused and the array is put together from
 * the pieces. When the store cannot tell (the first call, lost events, a
 * folder not watched), every object is read again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/error.h"
#include "store.h"

/* Sorts a namespace before every longer one it begins: "a" < "a-b", as (namespace, name) compares. */
#define KEY_SEPARATOR '\x01'

/* One object as last read. */
struct listed {
	char *name; /* as stored: "NS/NAME" or NAME */
	char *key;  /* name with KEY_SEPARATOR for '/': the listing's order by strcmp */
	size_t ns_len;
	/* The object as an element of the array's text (indented, no comma); NULL when it fails the checks. */
	char *piece;
	size_t piece_len;
	bool reread; /* unreadable, or its changes may go unseen: read again at every listing */
};

/* The objects of one kind, sorted by key. */
struct kilo_store_listing {
	struct listed **items;
	size_t n, cap;
};

static void listed_free(struct listed *l)
{
	if (!l)
		return;
	free(l->name);
	free(l->key);
	free(l->piece);
	free(l);
}

static void listing_clear(struct kilo_store_listing *listing)
{
	for (size_t i = 0; i < listing->n; i++)
		listed_free(listing->items[i]);
	free(listing->items);
	memset(listing, 0, sizeof(*listing));
}

void kilo_store_listings_free(kilo_store *store)
{
	for (size_t k = 0; k < KILO_STORE_CHANGED_KINDS; k++) {
		if (!store->listing[k])
			continue;
		listing_clear(store->listing[k]);
		free(store->listing[k]);
		store->listing[k] = NULL;
	}
}

/* The sort key of a stored name (malloc'ed); *ns_len the namespace's length, 0 without one. */
static char *key_of(enum kilo_store_kind kind, const char *name, size_t *ns_len)
{
	char *key = strdup(name), *slash = key && kilo_store_kind_namespaced(kind) ? strchr(key, '/') : NULL;

	*ns_len = slash ? (size_t)(slash - key) : 0;
	if (slash)
		*slash = KEY_SEPARATOR;
	return key;
}

/*
 * text (a JSON value dumped with two-space indentation and a final
 * newline) as an element of an array dumped the same way: every line two
 * spaces further in. Strings hold no raw newline, so this is exactly what
 * dumping the whole array gives.
 */
static char *indented(const char *text, size_t *len)
{
	size_t text_len = strlen(text), lines = 0;
	char *piece, *at;

	if (text_len && text[text_len - 1] == '\n')
		text_len--;
	for (size_t i = 0; i < text_len; i++)
		lines += text[i] == '\n';
	*len = text_len + 2 * (lines + 1);
	piece = malloc(*len + 1);
	if (!piece)
		return NULL;
	at = piece;
	*at++ = ' ';
	*at++ = ' ';
	for (size_t i = 0; i < text_len; i++) {
		*at++ = text[i];
		if (text[i] == '\n') {
			*at++ = ' ';
			*at++ = ' ';
		}
	}
	*at = '\0';
	return piece;
}

/* The listed object of entry, checked, taking its name; NULL when out of memory. */
static struct listed *listed_new(enum kilo_store_kind kind, struct kilo_store_entry *entry)
{
	struct listed *l = calloc(1, sizeof(*l));
	char *text = NULL;

	if (!l)
		return NULL;
	l->reread = !entry->text || entry->unwatched;
	if (kilo_store_listed_text(kind, entry, &text) < 0)
		goto fail;
	l->name = entry->name;
	entry->name = NULL;
	l->key = key_of(kind, l->name, &l->ns_len);
	if (!l->key)
		goto fail;
	if (text) {
		l->piece = indented(text, &l->piece_len);
		if (!l->piece)
			goto fail;
	}
	free(text);
	return l;
fail:
	free(text);
	listed_free(l);
	return NULL;
}

static int compare_listed(const void *a, const void *b)
{
	return strcmp((*(struct listed *const *)a)->key, (*(struct listed *const *)b)->key);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void *make_listed(enum kilo_store_kind kind, struct kilo_store_entry *entry)
{
	return listed_new(kind, entry);
}

static void drop_listed(void *l)
{
	listed_free(l);
}

/* Every object again, from a fresh list. */
static int read_all(kilo_store *store, enum kilo_store_kind kind, struct kilo_store_listing *listing,
		    struct kilo_error *err)
{
	static const struct kilo_store_item_ops item_ops = { make_listed, drop_listed, compare_listed };
	void **items = NULL;
	size_t n = 0;
	int r;

	r = kilo_store_list_items(store, kind, &item_ops, &items, &n, NULL, err);
	if (r < 0)
		return r;
	listing_clear(listing);
	listing->items = (struct listed **)items;
	listing->n = listing->cap = n;
	return 0;
}

static const char *listed_key(const void *items, size_t i)
{
	return ((struct listed *const *)items)[i]->key;
}

/* Reads the object named name again: replaced, added, or gone. */
static int read_one(kilo_store *store, enum kilo_store_kind kind, struct kilo_store_listing *listing,
		    const char *name, struct kilo_error *err)
{
	struct kilo_store_entry entry = { 0 };
	struct listed *l;
	size_t ns_len, at;
	char *key = key_of(kind, name, &ns_len);
	bool found;
	int r;

	if (!key)
		return kilo_error_set(err, ENOMEM, "out of memory");
	at = kilo_array_find_name(listing->items, listing->n, listed_key, key, &found);
	free(key);
	r = store->ops->get(store, kind, name, &entry, err);
	if (r == -ENOENT) {
		if (found) {
			listed_free(listing->items[at]);
			kilo_array_remove(listing->items, &listing->n, at, sizeof(*listing->items));
		}
		return 0;
	}
	if (r < 0)
		return r;
	l = listed_new(kind, &entry);
	free(entry.name);
	free(entry.source);
	free(entry.text);
	if (!l)
		return kilo_error_set(err, ENOMEM, "out of memory");
	if (found) {
		listed_free(listing->items[at]);
		listing->items[at] = l;
		return 0;
	}
	if (kilo_array_insert((void **)&listing->items, &listing->n, &listing->cap, at, &l, sizeof(l)) < 0) {
		listed_free(l);
		return kilo_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

/* Reads again the objects named and those that are read again every time. */
static int read_changed(kilo_store *store, enum kilo_store_kind kind, struct kilo_store_listing *listing, char **names,
			size_t n, struct kilo_error *err)
{
	char **reread = NULL;
	size_t n_reread = 0;
	int r = 0;

	if (n)
		qsort(names, n, sizeof(*names), compare_names);
	for (size_t i = 0; i < n && r == 0; i++)
		if (i == 0 || strcmp(names[i - 1], names[i]))
			r = read_one(store, kind, listing, names[i], err);
	for (size_t i = 0; i < listing->n && r == 0; i++)
		n_reread += listing->items[i]->reread;
	if (r < 0 || !n_reread)
		return r;
	/* By name: reading one again moves the others. */
	reread = calloc(n_reread, sizeof(*reread));
	n_reread = 0;
	for (size_t i = 0; reread && i < listing->n && r == 0; i++)
		if (listing->items[i]->reread && !(reread[n_reread++] = strdup(listing->items[i]->name)))
			r = -ENOMEM;
	if (!reread || r < 0)
		r = kilo_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n_reread && r == 0; i++)
		r = read_one(store, kind, listing, reread[i], err);
	for (size_t i = 0; reread && i < n_reread; i++)
		free(reread[i]);
	free(reread);
	return r;
}

/* Brings the kept listing of kind up to date with the store. */
static int refresh(kilo_store *store, enum kilo_store_kind kind, struct kilo_store_listing **listing_out,
		   struct kilo_error *err)
{
	struct kilo_store_listing *listing = store->listing[kind];
	char **names = NULL;
	size_t n = 0;
	bool all = false;
	int r;

	r = store->ops->changes(store, kind, &names, &n, &all, err);
	if (r < 0)
		return r;
	if (!listing) {
		listing = store->listing[kind] = calloc(1, sizeof(*listing));
		all = true;
		if (!listing) {
			r = kilo_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	r = all ? read_all(store, kind, listing, err) : read_changed(store, kind, listing, names, n, err);
	/* Half updated, the listing cannot be trusted: the next call reads everything. */
	if (r < 0) {
		listing_clear(listing);
		free(listing);
		store->listing[kind] = NULL;
	}
	*listing_out = store->listing[kind];
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

/* Whether l is listed in namespace ns (NULL: every one). */
static bool selected(const struct listed *l, const char *ns)
{
	return l->piece && (!ns || (strlen(ns) == l->ns_len && !strncmp(l->key, ns, l->ns_len)));
}

/* The array's text from the pieces, as json_dumps of the array would give it, and a final newline. */
static int join(const struct kilo_store_listing *listing, const char *ns, char **out)
{
	size_t len = 0, m = 0;
	char *text, *at;

	for (size_t i = 0; i < listing->n; i++) {
		if (!selected(listing->items[i], ns))
			continue;
		len += listing->items[i]->piece_len + 2;
		m++;
	}
	if (!m) {
		*out = strdup("[]\n");
		return *out ? 0 : -ENOMEM;
	}
	/* "[\n" PIECE (",\n" PIECE)* "\n]\n": the pieces' separators are counted with them. */
	text = malloc(len + 3 + 1);
	if (!text)
		return -ENOMEM;
	at = text;
	*at++ = '[';
	for (size_t i = 0; i < listing->n; i++) {
		if (!selected(listing->items[i], ns))
			continue;
		if (at != text + 1)
			*at++ = ',';
		*at++ = '\n';
		memcpy(at, listing->items[i]->piece, listing->items[i]->piece_len);
		at += listing->items[i]->piece_len;
	}
	memcpy(at, "\n]\n", 4);
	*out = text;
	return 0;
}

int kilo_store_listing_text(kilo_store *store, enum kilo_store_kind kind, const char *ns, char **out,
			    struct kilo_error *err)
{
	struct kilo_store_listing once = { 0 }, *listing = &once;
	int r;

	/* Nodes and peers: their changes are the load's (cache.c), listed whole. */
	if (store->ops->object_changes && kind >= KILO_STORE_MESH_KINDS && kind < KILO_STORE_CHANGED_KINDS)
		r = refresh(store, kind, &listing, err);
	else
		r = read_all(store, kind, &once, err);
	if (r == 0 && join(listing, ns, out) < 0)
		r = kilo_error_set(err, ENOMEM, "out of memory");
	listing_clear(&once);
	return r;
}
