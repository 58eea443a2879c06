/* SPDX-License-Identifier: Apache-2.0 */
/* The UAPI text: set requests and get/set replies against hand-checked golden text. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wg/uapi.h"
#include "wg_fixture.h"

#define HEX(b) b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b

static struct kilo_key key_of(uint8_t b)
{
	struct kilo_key key;

	memset(key.bytes, b, sizeof(key.bytes));
	return key;
}

static void assert_key(const struct kilo_key *key, uint8_t b)
{
	struct kilo_key expected = key_of(b);

	assert_memory_equal(key->bytes, expected.bytes, KILO_KEY_LEN);
}

static void add_ip(kilo_wg_config *config, struct kilo_wg_peer *peer, const char *text)
{
	struct kilo_cidr cidr;

	assert_int_equal(kilo_cidr_parse(text, &cidr, NULL), 0);
	assert_int_equal(kilo_wg_peer_add_allowed_ip(config, peer, &cidr), 0);
}

static char *encode(const kilo_wg_config *change, const kilo_wg_config *live, size_t *len)
{
	struct kilo_error err = { 0 };
	char *text = NULL;

	if (kilo_uapi_encode_set(change, live, &text, len, &err) < 0)
		fail_msg("encode: %s", err.message);
	return text;
}

static void test_set_request_golden(void **state)
{
	kilo_wg_config *change = kilo_wg_config_new(3);
	struct kilo_wg_peer *a = kilo_wg_config_add_peer(change), *b = kilo_wg_config_add_peer(change),
			    *c = kilo_wg_config_add_peer(change);
	size_t len;
	char *text;

	(void)state;
	change->has_interface = change->has_private_key = change->has_listen_port = change->has_fwmark = true;
	change->private_key = key_of(0x18);
	change->listen_port = 51820;
	change->replace_peers = true;
	a->public_key = key_of(0x01);
	a->has_preshared_key = true;
	a->preshared_key = key_of(0x04);
	assert_int_equal(kilo_endpoint_parse("192.0.2.1:51820", &a->endpoint, NULL), 0);
	a->persistent_keepalive = 25;
	a->flags = KILO_WG_PEER_REPLACE_ALLOWED_IPS;
	add_ip(change, a, "10.0.0.0/24");
	add_ip(change, a, "fd00::1/128");
	b->public_key = key_of(0x02);
	b->flags = KILO_WG_PEER_REMOVE;
	c->public_key = key_of(0x03);
	c->flags = KILO_WG_PEER_UPDATE_ONLY;
	assert_int_equal(kilo_endpoint_parse("[2001:db8::1]:1234", &c->endpoint, NULL), 0);
	text = encode(change, NULL, &len);
	assert_int_equal(len, strlen(text));
	assert_string_equal(text, "set=1\n"
				  "private_key=" HEX("18") "\n"
				  "listen_port=51820\n"
				  "fwmark=0\n"
				  "replace_peers=true\n"
				  "public_key=" HEX("01") "\n"
				  "preshared_key=" HEX("04") "\n"
				  "endpoint=192.0.2.1:51820\n"
				  "persistent_keepalive_interval=25\n"
				  "replace_allowed_ips=true\n"
				  "allowed_ip=10.0.0.0/24\n"
				  "allowed_ip=fd00::1/128\n"
				  "public_key=" HEX("02") "\n"
				  "remove=true\n"
				  "public_key=" HEX("03") "\n"
				  "update_only=true\n"
				  "endpoint=[2001:db8::1]:1234\n"
				  "persistent_keepalive_interval=0\n"
				  "\n");
	kilo_uapi_text_free(text, len);
	kilo_wg_config_free(change);
}

static void test_removed_allowed_ips_replace_the_live_set(void **state)
{
	kilo_wg_config *live = kilo_wg_config_new(1), *change = kilo_wg_config_new(1);
	struct kilo_wg_peer *l = kilo_wg_config_add_peer(live), *c = kilo_wg_config_add_peer(change);
	struct kilo_cidr removed;
	size_t len;
	char *text;

	(void)state;
	l->public_key = c->public_key = key_of(0x01);
	add_ip(live, l, "10.0.0.0/24");
	add_ip(live, l, "10.0.1.0/24");
	add_ip(live, l, "fd00::1/128");
	c->flags = KILO_WG_PEER_REMOVE_ALLOWED_IPS;
	add_ip(change, c, "10.0.9.0/24");
	assert_int_equal(kilo_cidr_parse("10.0.1.0/24", &removed, NULL), 0);
	c->removed_allowed_ips = &removed;
	c->n_removed_allowed_ips = 1;
	text = encode(change, live, &len);
	assert_string_equal(text, "set=1\n"
				  "public_key=" HEX("01") "\n"
				  "persistent_keepalive_interval=0\n"
				  "replace_allowed_ips=true\n"
				  "allowed_ip=10.0.0.0/24\n"
				  "allowed_ip=fd00::1/128\n"
				  "allowed_ip=10.0.9.0/24\n"
				  "\n");
	kilo_uapi_text_free(text, len);
	kilo_wg_config_free(change);
	kilo_wg_config_free(live);
}

static void test_endpoint_name_is_refused(void **state)
{
	kilo_wg_config *change = kilo_wg_config_new(1);
	struct kilo_wg_peer *p = kilo_wg_config_add_peer(change);
	struct kilo_error err = { 0 };
	size_t len = 1;
	char *text = (char *)1;

	(void)state;
	p->public_key = key_of(0x01);
	assert_int_equal(kilo_endpoint_parse("vpn.example.com:51820", &p->endpoint, NULL), 0);
	assert_int_equal(kilo_uapi_encode_set(change, NULL, &text, &len, &err), -EINVAL);
	assert_null(text);
	assert_non_null(strstr(err.message, "vpn.example.com:51820"));
	kilo_wg_config_free(change);
}

static const char get_reply[] = "private_key=" HEX("18") "\n"
				"listen_port=51820\n"
				"public_key=" HEX("01") "\n"
				"preshared_key=" HEX("04") "\n"
				"protocol_version=1\n"
				"endpoint=[2001:db8::1]:1234\n"
				"last_handshake_time_sec=1764100000\n"
				"last_handshake_time_nsec=5000\n"
				"tx_bytes=92\n"
				"rx_bytes=18446744073709551615\n"
				"persistent_keepalive_interval=25\n"
				"allowed_ip=10.0.0.0/24\n"
				"allowed_ip=fd00::1/128\n"
				"allowed_ip=10.0.2.5/32\n"
				"some_future_key=whatever\n"
				"public_key=" HEX("02") "\n"
				"preshared_key=" HEX("00") "\n"
				"errno=0\n"
				"\n";

static void test_get_reply_golden(void **state)
{
	struct kilo_key public_key;
	kilo_wg_config *c = NULL;
	char text[KILO_CIDR_STRLEN];

	(void)state;
	assert_int_equal(kilo_uapi_decode_get(get_reply, sizeof(get_reply) - 1, &c, NULL), 0);
	assert_true(c->has_interface && c->has_private_key && c->has_listen_port && c->has_public_key);
	assert_false(c->has_fwmark);
	assert_key(&c->private_key, 0x18);
	assert_int_equal(kilo_key_public(&c->private_key, &public_key, NULL), 0);
	assert_memory_equal(&c->public_key, &public_key, KILO_KEY_LEN);
	assert_int_equal(c->listen_port, 51820);
	assert_int_equal(c->n_peers, 2);
	assert_key(&c->peers[0].public_key, 0x01);
	assert_true(c->peers[0].has_preshared_key);
	assert_key(&c->peers[0].preshared_key, 0x04);
	assert_int_equal(c->peers[0].endpoint.port, 1234);
	assert_int_equal(c->peers[0].last_handshake_sec, 1764100000);
	assert_int_equal(c->peers[0].last_handshake_nsec, 5000);
	assert_int_equal(c->peers[0].tx_bytes, 92);
	assert_true(c->peers[0].rx_bytes == UINT64_MAX);
	assert_int_equal(c->peers[0].persistent_keepalive, 25);
	assert_int_equal(c->peers[0].n_allowed_ips, 3);
	kilo_cidr_format(&c->peers[0].allowed_ips[2], text);
	assert_string_equal(text, "10.0.2.5/32");
	/* A zero preshared key is the device's way of saying none. */
	assert_false(c->peers[1].has_preshared_key);
	assert_false(kilo_endpoint_is_set(&c->peers[1].endpoint));
	kilo_wg_config_free(c);
}

