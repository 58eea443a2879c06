// SPDX-License-Identifier: Apache-2.0
/*
 * The etcd store: /kilo/CLUSTER/nodes/NAME and /kilo/CLUSTER/peers/NAME,
 * values in the mesh document's node and peer objects, and Kubernetes
 * objects under /kilo/CLUSTER/services/NS/NAME and the like.
 *
 * The first load lists the cluster's keys (blocking); a watch from the
 * list's revision + 1 keeps a mirror of them current, so a load asks etcd
 * nothing and reads again only what the watch touched. A compacted watch
 * lists again and reports what differs. Liveness is presence: the agent's
 * node is attached to a lease kept alive in the background and put only
 * when it changes, so at steady state etcd sees keep-alives only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <sodium.h>

#include "../../core/array.h"
#include "../../core/error.h"
#include "../../core/strbuf.h"
#include "../store.h"
#include "client.h"
#include "etcd_store.h"

static struct kilo_etcd_store *etcd_store(kilo_store *store)
{
	return (struct kilo_etcd_store *)store;
}

void kilo_etcd_store_up(struct kilo_etcd_store *s)
{
	s->up = true;
	s->why[0] = '\0';
}

void kilo_etcd_store_down(struct kilo_etcd_store *s, int result, const struct kilo_error *err)
{
	s->up = false;
	snprintf(s->why, sizeof(s->why), "%s", err && err->code ? err->message : strerror(-result));
}

/* Wakes the store's fd in RETRY_MS, for what failed and is tried again (a list, a lease). */
void kilo_etcd_store_retry_later(struct kilo_etcd_store *s)
{
	struct itimerspec at = { .it_value = { .tv_sec = KILO_ETCD_STORE_RETRY_MS / 1000,
					       .tv_nsec = (KILO_ETCD_STORE_RETRY_MS % 1000) * 1000000L } };

	timerfd_settime(s->timer_fd, 0, &at, NULL);
}

char *kilo_etcd_store_key(const struct kilo_etcd_store *s, enum kilo_store_kind kind, const char *name)
{
	char *key;

	return asprintf(&key, "%s%s/%s", s->root, kilo_store_kind_name(kind), name) < 0 ? NULL : key;
}

static int fill_entry(const struct kilo_etcd_store *s, enum kilo_store_kind kind,
		      const struct kilo_etcd_mirror_item *item, struct kilo_store_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->source = kilo_etcd_store_key(s, kind, item->name);
	e->name = strdup(item->name);
	e->version = item->mod_revision;
	if (item->value) {
		e->text = malloc(item->len + 1);
		if (e->text) {
			memcpy(e->text, item->value, item->len + 1);
			e->len = item->len;
		}
	} else {
		e->unreadable = "larger than 1 MiB";
	}
	if (!e->source || !e->name || (item->value && !e->text)) {
		free(e->source);
		free(e->name);
		free(e->text);
		memset(e, 0, sizeof(*e));
		return -ENOMEM;
	}
	return 0;
}

static int list(kilo_store *store, enum kilo_store_kind kind, struct kilo_store_entry **out, size_t *n_out,
		struct kilo_store_report *report, struct kilo_error *err)
{
	struct kilo_etcd_store *s = etcd_store(store);
	const struct kilo_etcd_mirror *m = &s->mirror[kind];
	struct kilo_store_entry *entries;
	int r;

	*out = NULL;
	*n_out = 0;
	r = kilo_etcd_store_sync(s, err);
	if (r < 0)
		return r;
	/* Keys of the cluster that are neither a node nor a peer: reported once a list, with the nodes. */
	for (size_t i = 0; kind == KILO_STORE_NODE && i < s->n_stray; i++)
		kilo_store_report_add(report, s->stray[i],
				      "not a node or peer, nor a Kubernetes object (expected %snodes/NAME, %speers/NAME, "
				      "%sservices/NS/NAME ...)",
				      s->root, s->root, s->root);
	entries = calloc(m->n ? m->n : 1, sizeof(*entries));
	if (!entries)
		return kilo_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < m->n; i++) {
		if (fill_entry(s, kind, &m->items[i], &entries[i]) < 0) {
			kilo_store_entries_free(entries, i);
			return kilo_error_set(err, ENOMEM, "out of memory");
		}
	}
	*out = entries;
	*n_out = m->n;
	return 0;
}

