/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <kilo/core.h>

/* A key pair printed by `wg genkey | tee /dev/stderr | wg pubkey`. */
static const char *wg_private = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=";
static const char *wg_public = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=";

static void test_public_key_matches_wg_pubkey(void **state)
{
	struct kilo_key priv, pub;
	char out[KILO_KEY_B64_LEN + 1];

	(void)state;
	assert_int_equal(kilo_key_parse(wg_private, &priv, NULL), 0);
	assert_int_equal(kilo_key_public(&priv, &pub, NULL), 0);
	kilo_key_format(&pub, out);
	assert_string_equal(out, wg_public);
	kilo_key_wipe(&priv);
	assert_true(kilo_key_is_zero(&priv));
}

static void test_generated_keys_are_clamped_and_distinct(void **state)
{
	struct kilo_key a, b;

	(void)state;
	assert_int_equal(kilo_key_generate(&a, NULL), 0);
	assert_int_equal(kilo_key_generate(&b, NULL), 0);
	assert_false(kilo_key_equal(&a, &b));
	assert_int_equal(a.bytes[0] & 7, 0);
	assert_int_equal(a.bytes[31] & 0xc0, 0x40);
}

static void test_key_rejects_bad_base64(void **state)
{
	const char *bad[] = { "", "short=", "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk",
			      "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk==", "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBm!=",
			      "yAnz5TF-lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=" };
	struct kilo_key k;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(kilo_key_parse(bad[i], &k, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_public_key_matches_wg_pubkey),
		cmocka_unit_test(test_generated_keys_are_clamped_and_distinct),
		cmocka_unit_test(test_key_rejects_bad_base64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
