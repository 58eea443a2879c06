// SPDX-License-Identifier: Apache-2.0
#include "netpol_list.h"

#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/error.h"
#include "elements.h"
#include "ids.h"
#include "netpol.h"

/* An element as one read left it: its text, what it was read into, and what it reported. */
struct cached {
	struct kilo_arena arena;
	char *text;
	size_t len;
	bool keep;
	bool reported;
	char problem[KILO_ERROR_MESSAGE_MAX];
	alignas(max_align_t) unsigned char item[];
};

/* An element's key in the cache: its text's hash and length, and its list. */
struct cached_key {
	uint64_t hash;
	uint64_t len;
	uint8_t kind;
	uint8_t pad[7];
};

_Static_assert(sizeof(struct cached_key) <= KILO_LB_ID_KEY_MAX, "an element's key fits the ids' keys");

void kilo_np_list_drop(void *cached)
{
	struct cached *c = cached;

	kilo_arena_release(&c->arena);
	free(c->text);
	free(c);
}

uint64_t kilo_np_hash(uint64_t h, const void *data, size_t size)
{
	for (size_t i = 0; i < size; i++)
		h = (h ^ ((const uint8_t *)data)[i]) * 0x100000001b3u;
	return h;
}

static int parse(struct kilo_arena *arena, const char *text, size_t len, size_t index, const char *what,
		 kilo_np_read_fn read, void *item, struct kilo_lb_report *report, bool *keep)
{
	json_error_t jerr;
	json_t *object = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	int r = 0;

	*keep = false;
	if (!json_is_object(object))
		kilo_lb_report_add(report, "%s[%zu]: not %s", what, index, object ? "an object" : "JSON");
	else
		r = read(arena, object, text, len, item, report, keep);
	json_decref(object);
	return r;
}

/* The element (its text's hash given) from the cache, or parsed and kept there. */
static int read_cached(struct kilo_lb_ids *cache, uint8_t kind, const char *text, size_t len, uint64_t hash,
		       size_t index, const char *what, size_t item_size, kilo_np_read_fn read, void *item,
		       struct kilo_lb_report *report, struct kilo_arena *arena, bool *keep)
{
	/* The cache is this process's own, and a collision costs only a parse: the texts are compared. */
	struct cached_key key = { .hash = hash, .len = len, .kind = kind };
	struct kilo_lb_id_entry *entry;
	struct cached *c;
	size_t from = report ? report->n_problems : 0;
	bool first;
	int r = kilo_lb_ids_get(cache, &cache->objects, &key, &entry, &first);

	if (r < 0)
		return r;
	c = entry->cache;
	if (c && c->len == len && memcmp(c->text, text, len) == 0) {
		memcpy(item, c->item, item_size);
		*keep = c->keep;
		if (c->reported)
			kilo_lb_report_add(report, "%s", c->problem);
		return 0;
	}
	/* Another text of the same hash, already read by this computation: leave the cache alone. */
	if (c && !first)
		return parse(arena, text, len, index, what, read, item, report, keep);
	c = calloc(1, sizeof(*c) + item_size);
	if (!c || !(c->text = malloc(len ? len : 1))) {
		free(c);
		return -ENOMEM;
	}
	c->arena.first_chunk = 1024;
	if ((r = parse(&c->arena, text, len, index, what, read, c->item, report, &c->keep)) < 0) {
		kilo_np_list_drop(c);
		return r;
	}
	memcpy(c->text, text, len);
	c->len = len;
	/* The first problem it reported, to report again each time it is read. */
	if (report && report->n_problems > from && from < KILO_LB_REPORT_MAX) {
		c->reported = true;
		snprintf(c->problem, sizeof(c->problem), "%s", report->problems[from]);
	}
	if (entry->cache)
		kilo_np_list_drop(entry->cache);
	entry->cache = c;
	memcpy(item, c->item, item_size);
	*keep = c->keep;
	return 0;
}

void kilo_np_list_memo_release(struct kilo_np_list_memo *memo)
{
	free(memo->text);
	free(memo->seen);
	*memo = (struct kilo_np_list_memo){ 0 };
}

/* How many bytes a and b (a_len and b_len long) share from their start, or (backward) from their end. */
static size_t shared(const char *a, size_t a_len, const char *b, size_t b_len, bool backward)
{
	size_t max = a_len < b_len ? a_len : b_len, n = 0, block = 4096;

	if (backward) {
		a += a_len;
		b += b_len;
	}
	/* By blocks first: memcmp goes through a list of 10,000 pods in a fraction of a millisecond. */
	while (n + block <= max && !memcmp(backward ? a - n - block : a + n, backward ? b - n - block : b + n, block))
		n += block;
	while (n < max && (backward ? a[-(ptrdiff_t)n - 1] == b[-(ptrdiff_t)n - 1] : a[n] == b[n]))
		n++;
	return n;
}

