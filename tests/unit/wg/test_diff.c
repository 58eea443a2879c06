/* SPDX-License-Identifier: Apache-2.0 */
/* kilo_wg_config_diff: the smallest change from a live device to a desired one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "wg/diff.h"
#include "wg_fixture.h"

#define K1 "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
#define K2 "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="
#define K3 "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM="
#define PSK "BAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ="
#define PRIV "GBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGFg="

static const char live_text[] = "[Interface]\nPrivateKey = " PRIV "\nListenPort = 51820\n\n"
				"[Peer]\nPublicKey = " K1 "\nPresharedKey = " PSK "\nEndpoint = 192.0.2.1:51820\n"
				"AllowedIPs = 10.0.1.0/24, fd00::1/128\nPersistentKeepalive = 25\n\n"
				"[Peer]\nPublicKey = " K2 "\nEndpoint = 192.0.2.2:51820\nAllowedIPs = 10.0.2.0/24\n";

static kilo_wg_config *diff(const kilo_wg_config *live, const kilo_wg_config *desired)
{
	kilo_wg_config *change = (kilo_wg_config *)1;

	assert_int_equal(kilo_wg_config_diff(live, desired, &change, NULL), 0);
	return change;
}

static void test_same_device_gives_no_change(void **state)
{
	/* Allowed IPs in another order, with host bits and a duplicate: the same set. */
	kilo_wg_config *live = fixture_parse(live_text), *desired = fixture_parse(
		"[Interface]\nPrivateKey = " PRIV "\nListenPort = 51820\n\n"
		"[Peer]\nPublicKey = " K2 "\nEndpoint = 192.0.2.2:51820\nAllowedIPs = 10.0.2.7/24\n\n"
		"[Peer]\nPublicKey = " K1 "\nPresharedKey = " PSK "\nEndpoint = 192.0.2.1:51820\n"
		"AllowedIPs = fd00::1/128, 10.0.1.0/24, 10.0.1.0/24\nPersistentKeepalive = 25\n");

	(void)state;
	assert_null(diff(live, desired));
	kilo_wg_config_free(live);
	kilo_wg_config_free(desired);
}

static void test_roaming_endpoint_is_not_overridden(void **state)
{
	kilo_wg_config *live = fixture_parse(live_text), *desired = fixture_parse(live_text);

	(void)state;
	/* The desired peer has no endpoint; the device learnt one: leave it. */
	memset(&desired->peers[1].endpoint, 0, sizeof(desired->peers[1].endpoint));
	assert_null(diff(live, desired));
	kilo_wg_config_free(live);
	kilo_wg_config_free(desired);
}

static void test_name_that_did_not_resolve_is_no_endpoint(void **state)
{
	kilo_wg_config *live = fixture_parse(live_text), *desired = fixture_parse(live_text), *change;

	(void)state;
	/* A name without address: the device keeps the endpoint it has. */
	assert_int_equal(kilo_endpoint_parse("office.example.com:51820", &desired->peers[1].endpoint, NULL), 0);
	assert_null(diff(live, desired));
	/* Resolved to the address the device has: nothing to do either. */
	assert_int_equal(kilo_addr_parse("192.0.2.2", &desired->peers[1].endpoint.addr, NULL), 0);
	assert_null(diff(live, desired));
	/* A new peer whose name did not resolve comes without endpoint. */
	desired->peers[1].endpoint.addr = (struct kilo_addr){ 0 };
	change = diff(NULL, desired);
	assert_non_null(change);
	assert_int_equal(change->n_peers, 2);
	assert_false(kilo_endpoint_is_set(&change->peers[1].endpoint));
	kilo_wg_config_free(change);
	kilo_wg_config_free(live);
	kilo_wg_config_free(desired);
}

