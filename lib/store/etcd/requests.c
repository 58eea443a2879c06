/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The etcd client's requests: their JSON bodies, the blocking calls and
 * the asynchronous ones (put, compare-and-swap, delete, lease grant, list)
 * with a completion callback.
 */
#include "internal.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/error.h"
#include "../store.h"

/* Keys per request of kilo_etcd_list when the caller says 0. */
#define LIST_PAGE_DEFAULT 1000

/* ---- bodies ------------------------------------------------------------- */

char *kilo__etcd_b64(const char *data, size_t len)
{
	size_t size = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *out = malloc(size);

	if (out)
		sodium_bin2base64(out, size, (const unsigned char *)data, len, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

char *kilo__etcd_prefix_end_b64(const char *prefix)
{
	size_t len = strlen(prefix);
	char *end = strdup(prefix), *b64;

	if (!end)
		return NULL;
	/* The first key after every key that starts with prefix: its last byte that is not 0xff, plus one. */
	while (len > 0 && (unsigned char)end[len - 1] == 0xff)
		len--;
	if (len == 0) {
		free(end);
		return strdup("AA==");
	}
	end[len - 1] = (char)((unsigned char)end[len - 1] + 1);
	b64 = kilo__etcd_b64(end, len);
	free(end);
	return b64;
}

static char *int64_text(int64_t n, char *buf, size_t size)
{
	snprintf(buf, size, "%lld", (long long)n);
	return buf;
}

/* Dumps o (taking it over) compactly; NULL when out of memory. */
static char *dump(json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return text;
}

/* {"key": ..., "value": ..., "lease": ...}: a put request's object. */
static json_t *put_object(const char *key, const char *value, size_t len, int64_t lease)
{
	char *key_b64 = kilo__etcd_b64(key, strlen(key)), *value_b64 = kilo__etcd_b64(value, len), n[24];
	json_t *o = NULL;

	if (key_b64 && value_b64)
		o = json_pack("{s:s, s:s}", "key", key_b64, "value", value_b64);
	if (o && lease)
		json_object_set_new(o, "lease", json_string(int64_text(lease, n, sizeof(n))));
	if (value_b64)
		sodium_memzero(value_b64, strlen(value_b64));
	free(key_b64);
	free(value_b64);
	return o;
}

static char *etcd_body_put(const char *key, const char *value, size_t len, int64_t lease)
{
	return dump(put_object(key, value, len, lease));
}

static json_t *delete_object(const char *key, bool prefix)
{
	char *key_b64 = kilo__etcd_b64(key, strlen(key)), *end = prefix ? kilo__etcd_prefix_end_b64(key) : NULL;
	json_t *o = NULL;

	if (key_b64 && (!prefix || end))
		o = json_pack("{s:s}", "key", key_b64);
	if (o && end)
		json_object_set_new(o, "range_end", json_string(end));
	free(key_b64);
	free(end);
	return o;
}

static char *etcd_body_delete(const char *key, bool prefix)
{
	return dump(delete_object(key, prefix));
}

char *kilo__etcd_body_lease(const char *field, int64_t value)
{
	char n[24];

	return dump(json_pack("{s:s}", field, int64_text(value, n, sizeof(n))));
}

static char *body_range(const struct kilo_etcd_range_request *req)
{
	const char *key = req->key ? req->key : req->prefix;
	size_t len = strlen(key);
	char *start = malloc(len + 1), *key_b64 = NULL, *end = NULL, n[24];
	json_t *o = NULL;

	if (!start)
		return NULL;
	/* The next key after key: key followed by a zero byte. */
	memcpy(start, key, len);
	start[len] = '\0';
	key_b64 = kilo__etcd_b64(start, len + (req->after_key ? 1 : 0));
	end = req->prefix ? kilo__etcd_prefix_end_b64(req->prefix) : NULL;
	if (key_b64 && (!req->prefix || end))
		o = json_pack("{s:s}", "key", key_b64);
	if (o && end)
		json_object_set_new(o, "range_end", json_string(end));
	if (o && req->limit > 0)
		json_object_set_new(o, "limit", json_string(int64_text(req->limit, n, sizeof(n))));
	if (o && req->revision > 0)
		json_object_set_new(o, "revision", json_string(int64_text(req->revision, n, sizeof(n))));
	free(start);
	free(key_b64);
	free(end);
	return dump(o);
}

/* The compare of op: key absent (create revision 0) or at its mod revision; NULL when op has none. */
static json_t *compare_object(const struct kilo_etcd_txn_op *op, const char *key_b64)
{
	bool absent = op->mod_revision == 0;
	char n[24];

	if (op->mod_revision == KILO_ETCD_ANY_REVISION)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:s}", "target", absent ? "CREATE" : "MOD", "result", "EQUAL", "key",
			 key_b64, absent ? "create_revision" : "mod_revision",
			 int64_text(op->mod_revision, n, sizeof(n)));
}

