/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a store kind provides: raw objects by kind and name, and a way to
 * be told of changes. Parsing, validation and assembling the mesh are
 * shared by every kind (store.c, load.c), so that a file store and an etcd
 * store accept and refuse exactly the same objects.
 */
#ifndef KILO_LIB_STORE_STORE_H
#define KILO_LIB_STORE_STORE_H

#include <kilo/store.h>

#include "../core/arena.h"
#include "../mesh/model.h"

/* A single stored object is refused beyond this size. */
#define KILO_STORE_OBJECT_MAX (1u << 20)

enum kilo_store_kind {
	KILO_STORE_NODE,
	KILO_STORE_PEER,
};

/* One object as stored: where it came from (for reports), its name and text. */
struct kilo_store_entry {
	char *source;
	char *name;
	char *text;
	size_t len;
};

struct kilo_store_ops {
	void (*close)(kilo_store *store);
	/*
	 * Every object of kind, in any order, into a malloc'ed array. An object
	 * that cannot even be read is added to report instead; only a store
	 * that cannot be listed at all is an error.
	 */
	int (*list)(kilo_store *store, enum kilo_store_kind kind, struct kilo_store_entry **out, size_t *n_out,
		    struct kilo_store_report *report, struct kilo_error *err);
	/* The text of one object (NUL-terminated); -ENOENT. */
	int (*read)(kilo_store *store, enum kilo_store_kind kind, const char *name, char **text, size_t *len,
		    struct kilo_error *err);
	/* Replaces one object atomically: readers see the old text or the new one. */
	int (*write)(kilo_store *store, enum kilo_store_kind kind, const char *name, const char *text, size_t len,
		     struct kilo_error *err);
	/* 0 if it was not there. */
	int (*remove)(kilo_store *store, enum kilo_store_kind kind, const char *name, struct kilo_error *err);
	int (*fd)(const kilo_store *store);
	int (*changed)(kilo_store *store, bool *changed, struct kilo_error *err);
};

/* Every store kind embeds this first. */
struct kilo_store {
	const struct kilo_store_ops *ops;
};

/* "nodes" or "peers": the kind as the mesh document names its list. */
const char *kilo_store_kind_name(enum kilo_store_kind kind);

/* Adds a problem about source to report (NULL: nothing); the count goes on past the first 16. */
void kilo_store_report_add(struct kilo_store_report *report, const char *source, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Frees entries, wiping their text (a peer may hold a preshared key). */
void kilo_store_entries_free(struct kilo_store_entry *entries, size_t n);

/*
 * Parses the text of one stored node or peer named name (NULL: any valid
 * name) into *out, with memory from arena: the mesh document's rules, and
 * the object's "name" must equal the name it is stored under. Errors are named by the field, e.g.
 * `podCIDR: "10.2.1.0/33" is not a CIDR`.
 */
int kilo_store_parse_node(const char *text, size_t len, const char *name, struct kilo_arena *arena,
			  struct kilo_node *out, struct kilo_error *err);
int kilo_store_parse_peer(const char *text, size_t len, const char *name, struct kilo_arena *arena,
			  struct kilo_peer *out, struct kilo_error *err);

/* The file store: "file:DIR". */
int kilo_file_store_open(const char *dir, kilo_store **out, struct kilo_error *err);

#endif
