// SPDX-License-Identifier: Apache-2.0
/*
 * The etcd store's mirror: one list of the cluster's keys, then a watch
 * from the list's revision + 1 that applies every put and delete to it and
 * notes the names it touched. A broken stream is resumed by the client
 * from the next revision; a compacted one loses events, so the store lists
 * again (in the background: only the first list blocks) and reports every
 * name that differs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/array.h"
#include "../../core/error.h"
#include "etcd_store.h"

void kilo_etcd_store_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int add_name(char ***names, size_t *n, size_t *cap, const char *name)
{
	char *copy = strdup(name);

	if (!copy || kilo_array_reserve((void **)names, cap, *n + 1, sizeof(**names)) < 0) {
		free(copy);
		return -ENOMEM;
	}
	(*names)[(*n)++] = copy;
	return 0;
}

int kilo_etcd_store_touch(struct kilo_etcd_store *s, enum kilo_store_kind kind, const char *name)
{
	if (kind >= KILO_STORE_MESH_KINDS)
		s->objects_dirty = true;
	if (kind >= KILO_STORE_MESH_KINDS && !s->asked[kind])
		return 0;
	return add_name(&s->dirty[kind], &s->n_dirty[kind], &s->cap_dirty[kind], name);
}

static void remove_name(char **names, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++) {
		if (!strcmp(names[i], name)) {
			free(names[i]);
			names[i] = names[--*n];
			return;
		}
	}
}

/* Whether name has as many '/' as a name of kind: none, or one between a namespace and a name. */
static bool name_shape(enum kilo_store_kind kind, const char *name)
{
	const char *slash = strchr(name, '/');

	if (!kilo_store_kind_namespaced(kind))
		return !slash;
	return slash && slash != name && slash[1] && !strchr(slash + 1, '/');
}

/*
 * Where key belongs: *kind and *name (pointing into key) for ROOT/nodes/NAME,
 * ROOT/peers/NAME, ROOT/services/NS/NAME ...; false for any other key under
 * ROOT. A NAME that is not a valid name is still the store's object,
 * refused by its parser.
 */
static bool classify(const struct kilo_etcd_store *s, const char *key, enum kilo_store_kind *kind, const char **name)
{
	size_t root_len = strlen(s->root);

	if (strncmp(key, s->root, root_len))
		return false;
	for (int k = 0; k < KILO_STORE_KINDS; k++) {
		const char *folder = kilo_store_kind_name((enum kilo_store_kind)k);
		const char *rest = key + root_len;

		if (!strncmp(rest, folder, strlen(folder)) && rest[strlen(folder)] == '/' && rest[strlen(folder) + 1] &&
		    name_shape((enum kilo_store_kind)k, rest + strlen(folder) + 1)) {
			*kind = (enum kilo_store_kind)k;
			*name = rest + strlen(folder) + 1;
			return true;
		}
	}
	return false;
}

/* One pair into mirrors (or the stray keys); value NULL and a length over the maximum: too large. */
static int mirror_pair(struct kilo_etcd_store *s, struct kilo_etcd_mirror mirror[KILO_STORE_KINDS], char ***stray, size_t *n_stray,
		       size_t *cap_stray, const struct kilo_etcd_kv *kv)
{
	enum kilo_store_kind kind;
	const char *name;

	if (!classify(s, kv->key, &kind, &name)) {
		remove_name(*stray, n_stray, kv->key);
		return add_name(stray, n_stray, cap_stray, kv->key);
	}
	return kilo_etcd_mirror_set(&mirror[kind], name, kv->value, kv->value_len,
				    kv->mod_revision, kv->lease);
}

struct diff_ctx {
	struct kilo_etcd_store *s;
	enum kilo_store_kind kind;
};

static int dirty(void *ctx, const char *name)
{
	struct diff_ctx *d = ctx;

	return kilo_etcd_store_touch(d->s, d->kind, name);
}

static void on_watch(void *ctx, const struct kilo_etcd_watch_update *u);

/*
 * Takes a whole list of the cluster's keys (its pairs are moved out) into
 * new mirrors, which replace the old ones; after the first list, the names
 * that differ are dirty. -ENOMEM leaves the old mirrors as they were.
 */
static int take_list(struct kilo_etcd_store *s, struct kilo_etcd_range *range)
{
	struct kilo_etcd_mirror fresh[KILO_STORE_KINDS] = { { 0 } };
	char **stray = NULL;
	size_t n_stray = 0, cap_stray = 0;
	int r = 0;

	for (size_t i = 0; r == 0 && i < range->n_kvs; i++)
		r = mirror_pair(s, fresh, &stray, &n_stray, &cap_stray, &range->kvs[i]);
	/* The first list reads everything anyway: only a list again says what differs. */
	for (size_t k = 0; r == 0 && s->listed && k < KILO_STORE_KINDS; k++) {
		struct diff_ctx d = { .s = s, .kind = (enum kilo_store_kind)k };

		r = kilo_etcd_mirror_diff(&s->mirror[k], &fresh[k], dirty, &d);
	}
	if (r < 0) {
		for (size_t k = 0; k < KILO_STORE_KINDS; k++)
			kilo_etcd_mirror_clear(&fresh[k]);
		kilo_etcd_store_names_free(stray, n_stray);
		return -ENOMEM;
	}
	for (size_t k = 0; k < KILO_STORE_KINDS; k++) {
		kilo_etcd_mirror_clear(&s->mirror[k]);
		s->mirror[k] = fresh[k];
	}
	kilo_etcd_store_names_free(s->stray, s->n_stray);
	s->stray = stray;
	s->n_stray = n_stray;
	s->cap_stray = cap_stray;
	s->revision = range->revision;
	return 0;
}

