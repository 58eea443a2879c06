/* SPDX-License-Identifier: Apache-2.0 */
/* The etcd JSON gateway's replies into plain structs (see reply.h for the rules). */
#include "reply.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "../../core/error.h"
#include "../store.h"

/* Keys are names under /kilo/CLUSTER/: far below this. */
#define KEY_MAX 4096

/* gRPC status codes that etcd's errors carry. */
enum {
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_DEADLINE_EXCEEDED = 4,
	GRPC_NOT_FOUND = 5,
	GRPC_PERMISSION_DENIED = 7,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_OUT_OF_RANGE = 11,
	GRPC_UNAVAILABLE = 14,
	GRPC_UNAUTHENTICATED = 16,
};

static int grpc_errno(json_int_t code, const char *message)
{
	switch (code) {
	case GRPC_INVALID_ARGUMENT:
		/* etcd says "authentication failed" and "user name is empty" with this code. */
		return strstr(message, "authentication") || strstr(message, "user name") ? EACCES : EINVAL;
	case GRPC_NOT_FOUND:
		return ENOENT;
	case GRPC_PERMISSION_DENIED:
		return EACCES;
	case GRPC_OUT_OF_RANGE:
		return ERANGE;
	case GRPC_DEADLINE_EXCEEDED:
	case GRPC_UNAVAILABLE:
		return EAGAIN;
	case GRPC_RESOURCE_EXHAUSTED:
		return ENOSPC;
	case GRPC_UNAUTHENTICATED:
		return EKEYEXPIRED;
	default:
		return EIO;
	}
}

/*
 * An error reply: {"error":"...","message":"...","code":N} from a unary
 * call, {"error":{"grpc_code":N,"message":"..."}} inside a stream. Returns
 * 0 when root is not one.
 */
static int error_reply(json_t *root, struct kilo_error *err)
{
	json_t *error = json_object_get(root, "error");
	json_t *code, *message;
	json_int_t grpc;

	if (!error || (json_is_string(error) && json_string_length(error) == 0))
		return 0;
	if (json_is_object(error)) {
		code = json_object_get(error, "grpc_code");
		message = json_object_get(error, "message");
	} else {
		code = json_object_get(root, "code");
		message = json_is_string(error) ? error : json_object_get(root, "message");
	}
	if (!json_is_string(message))
		return kilo_error_set(err, EBADMSG, "an error reply without a message");
	grpc = json_is_integer(code) ? json_integer_value(code) : 0;
	/* An empty message still says something: which error it was. */
	if (json_string_length(message) == 0)
		return kilo_error_set(err, grpc_errno(grpc, ""), "an error reply with code %lld and an empty message",
				      (long long)grpc);
	return kilo_error_set(err, grpc_errno(grpc, json_string_value(message)), "%.300s", json_string_value(message));
}

/* Parses text, and refuses it if it is not an object or is an error reply. */
static int parse_root(const char *text, size_t len, json_t **out, struct kilo_error *err)
{
	json_error_t jerr;
	int r;

	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!*out)
		return kilo_error_set(err, EBADMSG, "a reply that is not JSON: %.200s", jerr.text);
	if (!json_is_object(*out)) {
		r = kilo_error_set(err, EBADMSG, "a reply that is not a JSON object");
		goto fail;
	}
	r = error_reply(*out, err);
	if (r < 0)
		goto fail;
	return 0;
fail:
	json_decref(*out);
	*out = NULL;
	return r;
}

static int missing(const char *path, const char *name, struct kilo_error *err)
{
	return kilo_error_set(err, EBADMSG, "%s%s: missing", path, name);
}

/*
 * An int64 field: a decimal string as the gateway writes 64-bit numbers,
 * or a JSON integer (its 32-bit fields). Absent: 0 unless required.
 */
static int get_int64(json_t *obj, const char *path, const char *name, bool required, int64_t *out,
		     struct kilo_error *err)
{
	json_t *v = json_object_get(obj, name);
	const char *s;
	char *end;
	long long n;

