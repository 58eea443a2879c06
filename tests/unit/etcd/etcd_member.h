/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the etcd client's tests share: the member that tests/etcd/with-etcd.sh
 * started (KILO_TEST_ETCD), clients of it, and a watch callback that logs.
 */
#ifndef KILO_TEST_ETCD_MEMBER_H
#define KILO_TEST_ETCD_MEMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/etcd/internal.h"

/* The member as a store URI's endpoint ("127.0.0.1:PORT"). */
const char *member(void);
kilo_etcd *open_uri(const char *uri);
kilo_etcd *open_member(void);
/* A loopback port that nothing listens on. */
int closed_port(void);
/* Fails the test with err's message when r < 0. */
void must(int r, const struct kilo_error *err);
/* Runs the client's loop as the agent does (poll on its fd) until *flag (NULL: never) or ms pass. */
void pump(kilo_etcd *e, const bool *flag, int ms);
void put(kilo_etcd *e, const char *key, const char *value, int64_t lease, int64_t *revision);
/* The value of key, or NULL when it is not there (free it). */
char *get(kilo_etcd *e, const char *key);
void assert_value(kilo_etcd *e, const char *key, const char *expected);
/* Runs etcdctl against the member; fails the test if it fails. */
void etcdctl(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* tests/etcd/member.sh stop|start on the member. */
void member_sh(const char *what);

/* What a watch saw: its events as text, and how often it broke or was compacted. */
struct seen {
	char log[4096]; /* "PUT key=value@rev DELETE key@rev ..." */
	int broken;
	int compacted;
	int64_t compact_revision;
	int64_t revision;
	size_t n_events;
};

void on_watch(void *ctx, const struct kilo_etcd_watch_update *u);
/* Pumps until the watch has seen n events in all (or 10 s). */
void pump_events(kilo_etcd *e, struct seen *s, size_t n);

#endif
