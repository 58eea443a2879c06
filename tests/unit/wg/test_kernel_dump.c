/* SPDX-License-Identifier: Apache-2.0 */
/* The WG_CMD_GET_DEVICE dump decoder on hand-made kernel replies. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/time_types.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wg/genl.h"

#define FAMILY 0x1c
#define SEQ 7

/* A dump reply as the kernel starts it: header, genl header. */
static struct nlmsghdr *reply(void *buf, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = FAMILY;
	nlh->nlmsg_flags = NLM_F_MULTI | flags;
	nlh->nlmsg_seq = SEQ;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = WG_CMD_GET_DEVICE;
	genl->version = WG_GENL_VERSION;
	return nlh;
}

static void put_key(struct nlmsghdr *nlh, uint16_t type, uint8_t byte)
{
	uint8_t key[KILO_KEY_LEN];

	memset(key, byte, sizeof(key));
	mnl_attr_put(nlh, type, sizeof(key), key);
}

static void put_ipv4(struct nlmsghdr *nlh, uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t mask)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, 0);
	uint8_t addr[4] = { a, b, c, d };

	mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, AF_INET);
	mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, sizeof(addr), addr);
	mnl_attr_put_u8(nlh, WGALLOWEDIP_A_CIDR_MASK, mask);
	mnl_attr_nest_end(nlh, nest);
}

/* A peer's first part as the kernel writes it: key, statistics, endpoint, then allowed IPs. */
static void put_peer_head(struct nlmsghdr *nlh, uint8_t key)
{
	struct __kernel_timespec ts = { .tv_sec = 1700000000, .tv_nsec = 5 };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(4000) };

	put_key(nlh, WGPEER_A_PUBLIC_KEY, key);
	put_key(nlh, WGPEER_A_PRESHARED_KEY, key == 0xb0 ? 0x55 : 0);
	mnl_attr_put(nlh, WGPEER_A_LAST_HANDSHAKE_TIME, sizeof(ts), &ts);
	mnl_attr_put_u16(nlh, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, 25);
	mnl_attr_put_u64(nlh, WGPEER_A_TX_BYTES, 1000);
	mnl_attr_put_u64(nlh, WGPEER_A_RX_BYTES, 2000);
	mnl_attr_put_u32(nlh, WGPEER_A_PROTOCOL_VERSION, 1);
	sin6.sin6_addr.s6_addr[0] = 0xfd;
	sin6.sin6_addr.s6_addr[15] = key;
	mnl_attr_put(nlh, WGPEER_A_ENDPOINT, sizeof(sin6), &sin6);
}

static int run(const void *buf, size_t len, struct kilo_genl_dump *dump)
{
	return mnl_cb_run(buf, len, SEQ, 0, kilo_genl_dump_cb, dump);
}

/*
 * Two messages: the first has the device, peer A and the start of peer B
 * (one allowed IP); the second repeats B's key with two more allowed IPs
 * and then has peer C. B must come out once with three allowed IPs.
 */
static size_t split_dump(uint8_t *buf, uint16_t second_flags)
{
	struct nlmsghdr *nlh = reply(buf, 0);
	struct nlattr *peers, *peer, *ips;
	size_t first;

	mnl_attr_put_u32(nlh, WGDEVICE_A_IFINDEX, 3);
	mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, "wg0");
	put_key(nlh, WGDEVICE_A_PRIVATE_KEY, 0x11);
	put_key(nlh, WGDEVICE_A_PUBLIC_KEY, 0x22);
	mnl_attr_put_u16(nlh, WGDEVICE_A_LISTEN_PORT, 51820);
	mnl_attr_put_u32(nlh, WGDEVICE_A_FWMARK, 0);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	peer = mnl_attr_nest_start(nlh, 0);
	put_peer_head(nlh, 0xa0);
	ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	put_ipv4(nlh, 10, 0, 0, 1, 32);
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, peer);
	peer = mnl_attr_nest_start(nlh, 0);
	put_peer_head(nlh, 0xb0);
	ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	put_ipv4(nlh, 10, 1, 0, 0, 24);
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
	first = nlh->nlmsg_len;

	nlh = reply(buf + first, second_flags);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	peer = mnl_attr_nest_start(nlh, 0);
	put_key(nlh, WGPEER_A_PUBLIC_KEY, 0xb0);
	ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	put_ipv4(nlh, 10, 2, 0, 0, 24);
	put_ipv4(nlh, 10, 3, 0, 0, 24);
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, peer);
	peer = mnl_attr_nest_start(nlh, 0);
	put_peer_head(nlh, 0xc0);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
	return first + nlh->nlmsg_len;
}