	*out = 0;
	if (!v)
		return required ? missing(path, name, err) : 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return kilo_error_set(err, EBADMSG, "%s%s: not a number", path, name);
	s = json_string_value(v);
	errno = 0;
	n = strtoll(s, &end, 10);
	if (end == s || *end || ((s[0] < '0' || s[0] > '9') && s[0] != '-'))
		return kilo_error_set(err, EBADMSG, "%s%s: \"%.40s\" is not a number", path, name, s);
	if (errno == ERANGE)
		return kilo_error_set(err, EBADMSG, "%s%s: \"%.40s\" is out of range", path, name, s);
	*out = n;
	return 0;
}

/* The same for uint64 fields (member IDs). */
static int get_uint64(json_t *obj, const char *path, const char *name, uint64_t *out, struct kilo_error *err)
{
	json_t *v = json_object_get(obj, name);
	const char *s;
	char *end;
	unsigned long long n;

	*out = 0;
	if (!v)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return kilo_error_set(err, EBADMSG, "%s%s: not a number", path, name);
	s = json_string_value(v);
	errno = 0;
	n = strtoull(s, &end, 10);
	if (end == s || *end || s[0] < '0' || s[0] > '9')
		return kilo_error_set(err, EBADMSG, "%s%s: \"%.40s\" is not a number", path, name, s);
	if (errno == ERANGE)
		return kilo_error_set(err, EBADMSG, "%s%s: \"%.40s\" is out of range", path, name, s);
	*out = n;
	return 0;
}

static int get_bool(json_t *obj, const char *path, const char *name, bool *out, struct kilo_error *err)
{
	json_t *v = json_object_get(obj, name);

	*out = false;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return kilo_error_set(err, EBADMSG, "%s%s: not true or false", path, name);
	*out = json_is_true(v);
	return 0;
}

/* A string field; absent: "" unless required. Points into obj. */
static int get_string(json_t *obj, const char *path, const char *name, bool required, const char **out,
		      struct kilo_error *err)
{
	json_t *v = json_object_get(obj, name);

	*out = "";
	if (!v)
		return required ? missing(path, name, err) : 0;
	if (!json_is_string(v))
		return kilo_error_set(err, EBADMSG, "%s%s: not a string", path, name);
	*out = json_string_value(v);
	return 0;
}

/* The decoded size of a base64 text, or -1 when it is not base64 (checked without decoding it). */
static ssize_t base64_size(const char *b64, size_t len)
{
	size_t pad = 0;

	if (len % 4)
		return -1;
	while (pad < 2 && pad < len && b64[len - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < len - pad; i++) {
		char c = b64[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
		      c == '/'))
			return -1;
	}
	return (ssize_t)(len / 4 * 3 - pad);
}

/*
 * A bytes field (base64) into a new NUL-terminated buffer; absent: empty
 * unless required. Over max bytes: -EMSGSIZE, or with oversize_ok no
 * buffer (NULL) and the size in *out_len, so that the caller can report
 * that one value and go on with the rest of the reply.
 */
static int get_bytes(json_t *obj, const char *path, const char *name, bool required, size_t max, bool oversize_ok,
		     char **out, size_t *out_len, struct kilo_error *err)
{
	const char *b64;
	size_t b64_len, len;
	ssize_t size;
	int r;

	*out = NULL;
	*out_len = 0;
	r = get_string(obj, path, name, required, &b64, err);
	if (r < 0)
		return r;
	b64_len = strlen(b64);
	size = base64_size(b64, b64_len);
	if (size < 0)
		return kilo_error_set(err, EBADMSG, "%s%s: \"%.40s\" is not base64", path, name, b64);
	if ((size_t)size > max) {
		if (!oversize_ok)
			return kilo_error_set(err, EMSGSIZE, "%s%s: larger than %zu bytes", path, name, max);
		*out_len = (size_t)size;
		return 0;
	}
	*out = malloc((size_t)size + 1);
	if (!*out)
		return -ENOMEM;
	if (sodium_base642bin((unsigned char *)*out, (size_t)size + 1, b64, b64_len, NULL, &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) < 0) {
		free(*out);
		*out = NULL;
		return kilo_error_set(err, EBADMSG, "%s%s: \"%.40s\" is not base64", path, name, b64);
	}
	(*out)[len] = '\0';
	*out_len = len;
	return 0;
}