/* wireguard-go answers errno=-22, the protocol documents errno=22: both are -EINVAL. */
static void test_errno_sign_is_normalised(void **state)
{
	struct kilo_error err = { 0 };
	kilo_wg_config *c = (kilo_wg_config *)1;

	(void)state;
	assert_int_equal(kilo_uapi_decode_errno("errno=0\n\n", 9, NULL), 0);
	assert_int_equal(kilo_uapi_decode_errno("errno=-22\n\n", 11, &err), -EINVAL);
	assert_int_equal(err.code, EINVAL);
	assert_non_null(strstr(err.message, "errno=-22"));
	assert_int_equal(kilo_uapi_decode_errno("errno=22\n\n", 10, NULL), -EINVAL);
	assert_int_equal(kilo_uapi_decode_get("errno=-2\n\n", 10, &c, NULL), -ENOENT);
	assert_null(c);
	assert_int_equal(kilo_uapi_decode_errno("errno=x\n\n", 9, NULL), -EPROTO);
	assert_int_equal(kilo_uapi_decode_errno("\n", 1, NULL), -EPROTO);
	assert_int_equal(kilo_uapi_decode_errno("errno=0\n", 8, NULL), -EPROTO);
}

static void expect_get_error(const char *reply, const char *message)
{
	struct kilo_error err = { 0 };
	kilo_wg_config *c = (kilo_wg_config *)1;

	assert_int_equal(kilo_uapi_decode_get(reply, strlen(reply), &c, &err), -EPROTO);
	assert_null(c);
	if (!strstr(err.message, message))
		fail_msg("\"%s\" does not contain \"%s\"", err.message, message);
}

