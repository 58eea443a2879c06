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
 * until the next read leaves it out. Else memory comes from arena.
 * -EINVAL when text is not an array, -ENOMEM.
 */
int kilo_np_read_list(struct kilo_arena *arena, struct kilo_lb_ids *cache, uint8_t kind, const char *text,
		      const char *what, size_t item_size, kilo_np_read_fn read, void **items, size_t *n_items,
		      struct kilo_lb_report *report, struct kilo_error *err);

/* A cache's drop (struct kilo_lb_id_table's): set it on the objects table of the ids used as a cache. */
void kilo_np_list_drop(void *cached);

#endif