static json_t *get_object(json_t *obj, const char *name)
{
	json_t *v = json_object_get(obj, name);

	return json_is_object(v) ? v : NULL;
}

/* The header's revision: required in every reply of the key-value store. */
static int header_revision(json_t *root, bool required, int64_t *revision, struct kilo_error *err)
{
	json_t *header = json_object_get(root, "header");

	*revision = 0;
	if (!header)
		return required ? missing("", "header", err) : 0;
	if (!json_is_object(header))
		return kilo_error_set(err, EBADMSG, "header: not an object");
	return get_int64(header, "header.", "revision", required, revision, err);
}

void kilo_etcd_kv_clear(struct kilo_etcd_kv *kv)
{
	free(kv->key);
	/* A peer's value holds its preshared key. */
	if (kv->value)
		sodium_memzero(kv->value, kv->value_len);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

/* A key-value pair; of a deletion event only the key and the mod revision are there. */
static int parse_kv(json_t *obj, const char *path, bool deleted, struct kilo_etcd_kv *kv, struct kilo_error *err)
{
	int r;

	memset(kv, 0, sizeof(*kv));
	if (!json_is_object(obj))
		return kilo_error_set(err, EBADMSG, "%.100s: not an object", path);
	if ((r = get_bytes(obj, path, "key", true, KEY_MAX, false, &kv->key, &kv->key_len, err)) < 0 ||
	    (r = get_bytes(obj, path, "value", false, KILO_STORE_OBJECT_MAX, true, &kv->value, &kv->value_len,
			   err)) < 0 ||
	    (r = get_int64(obj, path, "create_revision", !deleted, &kv->create_revision, err)) < 0 ||
	    (r = get_int64(obj, path, "mod_revision", true, &kv->mod_revision, err)) < 0 ||
	    (r = get_int64(obj, path, "version", !deleted, &kv->version, err)) < 0 ||
	    (r = get_int64(obj, path, "lease", false, &kv->lease, err)) < 0)
		goto fail;
	if (kv->key_len == 0) {
		r = kilo_error_set(err, EBADMSG, "%skey: empty", path);
		goto fail;
	}
	if (kv->mod_revision <= 0) {
		r = kilo_error_set(err, EBADMSG, "%smod_revision: %lld is not a revision", path,
				   (long long)kv->mod_revision);
		goto fail;
	}
	return 0;
fail:
	kilo_etcd_kv_clear(kv);
	return r;
}

void kilo_etcd_range_clear(struct kilo_etcd_range *range)
{
	if (!range)
		return;
	for (size_t i = 0; i < range->n_kvs; i++)
		kilo_etcd_kv_clear(&range->kvs[i]);
	free(range->kvs);
	memset(range, 0, sizeof(*range));
}

/*
 * The optional list obj[name] into a calloc'ed array of size-byte items,
 * each parsed by parse_item; *n counts those parsed, so that the caller's
 * clear frees them also after a failure.
 */
static int parse_list(json_t *obj, const char *path, const char *name, size_t size, void **items, size_t *n,
		      int (*parse_item)(json_t *item, size_t index, void *out, struct kilo_error *err),
		      struct kilo_error *err)
{
	json_t *list = json_object_get(obj, name);
	int r;

	if (!list)
		return 0;
	if (!json_is_array(list))
		return kilo_error_set(err, EBADMSG, "%s%s: not a list", path, name);
	if (json_array_size(list) == 0)
		return 0;
	*items = calloc(json_array_size(list), size);
	if (!*items)
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(list); i++) {
		r = parse_item(json_array_get(list, i), i, (char *)*items + i * size, err);
		if (r < 0)
			return r;
		(*n)++;
	}
	return 0;
}

