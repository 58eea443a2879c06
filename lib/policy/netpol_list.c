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
#include "netpol.h"

/* An element as a read left it: what it was read into (in its own arena), and what it reported. */
struct kilo_np_list_element {
	struct kilo_arena arena;
	void (*release)(void *item);
	bool keep;
	bool reported;
	char problem[KILO_ERROR_MESSAGE_MAX];
	alignas(max_align_t) unsigned char item[];
};

static void element_free(struct kilo_np_list_element *e)
{
	if (!e)
		return;
	if (e->release)
		e->release(e->item);
	kilo_arena_release(&e->arena);
	free(e);
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

/* An element parsed into one of its own (*out), to be taken again by the next read. -ENOMEM. */
static int read_element(const char *text, size_t len, size_t index, const struct kilo_np_list_reader *reader,
			struct kilo_lb_report *report, struct kilo_np_list_element **out)
{
	struct kilo_np_list_element *e = calloc(1, sizeof(*e) + reader->item_size);
	size_t from = report ? report->n_problems : 0;
	int r;

	*out = NULL;
	if (!e)
		return -ENOMEM;
	e->arena.first_chunk = 1024;
	if ((r = parse(&e->arena, text, len, index, reader->what, reader->read, e->item, report, &e->keep)) < 0) {
		kilo_arena_release(&e->arena);
		free(e);
		return r;
	}
	/* Released only what a kept item holds: one left out may be half read. */
	e->release = e->keep ? reader->release : NULL;
	/* The first problem it reported, to report again each time it is read. */
	if (report && report->n_problems > from && from < KILO_LB_REPORT_MAX) {
		e->reported = true;
		snprintf(e->problem, sizeof(e->problem), "%s", report->problems[from]);
	}
	*out = e;
	return 0;
}

static void seen_release(struct kilo_np_list_seen *seen, size_t n)
{
	for (size_t i = 0; i < n; i++)
		element_free(seen[i].element);
	free(seen);
}

void kilo_np_list_memo_release(struct kilo_np_list_memo *memo)
{
	free(memo->text);
	free(memo->items);
	seen_release(memo->seen, memo->n_seen);
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
 * or after it (suffix bytes); NULL when there is none. *cursor is where the
 * last one was found, plus one: elements come in order, so the next is
 * mostly there, and bsearch is needed once past what changed.
 */
static struct kilo_np_list_seen *known(const struct kilo_np_list_memo *memo, size_t len, size_t prefix, size_t suffix,
				       size_t at, size_t *cursor)
{
	struct kilo_np_list_seen *seen;
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
	if (*cursor < memo->n_seen && memo->seen[*cursor].start == was)
		seen = &memo->seen[*cursor];
	else
		seen = bsearch(&was, memo->seen, memo->n_seen, sizeof(*memo->seen), seen_cmp);
	if (!seen || !seen->element || (at < prefix && seen->start + seen->len > prefix))
		return NULL;
	*cursor = (size_t)(seen - memo->seen) + 1;
	return seen;
}

/* The number of the memo's elements that lie wholly in its text's first prefix bytes. */
static size_t elements_before(const struct kilo_np_list_memo *memo, size_t prefix)
{
	size_t lo = 0, hi = memo->n_seen;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memo->seen[mid].start + memo->seen[mid].len <= prefix)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Takes the memo's elements from..to into this read's seen and items at
 * once, each start moved by delta (the bytes by which this text is longer
 * before them): a run in a part both texts share, whose kept items are one
 * run of the memo's items too. -ENOMEM.
 */
static int take_run(struct kilo_np_list_memo *memo, size_t from, size_t to, ptrdiff_t delta,
		    struct kilo_np_list_seen **seen, size_t *n_seen, size_t *cap_seen, void **items, size_t *n_items,
		    size_t *cap_items, size_t item_size, struct kilo_lb_report *report)
{
	size_t first = SIZE_MAX, kept = 0;

	if (kilo_array_reserve((void **)seen, cap_seen, *n_seen + (to - from) + 1, sizeof(**seen)) < 0 ||
	    kilo_array_reserve(items, cap_items, *n_items + (to - from) + 1, item_size) < 0)
		return -ENOMEM;
	for (size_t i = from; i < to; i++) {
		struct kilo_np_list_seen *was = &memo->seen[i], *now = &(*seen)[(*n_seen)++];

		*now = *was;
		now->start = (size_t)((ptrdiff_t)was->start + delta);
		/* Now this read's: the memo's next read takes it from here. */
		was->element = NULL;
		if (was->item != SIZE_MAX) {
			first = first == SIZE_MAX ? was->item : first;
			now->item = *n_items + kept++;
		}
		if (was->reported)
			kilo_lb_report_add(report, "%s", now->element->problem);
	}
	if (kept)
		memcpy((char *)*items + *n_items * item_size, memo->items + first * item_size, kept * item_size);
	*n_items += kept;
	return 0;
}

/* Whether the memo holds its elements from..to, to be taken (each is taken once). */
static bool held(const struct kilo_np_list_memo *memo, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (!memo->seen[i].element)
			return false;
	return true;
}

/*
 * Keeps text and what this read saw of it for the next read (of the same
 * length as the last, only what changed between prefix and suffix is
 * copied); -ENOMEM leaves memo empty.
 */
static int remember(struct kilo_np_list_memo *memo, const char *text, size_t len, size_t prefix, size_t suffix,
		    struct kilo_np_list_seen *seen, size_t n_seen, size_t cap_seen, const void *items, size_t n_items,
		    size_t item_size)
{
	bool same_len = memo->text && memo->len == len;

	if (kilo_array_reserve((void **)&memo->text, &memo->cap_text, len + 1, 1) < 0 ||
	    kilo_array_reserve((void **)&memo->items, &memo->cap_items, n_items + 1, item_size) < 0) {
		seen_release(seen, n_seen);
		kilo_np_list_memo_release(memo);
		return -ENOMEM;
	}
	if (same_len)
		memcpy(memo->text + prefix, text + prefix, len - prefix - suffix);
	else
		memcpy(memo->text, text, len);
	memo->len = len;
	/* An empty list has no items array: memcpy's source may not be NULL, even for 0 bytes. */
	if (n_items)
		memcpy(memo->items, items, n_items * item_size);
	/* The last read's elements this one did not take are gone from the list. */
	seen_release(memo->seen, memo->n_seen);
	memo->seen = seen;
	memo->n_seen = n_seen;
	memo->cap_seen = cap_seen;
	return 0;
}

/*
 * Where the text read and the one memo read last differ, as prefix and
 * suffix: told by the text's reader when memo read the text it compares
 * with (and what it tells fits both), else found by comparing them.
 */
static void changed_part(const struct kilo_np_list_memo *memo, const struct kilo_np_text *text,
			 const struct kilo_json_elements *elements, size_t *prefix, size_t *suffix)
{
	size_t len = elements->len, shorter = len < memo->len ? len : memo->len;

	if (text->text && text->base && text->base == memo->stamp && text->prefix <= shorter &&
	    text->suffix <= shorter - text->prefix) {
		*prefix = text->prefix;
		*suffix = text->suffix;
		return;
	}
	*prefix = shared(elements->text, len, memo->text, memo->len, false);
	*suffix = shared(elements->text + *prefix, len - *prefix, memo->text + *prefix, memo->len - *prefix, true);
}

int kilo_np_read_list(struct kilo_arena *arena, struct kilo_np_list_memo *memo, const struct kilo_np_text *text,
		      const struct kilo_np_list_reader *reader, void **items, size_t *n_items,
		      struct kilo_lb_report *report, struct kilo_error *err)
{
	struct kilo_np_list_seen *seen = NULL;
	struct kilo_json_elements elements;
	size_t cap = 0, n_seen = 0, cap_seen = 0, prefix = 0, suffix = 0, cursor = 0;
	int r, next = 0;

	*items = NULL;
	*n_items = 0;
	if ((r = kilo_json_elements_open(&elements, text->text, text->len, reader->what, err)) < 0)
		goto fail;
	/* As many as the last read, at once: grown by doubling, 10,000 pods were copied some 14 times. */
	if (memo && memo->n_seen &&
	    (kilo_array_reserve(items, &cap, memo->n_seen + 1, reader->item_size) < 0 ||
	     kilo_array_reserve((void **)&seen, &cap_seen, memo->n_seen + 1, sizeof(*seen)) < 0)) {
		r = -ENOMEM;
		goto fail;
	}
	if (memo && memo->text) {
		size_t before;

		changed_part(memo, text, &elements, &prefix, &suffix);
		/* The elements before what changed, as the memo has them: no byte of their text read again. */
		before = elements_before(memo, prefix);
		if (before && held(memo, 0, before)) {
			if (take_run(memo, 0, before, 0, &seen, &n_seen, &cap_seen, items, n_items, &cap, reader->item_size,
				     report) < 0) {
				r = -ENOMEM;
				goto fail;
			}
			kilo_json_elements_skip_to(&elements, seen[n_seen - 1].start + seen[n_seen - 1].len, before);
			cursor = before;
		}
	}
	for (;;) {
		size_t at = kilo_json_elements_at(&elements);
		struct kilo_np_list_seen *was = memo && memo->text ? known(memo, elements.len, prefix, suffix, at, &cursor)
								   : NULL;
		struct kilo_np_list_seen now = { 0 };
		const char *element = NULL;
		size_t from = was ? (size_t)(was - memo->seen) : 0;
		void *item;
		bool keep = false;

		/* The elements after what changed, likewise: the rest at once. */
		if (was && at >= elements.len - suffix && held(memo, from, memo->n_seen)) {
			if (take_run(memo, from, memo->n_seen, (ptrdiff_t)elements.len - (ptrdiff_t)memo->len, &seen, &n_seen,
				     &cap_seen, items, n_items, &cap, reader->item_size, report) < 0) {
				r = -ENOMEM;
				goto fail;
			}
			kilo_json_elements_skip_to(&elements, seen[n_seen - 1].start + seen[n_seen - 1].len, memo->n_seen - from);
			continue;
		}
		if (was) {
			now = *was;
			now.start = at;
			kilo_json_elements_skip(&elements, now.len);
		} else {
			if ((next = kilo_json_elements_next(&elements, &element, &now.len, err)) <= 0)
				break;
			now.start = (size_t)(element - elements.text);
		}
		r = -ENOMEM;
		if (kilo_array_reserve(items, &cap, *n_items + 1, reader->item_size) < 0 ||
		    (memo && kilo_array_reserve((void **)&seen, &cap_seen, n_seen + 1, sizeof(*seen)) < 0))
			goto fail;
		item = (char *)*items + *n_items * reader->item_size;
		memset(item, 0, reader->item_size);
		r = 0;
		if (!memo)
			r = parse(arena, element, now.len, elements.index - 1, reader->what, reader->read, item, report,
				  &keep);
		else if (!was)
			r = read_element(element, now.len, elements.index - 1, reader, report, &now.element);
		if (r < 0)
			goto fail;
		if (was) {
			/* Now this read's: the memo's next read takes it from here. */
			was->element = NULL;
			keep = was->item != SIZE_MAX;
			if (keep)
				memcpy(item, memo->items + was->item * reader->item_size, reader->item_size);
			if (was->reported)
				kilo_lb_report_add(report, "%s", now.element->problem);
		} else if (memo) {
			memcpy(item, now.element->item, reader->item_size);
			keep = now.element->keep;
			now.reported = now.element->reported;
		}
		if (memo) {
			now.item = keep ? *n_items : SIZE_MAX;
			seen[n_seen++] = now;
		}
		*n_items += keep;
	}
	if ((r = next) < 0)
		goto fail;
	if (memo && remember(memo, elements.text, elements.len, prefix, suffix, seen, n_seen, cap_seen, *items, *n_items,
				 reader->item_size) < 0)
		return kilo_error_set(err, ENOMEM, "%s: out of memory", reader->what);
	if (memo)
		memo->stamp = text->text ? text->stamp : 0;
	return 0;
fail:
	seen_release(seen, n_seen);
	/* What was seen of a text that could not be read is no guide to the next one. */
	if (memo)
		kilo_np_list_memo_release(memo);
	return r == -ENOMEM ? kilo_error_set(err, ENOMEM, "%s: out of memory", reader->what) : r;
}