static void test_bad_replies_name_the_line(void **state)
{
	struct kilo_error err = { 0 };
	kilo_wg_config *c = NULL;

	(void)state;
	expect_get_error("listen_port=abc\nerrno=0\n\n", "line 1: listen_port=abc: not a number");
	expect_get_error("listen_port=65536\nerrno=0\n\n", "listen_port=65536: out of range");
	expect_get_error("public_key=" HEX("01") "\nallowed_ip=10.0.0.0/33\nerrno=0\n\n",
			 "line 2: allowed_ip=10.0.0.0/33: not a CIDR");
	expect_get_error("public_key=" HEX("01") "\nendpoint=example.com:1\nerrno=0\n\n", "not an ip:port endpoint");
	expect_get_error("public_key=" HEX("01") "\nprotocol_version=2\nerrno=0\n\n", "unsupported protocol version");
	expect_get_error("listen_port\nerrno=0\n\n", "\"listen_port\" is not key=value");
	expect_get_error("listen_port=1\n", "reply ends without a blank line");
	expect_get_error("listen_port=1\n\n", "without errno");
	expect_get_error("errno=0\nlisten_port=1\n\n", "after errno");
	/* A broken secret is named but never echoed. */
	static const char bad_secret[] = "private_key=" HEX("1z") "\nerrno=0\n\n";

	assert_int_equal(kilo_uapi_decode_get(bad_secret, sizeof(bad_secret) - 1, &c, &err), -EPROTO);
	assert_non_null(strstr(err.message, "private_key=(secret): not a key of 64 hex digits"));
	assert_null(strstr(err.message, "1z"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_request_golden),
		cmocka_unit_test(test_removed_allowed_ips_replace_the_live_set),
		cmocka_unit_test(test_endpoint_name_is_refused),
		cmocka_unit_test(test_get_reply_golden),
		cmocka_unit_test(test_errno_sign_is_normalised),
		cmocka_unit_test(test_bad_replies_name_the_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