/* A list could not be had or kept: say why, and try again in a while. */
static int list_failed(struct kilo_etcd_store *s, int r, const struct kilo_error *err)
{
	kilo_etcd_store_down(s, r, err);
	kilo_etcd_store_retry_later(s);
	return r;
}

/* The watch from the mirror's revision + 1: the mirror is current from now on. */
static int watch_from_list(struct kilo_etcd_store *s, struct kilo_error *err)
{
	int r;

	s->listed = true;
	s->relist = false;
	kilo_etcd_watch_stop(s->watch);
	s->watch = NULL;
	r = kilo_etcd_watch_start(s->client, s->root, s->revision + 1, on_watch, s, &s->watch, err);
	if (r < 0) {
		/* Without a watch the mirror would stand still: list again at the next chance. */
		s->relist = true;
		return list_failed(s, r, err);
	}
	kilo_etcd_store_up(s);
	return 0;
}

static void on_list_again(void *ctx, int result, struct kilo_etcd_range *list, const struct kilo_error *err)
{
	struct kilo_etcd_store *s = ctx;
	struct kilo_error local = { 0 };

	s->listing = false;
	if (result < 0) {
		list_failed(s, result, err);
		return;
	}
	if (take_list(s, list) < 0) {
		kilo_error_set(&local, ENOMEM, "out of memory");
		list_failed(s, -ENOMEM, &local);
		return;
	}
	watch_from_list(s, &local);
}

/*
 * A list again after a compaction, asynchronous: the agent's loop goes on
 * with the mirror it has (its last mesh) until the list is in, however
 * long etcd takes to answer.
 */
static void list_again(struct kilo_etcd_store *s)
{
	struct kilo_error err = { 0 };
	int r;

	if (s->listing)
		return;
	r = kilo_etcd_list_async(s->client, s->root, 0, on_list_again, s, &err);
	if (r < 0) {
		list_failed(s, r, &err);
		return;
	}
	s->listing = true;
}

int kilo_etcd_store_sync(struct kilo_etcd_store *s, struct kilo_error *err)
{
	struct kilo_etcd_range range = { 0 };
	int r;

	if (s->listed) {
		if (s->relist)
			list_again(s);
		return 0;
	}
	r = kilo_etcd_list(s->client, s->root, 0, &range, err);
	if (r < 0)
		return list_failed(s, r, err);
	r = take_list(s, &range);
	kilo_etcd_range_clear(&range);
	if (r < 0)
		return kilo_error_set(err, ENOMEM, "out of memory");
	return watch_from_list(s, err);
}

static int apply_event(struct kilo_etcd_store *s, const struct kilo_etcd_event *ev)
{
	const struct kilo_etcd_mirror_item *item;
	enum kilo_store_kind kind;
	const char *name;

	if (!classify(s, ev->kv.key, &kind, &name)) {
		remove_name(s->stray, &s->n_stray, ev->kv.key);
		return ev->type == KILO_ETCD_EVENT_PUT ? add_name(&s->stray, &s->n_stray, &s->cap_stray, ev->kv.key) : 0;
	}
	/* This handle's own write (or read after a lost race) is in the mirror already: no going back. */
	item = kilo_etcd_mirror_find(&s->mirror[kind], name);
	if (item && item->mod_revision > ev->kv.mod_revision)
		return 0;
	if (ev->type == KILO_ETCD_EVENT_PUT) {
		int r = kilo_etcd_mirror_set(&s->mirror[kind], name, ev->kv.value, ev->kv.value_len, ev->kv.mod_revision,
					     ev->kv.lease);

		if (r < 0)
			return r;
	} else {
		kilo_etcd_mirror_remove(&s->mirror[kind], name, ev->kv.mod_revision);
	}
	return kilo_etcd_store_touch(s, kind, name);
}

static void on_watch(void *ctx, const struct kilo_etcd_watch_update *u)
{
	struct kilo_etcd_store *s = ctx;

	switch (u->status) {
	case KILO_ETCD_WATCH_EVENTS:
		kilo_etcd_store_up(s);
		for (size_t i = 0; i < u->n_events; i++) {
			/* Out of memory, the mirror is no longer whole: list again. */
			if (apply_event(s, &u->events[i]) < 0) {
				s->relist = true;
				kilo_etcd_store_retry_later(s);
				return;
			}
		}
		if (u->revision > s->revision)
			s->revision = u->revision;
		break;
	case KILO_ETCD_WATCH_COMPACTED:
		kilo_etcd_watch_stop(s->watch);
		s->watch = NULL;
		s->relist = true;
		list_again(s);
		break;
	case KILO_ETCD_WATCH_BROKEN:
		kilo_etcd_store_down(s, u->result, u->err);
		break;
	}
}
