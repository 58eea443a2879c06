// SPDX-License-Identifier: Apache-2.0
/* The store a contract test runs against, and what its tests do to it from outside. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "contract_fixture.h"


static unsigned tests_run;

int setup(void **state)
{
	const char *kind = getenv("KILO_TEST_STORE_URI"), *etcd = getenv("KILO_TEST_ETCD");
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	if (!kind || !strcmp(kind, "file:")) {
		snprintf(f->dir, sizeof(f->dir), "/tmp/kilo-contract-XXXXXX");
		if (!mkdtemp(f->dir))
			return -1;
		snprintf(f->uri, sizeof(f->uri), "file:%s", f->dir);
	} else if (!strcmp(kind, "etcd:") && etcd && !strncmp(etcd, "http://", 7)) {
		/* A cluster of its own: what one test wrote is not in the next test's store. */
		snprintf(f->etcd, sizeof(f->etcd), "%s", etcd);
		snprintf(f->cluster, sizeof(f->cluster), "contract-%ld-%ld-%u", (long)getpid(), (long)time(NULL),
			 tests_run++);
		snprintf(f->uri, sizeof(f->uri), "etcd://%s/%s", etcd + 7, f->cluster);
	} else {
		fprintf(stderr, "KILO_TEST_STORE_URI must be file: or etcd: (with KILO_TEST_ETCD=http://HOST:PORT)\n");
		return -1;
	}
	if (kilo_store_open(f->uri, &f->store, NULL) < 0)
		return -1;
	*state = f;
	return 0;
}

/* The pid of with-etcd.sh's member (0: none), for signals that member.sh does not send. */
long member_pid(const char *member)
{
	const char *state = getenv("ETCD_STATE");
	char path[512];
	long pid = 0;
	FILE *file;

	snprintf(path, sizeof(path), "%s/%s.pid", state ? state : "", member ? member : "");
	file = fopen(path, "r");
	if (!file)
		return 0;
	if (fscanf(file, "%ld", &pid) != 1)
		pid = 0;
	fclose(file);
	return pid;
}

int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[96];
	int r = 0;

	kilo_store_close(f->store);
	/* A test that failed with the member stopped must not fail the ones after it. */
	if (f->etcd[0] && member_pid(getenv("KILO_TEST_ETCD_MEMBER")) > 0)
		kill((pid_t)member_pid(getenv("KILO_TEST_ETCD_MEMBER")), SIGCONT);
	if (f->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
		r = system(cmd) == 0 ? 0 : -1;
	}
	free(f);
	return r;
}

kilo_store *open_again(const struct fixture *f)
{
	struct kilo_error err = { 0 };
	kilo_store *store = NULL;

	assert_int_equal(kilo_store_open(f->uri, &store, &err), 0);
	return store;
}

void etcdctl_put(const struct fixture *f, const char *key, const char *text, size_t len)
{
	char path[] = "/tmp/kilo-contract-value-XXXXXX", cmd[512];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	snprintf(cmd, sizeof(cmd), "etcdctl --endpoints=%s put '%s' <%s >/dev/null", f->etcd, key, path);
	assert_int_equal(system(cmd), 0);
	unlink(path);
}

void put_raw(const struct fixture *f, enum kilo_store_kind kind, const char *name, const char *text,
		    size_t len)
{
	struct kilo_error err = { 0 };
	kilo_store *store = f->store;
	char key[256];
	int r;

	r = store->ops->write(store, kind, name, text, len, KILO_STORE_ANY_VERSION, &err);
	/* etcd's client refuses to write what no store may hold: etcdctl does not. */
	if (r == -EMSGSIZE && f->etcd[0]) {
		snprintf(key, sizeof(key), "/kilo/%s/%s/%s", f->cluster, kilo_store_kind_name(kind), name);
		etcdctl_put(f, key, text, len);
		r = 0;
	}
	assert_int_equal(r, 0);
}

bool wait_for_change(kilo_store *store)
{
	struct kilo_error err = { 0 };
	struct timespec start, now;
	bool changed = false;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd p = { .fd = kilo_store_fd(store), .events = POLLIN };
		long waited;

		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited >= CHANGE_WAIT_MS)
			return false;
		if (poll(&p, 1, (int)(CHANGE_WAIT_MS - waited)) <= 0)
			continue;
		assert_int_equal(kilo_store_changed(store, &changed, &err), 0);
		if (changed)
			return true;
	}
}

