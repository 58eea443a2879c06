/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libkilo against a real wireguard-go, through the public API only. Run by
 * run.sh inside a namespace as `wg_userspace STAGE IFNAME`; the stages run
 * in order: apply, change, remove, missing, spawn, delete. apply, change
 * and remove print the device as `wg show IF dump` would, for run.sh to
 * compare with wg's own output.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kilo/kilo.h>

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			exit(1);                                               \
		}                                                              \
	} while (0)

#define PRIVATE_KEY "GBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGFg="
#define PSK_1 "BAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ="
#define PSK_3 "BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU="

/* Public key of peer i: real Curve25519 keys, the same in every stage. */
static void peer_key(unsigned i, char out[KILO_KEY_B64_LEN + 1])
{
	struct kilo_key private_key, public_key;

	memset(private_key.bytes, (int)(0x40 + i), sizeof(private_key.bytes));
	private_key.bytes[0] &= 248;
	private_key.bytes[31] = (private_key.bytes[31] & 127) | 64;
	CHECK(kilo_key_public(&private_key, &public_key, NULL) == 0, "public key %u", i);
	kilo_key_format(&public_key, out);
}

/* The device of each stage: peer 2's endpoint moves in "change", peer 3 goes in "remove". */
static kilo_wg_config *desired(const char *stage, unsigned listen_port)
{
	char k1[KILO_KEY_B64_LEN + 1], k2[KILO_KEY_B64_LEN + 1], k3[KILO_KEY_B64_LEN + 1], text[2048];
	bool changed = strcmp(stage, "apply") != 0, removed = strcmp(stage, "remove") == 0;
	struct kilo_error err = { 0 };
	kilo_wg_config *config = NULL;
	int n;

	peer_key(1, k1);
	peer_key(2, k2);
	peer_key(3, k3);
	n = snprintf(text, sizeof(text),
		     "[Interface]\nPrivateKey = " PRIVATE_KEY "\nListenPort = %u\n\n"
		     "[Peer]\nPublicKey = %s\nPresharedKey = " PSK_1 "\nEndpoint = 10.0.0.1:51820\n"
		     "AllowedIPs = 10.1.0.0/24, fd00:1::/64\nPersistentKeepalive = 25\n\n"
		     "[Peer]\nPublicKey = %s\nEndpoint = %s\nAllowedIPs = 10.2.0.0/24\n\n"
		     "%s%s%s",
		     listen_port, k1, k2, changed ? "[fd00::2]:51829" : "[fd00::2]:51821", removed ? "" : "[Peer]\nPublicKey = ",
		     removed ? "" : k3,
		     removed ? "" : "\nPresharedKey = " PSK_3 "\nEndpoint = 192.0.2.3:51822\n"
				    "AllowedIPs = 10.3.0.1/32, 10.3.1.0/24\nPersistentKeepalive = 10\n");
	CHECK(n > 0 && (size_t)n < sizeof(text), "text too long");
	CHECK(kilo_wg_config_parse(text, strlen(text), &config, &err) == 0, "%s", err.message);
	return config;
}

static kilo_wg *open_wg(enum kilo_wg_backend backend, const char *program, const char *socket_dir)
{
	struct kilo_wg_opts opts = { .sz = sizeof(opts), .backend = backend, .userspace_program = program,
				     .socket_dir = socket_dir };
	struct kilo_error err = { 0 };
	kilo_wg *wg = NULL;

	CHECK(kilo_wg_open(&opts, &wg, &err) == 0, "%s", err.message);
	return wg;
}

static kilo_wg_config *get(kilo_wg *wg, const char *ifname)
{
	struct kilo_error err = { 0 };
	kilo_wg_config *live = NULL;

	CHECK(kilo_wg_device_get(wg, ifname, &live, &err) == 0, "%s", err.message);
	return live;
}

static size_t changed_peers(const kilo_wg_config *from, const kilo_wg_config *to)
{
	kilo_wg_config *change = NULL;
	size_t n;

	CHECK(kilo_wg_config_diff(from, to, &change, NULL) == 0, "diff");
	n = change ? kilo_wg_config_peer_count(change) : 0;
	kilo_wg_config_free(change);
	return n;
}

static void print_dump(const kilo_wg_config *config)
{
	char *dump = NULL;

	CHECK(kilo_wg_config_format_dump(config, &dump, NULL) == 0, "dump");
	fputs(dump, stdout);
	kilo_free(dump);
}

/* Sets desired(stage) as the diff against the device, and checks the device then matches it. */
static void apply(const char *stage, const char *ifname, size_t expect_peers)
{
	kilo_wg *wg = open_wg(KILO_WG_BACKEND_AUTO, NULL, NULL);
	kilo_wg_config *want = desired(stage, 51820), *before = get(wg, ifname), *change = NULL, *after;
	struct kilo_wg_counters counters;
	struct kilo_error err = { 0 };

	CHECK(kilo_wg_backend_of(wg, ifname) == KILO_WG_BACKEND_USERSPACE, "backend of %s", ifname);
	if (strcmp(stage, "apply") == 0) {
		/* A whole parsed configuration is a valid change too. */
		change = want;
	} else {
		CHECK(kilo_wg_config_diff(before, want, &change, NULL) == 0, "diff");
		CHECK(change && kilo_wg_config_peer_count(change) == expect_peers, "%zu peers in the change",
		      change ? kilo_wg_config_peer_count(change) : 0);
	}
	CHECK(kilo_wg_device_set(wg, ifname, change, &err) == 0, "%s", err.message);
	kilo_wg_counters_get(wg, &counters);
	CHECK(counters.set_operations == 1 && counters.messages == 1 && counters.peers == expect_peers,
	      "counters %llu %llu %llu", (unsigned long long)counters.set_operations,
	      (unsigned long long)counters.messages, (unsigned long long)counters.peers);
	after = get(wg, ifname);
	CHECK(changed_peers(after, want) == 0, "the device differs from what was set");
	if (strcmp(stage, "apply") != 0)
		CHECK(changed_peers(before, after) == expect_peers, "other peers changed too");
	/* A second reconcile has nothing to send. */
	CHECK(kilo_wg_device_set(wg, ifname, NULL, &err) == 0, "%s", err.message);
	kilo_wg_counters_get(wg, &counters);
	CHECK(counters.set_operations == 1, "an empty change was sent");
	print_dump(after);
	if (change != want)
		kilo_wg_config_free(change);
	kilo_wg_config_free(want);
	kilo_wg_config_free(before);
	kilo_wg_config_free(after);
	kilo_wg_close(wg);
}