static int parse_range_kv(json_t *obj, size_t index, void *kv, struct kilo_error *err)
{
	char path[32];

	snprintf(path, sizeof(path), "kvs[%zu].", index);
	return parse_kv(obj, path, false, kv, err);
}

int kilo_etcd_reply_range(const char *text, size_t len, struct kilo_etcd_range *out, struct kilo_error *err)
{
	json_t *root;
	int r;

	memset(out, 0, sizeof(*out));
	r = parse_root(text, len, &root, err);
	if (r < 0)
		return r;
	if ((r = header_revision(root, true, &out->revision, err)) < 0 ||
	    (r = get_int64(root, "", "count", false, &out->count, err)) < 0 ||
	    (r = get_bool(root, "", "more", &out->more, err)) < 0)
		goto out;
	r = parse_list(root, "", "kvs", sizeof(*out->kvs), (void **)&out->kvs, &out->n_kvs, parse_range_kv, err);
out:
	json_decref(root);
	if (r < 0)
		kilo_etcd_range_clear(out);
	return r;
}

/* A unary reply and its header's revision; *root for the fields that follow (the caller frees it). */
static int parse_unary(const char *text, size_t len, bool revision_required, int64_t *revision, json_t **root,
		       struct kilo_error *err)
{
	int r;

	r = parse_root(text, len, root, err);
	if (r < 0)
		return r;
	r = header_revision(*root, revision_required, revision, err);
	if (r < 0) {
		json_decref(*root);
		*root = NULL;
	}
	return r;
}

int kilo_etcd_reply_put(const char *text, size_t len, int64_t *revision, struct kilo_error *err)
{
	json_t *root;
	int r;

	r = parse_unary(text, len, true, revision, &root, err);
	json_decref(root);
	return r;
}

int kilo_etcd_reply_delete(const char *text, size_t len, int64_t *deleted, int64_t *revision,
			   struct kilo_error *err)
{
	json_t *root;
	int r;

	r = parse_unary(text, len, true, revision, &root, err);
	if (r < 0)
		return r;
	r = get_int64(root, "", "deleted", false, deleted, err);
	json_decref(root);
	return r;
}

int kilo_etcd_reply_txn(const char *text, size_t len, bool *succeeded, int64_t *revision, struct kilo_error *err)
{
	json_t *root;
	int r;

	r = parse_unary(text, len, true, revision, &root, err);
	if (r < 0)
		return r;
	r = get_bool(root, "", "succeeded", succeeded, err);
	json_decref(root);
	return r;
}

int kilo_etcd_reply_lease_grant(const char *text, size_t len, int64_t *id, int64_t *ttl, struct kilo_error *err)
{
	json_t *root;
	int r;

	r = parse_root(text, len, &root, err);
	if (r < 0)
		return r;
	if ((r = get_int64(root, "", "ID", true, id, err)) < 0 || (r = get_int64(root, "", "TTL", true, ttl, err)) < 0)
		goto out;
	if (*id == 0 || *ttl <= 0)
		r = kilo_error_set(err, EBADMSG, "a lease with ID %lld and TTL %lld", (long long)*id, (long long)*ttl);
out:
	json_decref(root);
	return r;
}

int kilo_etcd_reply_empty(const char *text, size_t len, struct kilo_error *err)
{
	json_t *root;
	int64_t revision;
	int r;

	r = parse_unary(text, len, false, &revision, &root, err);
	json_decref(root);
	return r;
}

