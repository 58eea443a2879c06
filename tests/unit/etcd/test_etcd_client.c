/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The etcd client against a real member on loopback (tests/etcd/with-etcd.sh
 * starts it and sets KILO_TEST_ETCD): every request, leases, watches, a
 * member's restart, a stream cut in the middle of a message, a compaction,
 * fail-over. TLS and authentication:
 * test_etcd_secure.c.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "etcd_member.h"
#include "store/store.h"

/* ---- key-value requests ----------------------------------------------------- */

static void test_put_get_range_list_delete(void **state)
{
	kilo_etcd *e = open_member();
	struct kilo_etcd_range_request req = { .prefix = "/t/kv/", .limit = 2 };
	struct kilo_etcd_range range;
	struct kilo_error err = { 0 };
	int64_t rev1, rev2, deleted;

	(void)state;
	put(e, "/t/kv/a", "{\"name\":\"a\"}", 0, &rev1);
	put(e, "/t/kv/b", "", 0, NULL);
	put(e, "/t/kv/c", "3", 0, &rev2);
	put(e, "/t/kw", "outside", 0, NULL);
	assert_true(rev2 > rev1);
	assert_value(e, "/t/kv/a", "{\"name\":\"a\"}");
	assert_value(e, "/t/kv/b", "");
	assert_value(e, "/t/kv/none", NULL);

	/* A limited range says there is more, and the next page starts after its last key. */
	must(kilo_etcd_get_range(e, &req, &range, &err), &err);
	assert_int_equal(range.n_kvs, 2);
	assert_int_equal(range.count, 3);
	assert_true(range.more);
	assert_string_equal(range.kvs[1].key, "/t/kv/b");
	assert_int_equal(range.kvs[0].mod_revision, rev1);
	assert_true(range.revision >= rev2);
	kilo_etcd_range_clear(&range);

	/* A list of pages of one key sees every key under the prefix, and only those. */
	must(kilo_etcd_list(e, "/t/kv/", 1, &range, &err), &err);
	assert_int_equal(range.n_kvs, 3);
	assert_string_equal(range.kvs[2].key, "/t/kv/c");
	assert_string_equal(range.kvs[2].value, "3");
	assert_false(range.more);
	kilo_etcd_range_clear(&range);

	must(kilo_etcd_delete(e, "/t/kv/a", false, &deleted, &err), &err);
	assert_int_equal(deleted, 1);
	must(kilo_etcd_delete(e, "/t/kv/a", false, &deleted, &err), &err);
	assert_int_equal(deleted, 0);
	must(kilo_etcd_delete(e, "/t/kv/", true, &deleted, &err), &err);
	assert_int_equal(deleted, 2);
	assert_value(e, "/t/kw", "outside");
	kilo_etcd_free(e);
}

static void test_values_over_the_limit(void **state)
{
	kilo_etcd *e = open_member();
	struct kilo_etcd_range range;
	struct kilo_error err = { 0 };
	size_t len = KILO_STORE_OBJECT_MAX + 1;
	char *big = malloc(len), path[512];
	FILE *f;

	(void)state;
	memset(big, 'x', len);
	assert_int_equal(kilo_etcd_put(e, "/t/big/mine", big, len, 0, NULL, &err), -EMSGSIZE);
	assert_non_null(strstr(err.message, "\"/t/big/mine\" is larger than"));

	/* Another client wrote one: a list has that key without its value, and every other key. */
	/* In with-etcd.sh's folder, which goes away with the member, also when the test fails. */
	snprintf(path, sizeof(path), "%s/big", getenv("ETCD_STATE"));
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(big, 1, len, f), len);
	fclose(f);
	etcdctl("put /t/big/theirs < %s", path);
	put(e, "/t/big/small", "s", 0, NULL);
	must(kilo_etcd_list(e, "/t/big/", 0, &range, &err), &err);
	assert_int_equal(range.n_kvs, 2);
	assert_string_equal(range.kvs[0].value, "s");
	assert_string_equal(range.kvs[1].key, "/t/big/theirs");
	assert_null(range.kvs[1].value);
	assert_int_equal(range.kvs[1].value_len, len);
	kilo_etcd_range_clear(&range);
	free(big);
	kilo_etcd_free(e);
}

