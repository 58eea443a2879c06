/* SPDX-License-Identifier: Apache-2.0 */
/* The etcd store's URI and options: what kg and kgctl accept, and how they refuse the rest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include <kilo/store.h>

#include "store/etcd/client.h"

static void assert_refused(const char *uri, const struct kilo_store_opts *opts, const char *message)
{
	struct kilo_etcd_config config;
	struct kilo_error err = { 0 };

	assert_int_equal(kilo_etcd_config_parse(uri, opts, &config, &err), -EINVAL);
	if (!strstr(err.message, message))
		fail_msg("%s: \"%s\" does not say \"%s\"", uri, err.message, message);
	kilo_etcd_config_clear(&config);
}

static void test_endpoints_cluster_and_scheme(void **state)
{
	struct kilo_etcd_config c;

	(void)state;
	assert_int_equal(kilo_etcd_config_parse("etcd://10.0.0.1:2379,etcd-2.example:2380,[fd00::1]:2379/prod",
						NULL, &c, NULL),
			 0);
	assert_int_equal(c.n_endpoints, 3);
	assert_string_equal(c.endpoints[0], "http://10.0.0.1:2379");
	assert_string_equal(c.endpoints[1], "http://etcd-2.example:2380");
	assert_string_equal(c.endpoints[2], "http://[fd00::1]:2379");
	assert_string_equal(c.cluster, "prod");
	assert_false(c.tls);
	assert_null(c.user);
	assert_int_equal(c.timeout_ms, KILO_ETCD_DEFAULT_TIMEOUT_MS);
	kilo_etcd_config_clear(&c);

	assert_int_equal(kilo_etcd_config_parse("etcds://h:1?cacert=/ca.pem", NULL, &c, NULL), 0);
	assert_string_equal(c.endpoints[0], "https://h:1");
	assert_string_equal(c.cluster, "default");
	assert_true(c.tls);
	assert_string_equal(c.cacert, "/ca.pem");
	kilo_etcd_config_clear(&c);
}

static void test_bad_parts_are_named(void **state)
{
	(void)state;
	assert_refused("etcd://h:99999", NULL, "store \"etcd://h:99999\": port \"99999\" is not a port");
	assert_refused("etcd://h:0", NULL, "port \"0\" is not a port");
	assert_refused("etcd://h:2379x", NULL, "port \"2379x\" is not a port");
	assert_refused("etcd://h", NULL, "endpoint \"h\" has no port");
	assert_refused("etcd://:2379", NULL, "endpoint \":2379\" has no host");
	assert_refused("etcd://h:1,,g:2", NULL, "an endpoint is empty");
	assert_refused("etcd://", NULL, "no endpoint");
	assert_refused("etcd://b@d:1", NULL, "host \"b@d\" is not a host name or address");
	assert_refused("etcd://[fd00::1:2379", NULL, "endpoint \"[fd00::1:2379\" is not HOST:PORT");
	assert_refused("etcd://[zz::1]:2379", NULL, "host \"[zz::1]\" is not an IPv6 address");
	assert_refused("etcd://h:1/", NULL, "cluster \"\" is not a name");
	{
		char uri[400] = "etcd://";

		memset(uri + 7, 'a', 300);
		strcpy(uri + 307, ":1");
		assert_refused(uri, NULL, "is longer than 253 characters");
	}
	assert_refused("etcd://h:1/a/b", NULL, "cluster \"a/b\" is not a name");
	assert_refused("etcd://h:1/..", NULL, "cluster \"..\" is not a name");
	assert_refused("file:/x", NULL, "not an etcd URI");
	assert_refused("etcd://h:1?user=a", NULL, "user is given without password-file");
	assert_refused("etcd://h:1?password=secret", NULL, "a password never goes in the URI");
	assert_refused("etcd://h:1?colour=red", NULL, "parameter \"colour\" is not one of");
	assert_refused("etcd://h:1?user=", NULL, "parameter \"user\" has no value");
	assert_refused("etcd://h:1?user=a&user=b", NULL, "parameter \"user\" is given twice");
	assert_refused("etcd://h:1?cacert=/ca.pem", NULL, "cacert is for TLS: use etcds://");
	assert_refused("etcds://h:1?cert=/c.pem", NULL, "cert is given without key");
}

static void test_options_override_parameters_and_password_is_read(void **state)
{
	char path[] = "/tmp/kilo-etcd-pw-XXXXXX";
	struct kilo_store_opts opts = { .sz = sizeof(opts) };
	struct kilo_etcd_config c;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret\n", 7), 7);
	close(fd);
	opts.etcd_cacert = "/flag-ca.pem";
	opts.etcd_user = "root";
	opts.etcd_password_file = path;
	assert_int_equal(kilo_etcd_config_parse("etcds://h:1?cacert=/uri-ca.pem&user=other&cert=/c&key=/k", &opts,
						&c, NULL),
			 0);
	assert_string_equal(c.cacert, "/flag-ca.pem");
	assert_string_equal(c.cert, "/c");
	assert_string_equal(c.key, "/k");
	assert_string_equal(c.user, "root");
	assert_string_equal(c.password, "s3cret");
	kilo_etcd_config_clear(&c);
	assert_null(c.password);

	/* An empty password file is refused, naming it. */
	fd = open(path, O_WRONLY | O_TRUNC);
	close(fd);
	assert_refused("etcds://h:1", &opts, "holds no password");
	unlink(path);
	{
		struct kilo_error err = { 0 };

		assert_int_equal(kilo_etcd_config_parse("etcds://h:1", &opts, &c, &err), -ENOENT);
		assert_non_null(strstr(err.message, path));
		kilo_etcd_config_clear(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoints_cluster_and_scheme),
		cmocka_unit_test(test_bad_parts_are_named),
		cmocka_unit_test(test_options_override_parameters_and_password_is_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
