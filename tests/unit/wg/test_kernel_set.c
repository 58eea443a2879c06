/* SPDX-License-Identifier: Apache-2.0 */
/* The WG_CMD_SET_DEVICE encoder: golden bytes, and a configuration split over many messages. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/genetlink.h>
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
#define PAGE 4096

static struct kilo_cidr cidr(const char *text)
{
	struct kilo_cidr c;

	assert_int_equal(kilo_cidr_parse(text, &c, NULL), 0);
	return c;
}

static struct kilo_wg_peer *add_peer(struct kilo_wg_config *config, uint8_t key_byte)
{
	struct kilo_wg_peer *peer = kilo_wg_config_add_peer(config);

	assert_non_null(peer);
	memset(peer->public_key.bytes, key_byte, KILO_KEY_LEN);
	return peer;
}

/*
 * Hand-checked layout of the message for device wg0 (listen port 51820,
 * replace peers) with one peer (key 32 x 0x01, replace allowed IPs,
 * endpoint 10.0.0.1:51820, keepalive 25, allowed IP 10.4.0.1/32), from
 * the attribute numbers of <linux/wireguard.h>; nests carry NLA_F_NESTED
 * (0x8000), integers are little-endian except the port in the sockaddr.
 */
static const uint8_t golden[] = {
	0x9c, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x05, 0x00, /* nlmsghdr: len 156, type FAMILY, REQUEST|ACK */
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* seq 1, portid 0 */
	0x01, 0x01, 0x00, 0x00,                         /* genlmsghdr: WG_CMD_SET_DEVICE, version 1 */
	0x08, 0x00, 0x02, 0x00, 'w', 'g', '0', 0x00,    /* WGDEVICE_A_IFNAME "wg0" */
	0x06, 0x00, 0x06, 0x00, 0x6c, 0xca, 0x00, 0x00, /* WGDEVICE_A_LISTEN_PORT 51820 */
	0x08, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, /* WGDEVICE_A_FLAGS REPLACE_PEERS */
	0x70, 0x00, 0x08, 0x80,                         /* WGDEVICE_A_PEERS, 112 bytes */
	0x6c, 0x00, 0x00, 0x80,                         /* peer 0, 108 bytes */
	0x24, 0x00, 0x01, 0x00,                         /* WGPEER_A_PUBLIC_KEY */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0x08, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00, /* WGPEER_A_FLAGS REPLACE_ALLOWEDIPS */
	0x14, 0x00, 0x04, 0x00,                         /* WGPEER_A_ENDPOINT, sockaddr_in */
	0x02, 0x00, 0xca, 0x6c, 10, 0, 0, 1,            /* AF_INET, port 51820 big-endian, 10.0.0.1 */
	0, 0, 0, 0, 0, 0, 0, 0,
	0x06, 0x00, 0x05, 0x00, 0x19, 0x00, 0x00, 0x00, /* WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL 25 */
	0x20, 0x00, 0x09, 0x80,                         /* WGPEER_A_ALLOWEDIPS, 32 bytes */
	0x1c, 0x00, 0x00, 0x80,                         /* allowed IP 0, 28 bytes */
	0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, /* WGALLOWEDIP_A_FAMILY AF_INET */
	0x08, 0x00, 0x02, 0x00, 10, 4, 0, 1,            /* WGALLOWEDIP_A_IPADDR 10.4.0.1 */
	0x05, 0x00, 0x03, 0x00, 0x20, 0x00, 0x00, 0x00, /* WGALLOWEDIP_A_CIDR_MASK 32 */
};