/* A message of a stream: {"result":{...}} or an error. *result points into *root. */
static int stream_message(const char *text, size_t len, json_t **root, json_t **result, struct kilo_error *err)
{
	int r;

	r = parse_root(text, len, root, err);
	if (r < 0)
		return r;
	*result = json_object_get(*root, "result");
	if (!json_is_object(*result)) {
		json_decref(*root);
		*root = NULL;
		return kilo_error_set(err, EBADMSG, "result: %s", *result ? "not an object" : "missing");
	}
	return 0;
}

int kilo_etcd_reply_keepalive(const char *text, size_t len, int64_t *ttl, struct kilo_error *err)
{
	json_t *root, *result;
	int64_t id;
	int r;

	r = stream_message(text, len, &root, &result, err);
	if (r < 0)
		return r;
	if ((r = get_int64(result, "result.", "ID", true, &id, err)) == 0)
		r = get_int64(result, "result.", "TTL", false, ttl, err);
	json_decref(root);
	return r;
}

int kilo_etcd_reply_status(const char *text, size_t len, struct kilo_etcd_status *out, struct kilo_error *err)
{
	json_t *root, *header;
	const char *version;
	int64_t raft_term;
	int r;

	r = parse_root(text, len, &root, err);
	if (r < 0)
		return r;
	header = get_object(root, "header");
	if ((r = header_revision(root, true, &out->revision, err)) < 0 ||
	    (r = get_uint64(header, "header.", "member_id", &out->member_id, err)) < 0 ||
	    (r = get_string(root, "", "version", true, &version, err)) < 0 ||
	    (r = get_int64(root, "", "dbSize", false, &out->db_size, err)) < 0 ||
	    (r = get_int64(root, "", "dbSizeInUse", false, &out->db_size_in_use, err)) < 0 ||
	    (r = get_uint64(root, "", "leader", &out->leader, err)) < 0 ||
	    (r = get_uint64(root, "", "raftIndex", &out->raft_index, err)) < 0 ||
	    (r = get_int64(root, "", "raftTerm", false, &raft_term, err)) < 0)
		goto out;
	out->raft_term = (uint64_t)raft_term;
	snprintf(out->version, sizeof(out->version), "%s", version);
out:
	json_decref(root);
	return r;
}

int kilo_etcd_reply_auth(const char *text, size_t len, char **token, struct kilo_error *err)
{
	json_t *root;
	const char *value;
	int r;

	*token = NULL;
	r = parse_root(text, len, &root, err);
	if (r < 0)
		return r;
	r = get_string(root, "", "token", true, &value, err);
	if (r == 0 && (!*value || strpbrk(value, "\r\n")))
		r = kilo_error_set(err, EBADMSG, "token: \"%.40s\" is not a token", value);
	if (r == 0 && !(*token = strdup(value)))
		r = -ENOMEM;
	json_decref(root);
	return r;
}

void kilo_etcd_watch_reply_clear(struct kilo_etcd_watch_reply *reply)
{
	for (size_t i = 0; i < reply->n_events; i++)
		kilo_etcd_kv_clear(&reply->events[i].kv);
	free(reply->events);
	memset(reply, 0, sizeof(*reply));
}

static int parse_event(json_t *obj, size_t index, void *out, struct kilo_error *err)
{
	struct kilo_etcd_event *event = out;
	char path[48];
	const char *type;
	int r;

	snprintf(path, sizeof(path), "result.events[%zu].", index);
	if (!json_is_object(obj))
		return kilo_error_set(err, EBADMSG, "%.30s: not an object", path);
	r = get_string(obj, path, "type", false, &type, err);
	if (r < 0)
		return r;
	/* PUT is the enum's 0: left out. */
	if (!*type || !strcmp(type, "PUT"))
		event->type = KILO_ETCD_EVENT_PUT;
	else if (!strcmp(type, "DELETE"))
		event->type = KILO_ETCD_EVENT_DELETE;
	else
		return kilo_error_set(err, EBADMSG, "%stype: \"%.40s\" is not PUT or DELETE", path, type);
	if (!json_object_get(obj, "kv"))
		return missing(path, "kv", err);
	strcat(path, "kv.");
	return parse_kv(json_object_get(obj, "kv"), path, event->type == KILO_ETCD_EVENT_DELETE, &event->kv, err);
}

