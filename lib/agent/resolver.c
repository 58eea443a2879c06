/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Endpoint names looked up on a thread of their own: a lookup may take the
 * resolver's whole timeout, and the agent must keep its heartbeat and its
 * mesh meanwhile. Names go in through a queue; answers come back through
 * a list and an eventfd that the agent's loop polls.
 */
#include "resolve.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../core/array.h"

struct kilo_resolver {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int efd;
	bool stop;
	/* The agent's and the thread's; the last to let go frees. */
	unsigned refs;
	/* Names to look up: queue[head..n_queue). */
	char (*queue)[KILO_DNS_NAME_MAX + 1];
	size_t head, n_queue, cap_queue;
	struct kilo_resolve_answer *answers;
	size_t n_answers, cap_answers;
};

int kilo_resolve_pick(const struct addrinfo *list, struct kilo_addr *out)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const struct addrinfo *v6 = NULL;

	for (const struct addrinfo *ai = list; ai; ai = ai->ai_next) {
		const struct sockaddr_in6 *sin6 = (const void *)ai->ai_addr;

		if (ai->ai_family == AF_INET) {
			*out = (struct kilo_addr){ .family = 4 };
			memcpy(out->bytes, &((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr, 4);
			return 0;
		}
		if (ai->ai_family != AF_INET6)
			continue;
		/* Go's To4: an IPv4-mapped answer is the IPv4 address, and comes first like one. */
		if (!memcmp(sin6->sin6_addr.s6_addr, mapped, sizeof(mapped))) {
			*out = (struct kilo_addr){ .family = 4 };
			memcpy(out->bytes, sin6->sin6_addr.s6_addr + 12, 4);
			return 0;
		}
		if (!v6)
			v6 = ai;
	}
	if (!v6)
		return -ENOENT;
	*out = (struct kilo_addr){ .family = 6 };
	memcpy(out->bytes, ((const struct sockaddr_in6 *)(const void *)v6->ai_addr)->sin6_addr.s6_addr, 16);
	return 0;
}

int kilo_resolve_name(const char *name, struct kilo_addr *out, char reason[KILO_RESOLVE_REASON_MAX])
{
	/* SOCK_DGRAM: one answer per address, not one per socket type. */
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *list = NULL;
	int r;

	reason[0] = '\0';
	r = getaddrinfo(name, NULL, &hints, &list);
	if (r != 0) {
		snprintf(reason, KILO_RESOLVE_REASON_MAX, "%s", r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return -EADDRNOTAVAIL;
	}
	r = kilo_resolve_pick(list, out);
	freeaddrinfo(list);
	if (r < 0) {
		snprintf(reason, KILO_RESOLVE_REASON_MAX, "no IPv4 or IPv6 address");
		return -EADDRNOTAVAIL;
	}
	return 0;
}

static void unref(struct kilo_resolver *r)
{
	bool last;

	pthread_mutex_lock(&r->lock);
	last = --r->refs == 0;
	pthread_mutex_unlock(&r->lock);
	if (!last)
		return;
	close(r->efd);
	free(r->queue);
	free(r->answers);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static void *run(void *arg)
{
	struct kilo_resolver *r = arg;
	struct kilo_resolve_answer a;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (!r->stop && r->head == r->n_queue)
			pthread_cond_wait(&r->wake, &r->lock);
		if (r->stop)
			break;
		memset(&a, 0, sizeof(a));
		memcpy(a.name, r->queue[r->head++], sizeof(a.name));
		if (r->head == r->n_queue)
			r->head = r->n_queue = 0;
		pthread_mutex_unlock(&r->lock);
		a.r = kilo_resolve_name(a.name, &a.addr, a.reason);
		pthread_mutex_lock(&r->lock);
		/* Out of memory: the name is asked again at the next resync. */
		if (!r->stop && kilo_array_reserve((void **)&r->answers, &r->cap_answers, r->n_answers + 1,
						   sizeof(*r->answers)) == 0) {
			r->answers[r->n_answers++] = a;
			eventfd_write(r->efd, 1);
		}
	}
	pthread_mutex_unlock(&r->lock);
	unref(r);
	return NULL;
}

int kilo_resolver_new(struct kilo_resolver **out)
{
	struct kilo_resolver *r = calloc(1, sizeof(*r));
	pthread_attr_t attr;
	pthread_t thread;
	int e;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->efd < 0) {
		e = -errno;
		free(r);
		return e;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->wake, NULL);
	r->refs = 2;
	pthread_attr_init(&attr);
	/* Detached: freeing the agent never waits for a lookup under way. */
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	e = pthread_create(&thread, &attr, run, r);
	pthread_attr_destroy(&attr);
	if (e != 0) {
		r->refs = 1;
		unref(r);
		return -e;
	}
	*out = r;
	return 0;
}

int kilo_resolver_fd(const struct kilo_resolver *r)
{
	return r->efd;
}

int kilo_resolver_ask(struct kilo_resolver *r, const char *name)
{
	int e;

	if (strlen(name) > KILO_DNS_NAME_MAX)
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	/* What the thread has taken makes room at the front. */
	if (r->n_queue == r->cap_queue && r->head) {
		memmove(r->queue, r->queue + r->head, (r->n_queue - r->head) * sizeof(*r->queue));
		r->n_queue -= r->head;
		r->head = 0;
	}
	e = kilo_array_reserve((void **)&r->queue, &r->cap_queue, r->n_queue + 1, sizeof(*r->queue));
	if (e == 0) {
		strcpy(r->queue[r->n_queue++], name);
		pthread_cond_signal(&r->wake);
	}
	pthread_mutex_unlock(&r->lock);
	return e;
}

void kilo_resolver_take(struct kilo_resolver *r, struct kilo_resolve_answer **out, size_t *n)
{
	eventfd_t ignored;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&r->lock);
	eventfd_read(r->efd, &ignored);
	if (r->n_answers) {
		*out = r->answers;
		*n = r->n_answers;
		r->answers = NULL;
		r->n_answers = r->cap_answers = 0;
	}
	pthread_mutex_unlock(&r->lock);
}

void kilo_resolver_free(struct kilo_resolver *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	unref(r);
}