static int get_object(kilo_store *store, enum kilo_store_kind kind, const char *name, struct kilo_store_entry *out,
		      struct kilo_error *err)
{
	struct kilo_etcd_store *s = etcd_store(store);
	const struct kilo_etcd_mirror_item *item;
	int r;

	r = kilo_etcd_store_sync(s, err);
	if (r < 0)
		return r;
	item = kilo_etcd_mirror_find(&s->mirror[kind], name);
	if (!item)
		return -ENOENT;
	return fill_entry(s, kind, item, out) < 0 ? kilo_error_set(err, ENOMEM, "out of memory") : 0;
}

static int changes(kilo_store *store, enum kilo_store_kind kind, char ***names, size_t *n, bool *all,
		   struct kilo_error *err)
{
	struct kilo_etcd_store *s = etcd_store(store);
	bool first = !s->listed;
	int r;

	r = kilo_etcd_store_sync(s, err);
	if (r < 0)
		return r;
	*names = s->dirty[kind];
	*n = s->n_dirty[kind];
	/*
	 * The first load reads everything; after that the watch (or a list
	 * again) names every change. Identities are named from the first time
	 * they are asked for.
	 */
	*all = first || (kind >= KILO_STORE_MESH_KINDS && !s->asked[kind]);
	s->asked[kind] = true;
	s->dirty[kind] = NULL;
	s->n_dirty[kind] = s->cap_dirty[kind] = 0;
	return 0;
}

/* The mirror's copy of name, read again from etcd: after a lost compare-and-swap it is behind. */
static int refresh_one(struct kilo_etcd_store *s, enum kilo_store_kind kind, const char *name, const char *key,
		       struct kilo_error *err)
{
	struct kilo_etcd_range_request request = { .key = key };
	struct kilo_etcd_range range = { 0 };
	int r;

	r = kilo_etcd_get_range(s->client, &request, &range, err);
	if (r < 0)
		return r;
	if (range.n_kvs)
		r = kilo_etcd_mirror_set(&s->mirror[kind], name, range.kvs[0].value, range.kvs[0].value_len,
					 range.kvs[0].mod_revision, range.kvs[0].lease);
	else
		kilo_etcd_mirror_remove(&s->mirror[kind], name, INT64_MAX);
	kilo_etcd_range_clear(&range);
	return r < 0 ? kilo_error_set(err, ENOMEM, "out of memory") : 0;
}

/*
 * kgctl's writes, synchronous. A node keeps the lease it has: an operator's
 * edit of a live node must not make it outlive its agent.
 */
static int write_object(kilo_store *store, enum kilo_store_kind kind, const char *name, const char *text, size_t len,
			int64_t if_version, struct kilo_error *err)
{
	struct kilo_etcd_store *s = etcd_store(store);
	const struct kilo_etcd_mirror_item *item = kilo_etcd_mirror_find(&s->mirror[kind], name);
	char *key = kilo_etcd_store_key(s, kind, name);
	int64_t lease = item ? item->lease : 0, revision = 0;
	bool succeeded = true;
	int r;

	if (!key)
		return kilo_error_set(err, ENOMEM, "out of memory");
	for (int tries = 0; tries < 2; tries++) {
		if (if_version == KILO_STORE_ANY_VERSION)
			r = kilo_etcd_put(s->client, key, text, len, lease, &revision, err);
		else
			r = kilo_etcd_put_if(s->client, key, text, len, lease, if_version, &succeeded, &revision, err);
		/* The lease ran out meanwhile: so did the node, and what is written now is the operator's. */
		if (r != -ENOENT || !lease)
			break;
		lease = 0;
		if (err)
			memset(err, 0, sizeof(*err));
	}
	if (r < 0) {
		kilo_etcd_store_down(s, r, err);
		goto out;
	}
	kilo_etcd_store_up(s);
	if (!succeeded) {
		r = refresh_one(s, kind, name, key, err);
		if (r == 0)
			r = kilo_error_set(err, EAGAIN, "store: %s changed meanwhile", key);
		goto out;
	}
	/* Seen at once by this handle's next get and load, before the watch brings it. */
	r = kilo_etcd_mirror_set(&s->mirror[kind], name, text, len, revision, lease);
	if (r == 0)
		r = kilo_etcd_store_touch(s, kind, name);
	if (r < 0)
		r = kilo_error_set(err, ENOMEM, "out of memory");
out:
	free(key);
	return r;
}