/* One op's request: its put or its delete. */
static json_t *request_object(const struct kilo_etcd_txn_op *op)
{
	json_t *inner = op->value ? put_object(op->key, op->value, op->len, op->lease) : delete_object(op->key, false);

	return inner ? json_pack("{s:o}", op->value ? "request_put" : "request_delete_range", inner) : NULL;
}

/* A transaction that runs every op only if every compare holds. */
static char *body_txn(const struct kilo_etcd_txn_op *ops, size_t n)
{
	json_t *o = json_pack("{s:[], s:[]}", "compare", "success");

	for (size_t i = 0; o && i < n; i++) {
		char *key_b64 = kilo__etcd_b64(ops[i].key, strlen(ops[i].key));
		json_t *compare = key_b64 ? compare_object(&ops[i], key_b64) : NULL;
		bool ok = key_b64 && (compare || ops[i].mod_revision == KILO_ETCD_ANY_REVISION);

		free(key_b64);
		if (ok && compare)
			ok = json_array_append_new(json_object_get(o, "compare"), compare) == 0;
		else
			json_decref(compare);
		if (!ok || json_array_append_new(json_object_get(o, "success"), request_object(&ops[i])) < 0) {
			json_decref(o);
			o = NULL;
		}
	}
	return dump(o);
}

/* ---- replies into the request's results --------------------------------- */

struct request {
	struct kilo_etcd_range *range;
	struct kilo_etcd_status *status;
	struct kilo_etcd_reply reply;
	kilo_etcd_done_fn done;
	void *ctx;
};

static int parse_range(struct etcd_call *call, const char *text, size_t len, struct kilo_error *err)
{
	struct request *req = call->owner;

	return kilo_etcd_reply_range(text, len, req->range, err);
}

static int parse_put(struct etcd_call *call, const char *text, size_t len, struct kilo_error *err)
{
	struct request *req = call->owner;

	return kilo_etcd_reply_put(text, len, &req->reply.revision, err);
}

static int parse_delete(struct etcd_call *call, const char *text, size_t len, struct kilo_error *err)
{
	struct request *req = call->owner;

	return kilo_etcd_reply_delete(text, len, &req->reply.deleted, &req->reply.revision, err);
}

static int parse_txn(struct etcd_call *call, const char *text, size_t len, struct kilo_error *err)
{
	struct request *req = call->owner;

	return kilo_etcd_reply_txn(text, len, &req->reply.succeeded, &req->reply.revision, err);
}

static int parse_grant(struct etcd_call *call, const char *text, size_t len, struct kilo_error *err)
{
	struct request *req = call->owner;

	return kilo_etcd_reply_lease_grant(text, len, &req->reply.lease, &req->reply.ttl, err);
}

static int parse_empty(struct etcd_call *call, const char *text, size_t len, struct kilo_error *err)
{
	(void)call;
	return kilo_etcd_reply_empty(text, len, err);
}

static int parse_keepalive(struct etcd_call *call, const char *text, size_t len, struct kilo_error *err)
{
	struct request *req = call->owner;

	return kilo_etcd_reply_keepalive(text, len, &req->reply.ttl, err);
}

static int parse_status(struct etcd_call *call, const char *text, size_t len, struct kilo_error *err)
{
	struct request *req = call->owner;

	return kilo_etcd_reply_status(text, len, req->status, err);
}

/* An asynchronous request is over: tell its caller, then forget it. */
static void finish_async(struct etcd_call *call, int result, const struct kilo_error *err)
{
	struct request *req = call->owner;

	req->done(req->ctx, result, result < 0 ? NULL : &req->reply, err);
	free(req);
	kilo__etcd_call_free(call);
}

