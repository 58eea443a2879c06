/* SPDX-License-Identifier: Apache-2.0 */
/* A desired state as lines a person can read and a fixture can list, for the policy tests. */
#ifndef KILO_TESTS_POLICY_DESCRIBE_H
#define KILO_TESTS_POLICY_DESCRIBE_H

#include <stddef.h>

#include "policy/services.h"

struct lines {
	char **items; /* sorted */
	size_t n;
};

/*
 * The entries of d, one line each, by name rather than id:
 *   frontend 10.96.0.10:80/TCP cluster backends=2 maglev affinity=10800 snat reject
 *   slot 10.96.0.10:80/TCP 1 10.2.1.5:8080
 *   backend 10.2.1.5:8080/TCP no-new-flows
 * and checks what holds for every state: each array sorted by key,
 * reverse NAT for every frontend, slots 1..backends of known backends,
 * no-new-flows exactly on the backends without a slot, a Maglev table
 * exactly for the frontends flagged so, of their slots' backends alone.
 */
void describe(const struct kilo_lb_desired *d, struct lines *out);
void lines_free(struct lines *lines);

#endif