static int seen_cmp(const void *key, const void *element)
{
	size_t start = *(const size_t *)key, other = ((const struct kilo_np_list_seen *)element)->start;

	return (start > other) - (start < other);
}

/*
 * The element of the last read that the next one of text, at at, is: one
 * wholly in the part both texts share before what changed (prefix bytes),
 * or after it (suffix bytes); NULL when there is none.
 */
static const struct kilo_np_list_seen *known(const struct kilo_np_list_memo *memo, size_t len, size_t prefix,
					     size_t suffix, size_t at)
{
	const struct kilo_np_list_seen *seen;
	size_t was;

	if (at < prefix)
		was = at;
	else if (at >= len - suffix)
		was = at - len + memo->len;
	else
		return NULL;
	/* bsearch may not be handed the NULL of an empty memo. */
	if (!memo->n_seen)
		return NULL;
	seen = bsearch(&was, memo->seen, memo->n_seen, sizeof(*memo->seen), seen_cmp);
	return seen && (at >= prefix || seen->start + seen->len <= prefix) ? seen : NULL;
}

/* Keeps text and what this read saw of it for the next read; -ENOMEM leaves memo empty. */
static int remember(struct kilo_np_list_memo *memo, const char *text, size_t len, struct kilo_np_list_seen *seen,
		    size_t n_seen, size_t cap_seen)
{
	if (kilo_array_reserve((void **)&memo->text, &memo->cap_text, len + 1, 1) < 0) {
		free(seen);
		kilo_np_list_memo_release(memo);
		return -ENOMEM;
	}
	memcpy(memo->text, text, len);
	memo->len = len;
	free(memo->seen);
	memo->seen = seen;
	memo->n_seen = n_seen;
	memo->cap_seen = cap_seen;
	return 0;
}

int kilo_np_read_list(struct kilo_arena *arena, struct kilo_lb_ids *cache, struct kilo_np_list_memo *memo,
		      uint8_t kind, const char *text, const char *what, size_t item_size, kilo_np_read_fn read,
		      void **items, size_t *n_items, struct kilo_lb_report *report, struct kilo_error *err)
{
	struct kilo_np_list_seen *seen = NULL;
	struct kilo_json_elements elements;
	size_t cap = 0, n_seen = 0, cap_seen = 0, prefix = 0, suffix = 0;
	int r, next = 0;

	*items = NULL;
	*n_items = 0;
	if ((r = kilo_json_elements_open(&elements, text, what, err)) < 0)
		goto fail;
	memo = cache ? memo : NULL;
	if (memo && memo->text) {
		prefix = shared(elements.text, elements.len, memo->text, memo->len, false);
		suffix = shared(elements.text + prefix, elements.len - prefix, memo->text + prefix, memo->len - prefix,
				true);
	}
	for (;;) {
		const struct kilo_np_list_seen *was =
			memo && memo->text ? known(memo, elements.len, prefix, suffix, kilo_json_elements_at(&elements))
					   : NULL;
		struct kilo_np_list_seen now;
		const char *element;
		void *item;
		bool keep = false;

		if (was) {
			now = (struct kilo_np_list_seen){ kilo_json_elements_at(&elements), was->len, was->hash };
			element = elements.text + now.start;
			kilo_json_elements_skip(&elements, now.len);
		} else {
			if ((next = kilo_json_elements_next(&elements, &element, &now.len, err)) <= 0)
				break;
			now.start = (size_t)(element - elements.text);
			now.hash = cache ? kilo_np_hash(KILO_NP_HASH_INIT, element, now.len) : 0;
		}
		r = -ENOMEM;
		if (kilo_array_reserve(items, &cap, *n_items + 1, item_size) < 0 ||
		    (memo && kilo_array_reserve((void **)&seen, &cap_seen, n_seen + 1, sizeof(*seen)) < 0))
			goto fail;
		if (memo)
			seen[n_seen++] = now;
		item = (char *)*items + *n_items * item_size;
		memset(item, 0, item_size);
		r = cache ? read_cached(cache, kind, element, now.len, now.hash, elements.index - 1, what, item_size, read,
					item, report, arena, &keep)
			  : parse(arena, element, now.len, elements.index - 1, what, read, item, report, &keep);
		if (r < 0)
			goto fail;
		*n_items += keep;
	}
	if ((r = next) < 0)
		goto fail;
	if (memo && remember(memo, elements.text, elements.len, seen, n_seen, cap_seen) < 0)
		return kilo_error_set(err, ENOMEM, "%s: out of memory", what);
	return 0;
fail:
	free(seen);
	/* What was seen of a text that could not be read is no guide to the next one. */
	if (memo)
		kilo_np_list_memo_release(memo);
	return r == -ENOMEM ? kilo_error_set(err, ENOMEM, "%s: out of memory", what) : r;
}