/* An asynchronous request dropped unfinished by kilo_etcd_free. */
static void release_async(struct etcd_call *call)
{
	free(call->owner);
}

static const struct etcd_call_hooks range_hooks = { .parse = parse_range };
static const struct etcd_call_hooks put_hooks = { .parse = parse_put };
static const struct etcd_call_hooks put_async_hooks = { .parse = parse_put, .finish = finish_async,
							 .release = release_async };
static const struct etcd_call_hooks delete_hooks = { .parse = parse_delete };
static const struct etcd_call_hooks delete_async_hooks = { .parse = parse_delete, .finish = finish_async,
							    .release = release_async };
static const struct etcd_call_hooks txn_hooks = { .parse = parse_txn };
static const struct etcd_call_hooks txn_async_hooks = { .parse = parse_txn, .finish = finish_async,
							 .release = release_async };
static const struct etcd_call_hooks grant_hooks = { .parse = parse_grant };
static const struct etcd_call_hooks grant_async_hooks = { .parse = parse_grant, .finish = finish_async,
							   .release = release_async };
static const struct etcd_call_hooks empty_hooks = { .parse = parse_empty };
static const struct etcd_call_hooks keepalive_hooks = { .parse = parse_keepalive };
static const struct etcd_call_hooks status_hooks = { .parse = parse_status };

static int no_memory(struct kilo_error *err)
{
	return kilo_error_set(err, ENOMEM, "etcd: out of memory");
}

/* Runs one request to its end; body is taken over. */
static int run(kilo_etcd *e, const char *path, char *body, const struct etcd_call_hooks *hooks, struct request *req,
	       struct kilo_error *err)
{
	struct etcd_call *call = kilo__etcd_call_new(e, path, body, hooks, req);
	int r;

	if (!call)
		return no_memory(err);
	r = kilo__etcd_call_run(call, err);
	kilo__etcd_call_free(call);
	return r;
}

/* Starts one asynchronous request; body is taken over. */
static int start(kilo_etcd *e, const char *path, char *body, const struct etcd_call_hooks *hooks,
		 kilo_etcd_done_fn done, void *ctx, struct kilo_error *err)
{
	struct request *req = calloc(1, sizeof(*req));
	struct etcd_call *call;
	int r;

	if (!req) {
		free(body);
		return no_memory(err);
	}
	req->done = done;
	req->ctx = ctx;
	call = kilo__etcd_call_new(e, path, body, hooks, req);
	if (!call) {
		free(req);
		return no_memory(err);
	}
	r = kilo__etcd_call_start(call, err);
	if (r < 0) {
		kilo__etcd_call_free(call);
		free(req);
	}
	return r;
}

static int check_value(const char *key, size_t len, struct kilo_error *err)
{
	if (len > KILO_STORE_OBJECT_MAX)
		return kilo_error_set(err, EMSGSIZE, "etcd: the value of \"%.200s\" is larger than %u bytes", key,
				      KILO_STORE_OBJECT_MAX);
	return 0;
}

/* ---- blocking ----------------------------------------------------------- */

int kilo_etcd_get_range(kilo_etcd *e, const struct kilo_etcd_range_request *request, struct kilo_etcd_range *out,
			struct kilo_error *err)
{
	struct request req = { .range = out };

	memset(out, 0, sizeof(*out));
	if (!request->key && !request->prefix)
		return kilo_error_set(err, EINVAL, "etcd: a range needs a key or a prefix");
	return run(e, "/v3/kv/range", body_range(request), &range_hooks, &req, err);
}

/* Moves the pairs of page to the end of list's. */
static int append_page(struct kilo_etcd_range *list, struct kilo_etcd_range *page)
{
	struct kilo_etcd_kv *kvs;

	if (page->n_kvs == 0)
		return 0;
	kvs = realloc(list->kvs, (list->n_kvs + page->n_kvs) * sizeof(*kvs));
	if (!kvs)
		return -ENOMEM;
	memcpy(kvs + list->n_kvs, page->kvs, page->n_kvs * sizeof(*kvs));
	list->kvs = kvs;
	list->n_kvs += page->n_kvs;
	free(page->kvs);
	page->kvs = NULL;
	page->n_kvs = 0;
	return 0;
}

/*
 * A list in pages: the request of the next page, where the last one ended
 * (after, which req.key points to), and the pairs so far.
 */