static void test_compare_and_swap_has_one_winner(void **state)
{
	kilo_etcd *a = open_member(), *b = open_member();
	struct kilo_etcd_range_request req = { .key = "/t/cas" };
	struct kilo_etcd_range range;
	struct kilo_error err = { 0 };
	bool won_a, won_b;
	int64_t rev;

	(void)state;
	/* 0: only if it does not exist. */
	must(kilo_etcd_put_if(a, "/t/cas", "a", 1, 0, 0, &won_a, &rev, &err), &err);
	must(kilo_etcd_put_if(b, "/t/cas", "b", 1, 0, 0, &won_b, NULL, &err), &err);
	assert_true(won_a);
	assert_false(won_b);

	/* Both read the same mod revision, both write: one wins, the other sees it lost. */
	must(kilo_etcd_get_range(a, &req, &range, &err), &err);
	assert_int_equal(range.kvs[0].mod_revision, rev);
	kilo_etcd_range_clear(&range);
	must(kilo_etcd_put_if(b, "/t/cas", "b", 1, 0, rev, &won_b, NULL, &err), &err);
	must(kilo_etcd_put_if(a, "/t/cas", "a2", 2, 0, rev, &won_a, NULL, &err), &err);
	assert_true(won_b);
	assert_false(won_a);
	assert_value(a, "/t/cas", "b");

	must(kilo_etcd_delete_if(a, "/t/cas", rev, &won_a, NULL, &err), &err);
	assert_false(won_a);
	must(kilo_etcd_get_range(a, &req, &range, &err), &err);
	must(kilo_etcd_delete_if(a, "/t/cas", range.kvs[0].mod_revision, &won_a, NULL, &err), &err);
	kilo_etcd_range_clear(&range);
	assert_true(won_a);
	assert_value(a, "/t/cas", NULL);
	kilo_etcd_free(a);
	kilo_etcd_free(b);
}

/* ---- leases ------------------------------------------------------------------ */

