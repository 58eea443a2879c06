// SPDX-License-Identifier: Apache-2.0
/*
 * The agent's own node in etcd: attached to a lease whose TTL is the ready
 * window, kept alive every TTL/3, and put only when its text changes, so
 * that a heartbeat costs etcd a keep-alive and no watcher anything. A node
 * whose agent dies is gone when its lease runs out. A lease lost while
 * etcd was away (longer than the TTL) is granted again and the node put
 * again. Everything after the first put runs off the agent's loop: the
 * requests leave at once, their answers come through the store's fd.
 *
 * Those puts are compare-and-swaps on the record the agent's text was made
 * from: an operator's `kgctl node set` that lands in between makes the put
 * fail; the agent reads the record again, keeps the operator's fields with
 * its own (kilo_store_node_merge_self) and puts again.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/error.h"
#include "etcd_store.h"

static void text_free(char **text, size_t *len)
{
	if (*text)
		sodium_memzero(*text, *len);
	free(*text);
	*text = NULL;
	*len = 0;
}

static char *text_copy(const char *text, size_t len)
{
	char *copy = malloc(len + 1);

	if (copy) {
		memcpy(copy, text, len);
		copy[len] = '\0';
	}
	return copy;
}

static void on_lease(void *ctx, int64_t lease, int result, const struct kilo_error *err)
{
	struct kilo_etcd_store *s = ctx;

	if (lease != s->lease)
		return;
	/* Gone (the TTL ran out): so is the node; both come back at the next keep_self. */
	if (result == -ENOENT)
		s->lease_lost = true;
	else
		kilo_etcd_store_down(s, result, err);
}

static int keep_alive(struct kilo_etcd_store *s, struct kilo_error *err)
{
	unsigned interval_ms = s->ttl * 1000u / 3;

	return kilo_etcd_keepalive_start(s->client, s->lease, interval_ms ? interval_ms : 1, on_lease, s,
					 &s->keepalive, err);
}

/* What the agent asked for failed: say why, and try again in a while. */
static void failed(struct kilo_etcd_store *s, int result, const struct kilo_error *err)
{
	kilo_etcd_store_down(s, result, err);
	kilo_etcd_store_retry_later(s);
}

static void on_grant(void *ctx, int result, const struct kilo_etcd_reply *reply, const struct kilo_error *err)
{
	struct kilo_etcd_store *s = ctx;
	struct kilo_error local = { 0 };

	s->grant_in_flight = false;
	if (result == 0) {
		s->lease = reply->lease;
		result = keep_alive(s, &local);
		err = &local;
	}
	if (result < 0) {
		failed(s, result, err);
		return;
	}
	kilo_etcd_store_up(s);
}

/* The record as etcd holds it after a lost race: the operator's fields, the agent's own, put again. */
static void on_reread(void *ctx, int result, struct kilo_etcd_range *range, const struct kilo_error *err)
{
	struct kilo_etcd_store *s = ctx;
	const struct kilo_etcd_kv *kv = range && range->n_kvs ? &range->kvs[0] : NULL;
	struct kilo_error local = { 0 };
	char *merged = NULL;

	s->reread_in_flight = false;
	/* Retired meanwhile (a clean exit): nothing to put. */
	if (!s->self_text)
		return;
	if (result < 0) {
		failed(s, result, err);
		return;
	}
	if (kv) {
		result = kilo_store_node_merge_self(kv->value ? kv->value : "", kv->value ? kv->value_len : 0,
						    s->self_text, s->self_len, &merged, &local);
		/* The next load shows the operator's edit too, without waiting for the watch. */
		if (result == 0 && (kilo_etcd_mirror_set(&s->mirror[KILO_STORE_NODE], s->self_name, kv->value,
							 kv->value_len, kv->mod_revision, kv->lease) < 0 ||
				    kilo_etcd_store_touch(s, KILO_STORE_NODE, s->self_name) < 0))
			result = kilo_error_set(&local, ENOMEM, "out of memory");
		if (result < 0) {
			kilo_free(merged);
			failed(s, result, &local);
			return;
		}
		text_free(&s->self_text, &s->self_len);
		s->self_text = text_copy(merged, strlen(merged));
		s->self_len = strlen(merged);
		sodium_memzero(merged, s->self_len);
		kilo_free(merged);
		if (!s->self_text) {
			s->self_len = 0;
			failed(s, -ENOMEM, NULL);
			return;
		}
	}
	s->self_base = kv ? kv->mod_revision : 0;
	kilo_etcd_store_keep_self(s);
}

