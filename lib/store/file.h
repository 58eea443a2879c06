/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file store: DIR/nodes/NAME.json and DIR/peers/NAME.json, and the
 * Kubernetes objects (DIR/services/NS.NAME.json, ...). Writers
 * put a temporary file (a name that starts with '.') next to the object
 * and rename it over; readers and the watch skip such names.
 */
#ifndef KILO_LIB_STORE_FILE_H
#define KILO_LIB_STORE_FILE_H

#include "store.h"

/* The watches of DIR and of the folder of each kind (kind + 1); -1 when not watched. */
enum {
	KILO_FILE_WATCH_DIR,
	KILO_FILE_WATCH_NODES = KILO_STORE_NODE + 1,
	KILO_FILE_WATCH_PEERS = KILO_STORE_PEER + 1,
	KILO_FILE_WATCH_MAX = KILO_STORE_KINDS + 1,
};

struct kilo_file_store {
	struct kilo_store base;
	char *dir;
	int inotify_fd; /* -1 until a caller waits for changes */
	int wait_fd;    /* kilo_store_fd's: an epoll over inotify_fd and wake_fd */
	int wake_fd;    /* an eventfd: a change pending when the watches began */
	int watches[KILO_FILE_WATCH_MAX];
	bool dir_seen; /* DIR was there once: a write never makes it again */
	bool pending;  /* a change kilo_store_changed has not reported yet */
	bool lost;     /* a watch died: watch again from DIR */
	/*
	 * Per kind a load reads (nodes, peers) or whose objects are kept
	 * (Kubernetes objects, identities): the names changed since the
	 * kind's last changes call, or every name.
	 */
	bool all_dirty[KILO_STORE_CHANGED_KINDS];
	char **dirty[KILO_STORE_CHANGED_KINDS];
	size_t n_dirty[KILO_STORE_CHANGED_KINDS], cap_dirty[KILO_STORE_CHANGED_KINDS];
	bool has_read;  /* listed or got something: watches that begin later begin with a change pending */
	bool loaded[KILO_STORE_CHANGED_KINDS]; /* per kind: loaded once (its next load begins the watches) */
};

/* True for the name of an object file: "NAME.json", not a temporary file. */
bool kilo_file_store_is_object(const char *file_name);
/* The stored name of an object of kind in the file named file_name without ".json" (NS.NAME: NS/NAME), in place. */
void kilo_file_store_object_name(enum kilo_store_kind kind, char *file_name);

/*
 * No descriptor yet, everything dirty: the inotify descriptor and the
 * watches come with the first kilo_file_watch_fd or _changed call or a
 * kind's second load, and a writer adds the folders it made
 * (kilo_file_watch_start).
 */
void kilo_file_watch_init(struct kilo_file_store *fs);
void kilo_file_watch_start(struct kilo_file_store *fs);
void kilo_file_watch_close(struct kilo_file_store *fs);
int kilo_file_watch_fd(const kilo_store *store);
int kilo_file_watch_changed(kilo_store *store, bool *changed, struct kilo_error *err);
int kilo_file_watch_changes(kilo_store *store, enum kilo_store_kind kind, char ***names, size_t *n, bool *all,
			    struct kilo_error *err);

#endif
