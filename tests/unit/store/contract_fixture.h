/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store a contract test runs against: KILO_TEST_STORE_URI is "file:"
 * (a fresh directory per test) or "etcd:" (the member of KILO_TEST_ETCD,
 * as tests/etcd/with-etcd.sh starts it, a cluster of its own per test).
 */
#ifndef KILO_TESTS_UNIT_STORE_CONTRACT_FIXTURE_H
#define KILO_TESTS_UNIT_STORE_CONTRACT_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include <kilo/store.h>

#include "store/store.h"

/* How long another writer's change may take to reach a watching store. */
#define CHANGE_WAIT_MS 5000

struct fixture {
	char dir[64]; /* a file store's directory, "" for etcd */
	char etcd[128]; /* etcd's http://HOST:PORT, "" for a file store */
	char cluster[64];
	char uri[256];
	kilo_store *store;
};

/* cmocka's setup and teardown: *state is a struct fixture with its store open. */
int setup(void **state);
int teardown(void **state);
/* The pid of with-etcd.sh's member (0: none), for signals that member.sh does not send. */
long member_pid(const char *member);
/* Another handle on the fixture's store, as another program would open it. */
kilo_store *open_again(const struct fixture *f);
/* Puts key = text (len bytes) with etcdctl: what another program could write, past any client check. */
void etcdctl_put(const struct fixture *f, const char *key, const char *text, size_t len);
/* What another program could leave in the store: no validation on the way. */
void put_raw(const struct fixture *f, enum kilo_store_kind kind, const char *name, const char *text, size_t len);
/* Waits (bounded) for store's fd and consumes its events until one is a change. */
bool wait_for_change(kilo_store *store);

#endif
