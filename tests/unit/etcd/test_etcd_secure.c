/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The etcd client's TLS and authentication against a real member:
 * "test_etcd_secure tls" under tests/etcd/with-etcd.sh --tls, and
 * "test_etcd_secure auth" (it turns authentication on in its member).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "etcd_member.h"

static void test_tls_with_the_right_and_a_wrong_ca(void **state)
{
	const char *tls = getenv("KILO_TEST_ETCD_TLS");
	struct kilo_error err = { 0 };
	char uri[1024];
	kilo_etcd *e;

	(void)state;
	snprintf(uri, sizeof(uri), "etcds://%s?cacert=%s/ca.pem&cert=%s/client.pem&key=%s/client-key.pem", member(),
		 tls, tls, tls);
	e = open_uri(uri);
	put(e, "/t/tls", "x", 0, NULL);
	assert_value(e, "/t/tls", "x");
	kilo_etcd_free(e);

	snprintf(uri, sizeof(uri), "etcds://%s?cacert=%s/other-ca.pem&cert=%s/client.pem&key=%s/client-key.pem",
		 member(), tls, tls, tls);
	e = open_uri(uri);
	assert_int_equal(kilo_etcd_put(e, "/t/tls", "y", 1, 0, NULL, &err), -EPROTO);
	if (!strstr(err.message, "TLS: certificate verify failed (is --etcd-cacert the CA of the cluster?)") ||
	    !strstr(err.message, member()))
		fail_msg("%s", err.message);
	kilo_etcd_free(e);

	/* Without a client certificate, or without TLS at all, the error says what is missing. */
	snprintf(uri, sizeof(uri), "etcds://%s?cacert=%s/ca.pem", member(), tls);
	e = open_uri(uri);
	memset(&err, 0, sizeof(err));
	assert_int_equal(kilo_etcd_put(e, "/t/tls", "y", 1, 0, NULL, &err), -EPROTO);
	if (!strstr(err.message, "does the cluster want a client certificate, --etcd-cert and --etcd-key?"))
		fail_msg("%s", err.message);
	kilo_etcd_free(e);
	snprintf(uri, sizeof(uri), "etcd://%s", member());
	e = open_uri(uri);
	memset(&err, 0, sizeof(err));
	assert_int_equal(kilo_etcd_put(e, "/t/tls", "y", 1, 0, NULL, &err), -EHOSTUNREACH);
	if (!strstr(err.message, "is it a TLS endpoint? etcds:// is for TLS"))
		fail_msg("%s", err.message);
	kilo_etcd_free(e);
}

/* ---- authentication ------------------------------------------------------------- */

static void test_auth_with_the_right_and_a_wrong_password(void **state)
{
	char right[512], wrong[512], uri[1280];
	struct kilo_error err = { 0 };
	struct kilo_etcd_watch *w;
	struct seen s = { 0 };
	int fd;
	kilo_etcd *e;

	(void)state;
	etcdctl("user add root:s3cret");
	etcdctl("role add root");
	etcdctl("user grant-role root root");
	etcdctl("auth enable");
	/* In with-etcd.sh's folder, which goes away with the member, also when the test fails. */
	snprintf(right, sizeof(right), "%s/right-password", getenv("ETCD_STATE"));
	snprintf(wrong, sizeof(wrong), "%s/wrong-password", getenv("ETCD_STATE"));
	fd = open(right, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_int_equal(write(fd, "s3cret\n", 7), 7);
	close(fd);
	fd = open(wrong, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_int_equal(write(fd, "guess\n", 6), 6);
	close(fd);

	snprintf(uri, sizeof(uri), "etcd://%s?user=root&password-file=%s", member(), right);
	e = open_uri(uri);
	put(e, "/t/auth", "x", 0, NULL);
	assert_value(e, "/t/auth", "x");
	/* A token etcd no longer knows is replaced, once, without the caller seeing it. */
	free(e->token);
	e->token = strdup("stale.1");
	assert_value(e, "/t/auth", "x");
	/* Watches carry the token too. */
	free(e->token);
	e->token = strdup("stale.2");
	must(kilo_etcd_watch_start(e, "/t/auth", 0, on_watch, &s, &w, &err), &err);
	pump(e, NULL, 1000);
	put(e, "/t/auth", "y", 0, NULL);
	pump_events(e, &s, 1);
	assert_int_equal(s.n_events, 1);
	kilo_etcd_watch_stop(w);
	kilo_etcd_free(e);

	snprintf(uri, sizeof(uri), "etcd://%s?user=root&password-file=%s", member(), wrong);
	e = open_uri(uri);
	assert_int_equal(kilo_etcd_put(e, "/t/auth", "z", 1, 0, NULL, &err), -EACCES);
	if (!strstr(err.message, "authenticating as \"root\"") || !strstr(err.message, "authentication failed"))
		fail_msg("%s", err.message);
	kilo_etcd_free(e);

	/* Without credentials, etcd refuses and the error says so. */
	e = open_member();
	memset(&err, 0, sizeof(err));
	assert_int_equal(kilo_etcd_put(e, "/t/auth", "z", 1, 0, NULL, &err), -EACCES);
	kilo_etcd_free(e);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tls[] = {
		cmocka_unit_test(test_tls_with_the_right_and_a_wrong_ca),
	};
	const struct CMUnitTest auth[] = {
		cmocka_unit_test(test_auth_with_the_right_and_a_wrong_password),
	};

	if (!getenv("KILO_TEST_ETCD")) {
		printf("skip: no etcd member (run through tests/etcd/with-etcd.sh)\n");
		return 77;
	}
	if (argc > 1 && !strcmp(argv[1], "auth"))
		return cmocka_run_group_tests(auth, NULL, NULL);
	return cmocka_run_group_tests(tls, NULL, NULL);
}
