/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs Kilo's conformance vectors through libkilo's public API.
 *
 *   conformance [--deviations FILE] VECTORS.json...
 *
 * Prints one line per failing case and closes with "N passed, N failed".
 * Exits 1 if a case fails that DEVIATIONS.md does not list by name.
 */
#include "runner.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEVIATIONS 256

struct deviations {
	char *names[MAX_DEVIATIONS];
	size_t n;
};

void check_fail(struct check *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->ok)
		return;
	c->ok = false;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

/* Case names are listed in DEVIATIONS.md between backticks at the start of a list item. */
static int load_deviations(const char *path, struct deviations *d)
{
	char line[2048];
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && d->n < MAX_DEVIATIONS) {
		char *start, *end;

		if (strncmp(line, "- `", 3) != 0)
			continue;
		start = line + 3;
		end = strchr(start, '`');
		if (!end)
			continue;
		*end = '\0';
		d->names[d->n++] = strdup(start);
	}
	fclose(f);
	return 0;
}

static bool is_deviation(const struct deviations *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->names[i], name) == 0)
			return true;
	return false;
}

/* Kilo's test fixture: the nodes and peers of the first case that spells it out. */
static json_t *find_fixture(json_t *cases)
{
	size_t i;
	json_t *tc;

	json_array_foreach(cases, i, tc) {
		json_t *input = json_object_get(tc, "input");

		if (json_is_string(json_object_get(tc, "fixture")) &&
		    strcmp(json_string_value(json_object_get(tc, "fixture")), "setup") == 0 &&
		    json_is_array(json_object_get(input, "nodes")))
			return input;
	}
	return NULL;
}

static void run_case(json_t *tc, json_t *fixture, struct check *c)
{
	const char *kind = json_string_value(json_object_get(tc, "kind"));

	c->ok = true;
	c->why[0] = '\0';
	if (!kind) {
		check_fail(c, "case has no kind");
		return;
	}
	if (!check_solver_kind(kind, tc, fixture, c) && !check_building_block_kind(kind, tc, fixture, c) &&
	    !check_translation_kind(kind, tc, c))
		check_fail(c, "unknown kind \"%s\"", kind);
}

int main(int argc, char **argv)
{
	struct deviations deviations = { 0 };
	unsigned passed = 0, failed = 0, unlisted = 0;
	int first = 1;

	if (argc > 2 && strcmp(argv[1], "--deviations") == 0) {
		if (load_deviations(argv[2], &deviations) < 0) {
			fprintf(stderr, "conformance: cannot read %s\n", argv[2]);
			return 2;
		}
		first = 3;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: conformance [--deviations FILE] VECTORS.json...\n");
		return 2;
	}
	for (int f = first; f < argc; f++) {
		json_error_t jerr;
		json_t *root = json_load_file(argv[f], 0, &jerr), *cases, *tc, *fixture;
		size_t i;

		if (!root || !json_is_array(cases = json_object_get(root, "cases"))) {
			fprintf(stderr, "conformance: %s: %s\n", argv[f], root ? "no \"cases\" array" : jerr.text);
			json_decref(root);
			return 2;
		}
		fixture = find_fixture(cases);
		json_array_foreach(cases, i, tc) {
			const char *name = json_string_value(json_object_get(tc, "name"));
			struct check c;

			run_case(tc, fixture, &c);
			if (c.ok) {
				passed++;
				continue;
			}
			failed++;
			if (name && is_deviation(&deviations, name)) {
				printf("DEVIATION %s: %s\n", name, c.why);
			} else {
				unlisted++;
				printf("FAIL %s: %s\n", name ? name : "(unnamed)", c.why);
			}
		}
		json_decref(root);
	}
	for (size_t i = 0; i < deviations.n; i++)
		free(deviations.names[i]);
	if (failed > unlisted)
		printf("%u failures are deviations listed in DEVIATIONS.md\n", failed - unlisted);
	printf("%u passed, %u failed\n", passed, failed);
	return unlisted ? 1 : 0;
}
