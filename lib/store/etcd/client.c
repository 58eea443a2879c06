/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The etcd client's engine: one curl multi handle driven through an epoll
 * fd (curl's sockets and a timerfd), calls that authenticate when they
 * need a token and fail over from an endpoint that does not answer to the
 * next, and timers for the keep-alives and the watches.
 */
#include "internal.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "../../core/error.h"

uint64_t kilo_etcd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *etcd_endpoint_name(const kilo_etcd *e, size_t index)
{
	const char *url = e->endpoints[index];
	const char *sep = strstr(url, "://");

	return sep ? sep + 3 : url;
}

/* ---- timers ------------------------------------------------------------ */

/* The timerfd fires at the earliest of curl's timeout and the armed timers. */
static void rearm(kilo_etcd *e)
{
	struct itimerspec its = { 0 };
	int64_t due = e->curl_due_ms;

	for (struct etcd_timer *t = e->timers; t; t = t->next)
		if (due < 0 || (int64_t)t->due_ms < due)
			due = (int64_t)t->due_ms;
	if (due >= 0) {
		/* An absolute time in the past fires at once; 0 would disarm. */
		its.it_value.tv_sec = due / 1000;
		its.it_value.tv_nsec = (due % 1000) * 1000000 + 1;
	}
	timerfd_settime(e->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

void etcd_timer_arm(kilo_etcd *e, struct etcd_timer *timer, unsigned in_ms)
{
	etcd_timer_disarm(e, timer);
	timer->due_ms = kilo_etcd_now_ms() + in_ms;
	timer->armed = true;
	timer->prev = NULL;
	timer->next = e->timers;
	if (e->timers)
		e->timers->prev = timer;
	e->timers = timer;
	rearm(e);
}

void etcd_timer_disarm(kilo_etcd *e, struct etcd_timer *timer)
{
	if (!timer->armed)
		return;
	if (timer->prev)
		timer->prev->next = timer->next;
	else
		e->timers = timer->next;
	if (timer->next)
		timer->next->prev = timer->prev;
	timer->armed = false;
	timer->prev = timer->next = NULL;
}

static void fire_due_timers(kilo_etcd *e)
{
	uint64_t now = kilo_etcd_now_ms();
	struct etcd_timer *t;

	/* A timer's callback may arm or disarm any timer: look again from the start after each. */
	for (;;) {
		for (t = e->timers; t && t->due_ms > now; t = t->next)
			;
		if (!t)
			return;
		etcd_timer_disarm(e, t);
		t->fire(t);
	}
}

/* ---- curl's callbacks -------------------------------------------------- */

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	kilo_etcd *e = userp;
	struct epoll_event ev = { .data.fd = s };

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(e->epoll_fd, EPOLL_CTL_DEL, s, NULL);
		curl_multi_assign(e->multi, s, NULL);
		return 0;
	}
	ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
	if (epoll_ctl(e->epoll_fd, socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev) < 0 &&
	    epoll_ctl(e->epoll_fd, socketp ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, s, &ev) < 0)
		return -1;
	/* Marks the socket as registered. */
	curl_multi_assign(e->multi, s, e);
	return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	kilo_etcd *e = userp;

	(void)multi;
	e->curl_due_ms = timeout_ms < 0 ? -1 : (int64_t)(kilo_etcd_now_ms() + (uint64_t)timeout_ms);
	rearm(e);
	return 0;
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
	if (call->reply_len + n + 1 > call->reply_cap) {
		size_t cap = call->reply_cap ? call->reply_cap : 4096;
		char *reply;

		while (cap < call->reply_len + n + 1)
			cap *= 2;
		reply = realloc(call->reply, cap);
		if (!reply)
			return 0;
		call->reply = reply;
		call->reply_cap = cap;
	}
	memcpy(call->reply + call->reply_len, data, n);
	call->reply_len += n;
	call->reply[call->reply_len] = '\0';
	return n;
}

/* ---- calls ------------------------------------------------------------- */

struct etcd_call *etcd_call_new(kilo_etcd *e, const char *path, char *body, const struct etcd_call_hooks *hooks,
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
	call->next = e->calls;
	if (e->calls)
		e->calls->prev = call;
	e->calls = call;
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

void etcd_call_free(struct etcd_call *call)
{
	if (!call)
		return;
	exchange_end(call);
	unqueue_done(call);
	if (call->prev)
		call->prev->next = call->next;
	else
		call->e->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
	free(call->reply);
	if (call->auth_body) {
		sodium_memzero(call->auth_body, strlen(call->auth_body));
		free(call->auth_body);
	}
	/* A put's body holds a value, which may hold a preshared key. */
	sodium_memzero(call->body, call->body_len);
	free(call->body);
	free(call);
}

static void call_done(struct etcd_call *call, int result, const struct kilo_error *err)
{
	kilo_etcd *e = call->e;

	exchange_end(call);
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

/* The body of /v3/auth/authenticate, wiped and freed by the caller. */
static char *auth_body(const kilo_etcd *e)
{
	json_t *o = json_pack("{s:s, s:s}", "name", e->user, "password", e->password);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return text;
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
		free(call->auth_body);
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
		snprintf(what, size, "TLS: handshake failed%s: %s",
			 e->cert ? "" : " (does the cluster want a client certificate, --etcd-cert and --etcd-key?)",
			 detail);
		return EPROTO;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(what, size, "no answer within %u ms", e->timeout_ms);
		return ETIMEDOUT;
	case CURLE_WRITE_ERROR:
		snprintf(what, size, "a reply larger than %u bytes", KILO_ETCD_REPLY_MAX);
		return EMSGSIZE;
	default:
		snprintf(what, size, "%s", detail);
		return EHOSTUNREACH;
	}
}

/* Adds what the endpoint in use said to the call's list, keeping the most telling errno. */
static void record_failure(struct etcd_call *call, int code, const char *what)
{
	char joined[KILO_ERROR_MESSAGE_MAX];
	const char *name = etcd_endpoint_name(call->e, call->at);

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
		sodium_memzero(call->auth_body, strlen(call->auth_body));
		if (r == 0) {
			free(e->token);
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
			free(e->token);
			e->token = NULL;
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
		kilo_error_prefix(&err, "etcd %s", etcd_endpoint_name(e, call->at));
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

		kilo_error_set(&err, r, "etcd %s: the stream broke: %s", etcd_endpoint_name(call->e, call->at), what);
		call_done(call, -r, &err);
		return;
	}
	record_failure(call, r, what);
	fail_over(call);
}

int etcd_call_start(struct etcd_call *call, struct kilo_error *err)
{
	kilo_etcd *e = call->e;
	int r;

	exchange_end(call);
	call->done = false;
	call->result = 0;
	call->tried = 0;
	call->reauthenticated = false;
	memset(&call->tries, 0, sizeof(call->tries));
	memset(&call->err, 0, sizeof(call->err));
	call->at = call->endpoint >= 0 ? (size_t)call->endpoint : e->current;
	r = exchange_start(call);
	if (r < 0) {
		exchange_end(call);
		return kilo_error_set(err, -r, "etcd: %s", strerror(-r));
	}
	return 0;
}

/* ---- driving curl ------------------------------------------------------- */

static void collect_messages(kilo_etcd *e)
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

/* Waits at most wait_ms for curl's sockets or timers and lets curl do what is ready. */
static int drive(kilo_etcd *e, int wait_ms)
{
	struct epoll_event events[16];
	int running, n;

	n = epoll_wait(e->epoll_fd, events, 16, wait_ms);
	if (n < 0 && errno != EINTR)
		return -errno;
	for (int i = 0; i < n; i++) {
		int fd = events[i].data.fd, mask = 0;
		uint64_t expirations;

		if (fd == e->timer_fd) {
			if (read(fd, &expirations, sizeof(expirations)) < 0) {
				/* Nothing to read: the timer was re-armed in between. */
			}
			continue;
		}
		mask |= (events[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0;
		mask |= (events[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0;
		mask |= (events[i].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0;
		curl_multi_socket_action(e->multi, fd, mask, &running);
	}
	if (e->curl_due_ms >= 0 && (uint64_t)e->curl_due_ms <= kilo_etcd_now_ms()) {
		e->curl_due_ms = -1;
		curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	collect_messages(e);
	rearm(e);
	return 0;
}

static bool all_done(struct etcd_call **calls, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!calls[i]->done)
			return false;
	return true;
}

int etcd_calls_run(struct etcd_call **calls, size_t n, struct kilo_error *err)
{
	kilo_etcd *e = n ? calls[0]->e : NULL;
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		calls[i]->blocking = true;
		if (etcd_call_start(calls[i], &calls[i]->err) < 0) {
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
		r = drive(e, (int)wait);
		if (r < 0)
			kilo_error_set(err, -r, "etcd: waiting for the reply: %s", strerror(-r));
	}
	for (size_t i = 0; i < n; i++)
		calls[i]->blocking = false;
	return r;
}

int etcd_call_run(struct etcd_call *call, struct kilo_error *err)
{
	int r = etcd_calls_run(&call, 1, err);

	if (r < 0)
		return r;
	if (call->result < 0 && err && err->code == 0)
		*err = call->err;
	return call->result;
}

/* ---- the handle -------------------------------------------------------- */

static char *dup_or_null(const char *s, bool *failed)
{
	char *copy;

	if (!s)
		return NULL;
	copy = strdup(s);
	if (!copy)
		*failed = true;
	return copy;
}

int kilo_etcd_new(const struct kilo_etcd_config *config, kilo_etcd **out, struct kilo_error *err)
{
	struct epoll_event ev = { .events = EPOLLIN };
	bool failed = false;
	kilo_etcd *e;

	*out = NULL;
	if (!config->n_endpoints)
		return kilo_error_set(err, EINVAL, "etcd: no endpoint");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return kilo_error_set(err, ENOMEM, "etcd: libcurl cannot start");
	e = calloc(1, sizeof(*e));
	if (!e) {
		curl_global_cleanup();
		return kilo_error_set(err, ENOMEM, "etcd: out of memory");
	}
	e->epoll_fd = e->timer_fd = -1;
	e->curl_due_ms = -1;
	e->done_tail = &e->done_head;
	e->tls = config->tls;
	e->timeout_ms = config->timeout_ms ? config->timeout_ms : KILO_ETCD_DEFAULT_TIMEOUT_MS;
	e->endpoints = calloc(config->n_endpoints, sizeof(*e->endpoints));
	failed = !e->endpoints;
	for (size_t i = 0; !failed && i < config->n_endpoints; i++, e->n_endpoints++)
		e->endpoints[i] = dup_or_null(config->endpoints[i], &failed);
	e->cacert = dup_or_null(config->cacert, &failed);
	e->cert = dup_or_null(config->cert, &failed);
	e->key = dup_or_null(config->key, &failed);
	e->user = dup_or_null(config->user, &failed);
	e->password = dup_or_null(config->password, &failed);
	if (failed) {
		kilo_etcd_free(e);
		return kilo_error_set(err, ENOMEM, "etcd: out of memory");
	}
	e->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	e->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	ev.data.fd = e->timer_fd;
	if (e->epoll_fd < 0 || e->timer_fd < 0 || epoll_ctl(e->epoll_fd, EPOLL_CTL_ADD, e->timer_fd, &ev) < 0) {
		int r = errno;

		kilo_etcd_free(e);
		return kilo_error_set(err, r, "etcd: %s", strerror(r));
	}
	e->multi = curl_multi_init();
	if (!e->multi) {
		kilo_etcd_free(e);
		return kilo_error_set(err, ENOMEM, "etcd: out of memory");
	}
	curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
	curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
	*out = e;
	return 0;
}

void kilo_etcd_free(kilo_etcd *e)
{
	if (!e)
		return;
	etcd_watches_free(e);
	etcd_keepalives_free(e);
	while (e->calls)
		etcd_call_free(e->calls);
	if (e->multi)
		curl_multi_cleanup(e->multi);
	if (e->epoll_fd >= 0)
		close(e->epoll_fd);
	if (e->timer_fd >= 0)
		close(e->timer_fd);
	for (size_t i = 0; i < e->n_endpoints; i++)
		free(e->endpoints[i]);
	free(e->endpoints);
	free(e->cacert);
	free(e->cert);
	free(e->key);
	free(e->user);
	if (e->password)
		sodium_memzero(e->password, strlen(e->password));
	free(e->password);
	if (e->token)
		sodium_memzero(e->token, strlen(e->token));
	free(e->token);
	free(e);
	curl_global_cleanup();
}

const char *kilo_etcd_endpoint(const kilo_etcd *e)
{
	return e->endpoints[e->current];
}

int kilo_etcd_fd(const kilo_etcd *e)
{
	return e->epoll_fd;
}

int kilo_etcd_timeout_ms(const kilo_etcd *e)
{
	int64_t due = e->curl_due_ms, now = (int64_t)kilo_etcd_now_ms();

	for (const struct etcd_timer *t = e->timers; t; t = t->next)
		if (due < 0 || (int64_t)t->due_ms < due)
			due = (int64_t)t->due_ms;
	if (due < 0)
		return -1;
	return due <= now ? 0 : due - now > INT32_MAX ? INT32_MAX : (int)(due - now);
}

int kilo_etcd_process(kilo_etcd *e, struct kilo_error *err)
{
	struct etcd_call *call;
	int r;

	r = drive(e, 0);
	if (r < 0)
		return kilo_error_set(err, -r, "etcd: %s", strerror(-r));
	fire_due_timers(e);
	etcd_watches_process(e);
	/* A finish hook may free its call or start it again (which queues nothing until it is done). */
	while ((call = e->done_head)) {
		e->done_head = call->next_done;
		if (!e->done_head)
			e->done_tail = &e->done_head;
		call->next_done = NULL;
		call->hooks->finish(call, call->result, call->result < 0 ? &call->err : NULL);
	}
	rearm(e);
	return 0;
}