static void test_lease_expiry_deletes_the_key(void **state)
{
	kilo_etcd *e = open_member();
	struct kilo_error err = { 0 };
	int64_t lease, ttl, granted;

	(void)state;
	/* etcd raises a TTL below its minimum (about 2 s on one member): what it granted is what counts. */
	must(kilo_etcd_lease_grant(e, 1, &lease, &ttl, &err), &err);
	assert_in_range(ttl, 1, 5);
	put(e, "/t/lease/a", "a", lease, NULL);
	must(kilo_etcd_lease_keepalive(e, lease, &granted, &err), &err);
	assert_int_equal(granted, ttl);
	assert_value(e, "/t/lease/a", "a");
	for (int i = 0; i < 100; i++) {
		char *value = get(e, "/t/lease/a");

		free(value);
		if (!value)
			break;
		usleep(100000);
	}
	assert_value(e, "/t/lease/a", NULL);
	assert_int_equal(kilo_etcd_lease_keepalive(e, lease, &ttl, &err), -ENOENT);
	assert_int_equal(ttl, 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(kilo_etcd_lease_revoke(e, lease, &err), -ENOENT);

	/* A revoked lease takes its keys with it at once. */
	must(kilo_etcd_lease_grant(e, 60, &lease, NULL, &err), &err);
	put(e, "/t/lease/b", "b", lease, NULL);
	must(kilo_etcd_lease_revoke(e, lease, &err), &err);
	assert_value(e, "/t/lease/b", NULL);
	kilo_etcd_free(e);
}

struct done {
	bool done;
	int result;
	struct kilo_etcd_reply reply;
	char message[KILO_ERROR_MESSAGE_MAX];
};

static void on_done(void *ctx, int result, const struct kilo_etcd_reply *reply, const struct kilo_error *err)
{
	struct done *d = ctx;

	d->done = true;
	d->result = result;
	if (reply)
		d->reply = *reply;
	if (err)
		snprintf(d->message, sizeof(d->message), "%s", err->message);
}

struct lost {
	int calls;
	int result;
};

static void on_lost(void *ctx, int64_t lease, int result, const struct kilo_error *err)
{
	struct lost *l = ctx;

	(void)lease;
	(void)err;
	l->calls++;
	l->result = result;
}

static void test_async_requests_and_keepalive_loop(void **state)
{
	kilo_etcd *e = open_member();
	struct kilo_etcd_keepalive *keepalive;
	struct kilo_error err = { 0 };
	struct done grant = { 0 }, put_done = { 0 }, del = { 0 };
	struct lost lost = { 0 };

	(void)state;
	must(kilo_etcd_lease_grant_async(e, 2, on_done, &grant, &err), &err);
	assert_false(grant.done); /* callbacks run from kilo_etcd_process only */
	pump(e, &grant.done, 5000);
	assert_int_equal(grant.result, 0);
	assert_int_equal(grant.reply.ttl, 2);

	must(kilo_etcd_put_async(e, "/t/async/a", "a", 1, grant.reply.lease, on_done, &put_done, &err), &err);
	pump(e, &put_done.done, 5000);
	assert_int_equal(put_done.result, 0);
	assert_true(put_done.reply.revision > 0);

	/* Kept alive every 300 ms, the key outlives its 2 s TTL. */
	must(kilo_etcd_keepalive_start(e, grant.reply.lease, 300, on_lost, &lost, &keepalive, &err), &err);
	pump(e, NULL, 3500);
	assert_int_equal(lost.calls, 0);
	assert_value(e, "/t/async/a", "a");

	/* Revoked behind its back, the lease is reported lost, once. */
	must(kilo_etcd_lease_revoke(e, grant.reply.lease, &err), &err);
	pump(e, NULL, 1000);
	assert_int_equal(lost.calls, 1);
	assert_int_equal(lost.result, -ENOENT);
	kilo_etcd_keepalive_stop(keepalive);

	put(e, "/t/async/b", "b", 0, NULL);
	must(kilo_etcd_delete_async(e, "/t/async/b", on_done, &del, &err), &err);
	pump(e, &del.done, 5000);
	assert_int_equal(del.result, 0);
	assert_int_equal(del.reply.deleted, 1);
	assert_value(e, "/t/async/b", NULL);
	kilo_etcd_free(e);
}

static int open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(dir);
	while (readdir(dir))
		n++;
	closedir(dir);
	return n;
}

struct counter {
	int done;
	int failed;
};

static void count_done(void *ctx, int result, const struct kilo_etcd_reply *reply, const struct kilo_error *err)
{
	struct counter *c = ctx;

	(void)reply;
	(void)err;
	c->done++;
	c->failed += result < 0;
}

static void test_many_async_requests_share_few_connections(void **state)
{
	kilo_etcd *e = open_member();
	struct kilo_error err = { 0 };
	struct counter c = { 0 };
	int before = open_fds(), most = before;
	char key[64];

	(void)state;
	for (int i = 0; i < 500; i++) {
		snprintf(key, sizeof(key), "/t/many/%d", i);
		must(kilo_etcd_put_async(e, key, "v", 1, 0, count_done, &c, &err), &err);
	}
	for (int i = 0; i < 1000 && c.done < 500; i++) {
		pump(e, NULL, 10);
		if (open_fds() > most)
			most = open_fds();
	}
	assert_int_equal(c.done, 500);
	assert_int_equal(c.failed, 0);
	/* A few dozen connections at most, not one per request. */
	if (most - before > 40)
		fail_msg("%d descriptors opened for 500 requests", most - before);
	kilo_etcd_free(e);
}

struct listed {
	bool done;
	int result;
	struct kilo_etcd_range range;
};

static void on_listed(void *ctx, int result, struct kilo_etcd_range *range, const struct kilo_error *err)
{
	struct listed *l = ctx;

	(void)err;
	l->done = true;
	l->result = result;
	if (range) {
		l->range = *range;
		memset(range, 0, sizeof(*range)); /* taken over */
	}
}

