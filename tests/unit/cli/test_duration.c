/* SPDX-License-Identifier: Apache-2.0 */
/* Go's durations in kg's and kgctl's flags: what Go takes, what a bare number meant before, and the refusals. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "duration.h"
#include "flags.h"

const char cli_program[] = "test";

#define MS 1000000ull
#define S CLI_NSEC_PER_SEC

static void assert_duration(const char *text, uint64_t expected)
{
	uint64_t ns = 12345;

	assert_int_equal(cli_duration_parse(text, &ns), 0);
	assert_int_equal(ns, expected);
}

static void assert_refused(const char *text, int error)
{
	uint64_t ns = 12345;

	assert_int_equal(cli_duration_parse(text, &ns), -error);
	assert_int_equal(ns, 12345);
}

static void test_go_forms_are_taken(void **state)
{
	(void)state;
	assert_duration("30s", 30 * S);
	assert_duration("1m30s", 90 * S);
	assert_duration("2h", 7200 * S);
	assert_duration("500ms", 500 * MS);
	assert_duration("1h2m3s4ms5us6ns", 3723 * S + 4 * MS + 5006);
	assert_duration("1.5h", 5400 * S);
	assert_duration(".5s", 500 * MS);
	assert_duration("5.s", 5 * S);
	assert_duration("+3s", 3 * S);
	assert_duration("0s", 0);
	assert_duration("0", 0);
	/* Both micro signs, as Go takes them. */
	assert_duration("7\xc2\xb5s", 7000);
	assert_duration("7\xce\xbcs", 7000);
	/* Nanoseconds are the finest unit: digits past them are dropped, as Go truncates. */
	assert_duration("1.0000000019s", S + 1);
}

static void test_a_bare_number_is_seconds_as_before(void **state)
{
	(void)state;
	assert_duration("30", 30 * S);
	assert_duration("86400", 86400 * S);
}

static void test_what_go_refuses_is_refused(void **state)
{
	(void)state;
	assert_refused("", EINVAL);
	assert_refused("s", EINVAL);
	assert_refused(".s", EINVAL);
	assert_refused("1m30", EINVAL);
	assert_refused("10x", EINVAL);
	assert_refused("1.5", EINVAL);
	assert_refused("-5s", EINVAL);
	assert_refused("5 s", EINVAL);
	assert_refused("5S", EINVAL);
	assert_refused("1h 2m", EINVAL);
	assert_refused("+", EINVAL);
}

static void test_overflow_is_a_range_error(void **state)
{
	(void)state;
	assert_duration("18446744073709551615ns", UINT64_MAX);
	assert_refused("18446744073709551616ns", ERANGE);
	assert_refused("5124096h", ERANGE);
	assert_refused("18446744073709551615", ERANGE);
	assert_refused("99999999999999999999999h", ERANGE);
	assert_refused("5124095h34m33.709551615s1ns", ERANGE);
}

static void test_go_prints_durations_so(void **state)
{
	char out[CLI_DURATION_STRLEN];

	(void)state;
	cli_duration_format(0, out);
	assert_string_equal(out, "0s");
	cli_duration_format(90, out);
	assert_string_equal(out, "1m30s");
	cli_duration_format(7200, out);
	assert_string_equal(out, "2h0m0s");
	cli_duration_format(UINT32_MAX, out);
	assert_string_equal(out, "1193046h28m15s");
}

static void test_a_seconds_flag_takes_whole_seconds_in_its_range(void **state)
{
	uint32_t seconds = 7;

	(void)state;
	assert_int_equal(cli_parse_seconds(NULL, "resync-period", "1m30s", 1, 86400, &seconds), 0);
	assert_int_equal(seconds, 90);
	assert_int_equal(cli_parse_seconds(NULL, "resync-period", "30", 1, 86400, &seconds), 0);
	assert_int_equal(seconds, 30);
	assert_int_equal(cli_parse_seconds(NULL, "persistent-keepalive", "0s", 0, 65535, &seconds), 0);
	assert_int_equal(seconds, 0);
	seconds = 7;
	assert_int_equal(cli_parse_seconds(NULL, "resync-period", "500ms", 1, 86400, &seconds), CLI_EXIT_USAGE);
	assert_int_equal(cli_parse_seconds(NULL, "resync-period", "0", 1, 86400, &seconds), CLI_EXIT_USAGE);
	assert_int_equal(cli_parse_seconds(NULL, "resync-period", "24h0m1s", 1, 86400, &seconds), CLI_EXIT_USAGE);
	assert_int_equal(cli_parse_seconds(NULL, "resync-period", "soon", 1, 86400, &seconds), CLI_EXIT_USAGE);
	assert_int_equal(cli_parse_seconds(NULL, "ready-window", "99999999999999999999", 1, UINT32_MAX, &seconds),
			 CLI_EXIT_USAGE);
	assert_int_equal(seconds, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_go_forms_are_taken),
		cmocka_unit_test(test_a_bare_number_is_seconds_as_before),
		cmocka_unit_test(test_what_go_refuses_is_refused),
		cmocka_unit_test(test_overflow_is_a_range_error),
		cmocka_unit_test(test_go_prints_durations_so),
		cmocka_unit_test(test_a_seconds_flag_takes_whole_seconds_in_its_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