static void on_put(void *ctx, int result, const struct kilo_etcd_reply *reply, const struct kilo_error *err)
{
	struct kilo_etcd_store *s = ctx;
	struct kilo_error local = { 0 };

	if (result == 0 && !reply->succeeded) {
		/* Another writer came first: read its record, merge, put again (a bounded number of times in a row). */
		text_free(&s->flying_text, &s->flying_len);
		if (!s->self_text)
			return;
		if (++s->lost_races > KILO_STORE_CAS_TRIES) {
			s->lost_races = 0;
			kilo_error_set(&local, EAGAIN, "store: %s: %u writes of another in a row", s->self_key,
				       KILO_STORE_CAS_TRIES);
			failed(s, -EAGAIN, &local);
			return;
		}
		result = kilo_etcd_get_async(s->client, s->self_key, on_reread, s, &local);
		s->reread_in_flight = result == 0;
		if (result < 0)
			failed(s, result, &local);
		return;
	}
	if (result < 0) {
		text_free(&s->flying_text, &s->flying_len);
		/* Put with a lease that ran out: grant another. */
		if (result == -ENOENT)
			s->lease_lost = true;
		failed(s, result, err);
		return;
	}
	s->lost_races = 0;
	/* What etcd holds now: the base of the next put, and what this handle reads (the watch touches it). */
	if (s->self_base == s->flying_base)
		s->self_base = reply->revision;
	if (kilo_etcd_mirror_set(&s->mirror[KILO_STORE_NODE], s->self_name, s->flying_text, s->flying_len,
				 reply->revision, s->lease) < 0)
		kilo_etcd_mirror_remove(&s->mirror[KILO_STORE_NODE], s->self_name, INT64_MAX); /* the watch brings it back */
	text_free(&s->sent_text, &s->sent_len);
	s->sent_text = s->flying_text;
	s->sent_len = s->flying_len;
	s->flying_text = NULL;
	s->flying_len = 0;
	kilo_etcd_store_up(s);
}

void kilo_etcd_store_keep_self(struct kilo_etcd_store *s)
{
	struct kilo_error err = { 0 };
	int r;

	if (!s->self_text)
		return;
	if (s->lease_lost) {
		kilo_etcd_keepalive_stop(s->keepalive);
		s->keepalive = NULL;
		s->lease = 0;
		s->lease_lost = false;
		/* Its node went with the lease: put it again, whatever was sent before. */
		text_free(&s->sent_text, &s->sent_len);
	}
	if (!s->lease) {
		if (s->grant_in_flight)
			return;
		r = kilo_etcd_lease_grant_async(s->client, s->ttl, on_grant, s, &err);
		s->grant_in_flight = r == 0;
		if (r < 0)
			failed(s, r, &err);
		return;
	}
	if (s->flying_text || s->reread_in_flight ||
	    (s->sent_text && s->sent_len == s->self_len && !memcmp(s->sent_text, s->self_text, s->self_len)))
		return;
	s->flying_text = text_copy(s->self_text, s->self_len);
	s->flying_len = s->self_len;
	s->flying_base = s->self_base;
	r = s->flying_text ? kilo_etcd_put_if_async(s->client, s->self_key, s->self_text, s->self_len, s->lease,
						    s->self_base, on_put, s, &err)
			   : kilo_error_set(&err, ENOMEM, "out of memory");
	if (r < 0) {
		text_free(&s->flying_text, &s->flying_len);
		failed(s, r, &err);
	}
}

/* The first publish, at the agent's start: the lease and the node are there before its first load. */
static int publish_first(struct kilo_etcd_store *s, struct kilo_error *err)
{
	int64_t revision;
	int r;

	r = kilo_etcd_lease_grant(s->client, s->ttl, &s->lease, NULL, err);
	if (r == 0)
		r = kilo_etcd_put(s->client, s->self_key, s->self_text, s->self_len, s->lease, &revision, err);
	if (r == 0)
		r = keep_alive(s, err);
	if (r < 0) {
		kilo_etcd_store_down(s, r, err);
		return r;
	}
	kilo_etcd_store_up(s);
	s->sent_text = text_copy(s->self_text, s->self_len);
	s->sent_len = s->self_len;
	s->self_base = revision;
	if (!s->sent_text || kilo_etcd_mirror_set(&s->mirror[KILO_STORE_NODE], s->self_name, s->self_text, s->self_len,
						  revision, s->lease) < 0)
		return kilo_error_set(err, ENOMEM, "out of memory");
	return 0;
}

int kilo_etcd_store_publish_self(kilo_store *store, const char *name, const char *text, size_t len, uint32_t ttl,
				 struct kilo_error *err)
{
	struct kilo_etcd_store *s = (struct kilo_etcd_store *)store;
	const struct kilo_etcd_mirror_item *item;
	bool first = !s->self_name;
	char *copy;

	if (first) {
		s->self_name = strdup(name);
		s->self_key = kilo_etcd_store_key(s, KILO_STORE_NODE, name);
		if (!s->self_name || !s->self_key)
			return kilo_error_set(err, ENOMEM, "out of memory");
		s->ttl = ttl ? ttl : 1;
	}
	copy = text_copy(text, len);
	if (!copy)
		return kilo_error_set(err, ENOMEM, "out of memory");
	text_free(&s->self_text, &s->self_len);
	s->self_text = copy;
	s->self_len = len;
	if (first)
		return publish_first(s, err);
	/* The agent made text from the record this handle holds (kilo_agent_node_publish). */
	item = kilo_etcd_mirror_find(&s->mirror[KILO_STORE_NODE], name);
	s->self_base = item ? item->mod_revision : 0;
	s->lost_races = 0;
	kilo_etcd_store_keep_self(s);
	return 0;
}

void kilo_etcd_store_retire_self(struct kilo_etcd_store *s)
{
	kilo_etcd_keepalive_stop(s->keepalive);
	s->keepalive = NULL;
	if (s->lease)
		kilo_etcd_lease_revoke(s->client, s->lease, NULL);
	s->lease = 0;
	text_free(&s->self_text, &s->self_len);
}

void kilo_etcd_store_self_free(struct kilo_etcd_store *s)
{
	text_free(&s->self_text, &s->self_len);
	text_free(&s->sent_text, &s->sent_len);
	text_free(&s->flying_text, &s->flying_len);
	free(s->self_name);
	free(s->self_key);
}