static void test_removed_and_added_peers(void **state)
{
	kilo_wg_config *live = fixture_parse(live_text), *desired = fixture_parse(
		"[Interface]\nPrivateKey = " PRIV "\nListenPort = 51820\n\n"
		"[Peer]\nPublicKey = " K1 "\nPresharedKey = " PSK "\nEndpoint = 192.0.2.1:51820\n"
		"AllowedIPs = 10.0.1.0/24, fd00::1/128\nPersistentKeepalive = 25\n\n"
		"[Peer]\nPublicKey = " K3 "\nAllowedIPs = 10.0.3.0/24, 10.0.4.0/24\nPersistentKeepalive = 5\n");
	kilo_wg_config *change;

	(void)state;
	change = diff(live, desired);
	assert_non_null(change);
	assert_false(change->has_interface);
	assert_int_equal(change->n_peers, 2);
	/* Removals come first, so that allowed IPs they held are free for the new peers. */
	assert_memory_equal(&change->peers[0].public_key, &live->peers[1].public_key, KILO_KEY_LEN);
	assert_int_equal(change->peers[0].flags, KILO_WG_PEER_REMOVE);
	assert_memory_equal(&change->peers[1].public_key, &desired->peers[1].public_key, KILO_KEY_LEN);
	assert_int_equal(change->peers[1].flags, KILO_WG_PEER_REPLACE_ALLOWED_IPS);
	assert_int_equal(change->peers[1].n_allowed_ips, 2);
	assert_int_equal(change->peers[1].persistent_keepalive, 5);
	assert_false(change->peers[1].has_preshared_key);
	kilo_wg_config_free(change);
	kilo_wg_config_free(live);
	kilo_wg_config_free(desired);
}

/* What kg --log-level debug reports of a reconcile: each kind of peer change, counted. */
static void test_changes_are_counted_by_kind(void **state)
{
	kilo_wg_config *live = fixture_parse(live_text), *desired = fixture_parse(
		"[Interface]\nPrivateKey = " PRIV "\nListenPort = 51820\n\n"
		"[Peer]\nPublicKey = " K1 "\nPresharedKey = " PSK "\nEndpoint = 192.0.2.1:51820\n"
		"AllowedIPs = 10.0.1.0/24, fd00::1/128\nPersistentKeepalive = 5\n\n"
		"[Peer]\nPublicKey = " K3 "\nAllowedIPs = 10.0.3.0/24\n");
	struct kilo_wg_sync_report counts = { 0 };
	kilo_wg_config *change = NULL;

	(void)state;
	assert_int_equal(kilo_wg_config_diff_counted(live, desired, &change, &counts), 0);
	assert_non_null(change);
	assert_int_equal(counts.peers_added, 1);
	assert_int_equal(counts.peers_removed, 1);
	assert_int_equal(counts.peers_updated, 1);
	kilo_wg_config_free(change);
	memset(&counts, 0, sizeof(counts));
	assert_int_equal(kilo_wg_config_diff_counted(live, live, &change, &counts), 0);
	assert_null(change);
	assert_int_equal(counts.peers_added + counts.peers_removed + counts.peers_updated, 0);
	kilo_wg_config_free(live);
	kilo_wg_config_free(desired);
}

static void test_changed_allowed_ips_are_replaced(void **state)
{
	kilo_wg_config *live = fixture_parse(live_text), *desired = fixture_parse(live_text), *change;
	struct kilo_cidr extra;

	(void)state;
	assert_int_equal(kilo_cidr_parse("10.9.0.0/16", &extra, NULL), 0);
	assert_int_equal(kilo_wg_peer_add_allowed_ip(desired, &desired->peers[1], &extra), 0);
	change = diff(live, desired);
	assert_non_null(change);
	assert_int_equal(change->n_peers, 1);
	assert_int_equal(change->peers[0].flags, KILO_WG_PEER_REPLACE_ALLOWED_IPS);
	assert_int_equal(change->peers[0].n_allowed_ips, 2);
	assert_true(kilo_cidr_equal(&change->peers[0].allowed_ips[1], &extra));
	/* Nothing else of the peer changed: its endpoint and key stay as they are. */
	assert_false(kilo_endpoint_is_set(&change->peers[0].endpoint));
	assert_false(change->peers[0].has_preshared_key);
	kilo_wg_config_free(change);
	kilo_wg_config_free(live);
	kilo_wg_config_free(desired);
}

