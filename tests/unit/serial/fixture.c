/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

char *read_data(const char *name)
{
	const char *dir = getenv("KILO_TEST_DATA");
	char path[4096];
	char *text;
	long len;
	FILE *f;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len >= 0);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return text;
}

void solve_data(const char *name, const char *hostname, const struct kilo_key *private_key, struct solved *out)
{
	struct kilo_solve_opts opts = { .sz = sizeof(opts), .hostname = hostname, .private_key = private_key };
	struct kilo_error err = { 0 };
	char *text = read_data(name);

	assert_int_equal(kilo_mesh_from_json(text, strlen(text), &out->mesh, &err), 0);
	free(text);
	assert_int_equal(kilo_topology_solve(out->mesh, &opts, &out->topology, &err), 0);
}

void solved_free(struct solved *s)
{
	kilo_topology_free(s->topology);
	kilo_mesh_free(s->mesh);
}

void assert_data_equal(const char *text, const char *name)
{
	char *expected = read_data(name);

	assert_string_equal(text, expected);
	free(expected);
}
