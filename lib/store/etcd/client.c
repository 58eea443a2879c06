/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The etcd client's handle: one curl multi handle driven through an epoll
 * fd (curl's sockets and a timerfd armed for curl's timeout and the
 * client's own timers, those of the keep-alives and the watches).
 */
#include "internal.h"

#include <errno.h>
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

const char *kilo__etcd_endpoint_name(const kilo_etcd *e, size_t index)
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

void kilo__etcd_timer_arm(kilo_etcd *e, struct etcd_timer *timer, unsigned in_ms)
{
	kilo__etcd_timer_disarm(e, timer);
	timer->due_ms = kilo_etcd_now_ms() + in_ms;
	timer->armed = true;
	etcd_list_prepend(e->timers, timer);
	rearm(e);
}

void kilo__etcd_timer_disarm(kilo_etcd *e, struct etcd_timer *timer)
{
	if (!timer->armed)
		return;
	etcd_list_remove(e->timers, timer);
	timer->armed = false;
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
		kilo__etcd_timer_disarm(e, t);
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

/* ---- driving curl ------------------------------------------------------- */

int kilo__etcd_drive(kilo_etcd *e, int wait_ms)
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
	kilo__etcd_calls_collect(e);
	rearm(e);
	return 0;
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
	e->closing = true;
	kilo__etcd_watches_free(e);
	kilo__etcd_keepalives_free(e);
	while (e->calls) {
		struct etcd_call *call = e->calls;

		if (call->hooks->release)
			call->hooks->release(call);
		kilo__etcd_call_free(call);
	}
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
	kilo__etcd_free_secret(e->password);
	kilo__etcd_free_secret(e->token);
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

	r = kilo__etcd_drive(e, 0);
	if (r < 0)
		return kilo_error_set(err, -r, "etcd: %s", strerror(-r));
	fire_due_timers(e);
	kilo__etcd_watches_process(e);
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
