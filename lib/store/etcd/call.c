/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The etcd client's calls: one request each, sent as HTTP exchanges on
 * the client's curl multi handle. A call authenticates first when the
 * client has credentials and no token (and once more when etcd says the
 * token is stale), fails over from an endpoint that does not answer to
 * the next, and waits in a queue while the client has many exchanges in
 * flight.
 */
#include "internal.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/error.h"

/* Exchanges in flight at once for asynchronous unary calls (5,000 keep-alives must not be 5,000 connections). */
#define IN_FLIGHT_MAX 32

/* A call that ends, or is freed, gives its place to the next one waiting (defined with kilo__etcd_call_start). */
static void leave_flight(struct etcd_call *call);
static void unqueue_waiting(struct etcd_call *call);

void kilo__etcd_free_secret(char *secret)
{
	if (secret) {
		sodium_memzero(secret, strlen(secret));
		free(secret);
	}
}

void kilo__etcd_forget_token(kilo_etcd *e)
{
	kilo__etcd_free_secret(e->token);
	e->token = NULL;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userp)
{
	struct etcd_call *call = userp;
	size_t n = size * nmemb;

	call->answered = true;
	if (call->stream && !call->authenticating)
		return call->hooks->data(call, data, n) < 0 ? 0 : n;
	if (call->reply_len + n > KILO_ETCD_REPLY_MAX)
		return 0;
	if (kilo_etcd_buffer_grow(&call->reply, &call->reply_cap, call->reply_len, call->reply_len + n + 1) < 0)
		return 0;
	memcpy(call->reply + call->reply_len, data, n);
	call->reply_len += n;
	call->reply[call->reply_len] = '\0';
	return n;
}

/* ---- calls ------------------------------------------------------------- */

struct etcd_call *kilo__etcd_call_new(kilo_etcd *e, const char *path, char *body, const struct etcd_call_hooks *hooks,
				void *owner)
{
	struct etcd_call *call;

	if (!body)
		return NULL;
	call = calloc(1, sizeof(*call));
	if (!call) {
		free(body);
		return NULL;
	}
	call->e = e;
	call->path = path;
	call->body = body;
	call->body_len = strlen(body);
	call->hooks = hooks;
	call->owner = owner;
	call->endpoint = -1;
	etcd_list_prepend(e->calls, call);
	return call;
}

/* Ends the exchange in flight, if any. */
static void exchange_end(struct etcd_call *call)
{
	if (call->easy) {
		curl_multi_remove_handle(call->e->multi, call->easy);
		curl_easy_cleanup(call->easy);
		call->easy = NULL;
	}
	curl_slist_free_all(call->headers);
	call->headers = NULL;
	if (call->reply)
		sodium_memzero(call->reply, call->reply_len);
	call->reply_len = 0;
}

static void unqueue_done(struct etcd_call *call)
{
	kilo_etcd *e = call->e;
	struct etcd_call **p;

	for (p = &e->done_head; *p; p = &(*p)->next_done) {
		if (*p == call) {
			*p = call->next_done;
			break;
		}
	}
	e->done_tail = &e->done_head;
	while (*e->done_tail)
		e->done_tail = &(*e->done_tail)->next_done;
}

void kilo__etcd_call_free(struct etcd_call *call)
{
	if (!call)
		return;
	exchange_end(call);
	unqueue_done(call);
	unqueue_waiting(call);
	leave_flight(call);
	etcd_list_remove(call->e->calls, call);
	kilo_etcd_buffer_free(call->reply, call->reply_cap);
	kilo__etcd_free_secret(call->auth_body);
	/* A put's body holds a value, which may hold a preshared key. */
	sodium_memzero(call->body, call->body_len);
	free(call->body);
	free(call);
}

static void call_done(struct etcd_call *call, int result, const struct kilo_error *err)
{
	kilo_etcd *e = call->e;

	exchange_end(call);
	leave_flight(call);
	call->done = true;
	call->result = result;
	memset(&call->err, 0, sizeof(call->err));
	if (result < 0 && err && err->code)
		call->err = *err;
	else if (result < 0)
		kilo_error_set(&call->err, -result, "etcd: %s", strerror(-result));
	if (call->blocking)
		return;
	call->next_done = NULL;
	*e->done_tail = call;
	e->done_tail = &call->next_done;
}

/* Appends text as a JSON string's content (quotes, backslashes and controls escaped). */
static char *json_escape_into(char *at, const char *text)
{
	for (; *text; text++) {
		unsigned char c = (unsigned char)*text;

		if (c == '"' || c == '\\') {
			*at++ = '\\';
			*at++ = (char)c;
		} else if (c < 0x20) {
			at += sprintf(at, "\\u%04x", c);
		} else {
			*at++ = (char)c;
		}
	}
	return at;
}

