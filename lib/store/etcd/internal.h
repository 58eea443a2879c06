/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the etcd client: the handle, its calls (one HTTP exchange each,
 * with authentication and fail-over), timers, and what requests.c,
 * watch.c and keepalive.c build on them.
 */
#ifndef KILO_LIB_STORE_ETCD_INTERNAL_H
#define KILO_LIB_STORE_ETCD_INTERNAL_H

#include <curl/curl.h>
#include <stddef.h>

#include "client.h"
#include "reply.h"

/* A unary reply is refused beyond this (a page of a list: limit keys of at most 1 MiB each, in base64). */
#define KILO_ETCD_REPLY_MAX (256u << 20)

struct etcd_call;

struct etcd_call_hooks {
	/*
	 * Reads a whole reply of the request (not used by streams): 0, or
	 * -errno with err filled. -EKEYEXPIRED (a stale token) is retried once
	 * after authenticating again; -EAGAIN (a member that cannot serve)
	 * fails over to the next endpoint.
	 */
	int (*parse)(struct etcd_call *call, const char *text, size_t len, struct kilo_error *err);
	/* A stream's bytes as they come (watch): 0 or -errno (ends the exchange). */
	int (*data)(struct etcd_call *call, const char *data, size_t len);
	/*
	 * The call is over: result 0 or -errno with err. Runs from
	 * kilo_etcd_process for an asynchronous call (never inside a blocking
	 * one); the hook frees the call (kilo__etcd_call_free) or starts it again.
	 */
	void (*finish)(struct etcd_call *call, int result, const struct kilo_error *err);
	/* kilo_etcd_free drops the asynchronous call unfinished: free what owner holds (not the call). */
	void (*release)(struct etcd_call *call);
};

struct etcd_call {
	kilo_etcd *e;
	const struct etcd_call_hooks *hooks;
	void *owner;       /* the hooks' own state */
	const char *path;  /* "/v3/kv/range" */
	char *body;
	size_t body_len;
	bool stream;       /* no timeout for the whole exchange; the data hook gets the bytes */
	int endpoint;      /* -1: the one that answered last, with fail-over; else only this one */

	/* The exchange in flight. */
	CURL *easy;
	struct curl_slist *headers;
	char curl_error[CURL_ERROR_SIZE];
	char *reply;
	size_t reply_len, reply_cap;
	bool authenticating; /* this exchange asks for a token */
	char *auth_body;     /* its body (the password), wiped after use */
	bool reauthenticated;
	bool answered;       /* bytes came back: no fail-over any more */
	size_t at, tried;    /* the endpoint in use; how many were tried */
	struct kilo_error tries; /* what each endpoint that failed said */
	int tries_result;

	/* Holding one of the client's places in flight, or waiting for one. */
	bool in_flight;
	bool waiting;
	struct etcd_call *next_waiting;

	/* Done, waiting for its finish hook (asynchronous) or its caller (blocking). */
	bool blocking;
	bool done;
	int result;
	struct kilo_error err;
	struct etcd_call *next_done;
	struct etcd_call *prev, *next; /* every call of the handle */
};

#define etcd_container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* The handle's lists (calls, timers, watches, keep-alives) link through prev and next. */
#define etcd_list_prepend(head, item)                 \
	do {                                          \
		(item)->prev = NULL;                  \
		(item)->next = (head);                \
		if (head)                             \
			(head)->prev = (item);        \
		(head) = (item);                      \
	} while (0)
#define etcd_list_remove(head, item)                          \
	do {                                                  \
		if ((item)->prev)                             \
			(item)->prev->next = (item)->next;    \
		else                                          \
			(head) = (item)->next;                \
		if ((item)->next)                             \
			(item)->next->prev = (item)->prev;    \
		(item)->prev = (item)->next = NULL;           \
	} while (0)

/* A callback at a time of the monotonic clock, run from kilo_etcd_process. */
struct etcd_timer {
	uint64_t due_ms;
	void (*fire)(struct etcd_timer *timer);
	bool armed;
	struct etcd_timer *prev, *next;
};

struct kilo_etcd_watch;
struct kilo_etcd_keepalive;

struct kilo_etcd {
	char **endpoints;
	size_t n_endpoints;
	size_t current; /* the endpoint that answered last */
	bool tls;
	char *cacert, *cert, *key;
	char *user, *password;
	char *token;
	unsigned timeout_ms;

	CURLM *multi;
	int epoll_fd;
	int timer_fd;
	int64_t curl_due_ms; /* -1: curl wants no timeout */
	struct etcd_call *calls;
	struct etcd_call *done_head, **done_tail;
	struct etcd_call *waiting; /* calls waiting for a place in flight, first first */
	size_t n_in_flight;
	bool closing;
	struct etcd_timer *timers;
	struct kilo_etcd_watch *watches;
	struct kilo_etcd_keepalive *keepalives;
};

uint64_t kilo_etcd_now_ms(void);

/* A call of e for path with body (taken over: freed with the call). */
struct etcd_call *kilo__etcd_call_new(kilo_etcd *e, const char *path, char *body, const struct etcd_call_hooks *hooks,
				void *owner);
void kilo__etcd_call_free(struct etcd_call *call);
/* Starts an asynchronous call (again, after a finish hook: from the endpoint that answered last). */
int kilo__etcd_call_start(struct etcd_call *call, struct kilo_error *err);
/*
 * Runs calls to their end at the same time, without running other calls'
 * hooks: each one's result and error are in it. Frees nothing; -errno only
 * when the client itself fails.
 */
int kilo__etcd_calls_run(struct etcd_call **calls, size_t n, struct kilo_error *err);
/* One call: its result. */
int kilo__etcd_call_run(struct etcd_call *call, struct kilo_error *err);

void kilo__etcd_timer_arm(kilo_etcd *e, struct etcd_timer *timer, unsigned in_ms);
void kilo__etcd_timer_disarm(kilo_etcd *e, struct etcd_timer *timer);

/* Waits at most wait_ms for curl's sockets or timers, lets curl do what is ready and collects what finished. */
int kilo__etcd_drive(kilo_etcd *e, int wait_ms);
/* Hands every exchange curl finished to its call (call.c). */
void kilo__etcd_calls_collect(kilo_etcd *e);
/* Wipes a NUL-terminated secret (a password, a token, a body holding one) and frees it. NULL: nothing. */
void kilo__etcd_free_secret(char *secret);
/* Drops the token (wiped): the next exchange authenticates again. */
void kilo__etcd_forget_token(kilo_etcd *e);

/* "HOST:PORT" of an endpoint, for messages. */
const char *kilo__etcd_endpoint_name(const kilo_etcd *e, size_t index);

/* Request bodies (requests.c): JSON texts, malloc'ed; NULL when out of memory. */
char *kilo__etcd_body_lease(const char *field, int64_t value);
/* The range end of every key that starts with prefix, base64; "AA==" (every key) for an empty prefix. */
char *kilo__etcd_prefix_end_b64(const char *prefix);
char *kilo__etcd_b64(const char *data, size_t len);

/* Watches and keep-alives: what kilo_etcd_process and kilo_etcd_free do for them. */
void kilo__etcd_watches_process(kilo_etcd *e);
void kilo__etcd_watches_free(kilo_etcd *e);
void kilo__etcd_keepalives_free(kilo_etcd *e);

#endif