/* Identities' writes: one transaction, the mirror updated at once, or read again when it lost. */
static int write_all(kilo_store *store, const struct kilo_store_write *writes, size_t n, struct kilo_error *err)
{
	struct kilo_etcd_store *s = etcd_store(store);
	struct kilo_etcd_txn_op *ops = calloc(n ? n : 1, sizeof(*ops));
	int64_t revision = 0;
	bool succeeded = false;
	size_t keys = 0;
	int r = 0;

	if (!ops)
		return kilo_error_set(err, ENOMEM, "out of memory");
	for (; keys < n; keys++) {
		ops[keys] = (struct kilo_etcd_txn_op){ .key = kilo_etcd_store_key(s, writes[keys].kind, writes[keys].name),
						       .value = writes[keys].text, .len = writes[keys].len,
						       .mod_revision = writes[keys].if_version == KILO_STORE_ANY_VERSION ?
									       KILO_ETCD_ANY_REVISION :
									       writes[keys].if_version };
		if (!ops[keys].key) {
			r = kilo_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	r = kilo_etcd_txn(s->client, ops, n, &succeeded, &revision, err);
	if (r < 0) {
		kilo_etcd_store_down(s, r, err);
		goto out;
	}
	kilo_etcd_store_up(s);
	for (size_t i = 0; i < n && r == 0; i++) {
		struct kilo_etcd_mirror *m = &s->mirror[writes[i].kind];

		if (!succeeded) {
			r = refresh_one(s, writes[i].kind, writes[i].name, ops[i].key, err);
			continue;
		}
		if (writes[i].text)
			r = kilo_etcd_mirror_set(m, writes[i].name, writes[i].text, writes[i].len, revision, 0);
		else
			kilo_etcd_mirror_remove(m, writes[i].name, INT64_MAX);
		if (r == 0)
			r = kilo_etcd_store_touch(s, writes[i].kind, writes[i].name);
		if (r < 0)
			r = kilo_error_set(err, ENOMEM, "out of memory");
	}
	if (r == 0 && !succeeded)
		r = kilo_error_set(err, EAGAIN, "store: %s changed meanwhile", n ? ops[0].key : "");
out:
	for (size_t i = 0; i < keys; i++)
		free((char *)ops[i].key);
	free(ops);
	return r;
}

static int remove_object(kilo_store *store, enum kilo_store_kind kind, const char *name, struct kilo_error *err)
{
	struct kilo_etcd_store *s = etcd_store(store);
	char *key = kilo_etcd_store_key(s, kind, name);
	int r;

	if (!key)
		return kilo_error_set(err, ENOMEM, "out of memory");
	/* The agent's own node on a clean exit: its lease goes with it, and nothing keeps it alive. */
	if (kind == KILO_STORE_NODE && s->self_name && !strcmp(name, s->self_name))
		kilo_etcd_store_retire_self(s);
	r = kilo_etcd_delete(s->client, key, false, NULL, err);
	if (r < 0)
		kilo_etcd_store_down(s, r, err);
	else
		kilo_etcd_mirror_remove(&s->mirror[kind], name, INT64_MAX);
	if (r >= 0 && kilo_etcd_store_touch(s, kind, name) < 0)
		r = kilo_error_set(err, ENOMEM, "out of memory");
	free(key);
	return r < 0 ? r : 0;
}

static int store_fd(const kilo_store *store)
{
	return ((const struct kilo_etcd_store *)store)->epoll_fd;
}

static int changed(kilo_store *store, bool *changed_out, struct kilo_error *err)
{
	struct kilo_etcd_store *s = etcd_store(store);
	uint64_t expirations;
	int r;

	/* A retry that is due: read, so that the fd stops being readable for it. */
	if (read(s->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return kilo_error_set(err, errno, "store: timer: %s", strerror(errno));
	r = kilo_etcd_process(s->client, err);
	if (r == 0 && s->listed)
		r = kilo_etcd_store_sync(s, err);
	kilo_etcd_store_keep_self(s);
	*changed_out = s->n_dirty[KILO_STORE_NODE] || s->n_dirty[KILO_STORE_PEER] || s->objects_dirty;
	s->objects_dirty = false;
	return r;
}

static void health(kilo_store *store, struct kilo_store_health *out)
{
	struct kilo_etcd_store *s = etcd_store(store);

	out->up = s->up;
	out->revision = s->revision;
	snprintf(out->why, sizeof(out->why), "%s", s->up ? "" : s->why);
}

static void format_size(int64_t bytes, char out[32])
{
	if (bytes >= 10 << 20)
		snprintf(out, 32, "%lld MiB", (long long)(bytes >> 20));
	else if (bytes >= 10 << 10)
		snprintf(out, 32, "%lld KiB", (long long)(bytes >> 10));
	else
		snprintf(out, 32, "%lld B", (long long)bytes);
}

static int describe(kilo_store *store, struct kilo_strbuf *out, struct kilo_error *err)
{
	struct kilo_etcd_store *s = etcd_store(store);
	struct kilo_etcd_status *status = NULL;
	size_t n = 0;
	int r;

	r = kilo_etcd_status(s->client, &status, &n, err);
	if (r < 0)
		return r;
	kilo_strbuf_printf(out, "Store: %s (keys under %s)\n", s->uri, s->root);
	kilo_strbuf_printf(out, "%-32s %-8s %-7s %-10s %-9s %s\n", "ENDPOINT", "ANSWERS", "LEADER", "REVISION",
			   "DB SIZE", "VERSION");
	for (size_t i = 0; i < n; i++) {
		char size[32];

		if (status[i].result < 0) {
			kilo_strbuf_printf(out, "%-32s no: %s\n", status[i].endpoint, status[i].error);
			continue;
		}
		format_size(status[i].db_size, size);
		kilo_strbuf_printf(out, "%-32s %-8s %-7s %-10lld %-9s %s\n", status[i].endpoint, "yes",
				   !status[i].leader ? "none" : status[i].leader == status[i].member_id ? "yes" : "no",
				   (long long)status[i].revision, size, status[i].version);
	}
	free(status);
	return 0;
}

static void close_store(kilo_store *store)
{
	struct kilo_etcd_store *s = etcd_store(store);

	kilo_etcd_watch_stop(s->watch);
	kilo_etcd_keepalive_stop(s->keepalive);
	kilo_etcd_free(s->client);
	for (size_t i = 0; i < KILO_STORE_MESH_KINDS; i++)
		kilo_store_cache_free(store->cache[i]);
	for (size_t i = 0; i < KILO_STORE_KINDS; i++) {
		kilo_etcd_store_names_free(s->dirty[i], s->n_dirty[i]);
		kilo_etcd_mirror_clear(&s->mirror[i]);
	}
	kilo_etcd_store_names_free(s->stray, s->n_stray);
	kilo_etcd_store_self_free(s);
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	if (s->epoll_fd >= 0)
		close(s->epoll_fd);
	free(s->uri);
	free(s->root);
	free(s);
}

static const struct kilo_store_ops etcd_ops = {
	.close = close_store,
	.list = list,
	.get = get_object,
	.changes = changes,
	.write = write_object,
	.remove = remove_object,
	.fd = store_fd,
	.changed = changed,
	.publish_self = kilo_etcd_store_publish_self,
	.health = health,
	.describe = describe,
	.write_all = write_all,
	.presence = true,
};

/* One fd for the caller: the client's (sockets, its timers) and the store's retry timer. */
static int make_fds(struct kilo_etcd_store *s, struct kilo_error *err)
{
	struct epoll_event client = { .events = EPOLLIN }, timer = { .events = EPOLLIN };

	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->epoll_fd < 0 || s->timer_fd < 0 ||
	    epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, kilo_etcd_fd(s->client), &client) < 0 ||
	    epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->timer_fd, &timer) < 0)
		return kilo_error_set(err, errno, "store: epoll: %s", strerror(errno));
	return 0;
}

int kilo_etcd_store_open(const char *uri, const struct kilo_store_opts *opts, kilo_store **out, struct kilo_error *err)
{
	struct kilo_etcd_config config = { 0 };
	struct kilo_etcd_store *s;
	int r;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return kilo_error_set(err, ENOMEM, "out of memory");
	s->base.ops = &etcd_ops;
	s->epoll_fd = s->timer_fd = -1;
	/* Not known to answer before it does; "not asked yet" until the first request. */
	snprintf(s->why, sizeof(s->why), "not asked yet");
	r = kilo_etcd_config_parse(uri, opts, &config, err);
	if (r == 0)
		r = kilo_etcd_new(&config, &s->client, err);
	if (r == 0 && (!(s->uri = strdup(uri)) || asprintf(&s->root, "/kilo/%s/", config.cluster) < 0)) {
		s->root = NULL;
		r = kilo_error_set(err, ENOMEM, "out of memory");
	}
	kilo_etcd_config_clear(&config);
	if (r == 0)
		r = make_fds(s, err);
	if (r < 0) {
		close_store(&s->base);
		return r;
	}
	*out = &s->base;
	return 0;
}