/*
 * The body of /v3/auth/authenticate, wiped and freed by the caller. Built
 * here rather than through jansson, whose copies of the password would be
 * freed without being wiped.
 */
static char *auth_body(const kilo_etcd *e)
{
	char *body = malloc(6 * (strlen(e->user) + strlen(e->password)) + 32), *at = body;

	if (!body)
		return NULL;
	at += sprintf(at, "{\"name\":\"");
	at = json_escape_into(at, e->user);
	at += sprintf(at, "\",\"password\":\"");
	at = json_escape_into(at, e->password);
	sprintf(at, "\"}");
	return body;
}

static int exchange_start(struct etcd_call *call)
{
	kilo_etcd *e = call->e;
	const char *url_path = call->path;
	char url[512], header[4096];
	CURL *easy;

	call->authenticating = e->user && !e->token;
	call->answered = false;
	call->reply_len = 0;
	call->curl_error[0] = '\0';
	if (call->authenticating) {
		url_path = "/v3/auth/authenticate";
		kilo__etcd_free_secret(call->auth_body);
		call->auth_body = auth_body(e);
		if (!call->auth_body)
			return -ENOMEM;
	}
	easy = curl_easy_init();
	if (!easy)
		return -ENOMEM;
	call->easy = easy;
	snprintf(url, sizeof(url), "%s%s", e->endpoints[call->at], url_path);
	call->headers = curl_slist_append(NULL, "Content-Type: application/json");
	/* No "Expect: 100-continue" round trip before a large body: etcd reads it at once. */
	call->headers = curl_slist_append(call->headers, "Expect:");
	if (e->token && !call->authenticating) {
		snprintf(header, sizeof(header), "Authorization: %s", e->token);
		call->headers = curl_slist_append(call->headers, header);
	}
	/* A member cut off from its leader ends the watch (gRPC's "hasleader" metadata). */
	if (call->stream)
		call->headers = curl_slist_append(call->headers, "Grpc-Metadata-hasleader: true");
	if (!call->headers)
		return -ENOMEM;
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_PROXY, "");
	curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, call->headers);
	curl_easy_setopt(easy, CURLOPT_POST, 1L);
	if (call->authenticating) {
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, call->auth_body);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(call->auth_body));
	} else {
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, call->body);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->body_len);
	}
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, call);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, call);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, call->curl_error);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)e->timeout_ms);
	if (!call->stream || call->authenticating)
		curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)e->timeout_ms);
	/* A stream on a member that went away must break, not hang. */
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPIDLE, 5L);
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPINTVL, 2L);
	if (e->cacert)
		curl_easy_setopt(easy, CURLOPT_CAINFO, e->cacert);
	if (e->cert) {
		curl_easy_setopt(easy, CURLOPT_SSLCERT, e->cert);
		curl_easy_setopt(easy, CURLOPT_SSLKEY, e->key);
	}
	if (curl_multi_add_handle(e->multi, easy) != CURLM_OK)
		return -ENOMEM;
	return 0;
}

#define NO_CLIENT_CERT_HINT " (does the cluster want a client certificate, --etcd-cert and --etcd-key?)"

/* What a transport failure means, for the message of the endpoint. */
static int describe_failure(const struct etcd_call *call, CURLcode code, char *what, size_t size)
{
	const kilo_etcd *e = call->e;
	const char *detail = call->curl_error[0] ? call->curl_error : curl_easy_strerror(code);

	switch (code) {
	case CURLE_PEER_FAILED_VERIFICATION:
		snprintf(what, size, "TLS: certificate verify failed (is --etcd-cacert the CA of the cluster?): %s",
			 detail);
		return EPROTO;
	case CURLE_SSL_CACERT_BADFILE:
		snprintf(what, size, "TLS: the CA file \"%s\" cannot be used: %s", e->cacert ? e->cacert : "", detail);
		return EPROTO;
	case CURLE_SSL_CERTPROBLEM:
		snprintf(what, size, "TLS: the client certificate \"%s\" or its key cannot be used: %s",
			 e->cert ? e->cert : "", detail);
		return EPROTO;
	case CURLE_SSL_CONNECT_ERROR:
		/* A plain HTTP member (etcd's port sorts protocols) drops a TLS hello without a word. */
		if (strstr(detail, "wrong version number") || strstr(detail, "SSL_ERROR_SYSCALL"))
			snprintf(what, size, "TLS: the endpoint does not speak TLS (etcd:// is for plain HTTP): %s",
				 detail);
		else
			snprintf(what, size, "TLS: handshake failed%s: %s", e->cert ? "" : NO_CLIENT_CERT_HINT, detail);
		return EPROTO;
	case CURLE_RECV_ERROR:
		/* TLS 1.3: a member that wants a client certificate says so after the handshake. */
		if (!e->tls || !strstr(detail, "alert"))
			break;
		snprintf(what, size, "TLS: the member refused this client%s: %s", e->cert ? "" : NO_CLIENT_CERT_HINT,
			 detail);
		return EPROTO;
	case CURLE_GOT_NOTHING:
		if (e->tls)
			break;
		snprintf(what, size, "%s (is it a TLS endpoint? etcds:// is for TLS)", detail);
		return EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(what, size, "no answer within %u ms", e->timeout_ms);
		return ETIMEDOUT;
	case CURLE_WRITE_ERROR:
		snprintf(what, size, "a reply larger than %u bytes", KILO_ETCD_REPLY_MAX);
		return EMSGSIZE;
	default:
		break;
	}
	snprintf(what, size, "%s", detail);
	return EHOSTUNREACH;
}