static void test_small_device_matches_golden_bytes(void **state)
{
	struct kilo_wg_config *config = kilo_wg_config_new(1);
	struct kilo_genl_cursor cursor = { 0 };
	struct kilo_wg_peer *peer;
	struct kilo_cidr ip = cidr("10.4.0.1/32");
	uint8_t buf[PAGE];
	size_t len = 0;

	(void)state;
	config->has_listen_port = true;
	config->listen_port = 51820;
	config->replace_peers = true;
	peer = add_peer(config, 0x01);
	peer->flags = KILO_WG_PEER_REPLACE_ALLOWED_IPS;
	assert_int_equal(kilo_endpoint_parse("10.0.0.1:51820", &peer->endpoint, NULL), 0);
	peer->persistent_keepalive = 25;
	assert_int_equal(kilo_wg_peer_add_allowed_ip(config, peer, &ip), 0);
	assert_int_equal(kilo_genl_set_next(config, "wg0", FAMILY, 1, &cursor, buf, sizeof(buf), &len, NULL), 0);
	assert_true(cursor.done);
	assert_int_equal(cursor.peers, 1);
	assert_int_equal(len, sizeof(golden));
	assert_memory_equal(buf, golden, sizeof(golden));
	kilo_wg_config_free(config);
}

/* What one peer nest of a set message says. */
struct fragment {
	int index;        /* from the key byte pattern, -1 if none */
	uint32_t flags;
	bool has_keepalive;
	size_t n_ips, n_removed;
};

static int ip_flags(const struct nlattr *nest)
{
	const struct nlattr *attr;

	mnl_attr_for_each_nested(attr, nest)
		if (mnl_attr_get_type(attr) == WGALLOWEDIP_A_FLAGS)
			return (int)mnl_attr_get_u32(attr);
	return 0;
}

static struct fragment read_fragment(const struct nlattr *nest)
{
	struct fragment f = { .index = -1 };
	const struct nlattr *attr, *ip;

	mnl_attr_for_each_nested(attr, nest) {
		switch (mnl_attr_get_type(attr)) {
		case WGPEER_A_PUBLIC_KEY: {
			const uint8_t *key = mnl_attr_get_payload(attr);

			f.index = key[0] | key[1] << 8;
			break;
		}
		case WGPEER_A_FLAGS:
			f.flags = mnl_attr_get_u32(attr);
			break;
		case WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
			f.has_keepalive = true;
			break;
		case WGPEER_A_ALLOWEDIPS:
			mnl_attr_for_each_nested(ip, attr) {
				if (ip_flags(ip) & WGALLOWEDIP_F_REMOVE_ME)
					f.n_removed++;
				else
					f.n_ips++;
			}
			break;
		}
	}
	return f;
}

/* 1,000 peers with 3 allowed IPs each, and one with 600 that must span several messages. */
static struct kilo_wg_config *big_config(size_t n)
{
	struct kilo_wg_config *config = kilo_wg_config_new(n);

	config->has_private_key = true;
	memset(config->private_key.bytes, 0x77, KILO_KEY_LEN);
	config->replace_peers = true;
	for (size_t i = 0; i < n; i++) {
		struct kilo_wg_peer *peer = kilo_wg_config_add_peer(config);
		size_t ips = i == n / 2 ? 600 : 3;

		peer->public_key.bytes[0] = (uint8_t)i;
		peer->public_key.bytes[1] = (uint8_t)(i >> 8);
		peer->flags = KILO_WG_PEER_REPLACE_ALLOWED_IPS;
		peer->persistent_keepalive = 10;
		for (size_t j = 0; j < ips; j++) {
			struct kilo_cidr ip = { .addr = { .family = 4, .bytes = { 10, (uint8_t)(i >> 8), (uint8_t)i, (uint8_t)j } },
						.prefix = 32 };

			assert_int_equal(kilo_wg_peer_add_allowed_ip(config, peer, &ip), 0);
		}
	}
	return config;
}

