/* SPDX-License-Identifier: Apache-2.0 */
/* The gateway's replies, parsed strictly: what a bad reply is refused with, and the stream splitter. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/etcd/reply.h"

#define HEADER "\"header\":{\"cluster_id\":\"1\",\"member_id\":\"2\",\"revision\":\"9\",\"raft_term\":\"2\"}"

static void assert_range_refused(const char *text, int code, const char *message)
{
	struct kilo_etcd_range range;
	struct kilo_error err = { 0 };

	assert_int_equal(kilo_etcd_reply_range(text, strlen(text), &range, &err), -code);
	if (!strstr(err.message, message))
		fail_msg("%s: \"%s\" does not say \"%s\"", text, err.message, message);
	assert_null(range.kvs);
}

static void test_range_as_etcd_sends_it(void **state)
{
	const char *text = "{" HEADER ",\"kvs\":[{\"key\":\"Zm9v\",\"create_revision\":\"2\",\"mod_revision\":\"3\","
			   "\"version\":\"1\",\"lease\":\"7\"}],\"count\":\"4\",\"more\":true}";
	struct kilo_etcd_range range;

	(void)state;
	assert_int_equal(kilo_etcd_reply_range(text, strlen(text), &range, NULL), 0);
	assert_int_equal(range.revision, 9);
	assert_int_equal(range.count, 4);
	assert_true(range.more);
	assert_int_equal(range.n_kvs, 1);
	assert_string_equal(range.kvs[0].key, "foo");
	/* proto3 leaves out an empty value. */
	assert_int_equal(range.kvs[0].value_len, 0);
	assert_int_equal(range.kvs[0].mod_revision, 3);
	assert_int_equal(range.kvs[0].lease, 7);
	kilo_etcd_range_clear(&range);
}

static void test_bad_ranges_are_refused_by_field(void **state)
{
	(void)state;
	assert_range_refused("{\"kvs\":[]}", EBADMSG, "header: missing");
	assert_range_refused("{" HEADER ",\"kvs\":{}}", EBADMSG, "kvs: not a list");
	assert_range_refused("{" HEADER ",\"kvs\":[{\"key\":\"!!\",\"mod_revision\":\"1\"}]}", EBADMSG,
			     "kvs[0].key: \"!!\" is not base64");
	assert_range_refused("{" HEADER ",\"kvs\":[{\"key\":\"YQ==\",\"create_revision\":\"1\",\"version\":\"1\","
			     "\"mod_revision\":\"99999999999999999999\"}]}",
			     EBADMSG, "kvs[0].mod_revision: \"99999999999999999999\" is out of range");
	assert_range_refused("{" HEADER ",\"kvs\":[{\"key\":\"YQ==\",\"create_revision\":\"1\",\"version\":\"1\"}]}",
			     EBADMSG, "kvs[0].mod_revision: missing");
	assert_range_refused("{" HEADER ",\"more\":\"yes\"}", EBADMSG, "more: not true or false");
	assert_range_refused("{\"header\":{\"revision\":\"1x\"}}", EBADMSG, "header.revision: \"1x\" is not a number");
	assert_range_refused("[1]", EBADMSG, "not a JSON object");
	assert_range_refused("{\"header\":", EBADMSG, "not JSON");
	assert_range_refused("{\"error\":\"etcdserver: mvcc: required revision has been compacted\",\"code\":11}",
			     ERANGE, "required revision has been compacted");
	assert_range_refused("{\"error\":\"etcdserver: invalid auth token\",\"code\":16}", EKEYEXPIRED,
			     "invalid auth token");
	assert_range_refused("{\"error\":\"etcdserver: authentication failed, invalid user ID or password\","
			     "\"code\":3}",
			     EACCES, "authentication failed");
}

static void test_keepalive_of_a_lost_lease_has_no_ttl(void **state)
{
	const char *kept = "{\"result\":{" HEADER ",\"ID\":\"5\",\"TTL\":\"10\"}}\n";
	const char *lost = "{\"result\":{" HEADER ",\"ID\":\"5\"}}\n";
	int64_t ttl;

	(void)state;
	assert_int_equal(kilo_etcd_reply_keepalive(kept, strlen(kept), &ttl, NULL), 0);
	assert_int_equal(ttl, 10);
	assert_int_equal(kilo_etcd_reply_keepalive(lost, strlen(lost), &ttl, NULL), 0);
	assert_int_equal(ttl, 0);
}

