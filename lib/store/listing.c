// SPDX-License-Identifier: Apache-2.0
/*
 * Listings of Kubernetes objects. A store that names what changed (the
 * file store, from its inotify events) keeps each object's checked text
 * between calls (kept.c): only the changed ones are read and checked
 * again, and the array is put together from the pieces.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "store.h"

/* Sorts a namespace before every longer one it begins: "a" < "a-b", as (namespace, name) compares. */
#define KEY_SEPARATOR '\x01'

/* One object as last read. */
struct listed {
	struct kilo_store_kept_head head; /* key: the name with KEY_SEPARATOR for '/' */
	size_t ns_len;
	/* The object as an element of the array's text (indented, no comma); NULL when it fails the checks. */
	char *piece;
	size_t piece_len;
};

static void listed_free(struct listed *l)
{
	if (!l)
		return;
	kilo_store_kept_head_clear(&l->head);
	free(l->piece);
	free(l);
}

/* The sort key of a stored name (malloc'ed): a namespace sorts before every longer one it begins. */
static char *key_of(enum kilo_store_kind kind, const char *name)
{
	char *key = strdup(name), *slash = key && kilo_store_kind_namespaced(kind) ? strchr(key, '/') : NULL;

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

static const struct kilo_store_item_ops listed_ops;

/* The listed object of entry, checked, taking its name; NULL when out of memory. */
static void *make_listed(enum kilo_store_kind kind, struct kilo_store_entry *entry)
{
	struct listed *l = calloc(1, sizeof(*l));
	char *text = NULL, *slash;

	if (!l)
		return NULL;
	if (kilo_store_listed_text(kind, entry, &text) < 0 ||
	    kilo_store_kept_head_take(&l->head, &listed_ops, kind, entry) < 0)
		goto fail;
	slash = kilo_store_kind_namespaced(kind) ? strchr(l->head.name, '/') : NULL;
	l->ns_len = slash ? (size_t)(slash - l->head.name) : 0;
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

static void drop_listed(void *l)
{
	listed_free(l);
}

static const struct kilo_store_item_ops listed_ops = { make_listed, drop_listed, kilo_store_kept_compare, key_of,
						       NULL };

/* Whether l is listed in namespace ns (NULL: every one). */
static bool selected(const struct listed *l, const char *ns)
{
	return l->piece && (!ns || (strlen(ns) == l->ns_len && !strncmp(l->head.name, ns, l->ns_len)));
}

/* The array's text from the pieces, as json_dumps of the array would give it, and a final newline (*len bytes). */
static int join(const struct kilo_store_kept *listing, const char *ns, char **out, size_t *len_out)
{
	size_t len = 0, m = 0;
	char *text, *at;

	for (size_t i = 0; i < listing->n; i++) {
		const struct listed *l = listing->items[i];

		if (!selected(l, ns))
			continue;
		len += l->piece_len + 2;
		m++;
	}
	if (!m) {
		*out = strdup("[]\n");
		*len_out = 3;
		return *out ? 0 : -ENOMEM;
	}
	/* "[\n" PIECE (",\n" PIECE)* "\n]\n": the pieces' separators are counted with them. */
	text = malloc(len + 3 + 1);
	if (!text)
		return -ENOMEM;
	at = text;
	*at++ = '[';
	for (size_t i = 0; i < listing->n; i++) {
		const struct listed *l = listing->items[i];

		if (!selected(l, ns))
			continue;
		if (at != text + 1)
			*at++ = ',';
		*at++ = '\n';
		memcpy(at, l->piece, l->piece_len);
		at += l->piece_len;
	}
	memcpy(at, "\n]\n", 4);
	*out = text;
	*len_out = (size_t)(at - text) + 3;
	return 0;
}

int kilo_store_listing_text(kilo_store *store, enum kilo_store_kind kind, const char *ns, uint64_t *stamp,
			    char **out, size_t *len, struct kilo_error *err)
{
	struct kilo_store_kept once = { .ops = &listed_ops }, *listing = &once;
	size_t ignored;
	int r;

	/* Nodes and peers: their changes are the load's (cache.c), listed whole. */
	if (store->ops->object_changes && kind >= KILO_STORE_MESH_KINDS && kind < KILO_STORE_IDENTITY)
		listing = kilo_store_kept_of(store, kind, &listed_ops);
	if (!listing)
		return kilo_error_set(err, ENOMEM, "out of memory");
	r = kilo_store_kept_refresh(store, kind, listing, listing != &once, NULL, err);
	if (r == 0 && stamp && listing != &once && *stamp == listing->stamp)
		r = 1;
	else if (r == 0 && join(listing, ns, out, len ? len : &ignored) < 0)
		r = kilo_error_set(err, ENOMEM, "out of memory");
	else if (r == 0 && stamp)
		*stamp = listing != &once ? listing->stamp : 0;
	kilo_store_kept_clear(&once);
	return r;
}
