/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libkilo side of the real-kernel test, run inside the VM by init.sh:
 *   vm_test api                         device life cycle, 1,000 peers, diffs, IPIP
 *   vm_test node IF SEED PORT PEERSEED PEER_ENDPOINT PEER_ALLOWED
 *                                       one end of a two-namespace tunnel
 *   vm_test handshake IF                the device has completed a handshake
 * Keys are derived from one-byte seeds so that each end knows the other's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kilo/kilo.h>

#include "core/strbuf.h"
#include "core/wgconf.h"

#define IF "kt-vm0"
#define N_PEERS 1000

static int passed, failed;

static void check(bool ok, const char *what, const struct kilo_error *err)
{
	if (ok)
		passed++;
	else
		failed++;
	printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", what, !ok && err && err->code ? ": " : "",
	       !ok && err && err->code ? err->message : "");
}

static void seed_key(int seed, struct kilo_key *priv, struct kilo_key *pub)
{
	memset(priv->bytes, seed, KILO_KEY_LEN);
	priv->bytes[0] &= 248;
	priv->bytes[31] = (priv->bytes[31] & 127) | 64;
	kilo_key_public(priv, pub, NULL);
}

static void peer_key(size_t i, struct kilo_key *key)
{
	memset(key, 0, sizeof(*key));
	key->bytes[0] = 0x42;
	key->bytes[1] = (uint8_t)i;
	key->bytes[2] = (uint8_t)(i >> 8);
}

/* The text of a device with n peers; peer `changed` gets another endpoint. */
static kilo_wg_config *device_text(size_t n, size_t changed)
{
	struct kilo_strbuf sb = { 0 };
	struct kilo_key priv, pub;
	char key[KILO_KEY_B64_LEN + 1], *text;
	kilo_wg_config *config = NULL;
	struct kilo_error err = { 0 };

	seed_key(7, &priv, &pub);
	kilo_key_format(&priv, key);
	kilo_strbuf_printf(&sb, "[Interface]\nPrivateKey = %s\nListenPort = 51000\n", key);
	for (size_t i = 0; i < n; i++) {
		peer_key(i, &pub);
		kilo_key_format(&pub, key);
		kilo_strbuf_printf(&sb, "[Peer]\nPublicKey = %s\nAllowedIPs = 10.%zu.%zu.0/24, fd00::%zx/128, 172.16.%zu.%zu/32\n",
				   key, i >> 8, i & 255, i, i >> 8, i & 255);
		if (i % 2)
			kilo_strbuf_printf(&sb, "Endpoint = 192.0.2.%zu:%d\nPersistentKeepalive = 25\n", i % 250 + 1,
					   i == changed ? 40000 : 51820);
		if (i % 7 == 0)
			kilo_strbuf_printf(&sb, "PresharedKey = %s\n", key);
	}
	if (kilo_strbuf_finish(&sb, &text) == 0) {
		if (kilo_wg_config_parse(text, strlen(text), &config, &err) < 0)
			fprintf(stderr, "parse: %s\n", err.message);
		free(text);
	}
	return config;
}

static bool has_ip(const struct kilo_wg_peer *peer, const struct kilo_cidr *cidr)
{
	for (size_t i = 0; i < peer->n_allowed_ips; i++)
		if (kilo_cidr_equal(&peer->allowed_ips[i], cidr))
			return true;
	return false;
}

/* Every peer of desired is in live, in order, field by field. */
static bool same_peers(const struct kilo_wg_config *live, const struct kilo_wg_config *desired)
{
	if (live->n_peers != desired->n_peers)
		return false;
	for (size_t i = 0; i < desired->n_peers; i++) {
		const struct kilo_wg_peer *a = &live->peers[i], *b = &desired->peers[i];

		if (!kilo_key_equal(&a->public_key, &b->public_key) || a->n_allowed_ips != b->n_allowed_ips ||
		    a->persistent_keepalive != b->persistent_keepalive || a->has_preshared_key != b->has_preshared_key ||
		    (b->has_preshared_key && !kilo_key_equal(&a->preshared_key, &b->preshared_key)) ||
		    kilo_endpoint_is_set(&a->endpoint) != kilo_endpoint_is_set(&b->endpoint) ||
		    (kilo_endpoint_is_set(&b->endpoint) && !kilo_endpoint_equal(&a->endpoint, &b->endpoint)))
			return false;
		for (size_t j = 0; j < b->n_allowed_ips; j++)
			if (!has_ip(a, &b->allowed_ips[j]))
				return false;
	}
	return true;
}

