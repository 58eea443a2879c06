/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The etcd store's copy of one kind's objects (name -> value, mod
 * revision, lease), kept current by the watch, so that a load asks etcd
 * nothing: at 10,000 nodes a range of every node per change would cost
 * etcd far more than the change itself.
 */
#ifndef KILO_LIB_STORE_ETCD_MIRROR_H
#define KILO_LIB_STORE_ETCD_MIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kilo_etcd_mirror_item {
	char *name;
	char *value;          /* NULL: larger than KILO_STORE_OBJECT_MAX (len says how large) */
	size_t len;
	int64_t mod_revision;
	int64_t lease;
};

/* By name, for lookups by binary search; a list comes in key order, so it fills in order. */
struct kilo_etcd_mirror {
	struct kilo_etcd_mirror_item *items;
	size_t n, cap;
};

const struct kilo_etcd_mirror_item *kilo_etcd_mirror_find(const struct kilo_etcd_mirror *m, const char *name);
/*
 * Sets name's value (copied; value NULL for one too large) and revision,
 * unless the mirror holds a later revision of it already: a watch event
 * may come after a read of the key that saw a later write, and the mirror
 * never goes back (a compare-and-swap on a version gone by would fail
 * again and again). -ENOMEM.
 */
int kilo_etcd_mirror_set(struct kilo_etcd_mirror *m, const char *name, const char *value, size_t len,
			 int64_t mod_revision, int64_t lease);
/* Removes name, deleted at revision, unless the mirror holds a later revision of it (INT64_MAX: whatever it holds). */
void kilo_etcd_mirror_remove(struct kilo_etcd_mirror *m, const char *name, int64_t revision);
/* Frees every item, wiping values (a peer may hold a preshared key). */
void kilo_etcd_mirror_clear(struct kilo_etcd_mirror *m);

/*
 * Calls changed for every name whose object differs between old and new
 * (another mod revision, or present in only one): what a re-list after a
 * compaction must report. Returns the first error of changed.
 */
int kilo_etcd_mirror_diff(const struct kilo_etcd_mirror *old, const struct kilo_etcd_mirror *new,
			  int (*changed)(void *ctx, const char *name), void *ctx);

#endif