struct list {
	struct kilo_etcd_range_request req;
	char *prefix;
	char *after;
	struct kilo_etcd_range out, page;
	bool one_page; /* kilo_etcd_get_range_async: the page is the answer */
	kilo_etcd_list_fn done; /* asynchronous only */
	void *ctx;
};

static void list_init(struct list *l, int64_t page_size)
{
	l->req.prefix = l->prefix;
	l->req.limit = page_size > 0 ? page_size : LIST_PAGE_DEFAULT;
}

/* Takes l->page into l->out; 1 when another page is to be read (l->req says which), 0 when the list is whole. */
static int list_take_page(struct list *l, struct kilo_error *err)
{
	if (!l->out.revision) {
		/* Every later page is read at the first one's revision: one snapshot. */
		l->out.revision = l->req.revision = l->page.revision;
		l->out.count = l->page.count;
	}
	l->out.more = l->page.more && l->page.n_kvs > 0;
	if (l->page.n_kvs) {
		free(l->after);
		l->after = strdup(l->page.kvs[l->page.n_kvs - 1].key);
		if (!l->after)
			return no_memory(err);
	}
	if (append_page(&l->out, &l->page) < 0)
		return no_memory(err);
	kilo_etcd_range_clear(&l->page);
	l->req.key = l->after;
	l->req.after_key = true;
	return l->out.more ? 1 : 0;
}

static void list_clear(struct list *l)
{
	kilo_etcd_range_clear(&l->page);
	kilo_etcd_range_clear(&l->out);
	free(l->after);
	free(l->prefix);
}

int kilo_etcd_list(kilo_etcd *e, const char *prefix, int64_t page_size, struct kilo_etcd_range *out,
		   struct kilo_error *err)
{
	struct list l = { .prefix = strdup(prefix) };
	int r;

	memset(out, 0, sizeof(*out));
	if (!l.prefix)
		return no_memory(err);
	list_init(&l, page_size);
	do {
		r = kilo_etcd_get_range(e, &l.req, &l.page, err);
		if (r == 0)
			r = list_take_page(&l, err);
	} while (r > 0);
	if (r == 0) {
		*out = l.out;
		memset(&l.out, 0, sizeof(l.out));
	}
	list_clear(&l);
	return r;
}

int kilo_etcd_put(kilo_etcd *e, const char *key, const char *value, size_t len, int64_t lease, int64_t *revision,
		  struct kilo_error *err)
{
	struct request req = { 0 };
	int r;

	r = check_value(key, len, err);
	if (r == 0)
		r = run(e, "/v3/kv/put", etcd_body_put(key, value, len, lease), &put_hooks, &req, err);
	if (r == 0 && revision)
		*revision = req.reply.revision;
	return r;
}

static int run_txn(kilo_etcd *e, char *body, bool *succeeded, int64_t *revision, struct kilo_error *err)
{
	struct request req = { 0 };
	int r;

	r = run(e, "/v3/kv/txn", body, &txn_hooks, &req, err);
	*succeeded = r == 0 && req.reply.succeeded;
	if (r == 0 && revision)
		*revision = req.reply.revision;
	return r;
}

int kilo_etcd_txn(kilo_etcd *e, const struct kilo_etcd_txn_op *ops, size_t n, bool *succeeded, int64_t *revision,
		  struct kilo_error *err)
{
	int r;

	*succeeded = false;
	for (size_t i = 0; i < n; i++)
		if (ops[i].value && (r = check_value(ops[i].key, ops[i].len, err)) < 0)
			return r;
	return run_txn(e, body_txn(ops, n), succeeded, revision, err);
}

int kilo_etcd_put_if(kilo_etcd *e, const char *key, const char *value, size_t len, int64_t lease,
		     int64_t mod_revision, bool *succeeded, int64_t *revision, struct kilo_error *err)
{
	const struct kilo_etcd_txn_op op = { .key = key, .value = value, .len = len, .lease = lease,
					     .mod_revision = mod_revision };

	return kilo_etcd_txn(e, &op, 1, succeeded, revision, err);
}

int kilo_etcd_delete_if(kilo_etcd *e, const char *key, int64_t mod_revision, bool *succeeded, int64_t *revision,
			struct kilo_error *err)
{
	const struct kilo_etcd_txn_op op = { .key = key, .mod_revision = mod_revision };

