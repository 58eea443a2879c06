/* SPDX-License-Identifier: Apache-2.0 */
/* The Kilo conformance runner: shared pieces of the per-kind checks. */
#ifndef KILO_CONFORMANCE_RUNNER_H
#define KILO_CONFORMANCE_RUNNER_H

#include <jansson.h>
#include <stdbool.h>

#include <kilo/kilo.h>

/* What one case check found: ok, or the first difference, in words. */
struct check {
	bool ok;
	char why[1024];
};

void check_fail(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Compares expected with actual at path. A null expected matches a missing,
 * null or empty actual; objects compare only the keys of expected.
 */
void check_json(struct check *c, const char *path, json_t *expected, json_t *actual);
void check_text(struct check *c, const char *what, const char *expected, const char *actual);

/* The vector's endpoint object ({"ip","port"} or {"dns"}) as "ip:port" text, or NULL. */
json_t *vector_endpoint_text(json_t *endpoint);
/* Go nanoseconds to libkilo's whole seconds (floor division). */
json_int_t vector_seconds(json_t *ns);

/*
 * The mesh of a case's input (nodes, peers, granularity, kilo_subnet,
 * port, service_cidrs). fixture supplies nodes and peers when the input has
 * none (cases that refer to Kilo's test fixture by name).
 */
kilo_mesh *vector_mesh(json_t *input, json_t *fixture, struct check *c);
/* Solves the case's mesh for hostname with the input's key, port and keepalive. */
kilo_topology *vector_solve(kilo_mesh *mesh, json_t *input, const char *hostname, struct check *c);

/* Per-kind checks; each returns false if it does not know the kind. */
bool check_solver_kind(const char *kind, json_t *tc, json_t *fixture, struct check *c);
bool check_building_block_kind(const char *kind, json_t *tc, json_t *fixture, struct check *c);
bool check_translation_kind(const char *kind, json_t *tc, struct check *c);

#endif