/* The agent's asynchronous reads and compare-and-swap: a list in pages at one revision, one key, a lost race. */
static void test_async_list_get_and_compare_and_swap(void **state)
{
	kilo_etcd *e = open_member();
	struct kilo_error err = { 0 };
	struct listed list = { 0 }, one = { 0 }, none = { 0 };
	struct done lost = { 0 }, won = { 0 };
	int64_t revision = 0;
	char key[32];

	(void)state;
	for (int i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "/t/alist/%d", i);
		put(e, key, "v", 0, &revision);
	}
	put(e, "/t/alist0", "not under the prefix", 0, NULL);
	must(kilo_etcd_list_async(e, "/t/alist/", 2, on_listed, &list, &err), &err);
	assert_false(list.done); /* callbacks run from kilo_etcd_process only */
	pump(e, &list.done, 5000);
	assert_int_equal(list.result, 0);
	assert_int_equal(list.range.n_kvs, 5);
	for (size_t i = 0; i < list.range.n_kvs; i++) {
		snprintf(key, sizeof(key), "/t/alist/%zu", i);
		assert_string_equal(list.range.kvs[i].key, key);
	}
	/* Read at the revision of the first page: one snapshot, where a watch continues. */
	assert_true(list.range.revision >= revision);

	must(kilo_etcd_get_async(e, "/t/alist/4", on_listed, &one, &err), &err);
	must(kilo_etcd_get_async(e, "/t/alist/9", on_listed, &none, &err), &err);
	pump(e, &one.done, 5000);
	pump(e, &none.done, 5000);
	assert_int_equal(one.range.n_kvs, 1);
	assert_int_equal(one.range.kvs[0].mod_revision, revision);
	assert_int_equal(none.result, 0);
	assert_int_equal(none.range.n_kvs, 0);

	must(kilo_etcd_put_if_async(e, "/t/alist/4", "w", 1, 0, revision - 1, on_done, &lost, &err), &err);
	pump(e, &lost.done, 5000);
	assert_int_equal(lost.result, 0); /* a lost race is not an error */
	assert_false(lost.reply.succeeded);
	assert_value(e, "/t/alist/4", "v");
	must(kilo_etcd_put_if_async(e, "/t/alist/4", "w", 1, 0, revision, on_done, &won, &err), &err);
	pump(e, &won.done, 5000);
	assert_true(won.reply.succeeded);
	assert_value(e, "/t/alist/4", "w");
	kilo_etcd_range_clear(&list.range);
	kilo_etcd_range_clear(&one.range);
	kilo_etcd_range_clear(&none.range);
	kilo_etcd_free(e);
}

/* Freed with requests on their way: no callback runs any more, nothing leaks (LeakSanitizer says so under ASan). */
static void test_free_with_requests_in_flight(void **state)
{
	kilo_etcd *e = open_member();
	struct kilo_error err = { 0 };
	struct listed list = { 0 }, one = { 0 };
	struct done put_done = { 0 }, cas = { 0 };
	int before;

	(void)state;
	must(kilo_etcd_put_async(e, "/t/fly/a", "a", 1, 0, on_done, &put_done, &err), &err);
	must(kilo_etcd_put_if_async(e, "/t/fly/b", "b", 1, 0, 0, on_done, &cas, &err), &err);
	must(kilo_etcd_list_async(e, "/t/fly/", 1, on_listed, &list, &err), &err);
	must(kilo_etcd_get_async(e, "/t/fly/a", on_listed, &one, &err), &err);
	/* On their way: sent (a fast member may even have answered some), not all of them handed back. */
	pump(e, NULL, 1);
	before = put_done.done + cas.done + list.done + one.done;
	kilo_etcd_free(e);
	assert_int_equal(put_done.done + cas.done + list.done + one.done, before);
	kilo_etcd_range_clear(&list.range);
	kilo_etcd_range_clear(&one.range);
}

/* ---- watches ------------------------------------------------------------------ */

