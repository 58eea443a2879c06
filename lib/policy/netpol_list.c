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

/* The element from the cache, or parsed and kept there. */
static int read_cached(struct kilo_lb_ids *cache, uint8_t kind, const char *text, size_t len, size_t index,
		       const char *what, size_t item_size, kilo_np_read_fn read, void *item,
		       struct kilo_lb_report *report, struct kilo_arena *arena, bool *keep)
{
	/* The cache is this process's own, and a collision costs only a parse: the texts are compared. */
	struct cached_key key = { .hash = kilo_np_hash(KILO_NP_HASH_INIT, text, len), .len = len, .kind = kind };
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

int kilo_np_read_list(struct kilo_arena *arena, struct kilo_lb_ids *cache, uint8_t kind, const char *text,
		      const char *what, size_t item_size, kilo_np_read_fn read, void **items, size_t *n_items,
		      struct kilo_lb_report *report, struct kilo_error *err)
{
	struct kilo_json_elements elements;
	const char *element;
	size_t cap = 0, len;
	int r, next;

	*items = NULL;
	*n_items = 0;
	if ((r = kilo_json_elements_open(&elements, text, what, err)) < 0)
		return r;
	while ((next = kilo_json_elements_next(&elements, &element, &len, err)) > 0) {
		void *item;
		bool keep = false;

		if (kilo_array_reserve(items, &cap, *n_items + 1, item_size) < 0)
			return kilo_error_set(err, ENOMEM, "%s: out of memory", what);
		item = (char *)*items + *n_items * item_size;
		memset(item, 0, item_size);
		r = cache ? read_cached(cache, kind, element, len, elements.index - 1, what, item_size, read, item, report,
					arena, &keep)
			  : parse(arena, element, len, elements.index - 1, what, read, item, report, &keep);
		if (r < 0)
			return kilo_error_set(err, ENOMEM, "%s: out of memory", what);
		*n_items += keep;
	}
	return next;
}