/* Adds what the endpoint in use said to the call's list, keeping the most telling errno. */
static void record_failure(struct etcd_call *call, int code, const char *what)
{
	char joined[KILO_ERROR_MESSAGE_MAX];
	const char *name = kilo__etcd_endpoint_name(call->e, call->at);

	if (call->tries.code == 0)
		snprintf(joined, sizeof(joined), "%s: %s", name, what);
	else
		snprintf(joined, sizeof(joined), "%.200s; %s: %.250s", call->tries.message, name, what);
	snprintf(call->tries.message, sizeof(call->tries.message), "%s", joined);
	if (call->tries.code == 0 || code == EPROTO || code == EACCES)
		call->tries.code = code;
}

static void fail_over(struct etcd_call *call)
{
	kilo_etcd *e = call->e;
	struct kilo_error err = { 0 };

	call->tried++;
	exchange_end(call);
	if (call->endpoint < 0 && call->tried < e->n_endpoints) {
		call->at = (call->at + 1) % e->n_endpoints;
		if (exchange_start(call) == 0)
			return;
		kilo_error_set(&err, ENOMEM, "etcd: out of memory");
	} else if (e->n_endpoints == 1 || call->endpoint >= 0) {
		kilo_error_set(&err, call->tries.code, "etcd %s", call->tries.message);
	} else {
		kilo_error_set(&err, call->tries.code, "etcd: no endpoint answered: %s", call->tries.message);
	}
	call_done(call, -err.code, &err);
}

/* A whole reply came back from the endpoint in use. */
static void reply_done(struct etcd_call *call, long status)
{
	kilo_etcd *e = call->e;
	struct kilo_error err = { 0 };
	const char *reply = call->reply ? call->reply : "";
	char *token = NULL;
	int r;

	if (call->authenticating) {
		r = kilo_etcd_reply_auth(reply, call->reply_len, &token, &err);
		kilo__etcd_free_secret(call->auth_body);
		call->auth_body = NULL;
		if (r == 0) {
			kilo__etcd_free_secret(e->token);
			e->token = token;
			exchange_end(call);
			r = exchange_start(call);
			if (r == 0)
				return;
			kilo_error_set(&err, ENOMEM, "etcd: out of memory");
		}
		kilo_error_prefix(&err, "authenticating as \"%s\"", e->user);
	} else if (call->stream) {
		/* The stream ended: its data hook has seen everything. */
		r = kilo_error_set(&err, ECONNRESET, "the stream ended");
	} else {
		r = call->hooks->parse(call, reply, call->reply_len, &err);
		if (r == -EKEYEXPIRED && e->user && !call->reauthenticated) {
			/* Tokens expire (5 minutes by default): ask for a new one, once. */
			call->reauthenticated = true;
			kilo__etcd_forget_token(e);
			exchange_end(call);
			if (exchange_start(call) == 0)
				return;
		}
		if (r == -EKEYEXPIRED)
			r = -EACCES;
		if (r == -EBADMSG && status != 200)
			kilo_error_prefix(&err, "HTTP %ld", status);
	}
	if (r == -EAGAIN || (r == -EBADMSG && status >= 500)) {
		/* This member cannot serve now (no leader, overloaded): another may. */
		record_failure(call, EAGAIN, err.message);
		fail_over(call);
		return;
	}
	e->current = call->at;
	if (r < 0)
		kilo_error_prefix(&err, "etcd %s", kilo__etcd_endpoint_name(e, call->at));
	call_done(call, r, &err);
}