static void test_watch_sees_puts_and_deletes_from_a_revision(void **state)
{
	kilo_etcd *e = open_member();
	struct kilo_etcd_watch *w;
	struct kilo_error err = { 0 };
	struct seen s = { 0 };
	int64_t r1, r2, r3, deleted;
	char expected[512];

	(void)state;
	put(e, "/t/watch/a", "1", 0, &r1);
	put(e, "/t/watch/b", "2", 0, &r2);
	must(kilo_etcd_delete(e, "/t/watch/a", false, &deleted, &err), &err);
	put(e, "/t/other", "not watched", 0, NULL);
	/* From r2 on: b's put and a's deletion, not a's put before. */
	must(kilo_etcd_watch_start(e, "/t/watch/", r2, on_watch, &s, &w, &err), &err);
	pump_events(e, &s, 2);
	put(e, "/t/watch/c", "3", 0, &r3);
	pump_events(e, &s, 3);
	snprintf(expected, sizeof(expected), "PUT /t/watch/b=2@%lld DELETE /t/watch/a@%lld PUT /t/watch/c=3@%lld ",
		 (long long)r2, (long long)r2 + 1, (long long)r3);
	assert_string_equal(s.log, expected);
	assert_int_equal(s.revision, r3);
	assert_int_equal(s.broken, 0);
	kilo_etcd_watch_stop(w);
	kilo_etcd_free(e);
}

static void test_watch_resumes_after_the_member_restarts(void **state)
{
	kilo_etcd *e = open_member();
	struct kilo_etcd_watch *w;
	struct kilo_error err = { 0 };
	struct seen s = { 0 };
	int64_t r1, r2, r3;
	char expected[512];

	(void)state;
	must(kilo_etcd_watch_start(e, "/t/restart/", 0, on_watch, &s, &w, &err), &err);
	pump(e, NULL, 300);
	put(e, "/t/restart/a", "1", 0, &r1);
	pump_events(e, &s, 1);
	assert_int_equal(s.n_events, 1);

	member_sh("stop");
	pump(e, NULL, 300);
	assert_true(s.broken >= 1);
	member_sh("start");
	/* Written before the watch is back: it must still come, from the revision after the last seen. */
	put(e, "/t/restart/b", "2", 0, &r2);
	put(e, "/t/restart/c", "3", 0, &r3);
	pump_events(e, &s, 3);
	snprintf(expected, sizeof(expected), "PUT /t/restart/a=1@%lld PUT /t/restart/b=2@%lld PUT /t/restart/c=3@%lld ",
		 (long long)r1, (long long)r2, (long long)r3);
	assert_string_equal(s.log, expected);
	kilo_etcd_watch_stop(w);
	kilo_etcd_free(e);
}

static void test_watch_from_a_compacted_revision_reports_compacted(void **state)
{
	kilo_etcd *e = open_member();
	struct kilo_etcd_watch *w;
	struct kilo_error err = { 0 };
	struct seen s = { 0 };
	int64_t r1, r2;

	(void)state;
	put(e, "/t/compact/a", "1", 0, &r1);
	must(kilo_etcd_watch_start(e, "/t/compact/", r1, on_watch, &s, &w, &err), &err);
	pump_events(e, &s, 1);
	assert_int_equal(s.n_events, 1);
	/*
	 * The stream breaks; before the client's loop runs again (it opens the
	 * stream again only from kilo_etcd_process), the revision it resumes
	 * from is compacted away.
	 */
	member_sh("stop");
	pump(e, NULL, 200);
	member_sh("start");
	put(e, "/t/compact/b", "2", 0, &r2);
	assert_int_equal(r2, r1 + 1);
	put(e, "/t/compact/c", "3", 0, NULL);
	etcdctl("compact %lld", (long long)r2 + 1);
	for (int i = 0; i < 50 && !s.compacted; i++)
		pump(e, NULL, 100);
	assert_int_equal(s.compacted, 1);
	assert_int_equal(s.compact_revision, r2 + 1);
	assert_int_equal(s.n_events, 1);
	kilo_etcd_watch_stop(w);

	/* A new watch from before the compaction: compacted, always. */
	memset(&s, 0, sizeof(s));
	must(kilo_etcd_watch_start(e, "/t/compact/", r1, on_watch, &s, &w, &err), &err);
	for (int i = 0; i < 50 && !s.compacted; i++)
		pump(e, NULL, 100);
	assert_int_equal(s.compacted, 1);
	assert_int_equal(s.compact_revision, r2 + 1);
	assert_int_equal(s.n_events, 0);
	kilo_etcd_watch_stop(w);
	kilo_etcd_free(e);
}

