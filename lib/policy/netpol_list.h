/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's lists of objects, read one element at a time, and, with a
 * cache, each element whose text an earlier read saw taken from it
 * instead of parsed again: a change to one pod of 10,000 parses one pod.
 */
#ifndef KILO_LIB_POLICY_NETPOL_LIST_H
#define KILO_LIB_POLICY_NETPOL_LIST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/arena.h"
#include "objects.h"

struct kilo_lb_ids;

/* Where an element of the last text read was, and its text's hash: its key in the cache. */
struct kilo_np_list_seen {
	size_t start, len;
	uint64_t hash;
};

/*
 * What the last read of a list with a cache saw: its text and its
 * elements. The next text is compared with it (as memcmp does: far faster
 * than reading elements out of it and hashing them), and the elements in
 * the part both share, before and after what changed, are taken by their
 * known extent and hash: one pod changed of 10,000 scans one pod's text.
 */
struct kilo_np_list_memo {
	char *text; /* NULL: nothing read, or the last read failed */
	size_t len, cap_text;
	struct kilo_np_list_seen *seen;
	size_t n_seen, cap_seen;
};

void kilo_np_list_memo_release(struct kilo_np_list_memo *memo);

/*
 * Reads object (whose text is len bytes at text) into item with memory
 * from arena; *keep false when it is left out. -ENOMEM.
 */
typedef int (*kilo_np_read_fn)(struct kilo_arena *arena, json_t *object, const char *text, size_t len, void *item,
			       struct kilo_lb_report *report, bool *keep);

/*
 * Reads each element of text (a JSON array named what; NULL: none) into
 * *items (malloc'ed, n_items kept). With cache (may be NULL; between
 * kilo_lb_ids_begin and kilo_lb_ids_commit), kind names the list in it,
 * and an element read before is copied from it: its memory is the cache's
 * until the next read leaves it out; memo (may be NULL; with a cache) is
 * the list's as the last read left it, and is left as this one saw text.
 * Else memory comes from arena. -EINVAL when text is not an array, -ENOMEM.
 */
int kilo_np_read_list(struct kilo_arena *arena, struct kilo_lb_ids *cache, struct kilo_np_list_memo *memo,
		      uint8_t kind, const char *text, const char *what, size_t item_size, kilo_np_read_fn read,
		      void **items, size_t *n_items, struct kilo_lb_report *report, struct kilo_error *err);

/* A cache's drop (struct kilo_lb_id_table's): set it on the objects table of the ids used as a cache. */
void kilo_np_list_drop(void *cached);

#endif
