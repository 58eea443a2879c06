/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The etcd store's state, shared by its parts: the store ops (store.c),
 * the mirror kept by list and watch (sync.c), and the agent's own node
 * with its lease (self.c).
 */
#ifndef KILO_LIB_STORE_ETCD_STORE_H
#define KILO_LIB_STORE_ETCD_STORE_H

#include "../store.h"
#include "client.h"
#include "mirror.h"

/* How soon a failed list, lease grant or put of the agent's node is tried again. */
#define KILO_ETCD_STORE_RETRY_MS 1000

struct kilo_etcd_store {
	struct kilo_store base;
	kilo_etcd *client;
	char *uri;  /* as given (a password is never in it), for kgctl status */
	char *root; /* "/kilo/CLUSTER/" */
	int epoll_fd; /* the client's fd and timer_fd: the store's fd */
	int timer_fd; /* wakes the caller to try again what failed */

	/* The mirror: what a load reads, as of revision. */
	struct kilo_etcd_mirror mirror[KILO_STORE_KINDS];
	char **stray; /* keys under root that are no object of any kind */
	size_t n_stray, cap_stray;
	bool listed;
	bool relist; /* the watch's revision was compacted: list again and diff */
	bool listing; /* that list is on its way */
	int64_t revision;
	struct kilo_etcd_watch *watch;
	/*
	 * What the watch (or a write, or a list again) touched since the last
	 * changes(), per kind a load reads, and per identity kind once its
	 * changes were asked for (asked): a store that never lists them keeps
	 * no names.
	 */
	char **dirty[KILO_STORE_KINDS];
	size_t n_dirty[KILO_STORE_KINDS], cap_dirty[KILO_STORE_KINDS];
	bool asked[KILO_STORE_KINDS];
	/* A Kubernetes object or an identity changed since the last changed(); the objects are listed whole. */
	bool objects_dirty;

	bool up;
	char why[KILO_ERROR_MESSAGE_MAX];

	/* The agent's own node: the text it wants, the text etcd has, the lease that keeps it. */
	char *self_name;
	char *self_key;
	char *self_text, *sent_text, *flying_text; /* flying: a put on its way */
	size_t self_len, sent_len, flying_len;
	uint32_t ttl;
	int64_t lease;
	bool grant_in_flight, lease_lost;
	/*
	 * The mod revision of the record self_text was made from (0: none);
	 * the put swaps only that one, so an operator's edit that came after
	 * it is read again and kept.
	 */
	int64_t self_base, flying_base;
	bool reread_in_flight;
	unsigned lost_races; /* in a row */
	struct kilo_etcd_keepalive *keepalive;
};

void kilo_etcd_store_up(struct kilo_etcd_store *s);
void kilo_etcd_store_down(struct kilo_etcd_store *s, int result, const struct kilo_error *err);
void kilo_etcd_store_retry_later(struct kilo_etcd_store *s);
/* ROOT/KIND/NAME, malloc'ed; NULL when out of memory. */
char *kilo_etcd_store_key(const struct kilo_etcd_store *s, enum kilo_store_kind kind, const char *name);
void kilo_etcd_store_names_free(char **names, size_t n);
/* Notes name as changed in the mirror: the next load reads it again. -ENOMEM. */
int kilo_etcd_store_touch(struct kilo_etcd_store *s, enum kilo_store_kind kind, const char *name);

/*
 * Brings the mirror to where it can serve: the first list (blocking) and
 * the watch from its revision + 1. After a compaction it starts a list
 * again in the background and returns at once: when it is in, the names
 * that differ become dirty and the watch goes on from its revision + 1.
 */
int kilo_etcd_store_sync(struct kilo_etcd_store *s, struct kilo_error *err);

/* ops->publish_self: the first put waits for etcd; later ones leave in the background. */
int kilo_etcd_store_publish_self(kilo_store *store, const char *name, const char *text, size_t len, uint32_t ttl,
				 struct kilo_error *err);
/* After the client's callbacks: a lost lease granted again, the node put again where etcd lacks it. */
void kilo_etcd_store_keep_self(struct kilo_etcd_store *s);
/* A clean exit: the lease is revoked (its node goes with it) and no longer kept alive. */
void kilo_etcd_store_retire_self(struct kilo_etcd_store *s);
void kilo_etcd_store_self_free(struct kilo_etcd_store *s);

#endif
