/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An etcd v3 client over the JSON gateway that etcd 3.4 serves (/v3/kv/...,
 * /v3/lease/..., /v3/watch, /v3/maintenance/status, /v3/auth/authenticate),
 * with libcurl and jansson. No store logic: keys and values are bytes.
 *
 * One handle holds one libcurl multi handle. Blocking calls (kgctl, the
 * first list of a store) run it until their own request is done; the
 * asynchronous part (the agent's loop, which must never block on etcd) is
 * driven through kilo_etcd_fd/kilo_etcd_timeout_ms/kilo_etcd_process, and
 * its callbacks run only inside kilo_etcd_process, never inside a blocking
 * call. A handle may be used from one thread at a time.
 *
 * Every request goes to the endpoint that answered last; a connection
 * failure, a timeout or an unavailable member fails over to the next one.
 *
 * Errors (returned as -errno, described in the optional struct kilo_error,
 * whose message names the endpoint):
 *   -EHOSTUNREACH  no endpoint could be reached (each one refused or failed)
 *   -ETIMEDOUT     no endpoint answered within the timeout
 *   -EPROTO        TLS failed (e.g. the CA does not match the cluster's)
 *   -EACCES        authentication failed (wrong user or password)
 *   -EBADMSG       a reply that is not what the gateway sends
 *   -EMSGSIZE      a value to write larger than KILO_STORE_OBJECT_MAX
 *   -ENOENT        the lease does not exist
 *   -ERANGE        the revision asked for has been compacted
 *   -EIO           any other error etcd reports (its message is in err)
 */
#ifndef KILO_LIB_STORE_ETCD_CLIENT_H
#define KILO_LIB_STORE_ETCD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kilo/core.h>

struct kilo_store_opts;

/* ---- configuration (uri.c) -------------------------------------------- */

#define KILO_ETCD_DEFAULT_CLUSTER "default"
#define KILO_ETCD_DEFAULT_TIMEOUT_MS 5000

struct kilo_etcd_config {
	char **endpoints;  /* "http://HOST:PORT" or "https://HOST:PORT", in the URI's order */
	size_t n_endpoints;
	char *cluster;     /* the URI's /CLUSTER, or "default" */
	bool tls;          /* etcds:// */
	char *cacert;      /* file names; NULL when not given */
	char *cert;
	char *key;
	char *user;        /* NULL: no authentication */
	char *password;    /* read from password-file (trailing newline dropped); wiped by clear */
	unsigned timeout_ms; /* each request, on each endpoint; 0 means KILO_ETCD_DEFAULT_TIMEOUT_MS */
};

/*
 * Parses a store URI: etcd://HOST:PORT[,HOST:PORT...][/CLUSTER][?PARAMS] or
 * etcds://... (TLS), PARAMS among cacert=FILE, cert=FILE, key=FILE,
 * user=NAME, password-file=FILE, separated by '&'. HOST is a name, an IPv4
 * address or a [bracketed] IPv6 address. opts (may be NULL) overrides the
 * parameters (kg's and kgctl's --etcd-* flags). The password file is read
 * here. Errors name the URI and the part, e.g.
 *   store "etcd://h:99999": port "99999" is not a port
 * Free with kilo_etcd_config_clear (also after an error).
 */
int kilo_etcd_config_parse(const char *uri, const struct kilo_store_opts *opts, struct kilo_etcd_config *out,
			   struct kilo_error *err);
/* Frees what parse allocated and wipes the password; the struct is zeroed. */
void kilo_etcd_config_clear(struct kilo_etcd_config *config);

/* ---- the handle ------------------------------------------------------- */

typedef struct kilo_etcd kilo_etcd;

/*
 * A client for config's endpoints (copied: the caller may clear config at
 * once; the client keeps the password, wiped by kilo_etcd_free, to
 * authenticate again when its token expires). Connects to nothing yet.
 */
int kilo_etcd_new(const struct kilo_etcd_config *config, kilo_etcd **out, struct kilo_error *err);
/* Stops every watch, keep-alive and request (no callback runs) and frees. NULL is a no-op. */
void kilo_etcd_free(kilo_etcd *e);

/* The endpoint that answered last ("http://HOST:PORT"): where requests go first. */
const char *kilo_etcd_endpoint(const kilo_etcd *e);

/* ---- blocking requests ------------------------------------------------ */

/*
 * One key-value pair. key and value are also NUL-terminated (etcd allows
 * any bytes). A value larger than KILO_STORE_OBJECT_MAX (another client
 * wrote it) is not kept: value is NULL and value_len its size, so that the
 * store reports that key and reads the others.
 */
struct kilo_etcd_kv {
	char *key;
	size_t key_len;
	char *value; /* NULL: too large (or a deletion's) */
	size_t value_len;
	int64_t create_revision;
	int64_t mod_revision;
	int64_t version;
	int64_t lease; /* 0: none */
};

struct kilo_etcd_range {
	struct kilo_etcd_kv *kvs; /* in key order */
	size_t n_kvs;
	int64_t revision; /* the store's revision the range was read at */
	int64_t count;    /* keys in the whole range (more than n_kvs when limited) */
	bool more;        /* the limit cut the range: ask again after the last key */
};

/* Frees the pairs of a range; the struct is zeroed. */
void kilo_etcd_range_clear(struct kilo_etcd_range *range);

struct kilo_etcd_range_request {
	/* The key, or with prefix where the range starts (NULL: at prefix). */
	const char *key;
	/* Non-NULL: every key that starts with prefix, from key on. */
	const char *prefix;
	/* Start just after key (for the next page: key = the last key of the page before). */
	bool after_key;
	int64_t limit;    /* 0: every key */
	int64_t revision; /* 0: the newest; else read at that revision (-ERANGE if compacted) */
};

/*
 * Reads one key or a range (/v3/kv/range). A key that is not there gives
 * an empty range, not an error. Free with kilo_etcd_range_clear.
 */
int kilo_etcd_get_range(kilo_etcd *e, const struct kilo_etcd_range_request *request, struct kilo_etcd_range *out,
			struct kilo_error *err);

/*
 * Every key under prefix, read page by page (page_size keys a request, 0
 * for a default) at the revision of the first page, so the whole list is
 * one consistent snapshot: out->revision is where a watch continues
 * (from out->revision + 1).
 */
int kilo_etcd_list(kilo_etcd *e, const char *prefix, int64_t page_size, struct kilo_etcd_range *out,
		   struct kilo_error *err);

/* Writes key = value (len bytes), attached to lease (0: none). *revision (may be NULL): the new revision. */
int kilo_etcd_put(kilo_etcd *e, const char *key, const char *value, size_t len, int64_t lease, int64_t *revision,
		  struct kilo_error *err);

/*
 * Compare-and-swap (/v3/kv/txn): writes key = value only if key's mod
 * revision is still mod_revision (0: only if key does not exist).
 * *succeeded says whether it did; a lost race is not an error. *revision
 * (may be NULL): the store's revision after the transaction.
 */
int kilo_etcd_put_if(kilo_etcd *e, const char *key, const char *value, size_t len, int64_t lease,
		     int64_t mod_revision, bool *succeeded, int64_t *revision, struct kilo_error *err);
/* The same for a removal: deletes key only if its mod revision is still mod_revision. */
int kilo_etcd_delete_if(kilo_etcd *e, const char *key, int64_t mod_revision, bool *succeeded, int64_t *revision,
			struct kilo_error *err);

/* A transaction's op with no compare. */
#define KILO_ETCD_ANY_REVISION (-1)

/*
 * One operation of a transaction: put key = value (len bytes, attached to
 * lease, 0: none), or delete key when value is NULL; only if key's mod
 * revision is still mod_revision (0: key absent, compared as create
 * revision 0; KILO_ETCD_ANY_REVISION: no compare).
 */
struct kilo_etcd_txn_op {
	const char *key;
	const char *value;
	size_t len;
	int64_t lease;
	int64_t mod_revision;
};

/*
 * Runs every op of ops at once if every compare holds, else none:
 * *succeeded says which (a lost race is not an error). *revision (may be
 * NULL): the store's revision after the transaction.
 */
int kilo_etcd_txn(kilo_etcd *e, const struct kilo_etcd_txn_op *ops, size_t n, bool *succeeded, int64_t *revision,
		  struct kilo_error *err);

/* Deletes key (prefix: every key starting with key). *deleted (may be NULL): how many; 0 is not an error. */
int kilo_etcd_delete(kilo_etcd *e, const char *key, bool prefix, int64_t *deleted, struct kilo_error *err);

/* A new lease of ttl_s seconds; *id its ID, *granted_ttl (may be NULL) the TTL etcd granted. */
int kilo_etcd_lease_grant(kilo_etcd *e, int64_t ttl_s, int64_t *id, int64_t *granted_ttl, struct kilo_error *err);
/* Revokes a lease: every key attached to it is deleted. -ENOENT if it is gone already. */
int kilo_etcd_lease_revoke(kilo_etcd *e, int64_t id, struct kilo_error *err);
/* One keep-alive: *ttl the lease's TTL afterwards; -ENOENT (and *ttl 0) when the lease has expired. */
int kilo_etcd_lease_keepalive(kilo_etcd *e, int64_t id, int64_t *ttl, struct kilo_error *err);

/* What one endpoint says of itself (/v3/maintenance/status). */
struct kilo_etcd_status {
	char endpoint[128];
	int result;                             /* 0: it answered; else -errno and why in error */
	char error[KILO_ERROR_MESSAGE_MAX];
	char version[32];                       /* etcd's, e.g. "3.4.23" */
	uint64_t member_id;
	uint64_t leader;                        /* the leader's member ID (0: none known) */
	int64_t revision;
	int64_t db_size;                        /* bytes */
	int64_t db_size_in_use;
	uint64_t raft_term;
	uint64_t raft_index;
};

/*
 * Asks every endpoint (each once, no fail-over) for its status, into a
 * malloc'ed array of config's n_endpoints (free with free()). An endpoint
 * that does not answer is in the array with its error; only a failure to
 * ask at all is an error.
 */
int kilo_etcd_status(kilo_etcd *e, struct kilo_etcd_status **out, size_t *n_out, struct kilo_error *err);

/* ---- the asynchronous part -------------------------------------------- */

/*
 * An epoll file descriptor, readable when the client has work to do (a
 * socket of curl's is ready, or a timer of curl's or of a keep-alive or a
 * watch's reconnection is due). Poll it, then call kilo_etcd_process.
 */
int kilo_etcd_fd(const kilo_etcd *e);
/* Milliseconds until the next timer is due (0: now), -1 when none: for a poll() without the fd's timers. */
int kilo_etcd_timeout_ms(const kilo_etcd *e);
/*
 * Does the work that is ready without waiting: drives curl, reads the
 * watch streams, sends keep-alives that are due, and runs the callbacks of
 * what completed. Returns 0, or -errno for a failure of the client itself
 * (not of etcd: those go to the callbacks).
 */
int kilo_etcd_process(kilo_etcd *e, struct kilo_error *err);

/* What an asynchronous request gives back. */
struct kilo_etcd_reply {
	int64_t revision; /* the store's revision after the request */
	bool succeeded;   /* for a compare-and-swap */
	int64_t deleted;  /* for a delete */
	int64_t lease;    /* for a lease grant: its ID */
	int64_t ttl;      /* for a lease grant: its TTL */
};

/*
 * Called once when an asynchronous request is over: result 0 and reply,
 * or -errno and err (reply NULL) when every endpoint failed. Both point to
 * memory valid only during the call.
 */
typedef void (*kilo_etcd_done_fn)(void *ctx, int result, const struct kilo_etcd_reply *reply,
				  const struct kilo_error *err);

/*
 * Asynchronous put (with a lease, 0: none), delete and lease grant: they
 * return at once (an error only for a request that cannot be made, such
 * as a value too large) and call done from kilo_etcd_process. At most 32
 * asynchronous requests (keep-alives included) are in flight at once, the
 * others wait in line, so a client that keeps thousands of leases alive
 * holds a few connections, not thousands.
 */
int kilo_etcd_put_async(kilo_etcd *e, const char *key, const char *value, size_t len, int64_t lease,
			kilo_etcd_done_fn done, void *ctx, struct kilo_error *err);
int kilo_etcd_delete_async(kilo_etcd *e, const char *key, kilo_etcd_done_fn done, void *ctx,
			   struct kilo_error *err);
int kilo_etcd_lease_grant_async(kilo_etcd *e, int64_t ttl_s, kilo_etcd_done_fn done, void *ctx,
				struct kilo_error *err);

/*
 * Asynchronous compare-and-swap, as kilo_etcd_put_if: reply->succeeded
 * says whether key's mod revision was still mod_revision and the put
 * happened (a lost race is not an error).
 */
int kilo_etcd_put_if_async(kilo_etcd *e, const char *key, const char *value, size_t len, int64_t lease,
			   int64_t mod_revision, kilo_etcd_done_fn done, void *ctx, struct kilo_error *err);

/*
 * Called once when an asynchronous list is over: result 0 and the whole
 * list (the callback may take over its pairs and clear it), or -errno and
 * err (list NULL).
 */
typedef void (*kilo_etcd_list_fn)(void *ctx, int result, struct kilo_etcd_range *list, const struct kilo_error *err);

/*
 * kilo_etcd_list without blocking: the pages are asked for one after the
 * other from kilo_etcd_process, all at the first page's revision, and
 * done gets the whole list.
 */
int kilo_etcd_list_async(kilo_etcd *e, const char *prefix, int64_t page_size, kilo_etcd_list_fn done, void *ctx,
			 struct kilo_error *err);
/* One key without blocking: done gets a range of it alone (empty when the key is not there). */
int kilo_etcd_get_async(kilo_etcd *e, const char *key, kilo_etcd_list_fn done, void *ctx, struct kilo_error *err);

struct kilo_etcd_keepalive;

/*
 * Called by a keep-alive loop: result -ENOENT when etcd says the lease is
 * gone (its TTL ran out: the keys attached to it are deleted; the loop has
 * stopped and may be stopped and freed), or another -errno when a
 * keep-alive failed (etcd unreachable: the loop goes on at the next
 * interval). result 0 is never reported: a kept lease is silent.
 */
typedef void (*kilo_etcd_lease_fn)(void *ctx, int64_t lease, int result, const struct kilo_error *err);

/*
 * Sends a keep-alive for lease every interval_ms (the first at once), and
 * calls lost for a lost lease or a failure. *out is the loop's handle, for
 * kilo_etcd_keepalive_stop.
 */
int kilo_etcd_keepalive_start(kilo_etcd *e, int64_t lease, unsigned interval_ms, kilo_etcd_lease_fn lost,
			      void *ctx, struct kilo_etcd_keepalive **out, struct kilo_error *err);
/* Stops the loop and frees it (no callback runs afterwards). NULL is a no-op. */
void kilo_etcd_keepalive_stop(struct kilo_etcd_keepalive *keepalive);

struct kilo_etcd_watch;

enum kilo_etcd_event_type {
	KILO_ETCD_EVENT_PUT,
	KILO_ETCD_EVENT_DELETE, /* kv holds the key and the mod revision of the deletion only */
};

struct kilo_etcd_event {
	enum kilo_etcd_event_type type;
	struct kilo_etcd_kv kv;
};

enum kilo_etcd_watch_status {
	/* events (maybe none: a progress report) up to and including revision. */
	KILO_ETCD_WATCH_EVENTS,
	/*
	 * The revision to continue from has been compacted (compact_revision):
	 * events were lost. The watch is over: list again, then start a new one.
	 */
	KILO_ETCD_WATCH_COMPACTED,
	/*
	 * The stream broke or could not be opened (result, err): the watch
	 * opens it again, on another endpoint if needed, from the revision
	 * after the last one seen, so no event is lost. Reported once per
	 * failure, so the caller can say etcd is unreachable.
	 */
	KILO_ETCD_WATCH_BROKEN,
};

struct kilo_etcd_watch_update {
	enum kilo_etcd_watch_status status;
	const struct kilo_etcd_event *events; /* in revision order */
	size_t n_events;
	int64_t revision;         /* the store's revision: every event up to it has been seen */
	int64_t compact_revision; /* COMPACTED: the oldest revision still there */
	int result;               /* BROKEN: -errno */
	const struct kilo_error *err;
};

/* Called from kilo_etcd_process; update and what it points to are valid only during the call. */
typedef void (*kilo_etcd_watch_fn)(void *ctx, const struct kilo_etcd_watch_update *update);

/*
 * Watches every key that starts with prefix from start_revision on (a
 * streaming POST to /v3/watch). Events come in batches; a reply with no
 * event still moves revision on (progress). *out is the watch's handle.
 */
int kilo_etcd_watch_start(kilo_etcd *e, const char *prefix, int64_t start_revision, kilo_etcd_watch_fn cb,
			  void *ctx, struct kilo_etcd_watch **out, struct kilo_error *err);
/* Stops the watch and frees it (no callback runs afterwards). NULL is a no-op. May be called from its callback. */
void kilo_etcd_watch_stop(struct kilo_etcd_watch *watch);

#endif
