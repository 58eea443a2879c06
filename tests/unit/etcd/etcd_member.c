/* SPDX-License-Identifier: Apache-2.0 */
/* What the etcd client's tests share: the member under test, a client of it, and a watch's log. */
#include "etcd_member.h"

#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cmocka.h>

const char *member(void)
{
	const char *url = getenv("KILO_TEST_ETCD");

	return strstr(url, "://") + 3;
}

kilo_etcd *open_uri(const char *uri)
{
	struct kilo_etcd_config config;
	struct kilo_error err = { 0 };
	kilo_etcd *e = NULL;

	if (kilo_etcd_config_parse(uri, NULL, &config, &err) < 0 || kilo_etcd_new(&config, &e, &err) < 0)
		fail_msg("%s: %s", uri, err.message);
	kilo_etcd_config_clear(&config);
	return e;
}

kilo_etcd *open_member(void)
{
	char uri[256];

	snprintf(uri, sizeof(uri), "etcd://%s", member());
	return open_uri(uri);
}

int closed_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

void must(int r, const struct kilo_error *err)
{
	if (r < 0)
		fail_msg("%d: %s", r, err->message);
}

void pump(kilo_etcd *e, const bool *flag, int ms)
{
	uint64_t end = kilo_etcd_now_ms() + (uint64_t)ms;
	struct kilo_error err = { 0 };

	while ((!flag || !*flag) && kilo_etcd_now_ms() < end) {
		struct pollfd pfd = { .fd = kilo_etcd_fd(e), .events = POLLIN };
		int left = (int)(end - kilo_etcd_now_ms());

		poll(&pfd, 1, left > 0 ? left : 0);
		must(kilo_etcd_process(e, &err), &err);
	}
}

void put(kilo_etcd *e, const char *key, const char *value, int64_t lease, int64_t *revision)
{
	struct kilo_error err = { 0 };

	must(kilo_etcd_put(e, key, value, strlen(value), lease, revision, &err), &err);
}

char *get(kilo_etcd *e, const char *key)
{
	struct kilo_etcd_range_request req = { .key = key };
	struct kilo_etcd_range range;
	struct kilo_error err = { 0 };
	char *value = NULL;

	must(kilo_etcd_get_range(e, &req, &range, &err), &err);
	assert_true(range.n_kvs <= 1);
	if (range.n_kvs)
		value = strdup(range.kvs[0].value);
	kilo_etcd_range_clear(&range);
	return value;
}

void assert_value(kilo_etcd *e, const char *key, const char *expected)
{
	char *value = get(e, key);

	if (!expected)
		assert_null(value);
	else
		assert_string_equal(value, expected);
	free(value);
}

void etcdctl(const char *fmt, ...)
{
	char args[512], cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "ETCDCTL_API=3 etcdctl --endpoints=%s %s >/dev/null", getenv("KILO_TEST_ETCD"),
		 args);
	assert_int_equal(system(cmd), 0);
}

void member_sh(const char *what)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "%s %s %s", getenv("KILO_TEST_ETCD_MEMBER_SH"), what,
		 getenv("KILO_TEST_ETCD_MEMBER"));
	assert_int_equal(system(cmd), 0);
}

void on_watch(void *ctx, const struct kilo_etcd_watch_update *u)
{
	struct seen *s = ctx;
	size_t len;

	switch (u->status) {
	case KILO_ETCD_WATCH_EVENTS:
		for (size_t i = 0; i < u->n_events; i++) {
			const struct kilo_etcd_event *ev = &u->events[i];

			len = strlen(s->log);
			if (ev->type == KILO_ETCD_EVENT_PUT)
				snprintf(s->log + len, sizeof(s->log) - len, "PUT %s=%s@%lld ", ev->kv.key, ev->kv.value,
					 (long long)ev->kv.mod_revision);
			else
				snprintf(s->log + len, sizeof(s->log) - len, "DELETE %s@%lld ", ev->kv.key,
					 (long long)ev->kv.mod_revision);
		}
		s->n_events += u->n_events;
		s->revision = u->revision;
		break;
	case KILO_ETCD_WATCH_COMPACTED:
		s->compacted++;
		s->compact_revision = u->compact_revision;
		break;
	case KILO_ETCD_WATCH_BROKEN:
		s->broken++;
		assert_true(u->result < 0);
		assert_non_null(u->err);
		break;
	}
}

void pump_events(kilo_etcd *e, struct seen *s, size_t n)
{
	for (int i = 0; i < 100 && s->n_events < n; i++)
		pump(e, NULL, 100);
}