static void test_large_configuration_splits_into_pages_with_right_flags(void **state)
{
	const size_t n = 1000;
	struct kilo_wg_config *config = big_config(n);
	struct kilo_genl_cursor cursor = { 0 };
	size_t *ips = calloc(n, sizeof(*ips)), messages = 0;
	int *heads = calloc(n, sizeof(*heads)), last = -1;
	uint8_t buf[PAGE];

	(void)state;
	while (!cursor.done) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		const struct nlattr *attr, *peer;
		size_t len = 0;
		bool device_flags = false, private_key = false;

		assert_int_equal(kilo_genl_set_next(config, "wg-big", FAMILY, (uint32_t)messages, &cursor, buf, sizeof(buf), &len,
						    NULL), 0);
		assert_true(len <= PAGE);
		assert_int_equal(nlh->nlmsg_len, len);
		mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
			if (mnl_attr_get_type(attr) == WGDEVICE_A_FLAGS)
				device_flags = true;
			if (mnl_attr_get_type(attr) == WGDEVICE_A_PRIVATE_KEY)
				private_key = true;
			if (mnl_attr_get_type(attr) != WGDEVICE_A_PEERS)
				continue;
			mnl_attr_for_each_nested(peer, attr) {
				struct fragment f = read_fragment(peer);

				assert_in_range(f.index, 0, (int)n - 1);
				if (f.index == last) {
					/* A continuation: the key again, no flags, nothing but allowed IPs. */
					assert_int_equal(f.flags, 0);
					assert_false(f.has_keepalive);
					assert_true(f.n_ips > 0);
				} else {
					assert_int_equal(f.index, last + 1);
					assert_int_equal(f.flags, WGPEER_F_REPLACE_ALLOWEDIPS);
					assert_true(f.has_keepalive);
					heads[f.index]++;
				}
				ips[f.index] += f.n_ips;
				last = f.index;
			}
		}
		/* REPLACE_PEERS in a later message would drop the peers of the earlier ones. */
		assert_int_equal(device_flags, messages == 0);
		assert_int_equal(private_key, messages == 0);
		messages++;
	}
	assert_true(messages > 10);
	assert_int_equal(cursor.peers, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(heads[i], 1);
		assert_int_equal(ips[i], i == n / 2 ? 600 : 3);
	}
	free(ips);
	free(heads);
	kilo_wg_config_free(config);
}

static void test_peer_removal_and_allowed_ip_removal(void **state)
{
	struct kilo_wg_config *config = kilo_wg_config_new(2);
	struct kilo_genl_cursor cursor = { 0 };
	struct kilo_cidr keep = cidr("10.1.0.0/24"), gone = cidr("fd00::/64");
	struct kilo_wg_peer *peer;
	uint8_t buf[PAGE];
	const struct nlattr *attr, *nest;
	struct fragment f[2];
	size_t len = 0, i = 0;

	(void)state;
	peer = add_peer(config, 0);
	peer->flags = KILO_WG_PEER_REMOVE;
	assert_int_equal(kilo_wg_peer_add_allowed_ip(config, peer, &keep), 0);
	peer = add_peer(config, 1);
	peer->flags = KILO_WG_PEER_REMOVE_ALLOWED_IPS | KILO_WG_PEER_UPDATE_ONLY;
	assert_int_equal(kilo_wg_peer_add_allowed_ip(config, peer, &keep), 0);
	peer->removed_allowed_ips = &gone;
	peer->n_removed_allowed_ips = 1;
	assert_int_equal(kilo_genl_set_next(config, "wg0", FAMILY, 1, &cursor, buf, sizeof(buf), &len, NULL), 0);
	assert_true(cursor.done);
	mnl_attr_for_each(attr, (const struct nlmsghdr *)buf, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(attr) != WGDEVICE_A_PEERS)
			continue;
		mnl_attr_for_each_nested(nest, attr) {
			assert_true(i < 2);
			f[i++] = read_fragment(nest);
		}
	}
	assert_int_equal(i, 2);
	/* A removed peer is its key and the flag, nothing else. */
	assert_int_equal(f[0].flags, WGPEER_F_REMOVE_ME);
	assert_false(f[0].has_keepalive);
	assert_int_equal(f[0].n_ips + f[0].n_removed, 0);
	assert_int_equal(f[1].flags, WGPEER_F_UPDATE_ONLY);
	assert_int_equal(f[1].n_ips, 1);
	assert_int_equal(f[1].n_removed, 1);
	kilo_wg_config_free(config);
}

