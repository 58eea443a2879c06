// SPDX-License-Identifier: Apache-2.0
/*
 * Services and EndpointSlices -> the desired map contents, one fixture per
 * behaviour (cases/NAME.json: the mesh, the node computing, the objects as
 * Kubernetes writes them, the entries expected and the problems reported),
 * and the ids across computations.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "describe.h"
#include "lb_case.h"

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void expect_lines(const char *name, json_t *expected, const struct lines *got)
{
	size_t n = json_array_size(expected);
	char **want = calloc(n + 1, sizeof(*want));
	bool same = n == got->n;

	for (size_t i = 0; i < n; i++)
		want[i] = (char *)json_string_value(json_array_get(expected, i));
	qsort(want, n, sizeof(*want), compare_names);
	for (size_t i = 0; same && i < n; i++)
		same = strcmp(want[i], got->items[i]) == 0;
	if (!same) {
		print_error("%s: expected:\n", name);
		for (size_t i = 0; i < n; i++)
			print_error("  %s\n", want[i]);
		print_error("got:\n");
		for (size_t i = 0; i < got->n; i++)
			print_error("  \"%s\",\n", got->items[i]);
	}
	free(want);
	assert_true(same);
}

static void expect_problems(const char *name, json_t *expected, const struct kilo_lb_report *report)
{
	size_t n = json_array_size(expected);

	assert_int_equal(report->n_problems, n);
	for (size_t i = 0; i < n; i++) {
		const char *want = json_string_value(json_array_get(expected, i));

		if (!strstr(report->problems[i], want))
			fail_msg("%s: problem %zu is \"%s\", not one with \"%s\"", name, i, report->problems[i], want);
	}
}

static void run_case(const char *name)
{
	struct lb_case c;
	struct kilo_lb_ids *ids = kilo_lb_ids_new();
	struct kilo_lb_desired d;
	struct kilo_lb_report report = {0};
	struct lines got;

	assert_non_null(ids);
	lb_case_load(&c, name);
	/* Twice with the same ids: the second reads every object from their cache, and must say the same. */
	for (int pass = 0; pass < 2; pass++) {
		memset(&report, 0, sizeof(report));
		assert_int_equal(lb_case_compute(&c, ids, &d, &report), 0);
		describe(&d, &got);
		expect_lines(name, json_object_get(c.root, "expect"), &got);
		expect_problems(name, json_object_get(c.root, "problems"), &report);
		lines_free(&got);
		kilo_lb_desired_release(&d);
	}
	kilo_lb_ids_free(ids);
	lb_case_free(&c);
}

static void test_cases(void **state)
{
	DIR *dir = opendir(lb_cases_dir());
	char *names[256];
	size_t n = 0;
	struct dirent *e;

	(void)state;
	assert_non_null(dir);
	while ((e = readdir(dir)) && n < 256)
		if (strlen(e->d_name) > 5 && strcmp(e->d_name + strlen(e->d_name) - 5, ".json") == 0)
			names[n++] = strdup(e->d_name);
	closedir(dir);
	assert_true(n >= 10);
	qsort(names, n, sizeof(*names), compare_names);
	for (size_t i = 0; i < n; i++) {
		print_message("case %s\n", names[i]);
		run_case(names[i]);
		free(names[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