int kilo_etcd_reply_watch(const char *text, size_t len, struct kilo_etcd_watch_reply *out, struct kilo_error *err)
{
	json_t *root, *result;
	const char *reason;
	int r;

	memset(out, 0, sizeof(*out));
	r = stream_message(text, len, &root, &result, err);
	if (r < 0)
		return r;
	if ((r = header_revision(result, false, &out->revision, err)) < 0 ||
	    (r = get_bool(result, "result.", "created", &out->created, err)) < 0 ||
	    (r = get_bool(result, "result.", "canceled", &out->canceled, err)) < 0 ||
	    (r = get_int64(result, "result.", "compact_revision", false, &out->compact_revision, err)) < 0 ||
	    (r = get_string(result, "result.", "cancel_reason", false, &reason, err)) < 0)
		goto out;
	snprintf(out->cancel_reason, sizeof(out->cancel_reason), "%s", reason);
	r = parse_list(result, "result.", "events", sizeof(*out->events), (void **)&out->events, &out->n_events,
		       parse_event, err);
out:
	json_decref(root);
	if (r < 0)
		kilo_etcd_watch_reply_clear(out);
	return r;
}

int kilo_etcd_buffer_grow(char **buf, size_t *cap, size_t used, size_t need)
{
	size_t size = *cap ? *cap : 4096;
	char *grown;

	if (need <= *cap)
		return 0;
	while (size < need)
		size *= 2;
	grown = malloc(size);
	if (!grown)
		return -ENOMEM;
	if (*buf)
		memcpy(grown, *buf, used);
	kilo_etcd_buffer_free(*buf, *cap);
	*buf = grown;
	*cap = size;
	return 0;
}

void kilo_etcd_buffer_free(char *buf, size_t cap)
{
	if (buf)
		sodium_memzero(buf, cap);
	free(buf);
}

int kilo_etcd_lines_feed(struct kilo_etcd_lines *lines, const char *data, size_t n, size_t max)
{
	if (lines->start > 0 && lines->start == lines->len)
		lines->start = lines->len = 0;
	if (lines->len - lines->start + n > max)
		return -EMSGSIZE;
	if (lines->len + n > lines->cap) {
		/* Move the unread bytes down first: the buffer stays near one message long. */
		if (lines->start > 0) {
			memmove(lines->buf, lines->buf + lines->start, lines->len - lines->start);
			lines->len -= lines->start;
			lines->start = 0;
		}
		if (kilo_etcd_buffer_grow(&lines->buf, &lines->cap, lines->len, lines->len + n) < 0)
			return -ENOMEM;
	}
	memcpy(lines->buf + lines->len, data, n);
	lines->len += n;
	return 0;
}

bool kilo_etcd_lines_next(struct kilo_etcd_lines *lines, const char **line, size_t *len)
{
	const char *at, *nl;

	for (;;) {
		if (lines->start >= lines->len)
			return false;
		at = lines->buf + lines->start;
		nl = memchr(at, '\n', lines->len - lines->start);
		if (!nl)
			return false;
		lines->start += (size_t)(nl - at) + 1;
		/* Blank lines (a "\r\n" or keep-alive newlines) carry nothing. */
		if (nl == at || (nl == at + 1 && at[0] == '\r'))
			continue;
		*line = at;
		*len = (size_t)(nl - at);
		return true;
	}
}

void kilo_etcd_lines_reset(struct kilo_etcd_lines *lines)
{
	lines->start = lines->len = 0;
}

void kilo_etcd_lines_free(struct kilo_etcd_lines *lines)
{
	kilo_etcd_buffer_free(lines->buf, lines->cap);
	memset(lines, 0, sizeof(*lines));
}
