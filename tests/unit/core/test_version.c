/* SPDX-License-Identifier: Apache-2.0 */
/* The version a program sees: meson's project version, in kilo_version() and in version.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include <kilo/kilo.h>

/* meson.project_version(), passed by meson test. */
static const char *project_version;

static void test_kilo_version_is_the_project_version(void **state)
{
	(void)state;
	assert_string_equal(kilo_version(), project_version);
}

static void test_version_macros_spell_the_project_version(void **state)
{
	char composed[32];

	(void)state;
	snprintf(composed, sizeof(composed), "%d.%d.%d", KILO_VERSION_MAJOR, KILO_VERSION_MINOR, KILO_VERSION_PATCH);
	assert_string_equal(composed, project_version);
	assert_string_equal(KILO_VERSION_STRING, project_version);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kilo_version_is_the_project_version),
		cmocka_unit_test(test_version_macros_spell_the_project_version),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s PROJECT-VERSION\n", argv[0]);
		return 2;
	}
	project_version = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