	return kilo_etcd_txn(e, &op, 1, succeeded, revision, err);
}

int kilo_etcd_delete(kilo_etcd *e, const char *key, bool prefix, int64_t *deleted, struct kilo_error *err)
{
	struct request req = { 0 };
	int r;

	r = run(e, "/v3/kv/deleterange", etcd_body_delete(key, prefix), &delete_hooks, &req, err);
	if (r == 0 && deleted)
		*deleted = req.reply.deleted;
	return r;
}

int kilo_etcd_lease_grant(kilo_etcd *e, int64_t ttl_s, int64_t *id, int64_t *granted_ttl, struct kilo_error *err)
{
	struct request req = { 0 };
	int r;

	if (ttl_s <= 0)
		return kilo_error_set(err, EINVAL, "etcd: a lease TTL of %lld seconds", (long long)ttl_s);
	r = run(e, "/v3/lease/grant", kilo__etcd_body_lease("TTL", ttl_s), &grant_hooks, &req, err);
	if (r == 0) {
		*id = req.reply.lease;
		if (granted_ttl)
			*granted_ttl = req.reply.ttl;
	}
	return r;
}

int kilo_etcd_lease_revoke(kilo_etcd *e, int64_t id, struct kilo_error *err)
{
	return run(e, "/v3/lease/revoke", kilo__etcd_body_lease("ID", id), &empty_hooks, NULL, err);
}

int kilo_etcd_lease_keepalive(kilo_etcd *e, int64_t id, int64_t *ttl, struct kilo_error *err)
{
	struct request req = { 0 };
	int r;

	*ttl = 0;
	r = run(e, "/v3/lease/keepalive", kilo__etcd_body_lease("ID", id), &keepalive_hooks, &req, err);
	if (r < 0)
		return r;
	*ttl = req.reply.ttl;
	if (*ttl <= 0)
		return kilo_error_set(err, ENOENT, "etcd: lease %llx has expired", (unsigned long long)id);
	return 0;
}

int kilo_etcd_status(kilo_etcd *e, struct kilo_etcd_status **out, size_t *n_out, struct kilo_error *err)
{
	struct kilo_etcd_status *status = calloc(e->n_endpoints, sizeof(*status));
	struct request *reqs = calloc(e->n_endpoints, sizeof(*reqs));
	struct etcd_call **calls = calloc(e->n_endpoints, sizeof(*calls));
	size_t n = 0;
	int r = 0;

	*out = NULL;
	*n_out = 0;
	if (!status || !reqs || !calls) {
		r = no_memory(err);
		goto out;
	}
	for (n = 0; n < e->n_endpoints; n++) {
		reqs[n].status = &status[n];
		calls[n] = kilo__etcd_call_new(e, "/v3/maintenance/status", strdup("{}"), &status_hooks, &reqs[n]);
		if (!calls[n]) {
			r = no_memory(err);
			goto out;
		}
		/* Each endpoint for itself: no fail-over. */
		calls[n]->endpoint = (int)n;
	}
	r = kilo__etcd_calls_run(calls, n, err);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		snprintf(status[i].endpoint, sizeof(status[i].endpoint), "%s", e->endpoints[i]);
		status[i].result = calls[i]->result;
		if (calls[i]->result < 0)
			snprintf(status[i].error, sizeof(status[i].error), "%s", calls[i]->err.message);
	}
	*out = status;
	*n_out = n;
	status = NULL;
out:
	for (size_t i = 0; calls && i < n; i++)
		kilo__etcd_call_free(calls[i]);
	free(calls);
	free(reqs);
	free(status);
	return r;
}

/* ---- asynchronous --------------------------------------------------------- */

int kilo_etcd_put_async(kilo_etcd *e, const char *key, const char *value, size_t len, int64_t lease,
			kilo_etcd_done_fn done, void *ctx, struct kilo_error *err)
{
	int r = check_value(key, len, err);

	if (r < 0)
		return r;
	return start(e, "/v3/kv/put", etcd_body_put(key, value, len, lease), &put_async_hooks, done, ctx, err);
}

int kilo_etcd_delete_async(kilo_etcd *e, const char *key, kilo_etcd_done_fn done, void *ctx,
			   struct kilo_error *err)
{
	return start(e, "/v3/kv/deleterange", etcd_body_delete(key, false), &delete_async_hooks, done, ctx, err);
}

