/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's lists of objects, read one element at a time, and, with a
 * memo of the last read, each element whose text that read saw taken from
 * it instead of parsed again: a change to one pod of 10,000 parses one pod.
 */
#ifndef KILO_LIB_POLICY_NETPOL_LIST_H
#define KILO_LIB_POLICY_NETPOL_LIST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/arena.h"
#include "objects.h"

struct kilo_np_list_element;

/* Where an element of the last text read was, and what it was read into (the memo's). */
struct kilo_np_list_seen {
	size_t start, len;
	struct kilo_np_list_element *element;
	size_t item;   /* its item's index in the memo's items; SIZE_MAX: left out */
	bool reported; /* it reported a problem, to report again */
};

/*
 * What the last read of a list with a memo saw: its text and its elements
 * as read. The next text is compared with it (as memcmp does: far faster
 * than reading elements out of it), and the elements in the part both
 * share, before and after what changed, are taken as they were read, by
 * their known extent, with no lookup: one pod changed of 10,000 scans and
 * parses one pod's text. The memo owns what its elements were read into.
 */
struct kilo_np_list_memo {
	char *text; /* NULL: nothing read, or the last read failed */
	size_t len, cap_text;
	struct kilo_np_list_seen *seen;
	size_t n_seen, cap_seen;
	/* The items the last read gave, in one array: read in order, not each from its element (10,000 cache misses). */
	unsigned char *items;
	size_t cap_items;
	uint64_t stamp; /* text's, as its reader gave it (struct kilo_np_text); 0: not known */
};

void kilo_np_list_memo_release(struct kilo_np_list_memo *memo);

/*
 * A list's text (NULL: none) and its length: the agent's listings are
 * megabytes, their lengths known. Optionally (0: none), the text's stamp
 * and what it surely shares with the text of stamp base, bytes from its
 * start and its end, as the store tells (struct kilo_store_since): a memo
 * that read base compares nothing.
 */
struct kilo_np_text {
	const char *text;
	size_t len;
	uint64_t stamp, base;
	size_t prefix, suffix;
};

/*
 * Reads object (whose text is len bytes at text) into item with memory
 * from arena; *keep false when it is left out. -ENOMEM.
 */
typedef int (*kilo_np_read_fn)(struct kilo_arena *arena, json_t *object, const char *text, size_t len, void *item,
			       struct kilo_lb_report *report, bool *keep);

/* A list's reader: read, and release (may be NULL) for what an item kept of its own beyond the arena. */
struct kilo_np_list_reader {
	const char *what; /* the list, in messages */
	size_t item_size;
	kilo_np_read_fn read;
	void (*release)(void *item);
};

/*
 * Reads each element of text (a JSON array) into *items (malloc'ed,
 * n_items kept). With memo (may be NULL), the list's as the last read
 * left it, an element that read saw is copied from it, and memo is left
 * as this read saw text; the items' memory is then the memo's until the
 * next read with it. Else it comes from arena. -EINVAL when text is not an
 * array, -ENOMEM.
 */
int kilo_np_read_list(struct kilo_arena *arena, struct kilo_np_list_memo *memo, const struct kilo_np_text *text,
		      const struct kilo_np_list_reader *reader, void **items, size_t *n_items,
		      struct kilo_lb_report *report, struct kilo_error *err);

#endif
