// SPDX-License-Identifier: Apache-2.0
/*
 * Listings of Kubernetes objects. A store that names what changed (the
 * file store, from its inotify events) keeps each object's checked text
 * between calls (kept.c): only the changed ones are read and checked
 * again, and the array is put together from the pieces. Each object read
 * gets a number no other had, and the last whole listing's layout is kept:
 * the next tells its caller how much of the text it held is the same.
 */
#include <errno.h>
#include <stdatomic.h>
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
	uint64_t serial; /* no other object read had it: the same in two layouts, the same piece */
};

/*
 * Which objects a whole listing held, in order, and where each one's text
 * ended (after its piece; where it would be when it is left out).
 */
struct kilo_store_layout {
	uint64_t stamp; /* the kept list's when put together */
	size_t n;
	uint64_t *serials;
	size_t *ends;
};

/* Whether layout's text is "[]\n": no object in it, every end just past the '['. */
static bool layout_empty(const struct kilo_store_layout *layout)
{
	return !layout->n || layout->ends[layout->n - 1] == 1;
}

void kilo_store_layout_free(struct kilo_store_layout *layout)
{
	if (!layout)
		return;
	free(layout->serials);
	free(layout->ends);
	free(layout);
}

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
	static atomic_uint_fast64_t last_serial;
	struct listed *l = calloc(1, sizeof(*l));
	char *text = NULL, *slash;

	if (!l)
		return NULL;
	l->serial = atomic_fetch_add(&last_serial, 1) + 1;
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

/*
 * The array's text from the pieces, as json_dumps of the array would give
 * it, and a final newline (*len bytes); with layout (else NULL), where
 * each object went.
 */
static int join(const struct kilo_store_kept *listing, const char *ns, char **out, size_t *len_out,
		struct kilo_store_layout *layout)
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
	if (layout && (!(layout->serials = malloc((listing->n + 1) * sizeof(*layout->serials))) ||
		       !(layout->ends = malloc((listing->n + 1) * sizeof(*layout->ends)))))
		return -ENOMEM;
	/* "[\n" PIECE (",\n" PIECE)* "\n]\n": the pieces' separators are counted with them; "[]\n" when none. */
	text = malloc(m ? len + 3 + 1 : 4);
	if (!text)
		return -ENOMEM;
	at = text;
	*at++ = '[';
	for (size_t i = 0; i < listing->n; i++) {
		const struct listed *l = listing->items[i];

		if (selected(l, ns)) {
			if (at != text + 1)
				*at++ = ',';
			*at++ = '\n';
			memcpy(at, l->piece, l->piece_len);
			at += l->piece_len;
		}
		if (layout) {
			layout->serials[i] = l->serial;
			layout->ends[i] = (size_t)(at - text);
		}
	}
	memcpy(at, m ? "\n]\n" : "]\n", m ? 4 : 3);
	*out = text;
	*len_out = (size_t)(at - text) + (m ? 3 : 2);
	if (layout)
		layout->n = listing->n;
	return 0;
}

/*
 * How many bytes the text of now (len bytes) surely shares with that of
 * was, from its start and its end: the objects before the first that
 * differs, and after the last, are the same pieces. From the end, only
 * the newline of the separator before the first piece after what changed
 * is surely the same: ",\n" in one text may be "[\n" in the other.
 */
static void shared_part(const struct kilo_store_layout *was, const struct kilo_store_layout *now, size_t len,
			struct kilo_store_since *since)
{
	size_t most = was->n < now->n ? was->n : now->n, k = 0, m = 0, base;

	if (layout_empty(was) || layout_empty(now))
		return;
	while (k < most && was->serials[k] == now->serials[k])
		k++;
	while (m < most - k && was->serials[was->n - 1 - m] == now->serials[now->n - 1 - m])
		m++;
	since->prefix = k ? now->ends[k - 1] : 0;
	base = now->n - m ? now->ends[now->n - m - 1] : 1;
	since->suffix = len - base - 1;
}

int kilo_store_listing_text(kilo_store *store, enum kilo_store_kind kind, const char *ns,
			    struct kilo_store_since *since, char **out, struct kilo_error *err)
{
	struct kilo_store_kept once = { .ops = &listed_ops }, *listing = &once;
	struct kilo_store_layout *layout = NULL;
	uint64_t held = since ? since->stamp : 0;
	size_t len = 0;
	int r;

	/* Nodes and peers: their changes are the load's (cache.c), listed whole. */
	if (store->ops->object_changes && kind >= KILO_STORE_MESH_KINDS && kind < KILO_STORE_IDENTITY)
		listing = kilo_store_kept_of(store, kind, &listed_ops);
	if (!listing)
		return kilo_error_set(err, ENOMEM, "out of memory");
	r = kilo_store_kept_refresh(store, kind, listing, listing != &once, NULL, err);
	if (r == 0 && since && listing != &once && held == listing->stamp) {
		r = 1;
	} else if (r == 0) {
		/* A whole listing of a kept kind: its layout kept, for the next to compare with. */
		if (listing != &once && !ns && !(layout = calloc(1, sizeof(*layout))))
			r = -ENOMEM;
		if (r == 0)
			r = join(listing, ns, out, &len, layout);
		if (r < 0) {
			kilo_store_layout_free(layout);
			r = kilo_error_set(err, ENOMEM, "out of memory");
		}
	}
	if (r == 0 && since) {
		*since = (struct kilo_store_since){ listing != &once ? listing->stamp : 0, len, 0, 0 };
		if (layout && listing->layout && held && held == listing->layout->stamp)
			shared_part(listing->layout, layout, len, since);
	}
	if (r == 0 && layout) {
		layout->stamp = listing->stamp;
		kilo_store_layout_free(listing->layout);
		listing->layout = layout;
	}
	kilo_store_kept_clear(&once);
	return r;
}