struct stopper {
	struct kilo_etcd_watch *w;
	int calls;
};

static void stop_on_first(void *ctx, const struct kilo_etcd_watch_update *u)
{
	struct stopper *st = ctx;

	if (u->status != KILO_ETCD_WATCH_EVENTS || u->n_events == 0)
		return;
	st->calls++;
	kilo_etcd_watch_stop(st->w);
}

static void test_watch_stopped_from_its_callback(void **state)
{
	kilo_etcd *e = open_member();
	struct kilo_error err = { 0 };
	struct stopper st = { 0 };
	int64_t r1;

	(void)state;
	put(e, "/t/stop/a", "1", 0, &r1);
	put(e, "/t/stop/b", "2", 0, NULL);
	must(kilo_etcd_watch_start(e, "/t/stop/", r1, stop_on_first, &st, &st.w, &err), &err);
	pump(e, NULL, 1000);
	assert_int_equal(st.calls, 1);
	kilo_etcd_free(e);
}

/* ---- a stream cut in the middle of a message ----------------------------------- */

/*
 * A TCP relay between the client and the member, on a thread of its own. In
 * the first read from the member that holds cut_in it forwards the bytes up
 * to the middle of cut_in, then closes both sides: the client holds part of
 * a message, not all of it. Every later connection is relayed whole.
 */
struct relay {
	const char *cut_in;
	int listen_fd;
	int port;
	pthread_t thread;
	atomic_bool stop;
	atomic_int cuts;
	atomic_int connections;
};

static int connect_member(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char host[64];
	const char *colon = strrchr(member(), ':');
	int fd;

	snprintf(host, sizeof(host), "%.*s", (int)(colon - member()), member());
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static bool send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* Copies bytes both ways until a side closes, the cut, or the test's end. */
static void relay_connection(struct relay *r, int client)
{
	int upstream = connect_member();
	static char buf[65536];

	while (upstream >= 0 && !atomic_load(&r->stop)) {
		struct pollfd pfd[2] = { { .fd = client, .events = POLLIN }, { .fd = upstream, .events = POLLIN } };

		if (poll(pfd, 2, 100) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			int to = pfd[1 - i].fd;
			const char *cut;
			ssize_t n;

			if (!pfd[i].revents)
				continue;
			n = read(pfd[i].fd, buf, sizeof(buf));
			if (n <= 0)
				goto out;
			cut = pfd[i].fd == upstream && atomic_load(&r->cuts) == 0 ?
				      memmem(buf, (size_t)n, r->cut_in, strlen(r->cut_in)) :
				      NULL;
			if (cut) {
				send_all(to, buf, (size_t)(cut - buf) + strlen(r->cut_in) / 2);
				atomic_fetch_add(&r->cuts, 1);
				goto out;
			}
			if (!send_all(to, buf, (size_t)n))
				goto out;
		}
	}
out:
	if (upstream >= 0)
		close(upstream);
	close(client);
}

/* One connection at a time: the client under test holds only its watch's stream. */
static void *relay_run(void *arg)
{
	struct relay *r = arg;

	while (!atomic_load(&r->stop)) {
		struct pollfd pfd = { .fd = r->listen_fd, .events = POLLIN };
		int client;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		client = accept(r->listen_fd, NULL, NULL);
		if (client < 0)
			continue;
		atomic_fetch_add(&r->connections, 1);
		relay_connection(r, client);
	}
	return NULL;
}

static void relay_start(struct relay *r)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	r->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(r->listen_fd >= 0);
	assert_int_equal(bind(r->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(r->listen_fd, 4), 0);
	assert_int_equal(getsockname(r->listen_fd, (struct sockaddr *)&sa, &len), 0);
	r->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&r->thread, NULL, relay_run, r), 0);
}