static void test_peer_split_over_two_messages_comes_out_once(void **state)
{
	uint8_t *buf = calloc(1, 8192);
	struct kilo_error err = { 0 };
	struct kilo_genl_dump dump = { .config = kilo_wg_config_new(0), .err = &err };
	const struct kilo_wg_config *c = dump.config;
	char text[KILO_CIDR_STRLEN];

	(void)state;
	assert_int_equal(run(buf, split_dump(buf, 0), &dump), MNL_CB_OK);
	assert_false(dump.interrupted);
	assert_true(c->has_interface);
	assert_true(c->has_private_key);
	assert_int_equal(c->private_key.bytes[0], 0x11);
	assert_true(c->has_public_key);
	assert_int_equal(c->public_key.bytes[31], 0x22);
	assert_int_equal(c->listen_port, 51820);
	assert_false(c->has_fwmark);
	assert_int_equal(c->n_peers, 3);
	assert_int_equal(c->peers[0].public_key.bytes[0], 0xa0);
	assert_int_equal(c->peers[0].n_allowed_ips, 1);
	assert_false(c->peers[0].has_preshared_key);
	assert_int_equal(c->peers[1].public_key.bytes[0], 0xb0);
	assert_int_equal(c->peers[1].n_allowed_ips, 3);
	kilo_cidr_format(&c->peers[1].allowed_ips[2], text);
	assert_string_equal(text, "10.3.0.0/24");
	/* The continuation carried no statistics: the first part's stay. */
	assert_int_equal(c->peers[1].rx_bytes, 2000);
	assert_int_equal(c->peers[1].tx_bytes, 1000);
	assert_true(c->peers[1].has_preshared_key);
	assert_int_equal(c->peers[1].preshared_key.bytes[0], 0x55);
	assert_int_equal(c->peers[1].last_handshake_sec, 1700000000);
	assert_int_equal(c->peers[1].last_handshake_nsec, 5);
	assert_int_equal(c->peers[1].persistent_keepalive, 25);
	assert_int_equal(c->peers[1].endpoint.addr.family, 6);
	assert_int_equal(c->peers[1].endpoint.port, 4000);
	assert_int_equal(c->peers[1].endpoint.addr.bytes[15], 0xb0);
	assert_int_equal(c->peers[2].public_key.bytes[0], 0xc0);
	assert_int_equal(c->peers[2].n_allowed_ips, 0);
	assert_int_equal(err.code, 0);
	kilo_wg_config_free(dump.config);
	free(buf);
}

static void test_interrupted_dump_is_flagged_for_a_retry(void **state)
{
	uint8_t *buf = calloc(1, 8192);
	struct kilo_genl_dump dump = { .config = kilo_wg_config_new(0) };
	int left = (int)split_dump(buf, NLM_F_DUMP_INTR);
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;

	(void)state;
	/* Message by message, as kilo_netlink_talk hands them over (libmnl's own runner stops at the flag). */
	assert_int_equal(kilo_genl_dump_cb(nlh, &dump), MNL_CB_OK);
	assert_false(dump.interrupted);
	nlh = mnl_nlmsg_next(nlh, &left);
	assert_true(mnl_nlmsg_ok(nlh, left));
	assert_int_equal(kilo_genl_dump_cb(nlh, &dump), MNL_CB_OK);
	assert_true(dump.interrupted);
	kilo_wg_config_free(dump.config);
	free(buf);
}

static void test_short_public_key_is_a_bad_message_naming_the_attribute(void **state)
{
	uint8_t buf[512], key[31] = { 0 };
	struct kilo_error err = { 0 };
	struct kilo_genl_dump dump = { .config = kilo_wg_config_new(0), .err = &err };
	struct nlmsghdr *nlh = reply(buf, 0);
	struct nlattr *peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS), *peer = mnl_attr_nest_start(nlh, 0);

	(void)state;
	mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, sizeof(key), key);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
	assert_int_equal(run(buf, nlh->nlmsg_len, &dump), MNL_CB_ERROR);
	assert_int_equal(err.code, EBADMSG);
	assert_non_null(strstr(err.message, "WGPEER_A_PUBLIC_KEY of 31 bytes"));
	kilo_wg_config_free(dump.config);
}

static void test_bad_allowed_ip_mask_is_a_bad_message(void **state)
{
	uint8_t buf[512];
	struct kilo_error err = { 0 };
	struct kilo_genl_dump dump = { .config = kilo_wg_config_new(0), .err = &err };
	struct nlmsghdr *nlh = reply(buf, 0);
	struct nlattr *peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS), *peer = mnl_attr_nest_start(nlh, 0), *ips;

	(void)state;
	put_key(nlh, WGPEER_A_PUBLIC_KEY, 1);
	ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	put_ipv4(nlh, 10, 0, 0, 0, 33);
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
	assert_int_equal(run(buf, nlh->nlmsg_len, &dump), MNL_CB_ERROR);
	assert_non_null(strstr(err.message, "WGALLOWEDIP_A_IPADDR"));
	kilo_wg_config_free(dump.config);
}

static void test_get_request_names_the_device(void **state)
{
	/* nlmsghdr (len 28, FAMILY, REQUEST|DUMP = 0x301, seq 9), genl GET_DEVICE v1, WGDEVICE_A_IFNAME "wg0". */
	static const uint8_t golden[] = {
		0x1c, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x03, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x01, 0x00, 0x00, 0x08, 0x00, 0x02, 0x00, 'w', 'g', '0', 0x00,
	};
	uint8_t buf[64];

	(void)state;
	assert_int_equal(kilo_genl_get_request("wg0", FAMILY, 9, buf, sizeof(buf)), sizeof(golden));
	assert_memory_equal(buf, golden, sizeof(golden));
	assert_int_equal(kilo_genl_get_request("wg0", FAMILY, 9, buf, 24), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peer_split_over_two_messages_comes_out_once),
		cmocka_unit_test(test_interrupted_dump_is_flagged_for_a_retry),
		cmocka_unit_test(test_short_public_key_is_a_bad_message_naming_the_attribute),
		cmocka_unit_test(test_bad_allowed_ip_mask_is_a_bad_message),
		cmocka_unit_test(test_get_request_names_the_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