static void expect_error(int r, const struct kilo_error *err, int code, const char *text)
{
	CHECK(r == -code, "returned %d, wanted %d (%s)", r, -code, err->message);
	CHECK(strstr(err->message, text), "\"%s\" lacks \"%s\"", err->message, text);
}

static void missing(const char *ifname)
{
	kilo_wg *wg = open_wg(KILO_WG_BACKEND_USERSPACE, NULL, "/nonexistent/kt-wg");
	kilo_wg_config *config = NULL;
	struct kilo_error err = { 0 };
	char name[32];

	expect_error(kilo_wg_device_get(wg, ifname, &config, &err), &err, ENODEV,
		     "no userspace socket /nonexistent/kt-wg/");
	CHECK(config == NULL, "config on failure");
	memset(&err, 0, sizeof(err));
	expect_error(kilo_wg_device_create(wg, ifname, &err), &err, ENODEV,
		     "pass a userspace program such as wireguard-go");
	kilo_wg_close(wg);

	wg = open_wg(KILO_WG_BACKEND_AUTO, NULL, NULL);
	snprintf(name, sizeof(name), "%.12sX", ifname);
	memset(&err, 0, sizeof(err));
	if (kilo_wg_backend_of(wg, name) == KILO_WG_BACKEND_USERSPACE)
		expect_error(kilo_wg_device_get(wg, name, &config, &err), &err, ENODEV,
			     "no wireguard kernel module and no userspace socket /var/run/wireguard/");
	memset(&err, 0, sizeof(err));
	expect_error(kilo_wg_device_get(wg, "bad/name", &config, &err), &err, EINVAL, "\"bad/name\"");
	kilo_wg_close(wg);
}

/*
 * libkilo starts the userspace program for a new device, its output going
 * where the handle says, and stops it again.
 */
static void spawn(const char *ifname)
{
	kilo_wg *wg = open_wg(KILO_WG_BACKEND_USERSPACE, "wireguard-go", NULL);
	kilo_wg_config *want = desired("apply", 51830), *live;
	struct kilo_error err = { 0 };
	char path[128], log_path[] = "/tmp/kt-wg-output-XXXXXX";
	int log_fd = mkstemp(log_path);
	struct stat st;

	CHECK(log_fd >= 0, "mkstemp");
	unlink(log_path);
	/* wireguard-go tells its start at this level; the child inherits the environment. */
	setenv("LOG_LEVEL", "verbose", 1);
	kilo_wg_set_output(wg, log_fd);
	snprintf(path, sizeof(path), "/var/run/wireguard/%s.sock", ifname);
	CHECK(kilo_wg_device_create(wg, ifname, &err) == 1, "%s", err.message);
	CHECK(fstat(log_fd, &st) == 0 && st.st_size > 0, "wireguard-go wrote nothing to the handle's output");
	close(log_fd);
	CHECK(stat(path, &st) == 0, "no %s", path);
	CHECK(kilo_wg_device_create(wg, ifname, &err) == 0, "second create: %s", err.message);
	CHECK(kilo_wg_device_set(wg, ifname, want, &err) == 0, "%s", err.message);
	live = get(wg, ifname);
	CHECK(kilo_wg_config_peer_count(live) == 3, "peers");
	CHECK(kilo_wg_device_delete(wg, ifname, &err) == 0, "%s", err.message);
	CHECK(stat(path, &st) < 0 && errno == ENOENT, "%s still there", path);
	kilo_wg_config_free(live);
	kilo_wg_config_free(want);
	kilo_wg_close(wg);
}

/* A userspace device libkilo did not start is stopped by removing its socket. */
static void delete(const char *ifname)
{
	kilo_wg *wg = open_wg(KILO_WG_BACKEND_AUTO, NULL, NULL);
	struct kilo_error err = { 0 };

	CHECK(kilo_wg_device_delete(wg, ifname, &err) == 0, "%s", err.message);
	memset(&err, 0, sizeof(err));
	expect_error(kilo_wg_device_delete(wg, ifname, &err), &err, ENODEV, "no");
	kilo_wg_close(wg);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s apply|change|remove|missing|spawn|delete IFNAME\n", argv[0]);
		return 2;
	}
	if (strcmp(argv[1], "apply") == 0)
		apply(argv[1], argv[2], 3);
	else if (strcmp(argv[1], "change") == 0 || strcmp(argv[1], "remove") == 0)
		apply(argv[1], argv[2], 1);
	else if (strcmp(argv[1], "missing") == 0)
		missing(argv[2]);
	else if (strcmp(argv[1], "spawn") == 0)
		spawn(argv[2]);
	else if (strcmp(argv[1], "delete") == 0)
		delete(argv[2]);
	else
		return 2;
	return 0;
}
