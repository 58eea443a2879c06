/* SPDX-License-Identifier: Apache-2.0 */
/* User text printed safely: control characters escaped, UTF-8 kept, never a cut escape. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <kilo/kilo.h>

static void assert_escaped(const char *text, const char *expected)
{
	char out[KILO_ESCAPED_SIZE(64)];

	assert_string_equal(kilo_escape(text, out, sizeof(out)), expected);
}

static void test_control_characters_are_escaped(void **state)
{
	(void)state;
	assert_escaped("aws\x1b[2Jeu", "aws\\x1b[2Jeu");
	assert_escaped("line\nforged: ok\r", "line\\x0aforged: ok\\x0d");
	assert_escaped("tab\tdel\x7f", "tab\\x09del\\x7f");
	/* U+009B, the one-byte CSI that some terminals obey. */
	assert_escaped("csi\xc2\x9b" "2J", "csi\\xc2\\x9b2J");
}

static void test_printable_text_is_unchanged(void **state)
{
	(void)state;
	assert_escaped("eu-west-1", "eu-west-1");
	assert_escaped("M\xc3\xbcnchen \xe6\x9d\xb1\xe4\xba\xac", "M\xc3\xbcnchen \xe6\x9d\xb1\xe4\xba\xac");
	assert_escaped("back\\slash \"quoted\"", "back\\slash \"quoted\"");
	assert_escaped("", "");
}

static void test_a_short_buffer_never_holds_half_an_escape(void **state)
{
	char out[8];

	(void)state;
	assert_string_equal(kilo_escape("abcd\x1b", out, sizeof(out)), "abcd");
	assert_string_equal(kilo_escape("ab\x1b" "cdefgh", out, sizeof(out)), "ab\\x1bc");
	assert_string_equal(kilo_escape("abcdefghij", out, sizeof(out)), "abcdefg");
	assert_string_equal(kilo_escape("x", out, 1), "");
}

static void test_error_messages_are_escaped(void **state)
{
	struct kilo_error err = { 0 };
	kilo_mesh *mesh = NULL;
	const char doc[] = "{\"version\": 1, \"nodes\": [{\"name\": \"a\\u001b[31m\"}]}";

	(void)state;
	assert_int_equal(kilo_mesh_from_json(doc, sizeof(doc) - 1, &mesh, &err), -EINVAL);
	assert_null(strchr(err.message, '\x1b'));
	assert_non_null(strstr(err.message, "a\\x1b[31m"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_characters_are_escaped),
		cmocka_unit_test(test_printable_text_is_unchanged),
		cmocka_unit_test(test_a_short_buffer_never_holds_half_an_escape),
		cmocka_unit_test(test_error_messages_are_escaped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