static void relay_stop(struct relay *r)
{
	atomic_store(&r->stop, true);
	pthread_join(r->thread, NULL);
	close(r->listen_fd);
}

/* What on_watch logs, and what the watch said when it broke. */
struct cut_watch {
	struct seen seen;
	bool created;
	int64_t broken_revision;
	char broken_message[KILO_ERROR_MESSAGE_MAX];
};

static void on_cut_watch(void *ctx, const struct kilo_etcd_watch_update *u)
{
	struct cut_watch *cw = ctx;

	on_watch(&cw->seen, u);
	if (u->status == KILO_ETCD_WATCH_EVENTS && u->n_events == 0)
		cw->created = true;
	if (u->status == KILO_ETCD_WATCH_BROKEN) {
		cw->broken_revision = u->revision;
		snprintf(cw->broken_message, sizeof(cw->broken_message), "%s", u->err->message);
	}
}

static void test_watch_stream_cut_in_the_middle_of_a_message(void **state)
{
	kilo_etcd *writer = open_member(), *e;
	char *cut_key = kilo__etcd_b64("/t/cut/b", strlen("/t/cut/b")), uri[64], expected[512];
	struct relay r = { .cut_in = cut_key };
	struct kilo_etcd_watch *w;
	struct kilo_error err = { 0 };
	struct cut_watch cw = { 0 };
	int64_t ra, rb, rc, rd;

	(void)state;
	relay_start(&r);
	snprintf(uri, sizeof(uri), "etcd://127.0.0.1:%d", r.port);
	e = open_uri(uri);
	must(kilo_etcd_watch_start(e, "/t/cut/", 0, on_cut_watch, &cw, &w, &err), &err);
	pump(e, &cw.created, 5000);
	assert_true(cw.created);
	put(writer, "/t/cut/a", "1", 0, &ra);
	pump_events(e, &cw.seen, 1);

	/* b's event reaches the client in part only: b must come whole, later, once. */
	put(writer, "/t/cut/b", "2", 0, &rb);
	for (int i = 0; i < 50 && !cw.seen.broken; i++)
		pump(e, NULL, 100);
	assert_int_equal(atomic_load(&r.cuts), 1);
	assert_int_equal(cw.seen.broken, 1);
	/* The transfer broke; the half message was never read as one (no parse error). */
	if (!strstr(cw.broken_message, "the stream broke"))
		fail_msg("%s", cw.broken_message);
	/* From the revision after the last event delivered. */
	assert_int_equal(cw.broken_revision, ra);

	/* Written while the stream is down, and after it is back. */
	put(writer, "/t/cut/c", "3", 0, &rc);
	pump_events(e, &cw.seen, 3);
	put(writer, "/t/cut/d", "4", 0, &rd);
	pump_events(e, &cw.seen, 4);
	snprintf(expected, sizeof(expected),
		 "PUT /t/cut/a=1@%lld PUT /t/cut/b=2@%lld PUT /t/cut/c=3@%lld PUT /t/cut/d=4@%lld ", (long long)ra, (long long)rb, (long long)rc, (long long)rd);
	assert_string_equal(cw.seen.log, expected);
	assert_int_equal(cw.seen.revision, rd);
	assert_int_equal(cw.seen.broken, 1);
	assert_int_equal(atomic_load(&r.connections), 2);
	kilo_etcd_watch_stop(w);
	kilo_etcd_free(e);
	kilo_etcd_free(writer);
	relay_stop(&r);
	free(cut_key);
}

/* ---- endpoints ---------------------------------------------------------------- */

