/* SPDX-License-Identifier: Apache-2.0 */
/* Private key files: permissions, format, atomic 0600 writes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <kilo/core.h>

static const char *wg_private = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=";

static char dir[] = "/tmp/kilo-keyfile-XXXXXX";

static int make_dir(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[64];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_written_key_is_0600_and_reads_back(void **state)
{
	char path[128];
	struct kilo_key key, back;
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/written.key", dir);
	assert_int_equal(kilo_key_parse(wg_private, &key, NULL), 0);
	assert_int_equal(kilo_key_write_file(path, &key, NULL), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(kilo_key_read_file(path, &back, NULL), 0);
	assert_true(kilo_key_equal(&key, &back));
}

static void test_key_file_readable_by_others_is_refused(void **state)
{
	char path[128];
	struct kilo_error err = { 0 };
	struct kilo_key key;

	(void)state;
	snprintf(path, sizeof(path), "%s/open.key", dir);
	write_text(path, "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n", 0644);
	assert_int_equal(kilo_key_read_file(path, &key, &err), -EPERM);
	assert_non_null(strstr(err.message, "mode 0644"));
	assert_non_null(strstr(err.message, "chmod 600"));
}

static void test_bad_key_file_names_the_file_not_the_secret(void **state)
{
	char path[128];
	struct kilo_error err = { 0 };
	struct kilo_key key;

	(void)state;
	snprintf(path, sizeof(path), "%s/bad.key", dir);
	write_text(path, "not-a-key-but-a-secret\n", 0600);
	assert_int_equal(kilo_key_read_file(path, &key, &err), -EINVAL);
	assert_non_null(strstr(err.message, path));
	assert_null(strstr(err.message, "secret"));
	snprintf(path, sizeof(path), "%s/missing.key", dir);
	memset(&err, 0, sizeof(err));
	assert_int_equal(kilo_key_read_file(path, &key, &err), -ENOENT);
	assert_non_null(strstr(err.message, "missing.key"));
}

/* Without O_NONBLOCK, open() waits for a writer forever; the alarm turns that into a failure. */
static void test_fifo_is_refused_without_waiting(void **state)
{
	char path[128];
	struct kilo_error err = { 0 };
	struct kilo_key key;

	(void)state;
	snprintf(path, sizeof(path), "%s/fifo.key", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(5);
	assert_int_equal(kilo_key_read_file(path, &key, &err), -EINVAL);
	alarm(0);
	assert_non_null(strstr(err.message, path));
	assert_non_null(strstr(err.message, "not a regular file"));
}

static void test_bytes_after_the_key_are_refused(void **state)
{
	const char *bad[] = { "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n\0garbage",
			      "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk= x",
			      "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\0" };
	const size_t len[] = { 53, 46, 45 };
	struct kilo_key key;
	int fds[2];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(pipe(fds), 0);
		assert_int_equal(write(fds[1], bad[i], len[i]), (ssize_t)len[i]);
		close(fds[1]);
		assert_int_equal(kilo_key_read_fd(fds[0], &key, NULL), -EINVAL);
		close(fds[0]);
	}
	/* A newline (or other whitespace) may follow, as wg genkey writes it. */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n", 45), 45);
	close(fds[1]);
	assert_int_equal(kilo_key_read_fd(fds[0], &key, NULL), 0);
	close(fds[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_written_key_is_0600_and_reads_back),
		cmocka_unit_test(test_key_file_readable_by_others_is_refused),
		cmocka_unit_test(test_bad_key_file_names_the_file_not_the_secret),
		cmocka_unit_test(test_fifo_is_refused_without_waiting),
		cmocka_unit_test(test_bytes_after_the_key_are_refused),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
