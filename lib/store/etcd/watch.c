/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Watches: a streaming POST to /v3/watch per prefix, its messages cut out
 * of the bytes as they come and delivered from kilo_etcd_process. A stream
 * that breaks is opened again (on another endpoint if needed) from the
 * revision after the last event seen, so nothing is lost; a compacted
 * revision ends the watch.
 */
#include "internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/error.h"

/* Reconnection delays: from the first to the longest, doubling. */
#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 2000

struct kilo_etcd_watch {
	kilo_etcd *e;
	char *prefix;
	int64_t next_revision; /* where the stream starts (again) */
	kilo_etcd_watch_fn cb;
	void *ctx;
	struct etcd_call *call; /* the stream, NULL between two */
	struct kilo_etcd_lines lines;
	struct etcd_timer retry;
	unsigned retry_ms;
	bool over;   /* compacted: no stream any more */
	bool *alive; /* while in its callback: set to false when stopped */
	struct kilo_etcd_watch *prev, *next;
};

static int stream_data(struct etcd_call *call, const char *data, size_t len)
{
	struct kilo_etcd_watch *w = call->owner;

	return kilo_etcd_lines_feed(&w->lines, data, len, KILO_ETCD_REPLY_MAX);
}

static void stream_finish(struct etcd_call *call, int result, const struct kilo_error *err);

static const struct etcd_call_hooks stream_hooks = { .data = stream_data, .finish = stream_finish };

static char *body_watch(const struct kilo_etcd_watch *w)
{
	char *key = kilo__etcd_b64(w->prefix, strlen(w->prefix)), *end = kilo__etcd_prefix_end_b64(w->prefix), rev[24];
	json_t *o = NULL;
	char *text = NULL;

	snprintf(rev, sizeof(rev), "%lld", (long long)w->next_revision);
	if (key && end)
		o = json_pack("{s:{s:s, s:s, s:s, s:b}}", "create_request", "key", key, "range_end", end,
			      "start_revision", rev, "progress_notify", 1);
	if (o)
		text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free(key);
	free(end);
	return text;
}

/* Runs the callback; false when it stopped the watch (w is freed then). */
static bool report(struct kilo_etcd_watch *w, const struct kilo_etcd_watch_update *update)
{
	bool alive = true;

	w->alive = &alive;
	w->cb(w->ctx, update);
	if (alive)
		w->alive = NULL;
	return alive;
}

static bool report_broken(struct kilo_etcd_watch *w, int result, const struct kilo_error *err)
{
	struct kilo_etcd_watch_update update = {
		.status = KILO_ETCD_WATCH_BROKEN,
		.revision = w->next_revision - 1,
		.result = result,
		.err = err,
	};

	return report(w, &update);
}

/*
 * Ends the stream in use; a reconnection follows after a delay unless the
 * watch is over. After a failure the next stream starts on another member.
 */
static void stream_end(struct kilo_etcd_watch *w, bool failed)
{
	if (w->call) {
		kilo_etcd *e = w->e;

		if (failed && e->n_endpoints > 1 && e->current == w->call->at)
			e->current = (e->current + 1) % e->n_endpoints;
		kilo__etcd_call_free(w->call);
		w->call = NULL;
	}
	kilo_etcd_lines_reset(&w->lines);
	if (!w->over)
		kilo__etcd_timer_arm(w->e, &w->retry, w->retry_ms);
	w->retry_ms = w->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : w->retry_ms * 2;
}

static void stream_open(struct etcd_timer *timer)
{
	struct kilo_etcd_watch *w = etcd_container_of(timer, struct kilo_etcd_watch, retry);
	struct kilo_error err = { 0 };

	w->call = kilo__etcd_call_new(w->e, "/v3/watch", body_watch(w), &stream_hooks, w);
	if (!w->call) {
		kilo_error_set(&err, ENOMEM, "etcd: out of memory");
	} else {
		w->call->stream = true;
		if (kilo__etcd_call_start(w->call, &err) == 0)
			return;
	}
	stream_end(w, true);
	report_broken(w, -err.code, &err);
}

