/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the fixtures in tests/unit/mesh/data. */
#ifndef KILO_TEST_MESH_HELPERS_H
#define KILO_TEST_MESH_HELPERS_H

#include <stdio.h>
#include <stdlib.h>

/* The whole of data/<name>, NUL-terminated; aborts the test run if missing. */
static inline char *read_fixture(const char *name, size_t *len)
{
	const char *dir = getenv("KILO_TEST_DATA");
	char path[4096];
	char *text;
	long size;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "data", name);
	f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		fprintf(stderr, "cannot read fixture %s\n", path);
		abort();
	}
	text = calloc(1, (size_t)size + 1);
	if (!text || fread(text, 1, (size_t)size, f) != (size_t)size)
		abort();
	fclose(f);
	if (len)
		*len = (size_t)size;
	return text;
}

#endif