/* All that command prints on stdout, or NULL. Free with free. */
static char *command_output(const char *command)
{
	FILE *p = popen(command, "r");
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	char buf[4096];
	size_t n;

	while (p && out && (n = fread(buf, 1, sizeof(buf), p)) > 0)
		fwrite(buf, 1, n, out);
	if (out)
		fclose(out);
	if (!p || pclose(p) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static void test_peers(kilo_wg *wg)
{
	struct kilo_error err = { 0 };
	struct kilo_wg_counters before, after;
	struct kilo_wg_sync_report report;
	kilo_wg_config *desired = device_text(N_PEERS, SIZE_MAX), *live = NULL, *change;
	struct kilo_key priv, pub;
	char *dump = NULL;
	size_t lines = 0;
	int r;

	kilo_wg_counters_get(wg, &before);
	r = kilo_wg_device_set(wg, IF, desired, &err);
	kilo_wg_counters_get(wg, &after);
	check(r == 0, "set 1,000 peers", &err);
	printf("     %llu messages, %llu peers\n", (unsigned long long)(after.messages - before.messages),
	       (unsigned long long)(after.peers - before.peers));
	check(after.messages - before.messages > 1, "1,000 peers took several messages", NULL);
	check(after.peers - before.peers == N_PEERS, "counted 1,000 peers once each", NULL);

	r = kilo_wg_device_get(wg, IF, &live, &err);
	check(r == 0, "read the device back", &err);
	seed_key(7, &priv, &pub);
	check(r == 0 && live->has_public_key && kilo_key_equal(&live->public_key, &pub) && live->listen_port == 51000,
	      "public key and listen port read back", NULL);
	check(r == 0 && same_peers(live, desired), "every peer read back equals the one set", NULL);
	if (r == 0 && kilo_wg_config_format_dump(live, &dump, NULL) == 0)
		for (char *p = dump; *p; p++)
			lines += *p == '\n';
	check(lines == N_PEERS + 1, "the dump has the interface and 1,000 peer lines", NULL);
	if (dump && access("/usr/bin/wg", X_OK) == 0) {
		char *theirs = command_output("/usr/bin/wg show " IF " dump");

		check(theirs && strcmp(theirs, dump) == 0, "wg show dump prints what libkilo read", NULL);
		free(theirs);
	}
	kilo_free(dump);
	kilo_wg_config_free(live);
	kilo_wg_config_free(desired);

	/* One changed endpoint: the diff sends that peer only. */
	desired = device_text(N_PEERS, 501);
	kilo_wg_counters_get(wg, &before);
	r = kilo_wg_device_sync(wg, IF, desired, &report, &err);
	kilo_wg_counters_get(wg, &after);
	check(r == 0 && report.peers_changed == 1 && after.peers - before.peers == 1 &&
		      after.messages - before.messages == 1,
	      "one changed peer sends one peer in one message", &err);
	live = NULL;
	r = kilo_wg_device_get(wg, IF, &live, &err);
	check(r == 0 && same_peers(live, desired), "the changed peer reads back", &err);
	kilo_wg_config_free(live);

	kilo_wg_counters_get(wg, &before);
	r = kilo_wg_device_sync(wg, IF, desired, &report, &err);
	kilo_wg_counters_get(wg, &after);
	check(r == 0 && after.set_operations == before.set_operations, "an unchanged device sends nothing", &err);
	kilo_wg_config_free(desired);

	/* Removing peers. */
	desired = device_text(900, 501);
	r = kilo_wg_device_sync(wg, IF, desired, &report, &err);
	live = NULL;
	if (r == 0)
		r = kilo_wg_device_get(wg, IF, &live, &err);
	check(r == 0 && report.peers_changed == 100 && same_peers(live, desired), "100 peers removed", &err);
	if (r == 0)
		printf("     %u peers changed, %zu left\n", report.peers_changed, live->n_peers);
	kilo_wg_config_free(live);

	/* Taking one allowed IP from a peer (a rewrite into a replacement on kernels before 6.16). */
	change = kilo_wg_config_new(1);
	{
		struct kilo_wg_peer *peer = kilo_wg_config_add_peer(change);

		peer->public_key = desired->peers[0].public_key;
		peer->flags = KILO_WG_PEER_REMOVE_ALLOWED_IPS;
		peer->removed_allowed_ips = &desired->peers[0].allowed_ips[1];
		peer->n_removed_allowed_ips = 1;
	}
	r = kilo_wg_device_set(wg, IF, change, &err);
	live = NULL;
	if (r == 0)
		r = kilo_wg_device_get(wg, IF, &live, &err);
	check(r == 0 && live->peers[0].n_allowed_ips == 2 && !has_ip(&live->peers[0], &desired->peers[0].allowed_ips[1]) &&
		      has_ip(&live->peers[0], &desired->peers[0].allowed_ips[0]) && live->n_peers == 900,
	      "one allowed IP removed from one peer", &err);
	kilo_wg_config_free(live);
	kilo_wg_config_free(change);
	kilo_wg_config_free(desired);
}

static void test_errors(kilo_wg *wg)
{
	struct kilo_error err = { 0 };
	kilo_wg_config *live = NULL;
	int r;

	r = kilo_wg_device_get(wg, "kt-nothere", &live, &err);
	check(r == -ENODEV && strstr(err.message, "kt-nothere"), "an unknown device is -ENODEV, named", &err);
	printf("     %s\n", err.message);
	memset(&err, 0, sizeof(err));
	r = kilo_wg_device_get(wg, "lo", &live, &err);
	check(r == -ENODEV && strstr(err.message, "not WireGuard"), "lo is not a WireGuard device", &err);
	printf("     %s\n", err.message);
}

static void test_ipip(void)
{
	struct kilo_error err = { 0 };
	struct kilo_link_opts up = { .sz = sizeof(up) };
	struct kilo_route route = { 0 }, *routes = NULL;
	struct kilo_net_changes changes = { 0 };
	kilo_net *net = NULL;
	size_t n = 0;
	int ifindex = 0, r;
	bool found = false;

	r = kilo_net_open(&net, &err);
	if (r == 0)
		r = kilo_net_ipip_create(net, "tunl0", &ifindex, &err);
	/*
	 * As Kilo does, the tunnel is the ipip module's own tunl0: a second
	 * tunnel without local and remote addresses would collide with it.
	 */
	check(r == 0 && ifindex > 0, "IPIP tunnel tunl0", &err);
	if (r == 0)
		r = kilo_net_link_set(net, ifindex, &up, &changes, &err);
	kilo_cidr_parse("10.99.0.0/24", &route.dst, NULL);
	route.ifindex = ifindex;
	if (r == 0)
		r = kilo_net_routes_sync(net, &route, 1, &changes, &err);
	if (r == 0)
		r = kilo_net_routes_list(net, &routes, &n, &err);
	for (size_t i = 0; r == 0 && i < n; i++)
		found |= routes[i].ifindex == ifindex && kilo_cidr_equal(&routes[i].dst, &route.dst);
	check(r == 0 && found, "route 10.99.0.0/24 through the IPIP tunnel", &err);
	kilo_free(routes);
	if (net) {
		r = kilo_net_routes_sync(net, NULL, 0, &changes, &err);
		check(r == 0 && changes.removed == 1, "the IPIP route removed", &err);
	}
	kilo_net_close(net);
}

static int run_api(void)
{
	struct kilo_wg_opts opts = { .sz = sizeof(opts), .backend = KILO_WG_BACKEND_KERNEL };
	struct kilo_error err = { 0 };
	kilo_wg_config *live = NULL;
	kilo_wg *wg = NULL;
	int r;

	r = kilo_wg_open(&opts, &wg, &err);
	check(r == 0, "open the kernel backend", &err);
	if (r == 0) {
		r = kilo_wg_device_create(wg, IF, &err);
		check(r == 1, "create link " IF, &err);
		r = kilo_wg_device_create(wg, IF, &err);
		check(r == 0, "creating it again is a no-op", &err);
		test_peers(wg);
		test_errors(wg);
		memset(&err, 0, sizeof(err));
		r = kilo_wg_device_delete(wg, IF, &err);
		check(r == 0, "delete link " IF, &err);
		r = kilo_wg_device_get(wg, IF, &live, NULL);
		check(r == -ENODEV, "the deleted link is gone", NULL);
		kilo_wg_close(wg);
	}
	test_ipip();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

/* One end of the tunnel: the device with our key and the other end as peer. */
static int run_node(char **argv)
{
	struct kilo_wg_opts opts = { .sz = sizeof(opts), .backend = KILO_WG_BACKEND_KERNEL };
	struct kilo_error err = { 0 };
	struct kilo_key priv, pub, peer_priv, peer_pub;
	char text[512], k1[KILO_KEY_B64_LEN + 1], k2[KILO_KEY_B64_LEN + 1];
	kilo_wg_config *desired = NULL;
	kilo_wg *wg = NULL;
	int r;

	seed_key(atoi(argv[3]), &priv, &pub);
	seed_key(atoi(argv[5]), &peer_priv, &peer_pub);
	kilo_key_format(&priv, k1);
	kilo_key_format(&peer_pub, k2);
	snprintf(text, sizeof(text),
		 "[Interface]\nPrivateKey = %s\nListenPort = %s\n[Peer]\nPublicKey = %s\nEndpoint = %s\nAllowedIPs = %s\n",
		 k1, argv[4], k2, argv[6], argv[7]);
	r = kilo_wg_config_parse(text, strlen(text), &desired, &err);
	if (r == 0)
		r = kilo_wg_open(&opts, &wg, &err);
	if (r == 0)
		r = kilo_wg_device_create(wg, argv[2], &err);
	if (r >= 0)
		r = kilo_wg_device_sync(wg, argv[2], desired, NULL, &err);
	if (r < 0)
		fprintf(stderr, "node %s: %s\n", argv[2], err.message);
	kilo_wg_config_free(desired);
	kilo_wg_close(wg);
	return r < 0;
}

static int run_handshake(const char *ifname)
{
	struct kilo_wg_opts opts = { .sz = sizeof(opts), .backend = KILO_WG_BACKEND_KERNEL };
	struct kilo_error err = { 0 };
	kilo_wg_config *live = NULL;
	kilo_wg *wg = NULL;
	int r = kilo_wg_open(&opts, &wg, &err);

	if (r == 0)
		r = kilo_wg_device_get(wg, ifname, &live, &err);
	if (r == 0)
		r = live->n_peers == 1 && live->peers[0].last_handshake_sec > 0 && live->peers[0].rx_bytes > 0 ? 0 : -EPROTO;
	if (r == 0)
		printf("%s: handshake done, %llu bytes received\n", ifname, (unsigned long long)live->peers[0].rx_bytes);
	else
		fprintf(stderr, "%s: no handshake %s\n", ifname, err.message);
	kilo_wg_config_free(live);
	kilo_wg_close(wg);
	return r < 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "api") == 0)
		return run_api();
	if (argc == 8 && strcmp(argv[1], "node") == 0)
		return run_node(argv);
	if (argc == 3 && strcmp(argv[1], "handshake") == 0)
		return run_handshake(argv[2]);
	fprintf(stderr, "usage: vm_test api | node IF SEED PORT PEERSEED PEER_ENDPOINT PEER_ALLOWED | handshake IF\n");
	return 2;
}
