/* SPDX-License-Identifier: Apache-2.0 */
/* The arena, the text buffer and error recording. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/strbuf.h"

static void test_arena_memory_is_zeroed_aligned_and_survives_growth(void **state)
{
	struct kilo_arena arena = { 0 };
	uint64_t *first = kilo_arena_array(&arena, 4, sizeof(*first));
	char *big;

	(void)state;
	assert_non_null(first);
	first[3] = 42;
	/* Larger than a chunk: forces a second chunk without moving the first. */
	big = kilo_arena_alloc(&arena, 1 << 20);
	assert_non_null(big);
	assert_int_equal(big[(1 << 20) - 1], 0);
	assert_int_equal((uintptr_t)big % 16, 0);
	assert_int_equal(first[3], 42);
	assert_null(kilo_arena_array(&arena, SIZE_MAX / 2, 4));
	assert_string_equal(kilo_arena_strdup(&arena, "kilo"), "kilo");
	kilo_arena_release(&arena);
	assert_null(arena.head);
}

static void test_strbuf_builds_text(void **state)
{
	struct kilo_strbuf sb = { 0 };
	size_t len;
	char *text;

	(void)state;
	kilo_strbuf_append(&sb, "[Peer]\n");
	for (int i = 0; i < 1000; i++)
		kilo_strbuf_printf(&sb, "%d,", i);
	len = sb.len;
	assert_int_equal(kilo_strbuf_finish(&sb, &text), 0);
	assert_true(strncmp(text, "[Peer]\n0,1,2,", 13) == 0);
	assert_int_equal(strlen(text), len);
	assert_null(sb.data);
	free(text);
}

static void test_first_error_wins_and_prefix_names_the_field(void **state)
{
	struct kilo_error err = { 0 };

	(void)state;
	assert_int_equal(kilo_error_set(&err, EINVAL, "\"%s\" is not a CIDR", "10.0.0.1/33"), -EINVAL);
	assert_int_equal(kilo_error_set(&err, ENOMEM, "later"), -ENOMEM);
	kilo_error_prefix(&err, "nodes[%d].podCIDR", 3);
	assert_int_equal(err.code, EINVAL);
	assert_string_equal(err.message, "nodes[3].podCIDR: \"10.0.0.1/33\" is not a CIDR");
	assert_int_equal(kilo_error_set(NULL, EINVAL, "ignored"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arena_memory_is_zeroed_aligned_and_survives_growth),
		cmocka_unit_test(test_strbuf_builds_text),
		cmocka_unit_test(test_first_error_wins_and_prefix_names_the_field),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
