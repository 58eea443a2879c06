/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every kind of etcd gateway reply, and a watch stream cut at arbitrary
 * places: never a crash, a refusal always says why, and what is accepted
 * keeps its promises (keys never empty, values within the limit, text
 * NUL-terminated).
 */
#include <errno.h>

#include "store/etcd/reply.h"
#include "store/store.h"

#include "fuzz.h"

static void check_kv(const struct kilo_etcd_kv *kv)
{
	FUZZ_ASSERT(kv->key && kv->key_len > 0 && kv->key[kv->key_len] == '\0', "a pair without its key");
	FUZZ_ASSERT(kv->value_len <= KILO_STORE_OBJECT_MAX || !kv->value, "a value of %zu bytes", kv->value_len);
	FUZZ_ASSERT(!kv->value || kv->value[kv->value_len] == '\0', "a value without its NUL");
	FUZZ_ASSERT(kv->mod_revision > 0, "a pair at revision %lld", (long long)kv->mod_revision);
}

static void check_refusal(int r, const struct kilo_error *err)
{
	FUZZ_ASSERT(r == 0 || (err->code == -r && err->message[0]) || r == -ENOMEM, "refused (%d) without a message",
		    r);
}

static void check_watch(const char *text, size_t len)
{
	struct kilo_etcd_watch_reply reply;
	struct kilo_error err = { 0 };
	int r = kilo_etcd_reply_watch(text, len, &reply, &err);

	check_refusal(r, &err);
	for (size_t i = 0; r == 0 && i < reply.n_events; i++)
		check_kv(&reply.events[i].kv);
	if (r == 0)
		kilo_etcd_watch_reply_clear(&reply);
}

/* The stream fed in pieces whose sizes the input's first bytes choose. */
static void check_stream(const uint8_t *cuts, size_t n_cuts, const char *text, size_t len)
{
	struct kilo_etcd_lines lines = { 0 };
	size_t at = 0, i = 0;
	const char *line;
	size_t line_len;

	while (at < len) {
		size_t piece = n_cuts ? (size_t)cuts[i++ % n_cuts] + 1 : len;

		if (piece > len - at)
			piece = len - at;
		if (kilo_etcd_lines_feed(&lines, text + at, piece, 1 << 16) < 0)
			break;
		at += piece;
		while (kilo_etcd_lines_next(&lines, &line, &line_len)) {
			FUZZ_ASSERT(line_len > 0 && !memchr(line, '\n', line_len), "a line holding a line break");
			check_watch(line, line_len);
		}
	}
	kilo_etcd_lines_free(&lines);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kilo_error err = { 0 };
	struct kilo_etcd_range range;
	struct kilo_etcd_status status = { 0 };
	int64_t a, b;
	bool ok;
	char *token, *text;
	size_t len;
	int r;

	if (size < 1)
		return 0;
	text = fuzz_text(data + 1, size - 1);
	len = size - 1;
	switch (data[0] % 11) {
	case 0:
		r = kilo_etcd_reply_range(text, len, &range, &err);
		for (size_t i = 0; r == 0 && i < range.n_kvs; i++)
			check_kv(&range.kvs[i]);
		if (r == 0)
			kilo_etcd_range_clear(&range);
		break;
	case 1:
		r = kilo_etcd_reply_put(text, len, &a, &err);
		break;
	case 2:
		r = kilo_etcd_reply_delete(text, len, &a, &b, &err);
		break;
	case 3:
		r = kilo_etcd_reply_txn(text, len, &ok, &a, &err);
		break;
	case 4:
		r = kilo_etcd_reply_lease_grant(text, len, &a, &b, &err);
		FUZZ_ASSERT(r < 0 || (a != 0 && b > 0), "a lease %lld of TTL %lld", (long long)a, (long long)b);
		break;
	case 5:
		r = kilo_etcd_reply_empty(text, len, &err);
		break;
	case 6:
		r = kilo_etcd_reply_keepalive(text, len, &a, &err);
		break;
	case 7:
		r = kilo_etcd_reply_status(text, len, &status, &err);
		FUZZ_ASSERT(memchr(status.version, '\0', sizeof(status.version)), "a version without its NUL");
		break;
	case 8:
		r = kilo_etcd_reply_auth(text, len, &token, &err);
		FUZZ_ASSERT(r < 0 || (token[0] && !strpbrk(token, "\r\n")), "a token that breaks a header");
		if (r == 0)
			free(token);
		break;
	case 9:
		check_watch(text, len);
		r = 0;
		break;
	default:
		/* The first bytes cut the rest into pieces. */
		check_stream(data + 1, len < 8 ? len : 8, text, len);
		r = 0;
		break;
	}
	check_refusal(r, &err);
	free(text);
	return 0;
}