static void test_cleared_preshared_key_is_sent_as_zero(void **state)
{
	kilo_wg_config *live = fixture_parse(live_text), *desired = fixture_parse(live_text), *change;

	(void)state;
	desired->peers[0].has_preshared_key = false;
	change = diff(live, desired);
	assert_non_null(change);
	assert_int_equal(change->n_peers, 1);
	assert_true(change->peers[0].has_preshared_key);
	assert_true(kilo_key_is_zero(&change->peers[0].preshared_key));
	assert_int_equal(change->peers[0].flags, 0);
	assert_int_equal(change->peers[0].n_allowed_ips, 0);
	kilo_wg_config_free(change);
	kilo_wg_config_free(live);
	kilo_wg_config_free(desired);
}

static void test_interface_fields_only_when_they_differ(void **state)
{
	kilo_wg_config *live = fixture_parse(live_text), *desired = fixture_parse(live_text), *change;

	(void)state;
	/* No private key in the desired device leaves the device's key alone. */
	desired->has_private_key = false;
	desired->listen_port = 51821;
	desired->has_fwmark = true;
	desired->fwmark = 0x10;
	change = diff(live, desired);
	assert_non_null(change);
	assert_true(change->has_interface);
	assert_false(change->has_private_key);
	assert_true(change->has_listen_port);
	assert_int_equal(change->listen_port, 51821);
	assert_true(change->has_fwmark);
	assert_int_equal(change->fwmark, 0x10);
	assert_int_equal(change->n_peers, 0);
	kilo_wg_config_free(change);
	kilo_wg_config_free(live);
	kilo_wg_config_free(desired);
}

static void test_no_live_device_gives_the_whole_configuration(void **state)
{
	kilo_wg_config *desired = fixture_parse(live_text), *change = diff(NULL, desired);

	(void)state;
	assert_non_null(change);
	assert_true(change->has_private_key);
	assert_int_equal(change->n_peers, 2);
	assert_true(change->peers[0].has_preshared_key || change->peers[1].has_preshared_key);
	kilo_wg_config_free(change);
	kilo_wg_config_free(desired);
}

static void test_one_changed_peer_of_ten_thousand(void **state)
{
	enum { N = 10000 };
	kilo_wg_config *live = kilo_wg_config_new(N), *desired = kilo_wg_config_new(N), *change;
	struct timespec start, end;
	double ms;

	(void)state;
	for (unsigned i = 0; i < N; i++) {
		fixture_add_peer(live, i);
		/* The desired list in another order: matching must not depend on it. */
		fixture_add_peer(desired, N - 1 - i);
	}
	assert_null(diff(live, desired));
	desired->peers[1234].persistent_keepalive = 10;
	clock_gettime(CLOCK_MONOTONIC, &start);
	change = diff(live, desired);
	clock_gettime(CLOCK_MONOTONIC, &end);
	assert_non_null(change);
	assert_int_equal(change->n_peers, 1);
	assert_memory_equal(&change->peers[0].public_key, &desired->peers[1234].public_key, KILO_KEY_LEN);
	assert_int_equal(change->peers[0].persistent_keepalive, 10);
	assert_int_equal(change->peers[0].flags, 0);
	assert_false(kilo_endpoint_is_set(&change->peers[0].endpoint));
	ms = (double)(end.tv_sec - start.tv_sec) * 1e3 + (double)(end.tv_nsec - start.tv_nsec) / 1e6;
	/* A sort, not a product: a quadratic match takes seconds here, even under sanitizers. */
	assert_true(ms < 1000);
	kilo_wg_config_free(change);
	kilo_wg_config_free(live);
	kilo_wg_config_free(desired);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_device_gives_no_change),
		cmocka_unit_test(test_roaming_endpoint_is_not_overridden),
		cmocka_unit_test(test_name_that_did_not_resolve_is_no_endpoint),
		cmocka_unit_test(test_removed_and_added_peers),
		cmocka_unit_test(test_changes_are_counted_by_kind),
		cmocka_unit_test(test_changed_allowed_ips_are_replaced),
		cmocka_unit_test(test_cleared_preshared_key_is_sent_as_zero),
		cmocka_unit_test(test_interface_fields_only_when_they_differ),
		cmocka_unit_test(test_no_live_device_gives_the_whole_configuration),
		cmocka_unit_test(test_one_changed_peer_of_ten_thousand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
