/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The etcd JSON gateway's replies, parsed strictly into the client's
 * structs: a missing or wrong-typed field, bad base64, an int64 out of
 * range or an error reply is an error that names the field, never a
 * crash. A value over KILO_STORE_OBJECT_MAX in a range or a watch event is
 * not one: that pair comes without its value (see struct kilo_etcd_kv). proto3's JSON leaves out fields
 * that hold their default (0, "", false, empty lists), so only fields that
 * a real reply always carries are required. Unknown fields are ignored:
 * a newer etcd adds some.
 */
#ifndef KILO_LIB_STORE_ETCD_REPLY_H
#define KILO_LIB_STORE_ETCD_REPLY_H

#include "client.h"

/*
 * Errors etcd reports map to: EACCES (wrong credentials, no or bad
 * permission), EKEYEXPIRED (the token is no longer valid: authenticate
 * again), ENOENT (lease not found), ERANGE (compacted), EAGAIN (the member
 * cannot serve now: no leader, timed out; another member may), ENOSPC,
 * EINVAL, EIO. A reply that is not what the gateway sends: EBADMSG.
 */

int kilo_etcd_reply_range(const char *text, size_t len, struct kilo_etcd_range *out, struct kilo_error *err);
int kilo_etcd_reply_put(const char *text, size_t len, int64_t *revision, struct kilo_error *err);
int kilo_etcd_reply_delete(const char *text, size_t len, int64_t *deleted, int64_t *revision,
			   struct kilo_error *err);
int kilo_etcd_reply_txn(const char *text, size_t len, bool *succeeded, int64_t *revision, struct kilo_error *err);
int kilo_etcd_reply_lease_grant(const char *text, size_t len, int64_t *id, int64_t *ttl, struct kilo_error *err);
/* A lease revoke: only whether it worked. */
int kilo_etcd_reply_empty(const char *text, size_t len, struct kilo_error *err);
/* One keep-alive ({"result":{...}}): *ttl 0 when the lease is gone. */
int kilo_etcd_reply_keepalive(const char *text, size_t len, int64_t *ttl, struct kilo_error *err);
/* Fills every field of out but endpoint, result and error. */
int kilo_etcd_reply_status(const char *text, size_t len, struct kilo_etcd_status *out, struct kilo_error *err);
/* The token of /v3/auth/authenticate (malloc'ed). */
int kilo_etcd_reply_auth(const char *text, size_t len, char **token, struct kilo_error *err);

/* One message of a watch stream. */
struct kilo_etcd_watch_reply {
	int64_t revision; /* 0 when the header has none (a cancellation) */
	bool created;
	bool canceled;
	int64_t compact_revision;
	char cancel_reason[256];
	struct kilo_etcd_event *events;
	size_t n_events;
};

int kilo_etcd_reply_watch(const char *text, size_t len, struct kilo_etcd_watch_reply *out, struct kilo_error *err);
void kilo_etcd_watch_reply_clear(struct kilo_etcd_watch_reply *reply);

/* Frees a pair's key and value; the struct is zeroed. */
void kilo_etcd_kv_clear(struct kilo_etcd_kv *kv);

/*
 * A stream's bytes cut into its messages: the gateway writes one JSON
 * object per line, and a read may hold part of one or several.
 */
/*
 * Makes room for need bytes in the malloc'ed *buf (capacity *cap, used
 * bytes kept), doubling from 4 KiB. A reply may hold a preshared key: the
 * old buffer is wiped before it is freed, where realloc would leave a copy.
 * -ENOMEM (the buffer is then unchanged).
 */
int kilo_etcd_buffer_grow(char **buf, size_t *cap, size_t used, size_t need);
/* Wipes the buffer (cap bytes) and frees it. */
void kilo_etcd_buffer_free(char *buf, size_t cap);

struct kilo_etcd_lines {
	char *buf;
	size_t start, len, cap; /* the unread bytes are buf[start, len) */
};

/* Appends n bytes; -EMSGSIZE when the unread bytes would exceed max (a message that never ends). */
int kilo_etcd_lines_feed(struct kilo_etcd_lines *lines, const char *data, size_t n, size_t max);
/* The next whole line (without its '\n'), valid until the next feed; false when there is none yet. */
bool kilo_etcd_lines_next(struct kilo_etcd_lines *lines, const char **line, size_t *len);
/* Forgets what is buffered (a new stream) and keeps the memory. */
void kilo_etcd_lines_reset(struct kilo_etcd_lines *lines);
void kilo_etcd_lines_free(struct kilo_etcd_lines *lines);

#endif