static void exchange_done(struct etcd_call *call, CURLcode code)
{
	char what[KILO_ERROR_MESSAGE_MAX];
	long status = 0;
	int r;

	curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &status);
	if (code == CURLE_OK) {
		reply_done(call, status);
		return;
	}
	r = describe_failure(call, code, what, sizeof(what));
	if (call->stream && call->answered && !call->authenticating) {
		struct kilo_error err = { 0 };

		kilo_error_set(&err, r, "etcd %s: the stream broke: %s", kilo__etcd_endpoint_name(call->e, call->at), what);
		call_done(call, -r, &err);
		return;
	}
	record_failure(call, r, what);
	fail_over(call);
}

/* Sends the call's first exchange; it holds a place in flight until it is done. */
static int call_begin(struct etcd_call *call)
{
	kilo_etcd *e = call->e;
	int r;

	call->at = call->endpoint >= 0 ? (size_t)call->endpoint : e->current;
	call->in_flight = true;
	e->n_in_flight++;
	r = exchange_start(call);
	if (r < 0)
		exchange_end(call);
	return r;
}

/* Frees the call's place in flight and gives it to the first call waiting. */
static void leave_flight(struct etcd_call *call)
{
	kilo_etcd *e = call->e;
	struct etcd_call *next;
	struct kilo_error err = { 0 };

	if (!call->in_flight)
		return;
	call->in_flight = false;
	e->n_in_flight--;
	while (!e->closing && e->n_in_flight < IN_FLIGHT_MAX && (next = e->waiting)) {
		e->waiting = next->next_waiting;
		next->waiting = false;
		next->next_waiting = NULL;
		if (call_begin(next) < 0)
			call_done(next, -ENOMEM, (kilo_error_set(&err, ENOMEM, "etcd: out of memory"), &err));
	}
}

static void unqueue_waiting(struct etcd_call *call)
{
	struct etcd_call **p;

	if (!call->waiting)
		return;
	for (p = &call->e->waiting; *p; p = &(*p)->next_waiting) {
		if (*p == call) {
			*p = call->next_waiting;
			break;
		}
	}
	call->waiting = false;
	call->next_waiting = NULL;
}

int kilo__etcd_call_start(struct etcd_call *call, struct kilo_error *err)
{
	kilo_etcd *e = call->e;
	struct etcd_call **tail;
	int r;

	exchange_end(call);
	leave_flight(call);
	call->done = false;
	call->result = 0;
	call->tried = 0;
	call->reauthenticated = false;
	memset(&call->tries, 0, sizeof(call->tries));
	memset(&call->err, 0, sizeof(call->err));
	/* Streams last and blocking calls are waited for: neither waits in line. */
	if (!call->stream && !call->blocking && e->n_in_flight >= IN_FLIGHT_MAX) {
		for (tail = &e->waiting; *tail; tail = &(*tail)->next_waiting)
			;
		*tail = call;
		call->waiting = true;
		return 0;
	}
	r = call_begin(call);
	if (r < 0) {
		leave_flight(call);
		return kilo_error_set(err, -r, "etcd: %s", strerror(-r));
	}
	return 0;
}

void kilo__etcd_calls_collect(kilo_etcd *e)
{
	struct etcd_call *call;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(e->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
		exchange_done(call, msg->data.result);
	}
}

static bool all_done(struct etcd_call **calls, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!calls[i]->done)
			return false;
	return true;
}

int kilo__etcd_calls_run(struct etcd_call **calls, size_t n, struct kilo_error *err)
{
	kilo_etcd *e = n ? calls[0]->e : NULL;
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		calls[i]->blocking = true;
		if (kilo__etcd_call_start(calls[i], &calls[i]->err) < 0) {
			calls[i]->done = true;
			calls[i]->result = -calls[i]->err.code;
		}
	}
	while (r == 0 && !all_done(calls, n)) {
		int64_t wait = 1000;

		if (e->curl_due_ms >= 0) {
			int64_t left = e->curl_due_ms - (int64_t)kilo_etcd_now_ms();

			wait = left < 0 ? 0 : left < wait ? left : wait;
		}
		r = kilo__etcd_drive(e, (int)wait);
		if (r < 0)
			kilo_error_set(err, -r, "etcd: waiting for the reply: %s", strerror(-r));
	}
	for (size_t i = 0; i < n; i++)
		calls[i]->blocking = false;
	return r;
}

int kilo__etcd_call_run(struct etcd_call *call, struct kilo_error *err)
{
	int r = kilo__etcd_calls_run(&call, 1, err);

	if (r < 0)
		return r;
	if (call->result < 0 && err && err->code == 0)
		*err = call->err;
	return call->result;
}