static void test_failover_from_a_dead_endpoint(void **state)
{
	char uri[256], dead[32];
	struct kilo_etcd_watch *w;
	struct seen s = { 0 };
	struct kilo_etcd_status *status;
	struct kilo_error err = { 0 };
	kilo_etcd *e;
	size_t n;

	(void)state;
	snprintf(dead, sizeof(dead), "127.0.0.1:%d", closed_port());
	snprintf(uri, sizeof(uri), "etcd://%s,%s/ignored", dead, member());
	e = open_uri(uri);
	put(e, "/t/failover", "x", 0, NULL);
	assert_non_null(strstr(kilo_etcd_endpoint(e), member()));
	assert_value(e, "/t/failover", "x");
	kilo_etcd_free(e);

	/* A watch opened through the same list reaches the live member too. */
	e = open_uri(uri);
	must(kilo_etcd_watch_start(e, "/t/failover", 0, on_watch, &s, &w, &err), &err);
	pump(e, NULL, 500);
	put(e, "/t/failover", "y", 0, NULL);
	pump_events(e, &s, 1);
	assert_non_null(strstr(s.log, "PUT /t/failover=y@"));
	kilo_etcd_watch_stop(w);

	must(kilo_etcd_status(e, &status, &n, &err), &err);
	assert_int_equal(n, 2);
	assert_true(status[0].result < 0);
	assert_non_null(strstr(status[0].error, dead));
	assert_int_equal(status[1].result, 0);
	assert_true(!strncmp(status[1].version, "3.", 2));
	assert_true(status[1].leader != 0);
	assert_int_equal(status[1].leader, status[1].member_id);
	assert_true(status[1].revision > 0);
	assert_true(status[1].db_size > 0);
	free(status);
	kilo_etcd_free(e);

	/* With no endpoint alive, the error names each one. */
	snprintf(uri, sizeof(uri), "etcd://%s,127.0.0.1:%d", dead, closed_port());
	e = open_uri(uri);
	assert_int_equal(kilo_etcd_put(e, "/t/failover", "y", 1, 0, NULL, &err), -EHOSTUNREACH);
	assert_non_null(strstr(err.message, "no endpoint answered"));
	assert_non_null(strstr(err.message, dead));
	kilo_etcd_free(e);
}

static void test_tls_to_a_plain_member_says_so(void **state)
{
	struct kilo_error err = { 0 };
	char uri[256];
	kilo_etcd *e;

	(void)state;
	snprintf(uri, sizeof(uri), "etcds://%s", member());
	e = open_uri(uri);
	assert_int_equal(kilo_etcd_put(e, "/t/tls", "y", 1, 0, NULL, &err), -EPROTO);
	/*
	 * A plain member answers a TLS hello with an HTTP error or, when the
	 * reset comes first, drops the connection: either way the message
	 * says TLS failed.
	 */
	if (!strstr(err.message, "the endpoint does not speak TLS (etcd:// is for plain HTTP)") &&
	    !strstr(err.message, "TLS: handshake failed"))
		fail_msg("%s", err.message);
	kilo_etcd_free(e);
}

int main(void)
{
	const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_put_get_range_list_delete),
		cmocka_unit_test(test_values_over_the_limit),
		cmocka_unit_test(test_compare_and_swap_has_one_winner),
		cmocka_unit_test(test_lease_expiry_deletes_the_key),
		cmocka_unit_test(test_async_requests_and_keepalive_loop),
		cmocka_unit_test(test_many_async_requests_share_few_connections),
		cmocka_unit_test(test_async_list_get_and_compare_and_swap),
		cmocka_unit_test(test_free_with_requests_in_flight),
		cmocka_unit_test(test_watch_sees_puts_and_deletes_from_a_revision),
		cmocka_unit_test(test_watch_stopped_from_its_callback),
		cmocka_unit_test(test_watch_resumes_after_the_member_restarts),
		cmocka_unit_test(test_watch_from_a_compacted_revision_reports_compacted),
		cmocka_unit_test(test_watch_stream_cut_in_the_middle_of_a_message),
		cmocka_unit_test(test_failover_from_a_dead_endpoint),
		cmocka_unit_test(test_tls_to_a_plain_member_says_so),
	};
	if (!getenv("KILO_TEST_ETCD")) {
		printf("skip: no etcd member (run through tests/etcd/with-etcd.sh)\n");
		return 77;
	}
	return cmocka_run_group_tests(plain, NULL, NULL);
}