int kilo_etcd_lease_grant_async(kilo_etcd *e, int64_t ttl_s, kilo_etcd_done_fn done, void *ctx,
				struct kilo_error *err)
{
	if (ttl_s <= 0)
		return kilo_error_set(err, EINVAL, "etcd: a lease TTL of %lld seconds", (long long)ttl_s);
	return start(e, "/v3/lease/grant", kilo__etcd_body_lease("TTL", ttl_s), &grant_async_hooks, done, ctx, err);
}

int kilo_etcd_put_if_async(kilo_etcd *e, const char *key, const char *value, size_t len, int64_t lease,
			   int64_t mod_revision, kilo_etcd_done_fn done, void *ctx, struct kilo_error *err)
{
	const struct kilo_etcd_txn_op op = { .key = key, .value = value, .len = len, .lease = lease,
					     .mod_revision = mod_revision };
	int r = check_value(key, len, err);

	if (r < 0)
		return r;
	return start(e, "/v3/kv/txn", body_txn(&op, 1), &txn_async_hooks, done, ctx, err);
}

static int parse_list_page(struct etcd_call *call, const char *text, size_t len, struct kilo_error *err)
{
	struct list *l = call->owner;

	return kilo_etcd_reply_range(text, len, &l->page, err);
}

static void release_list(struct etcd_call *call)
{
	list_clear(call->owner);
	free(call->owner);
}

static int list_next_page(kilo_etcd *e, struct list *l, struct kilo_error *err);

/* A page is in: ask for the next one, or hand the whole list over. */
static void finish_list_page(struct etcd_call *call, int result, const struct kilo_error *err)
{
	struct list *l = call->owner;
	struct kilo_error local = { 0 };
	kilo_etcd *e = call->e;

	/* err may be the call's own: copied before the call goes. */
	if (result < 0 && err)
		local = *err;
	kilo__etcd_call_free(call);
	if (result == 0 && !l->one_page)
		result = list_take_page(l, &local);
	if (result > 0)
		result = list_next_page(e, l, &local);
	if (result > 0)
		return;
	l->done(l->ctx, result, result < 0 ? NULL : l->one_page ? &l->page : &l->out, result < 0 ? &local : NULL);
	list_clear(l);
	free(l);
}

static const struct etcd_call_hooks list_page_hooks = { .parse = parse_list_page, .finish = finish_list_page,
							 .release = release_list };

/* Starts the request of l's next page: 1 (the page is on its way), or -errno. */
static int list_next_page(kilo_etcd *e, struct list *l, struct kilo_error *err)
{
	struct etcd_call *call = kilo__etcd_call_new(e, "/v3/kv/range", body_range(&l->req), &list_page_hooks, l);
	int r;

	if (!call)
		return no_memory(err);
	r = kilo__etcd_call_start(call, err);
	if (r < 0) {
		kilo__etcd_call_free(call);
		return r;
	}
	return 1;
}

/* Starts l's first request; l (its request set) is taken over. */
static int list_start(kilo_etcd *e, struct list *l, kilo_etcd_list_fn done, void *ctx, struct kilo_error *err)
{
	int r;

	l->done = done;
	l->ctx = ctx;
	r = list_next_page(e, l, err);
	if (r < 0) {
		list_clear(l);
		free(l);
		return r;
	}
	return 0;
}

int kilo_etcd_list_async(kilo_etcd *e, const char *prefix, int64_t page_size, kilo_etcd_list_fn done, void *ctx,
			 struct kilo_error *err)
{
	struct list *l = calloc(1, sizeof(*l));

	if (!l || !(l->prefix = strdup(prefix))) {
		free(l);
		return no_memory(err);
	}
	list_init(l, page_size);
	return list_start(e, l, done, ctx, err);
}

int kilo_etcd_get_async(kilo_etcd *e, const char *key, kilo_etcd_list_fn done, void *ctx, struct kilo_error *err)
{
	struct list *l = calloc(1, sizeof(*l));

	/* The key is kept in after, which the list frees, as req.key of every list is. */
	if (!l || !(l->after = strdup(key))) {
		free(l);
		return no_memory(err);
	}
	l->req.key = l->after;
	l->one_page = true;
	return list_start(e, l, done, ctx, err);
}