static void test_watch_messages(void **state)
{
	const char *events = "{\"result\":{" HEADER ",\"events\":[{\"kv\":{\"key\":\"YQ==\",\"create_revision\":\"5\","
			     "\"mod_revision\":\"5\",\"version\":\"1\",\"value\":\"MQ==\"}},"
			     "{\"type\":\"DELETE\",\"kv\":{\"key\":\"YQ==\",\"mod_revision\":\"6\"}}]}}";
	const char *compacted = "{\"result\":{\"header\":{\"raft_term\":\"2\"},\"canceled\":true,"
				"\"compact_revision\":\"3\"}}";
	const char *bad_type = "{\"result\":{" HEADER ",\"events\":[{\"type\":\"MOVE\",\"kv\":{}}]}}";
	const char *stream_error = "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":\"no leader\"}}";
	struct kilo_etcd_watch_reply reply;
	struct kilo_error err = { 0 };

	(void)state;
	assert_int_equal(kilo_etcd_reply_watch(events, strlen(events), &reply, NULL), 0);
	assert_int_equal(reply.n_events, 2);
	assert_int_equal(reply.events[0].type, KILO_ETCD_EVENT_PUT);
	assert_string_equal(reply.events[0].kv.value, "1");
	assert_int_equal(reply.events[1].type, KILO_ETCD_EVENT_DELETE);
	assert_int_equal(reply.events[1].kv.mod_revision, 6);
	kilo_etcd_watch_reply_clear(&reply);

	assert_int_equal(kilo_etcd_reply_watch(compacted, strlen(compacted), &reply, NULL), 0);
	assert_true(reply.canceled);
	assert_int_equal(reply.compact_revision, 3);
	assert_int_equal(reply.revision, 0);
	kilo_etcd_watch_reply_clear(&reply);

	assert_int_equal(kilo_etcd_reply_watch(bad_type, strlen(bad_type), &reply, &err), -EBADMSG);
	assert_string_equal(err.message, "result.events[0].type: \"MOVE\" is not PUT or DELETE");
	memset(&err, 0, sizeof(err));
	assert_int_equal(kilo_etcd_reply_watch(stream_error, strlen(stream_error), &reply, &err), -EAGAIN);
	assert_string_equal(err.message, "no leader");
}

static void test_stream_pieces_make_whole_lines(void **state)
{
	const char *stream = "{\"a\":1}\n{\"b\":2}\r\n\n{\"c\":";
	struct kilo_etcd_lines lines = { 0 };
	const char *line;
	size_t len;
	char seen[64] = "";

	(void)state;
	/* One byte at a time: every line comes out whole, once. */
	for (size_t i = 0; stream[i]; i++) {
		assert_int_equal(kilo_etcd_lines_feed(&lines, stream + i, 1, 1024), 0);
		while (kilo_etcd_lines_next(&lines, &line, &len))
			snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "[%.*s]", (int)len, line);
	}
	/* The "\r" stays in its line: JSON ignores it. */
	assert_string_equal(seen, "[{\"a\":1}][{\"b\":2}\r]");
	assert_int_equal(kilo_etcd_lines_feed(&lines, "3}\n", 3, 1024), 0);
	assert_true(kilo_etcd_lines_next(&lines, &line, &len));
	assert_int_equal(len, 7);
	assert_memory_equal(line, "{\"c\":3}", 7);
	/* A message that never ends is refused, not buffered for ever. */
	assert_int_equal(kilo_etcd_lines_feed(&lines, "0123456789", 10, 8), -EMSGSIZE);
	kilo_etcd_lines_free(&lines);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_as_etcd_sends_it),
		cmocka_unit_test(test_bad_ranges_are_refused_by_field),
		cmocka_unit_test(test_keepalive_of_a_lost_lease_has_no_ttl),
		cmocka_unit_test(test_watch_messages),
		cmocka_unit_test(test_stream_pieces_make_whole_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
