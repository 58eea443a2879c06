/* SPDX-License-Identifier: Apache-2.0 */
/* Test data of the serial layer: files under $KILO_TEST_DATA, solved meshes. */
#ifndef KILO_TEST_SERIAL_FIXTURE_H
#define KILO_TEST_SERIAL_FIXTURE_H

#include <kilo/kilo.h>

/* The whole file data/<name>, NUL-terminated; fails the test if missing. Free with free(). */
char *read_data(const char *name);

/* A mesh document and its topology as seen from hostname, optionally with a private key. */
struct solved {
	kilo_mesh *mesh;
	kilo_topology *topology;
};
void solve_data(const char *name, const char *hostname, const struct kilo_key *private_key, struct solved *out);
void solved_free(struct solved *s);

/* The output of a formatter, compared whole to data/<name>. */
void assert_data_equal(const char *text, const char *name);

#endif
