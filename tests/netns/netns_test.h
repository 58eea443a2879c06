/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For the cmocka tests that run in a network namespace they unshare
 * themselves: the namespace dies with the process, so nothing of the host is
 * seen or touched. Include after <cmocka.h>.
 */
#ifndef KILO_TESTS_NETNS_TEST_H
#define KILO_TESTS_NETNS_TEST_H

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs a shell command; its failure fails the test. */
static inline void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

/*
 * Moves this process into a new network namespace: 0, or 77 (the test is
 * skipped) after saying why: not root, one of the NULL-terminated programs
 * missing, or no namespace.
 */
static inline int netns_test_enter(const char *const *programs)
{
	char cmd[256];

	if (geteuid() != 0) {
		printf("skipped: network namespace tests need root\n");
		return 77;
	}
	for (; *programs; programs++) {
		snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null", *programs);
		if (system(cmd) != 0) {
			printf("skipped: needs %s\n", *programs);
			return 77;
		}
	}
	if (unshare(CLONE_NEWNET) < 0) {
		printf("skipped: cannot create a network namespace: %s\n", strerror(errno));
		return 77;
	}
	return 0;
}

#endif