static void test_dns_endpoint_is_refused_with_the_peer_named(void **state)
{
	struct kilo_wg_config *config = kilo_wg_config_new(1);
	struct kilo_genl_cursor cursor = { 0 };
	struct kilo_error err = { 0 };
	struct kilo_wg_peer *peer = add_peer(config, 0);
	uint8_t buf[PAGE];
	size_t len = 0;

	(void)state;
	assert_int_equal(kilo_endpoint_parse("vpn.example.com:51820", &peer->endpoint, NULL), 0);
	assert_int_equal(kilo_genl_set_next(config, "wg0", FAMILY, 1, &cursor, buf, sizeof(buf), &len, &err), -EINVAL);
	assert_non_null(strstr(err.message, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
	assert_non_null(strstr(err.message, "vpn.example.com:51820"));
	kilo_wg_config_free(config);
}

static void test_resolved_name_sends_its_address(void **state)
{
	struct kilo_wg_config *config = kilo_wg_config_new(1);
	struct kilo_genl_cursor cursor = { 0 };
	struct kilo_wg_peer *peer = add_peer(config, 0);
	struct sockaddr_in want = { .sin_family = AF_INET, .sin_port = htons(51820) };
	const struct nlattr *attr, *peers, *nest, *a;
	uint8_t buf[PAGE];
	size_t len = 0;
	bool found = false;

	(void)state;
	assert_int_equal(kilo_endpoint_parse("vpn.example.com:51820", &peer->endpoint, NULL), 0);
	assert_int_equal(kilo_addr_parse("192.0.2.9", &peer->endpoint.addr, NULL), 0);
	memcpy(&want.sin_addr, peer->endpoint.addr.bytes, 4);
	assert_int_equal(kilo_genl_set_next(config, "wg0", FAMILY, 1, &cursor, buf, sizeof(buf), &len, NULL), 0);
	mnl_attr_for_each(attr, (const struct nlmsghdr *)buf, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(attr) != WGDEVICE_A_PEERS)
			continue;
		peers = attr;
		mnl_attr_for_each_nested(nest, peers) {
			mnl_attr_for_each_nested(a, nest) {
				if (mnl_attr_get_type(a) != WGPEER_A_ENDPOINT)
					continue;
				assert_int_equal(mnl_attr_get_payload_len(a), sizeof(want));
				assert_memory_equal(mnl_attr_get_payload(a), &want, sizeof(want));
				found = true;
			}
		}
	}
	assert_true(found);
	kilo_wg_config_free(config);
}

static void test_buffer_too_small_for_one_peer_is_an_error_not_a_loop(void **state)
{
	struct kilo_wg_config *config = big_config(2);
	struct kilo_genl_cursor cursor = { 0 };
	uint8_t buf[64];
	size_t len = 0;
	int r = 0;

	(void)state;
	for (int i = 0; i < 4 && r == 0 && !cursor.done; i++)
		r = kilo_genl_set_next(config, "wg0", FAMILY, 1, &cursor, buf, sizeof(buf), &len, NULL);
	assert_int_equal(r, -E2BIG);
	kilo_wg_config_free(config);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_device_matches_golden_bytes),
		cmocka_unit_test(test_large_configuration_splits_into_pages_with_right_flags),
		cmocka_unit_test(test_peer_removal_and_allowed_ip_removal),
		cmocka_unit_test(test_dns_endpoint_is_refused_with_the_peer_named),
		cmocka_unit_test(test_resolved_name_sends_its_address),
		cmocka_unit_test(test_buffer_too_small_for_one_peer_is_an_error_not_a_loop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