/* One message of the stream; false when the callback stopped the watch or the stream ended. */
static bool handle_message(struct kilo_etcd_watch *w, const struct kilo_etcd_watch_reply *reply)
{
	struct kilo_etcd_watch_update update = { .status = KILO_ETCD_WATCH_EVENTS, .revision = reply->revision };
	struct kilo_error err = { 0 };

	if (reply->canceled && reply->compact_revision > 0) {
		update.status = KILO_ETCD_WATCH_COMPACTED;
		update.compact_revision = reply->compact_revision;
		w->over = true;
		stream_end(w, false);
		report(w, &update);
		return false;
	}
	if (reply->canceled) {
		/* A stale token, a member without leader: open the stream again, with a new token. */
		if (strstr(reply->cancel_reason, "auth token") || strstr(reply->cancel_reason, "Unauthenticated"))
			kilo__etcd_forget_token(w->e);
		kilo_error_set(&err, EAGAIN, "etcd %s: the watch was canceled: %s",
			       kilo__etcd_endpoint_name(w->e, w->call->at), reply->cancel_reason);
		stream_end(w, true);
		report_broken(w, -EAGAIN, &err);
		return false;
	}
	if (reply->created) {
		/* From "now" (0): a stream opened again must not start at a later now. */
		if (w->next_revision == 0)
			w->next_revision = reply->revision + 1;
		w->retry_ms = RETRY_FIRST_MS;
		/* Nothing new, but the stream is up again: the owner may say so. */
		update.revision = w->next_revision - 1;
		return report(w, &update);
	}
	if (reply->n_events > 0) {
		/*
		 * A stream catching up sends the store's revision in every header
		 * while older events are still to come: only the last event says
		 * how far it got.
		 */
		update.revision = reply->events[reply->n_events - 1].kv.mod_revision;
		update.events = reply->events;
		update.n_events = reply->n_events;
	}
	if (update.revision + 1 > w->next_revision)
		w->next_revision = update.revision + 1;
	return report(w, &update);
}

/* Reads the whole messages buffered; false when the watch was stopped or its stream ended. */
static bool read_stream(struct kilo_etcd_watch *w)
{
	struct kilo_etcd_watch_reply reply;
	struct kilo_error err = { 0 };
	const char *line;
	size_t len;

	while (w->call && kilo_etcd_lines_next(&w->lines, &line, &len)) {
		bool go_on;

		if (kilo_etcd_reply_watch(line, len, &reply, &err) < 0) {
			/* An error or a message that makes no sense: open the stream again from the last event seen. */
			if (err.code == EKEYEXPIRED)
				kilo__etcd_forget_token(w->e);
			kilo_error_prefix(&err, "etcd %s: watch", kilo__etcd_endpoint_name(w->e, w->call->at));
			stream_end(w, true);
			report_broken(w, -err.code, &err);
			return false;
		}
		go_on = handle_message(w, &reply);
		kilo_etcd_watch_reply_clear(&reply);
		if (!go_on)
			return false;
	}
	return true;
}

static void stream_finish(struct etcd_call *call, int result, const struct kilo_error *err)
{
	struct kilo_etcd_watch *w = call->owner;
	/* err lives in the call, which stream_end frees. */
	struct kilo_error kept = err ? *err : (struct kilo_error){ 0 };

	if (!read_stream(w) || !w->call)
		return;
	stream_end(w, true);
	report_broken(w, result, err ? &kept : NULL);
}

void kilo__etcd_watches_process(kilo_etcd *e)
{
	struct kilo_etcd_watch *w;

	/* A callback may stop any watch: start again from the first after one that ended. */
again:
	for (w = e->watches; w; w = w->next)
		if (!read_stream(w))
			goto again;
}

int kilo_etcd_watch_start(kilo_etcd *e, const char *prefix, int64_t start_revision, kilo_etcd_watch_fn cb,
			  void *ctx, struct kilo_etcd_watch **out, struct kilo_error *err)
{
	struct kilo_etcd_watch *w;

	*out = NULL;
	if (!cb || start_revision < 0)
		return kilo_error_set(err, EINVAL, "etcd: a watch needs a callback and a revision");
	w = calloc(1, sizeof(*w));
	if (!w || !(w->prefix = strdup(prefix))) {
		free(w);
		return kilo_error_set(err, ENOMEM, "etcd: out of memory");
	}
	w->e = e;
	w->next_revision = start_revision;
	w->cb = cb;
	w->ctx = ctx;
	w->retry.fire = stream_open;
	w->retry_ms = RETRY_FIRST_MS;
	etcd_list_prepend(e->watches, w);
	/* The stream opens from kilo_etcd_process, like every reconnection. */
	kilo__etcd_timer_arm(e, &w->retry, 0);
	*out = w;
	return 0;
}

void kilo_etcd_watch_stop(struct kilo_etcd_watch *w)
{
	if (!w)
		return;
	if (w->alive)
		*w->alive = false;
	kilo__etcd_timer_disarm(w->e, &w->retry);
	kilo__etcd_call_free(w->call);
	kilo_etcd_lines_free(&w->lines);
	etcd_list_remove(w->e->watches, w);
	free(w->prefix);
	free(w);
}

void kilo__etcd_watches_free(kilo_etcd *e)
{
	while (e->watches)
		kilo_etcd_watch_stop(e->watches);
}
