// SPDX-License-Identifier: Apache-2.0
/*
 * bench-wg: applying N peers to a WireGuard device with libkilo against
 * `wg setconf` of the same configuration, and the cost of one changed peer
 * in a device of N peers: the change alone (diff and set, as an agent that
 * knows what it applied last does) and with the device read first (sync). Run it as root inside a network namespace of its
 * own (bench/wg.sh does that); never part of the test run.
 *
 *	bench-wg --interface IF [--backend auto|kernel|userspace]
 *	         [--userspace-wireguard PATH] [--peers N]... [--runs K]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <kilo/kilo.h>

#define DEFAULT_RUNS 3

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * The configuration text of n peers: peer i has a key made from i, an
 * endpoint and two allowed IPs; with changed, peer 0's endpoint port differs.
 */
static char *config_text(unsigned n, bool changed)
{
	struct kilo_key private_key = { { 1 } }, key;
	char key_text[KILO_KEY_B64_LEN + 1], *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	if (!f)
		return NULL;
	kilo_key_format(&private_key, key_text);
	fprintf(f, "[Interface]\nPrivateKey = %s\nListenPort = 51820\n", key_text);
	for (unsigned i = 0; i < n; i++) {
		memset(&key, 0, sizeof(key));
		key.bytes[0] = 0x42;
		memcpy(key.bytes + 1, &i, sizeof(i));
		kilo_key_format(&key, key_text);
		fprintf(f, "\n[Peer]\nPublicKey = %s\nEndpoint = 198.51.%u.%u:%u\nAllowedIPs = 10.%u.%u.0/24, 10.200.%u.%u/32\n",
			key_text, (i >> 8) & 255, i & 255, changed && i == 0 ? 51821 : 51820, 128 + ((i >> 8) & 127),
			i & 255, (i >> 8) & 255, i & 255);
	}
	return fclose(f) == 0 ? text : NULL;
}

static kilo_wg_config *parse(const char *text)
{
	struct kilo_error err = { 0 };
	kilo_wg_config *config = NULL;

	if (kilo_wg_config_parse(text, strlen(text), &config, &err) < 0)
		fprintf(stderr, "bench-wg: %s\n", err.message);
	return config;
}

/* `wg setconf IF FILE`, as a process, like an operator runs it. */
static int wg_setconf(const char *ifname, const char *path)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		execlp("wg", "wg", "setconf", ifname, path, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

struct row {
	unsigned peers;
	double kilo_ms, wg_ms, change_ms, sync_ms;
	uint64_t full_messages, change_messages, change_peers;
};

/* The change from have to want, sent; the time it takes. */
static int set_change(kilo_wg *wg, const char *ifname, const kilo_wg_config *have, const kilo_wg_config *want,
		      double *ms, struct kilo_error *err)
{
	kilo_wg_config *change = NULL;
	double t = now_ms();
	int r = kilo_wg_config_diff(have, want, &change, NULL);

	if (r == 0)
		r = kilo_wg_device_set(wg, ifname, change, err);
	*ms = now_ms() - t;
	kilo_wg_config_free(change);
	return r;
}

static int sync_to(kilo_wg *wg, const char *ifname, const kilo_wg_config *config, struct kilo_error *err)
{
	return kilo_wg_device_sync(wg, ifname, config, NULL, err);
}

static int bench(kilo_wg *wg, const char *ifname, unsigned n, unsigned runs, struct row *row)
{
	char *full = config_text(n, false), *changed = config_text(n, true), *empty = config_text(0, false);
	char path[] = "/tmp/bench-wg-XXXXXX";
	kilo_wg_config *want = full ? parse(full) : NULL, *want_changed = changed ? parse(changed) : NULL;
	kilo_wg_config *nothing = empty ? parse(empty) : NULL;
	struct kilo_wg_counters before, after;
	struct kilo_error err = { 0 };
	int fd = mkstemp(path), r = -ENOMEM;
	double t;

	*row = (struct row){ .peers = n, .kilo_ms = 1e300, .wg_ms = 1e300, .change_ms = 1e300, .sync_ms = 1e300 };
	if (fd < 0 || !want || !want_changed || !nothing || write(fd, full, strlen(full)) != (ssize_t)strlen(full))
		goto out;
	for (unsigned run = 0; run < runs; run++) {
		double ms;

		/* Every full apply starts from a device without peers, as wg setconf's does. */
		r = sync_to(wg, ifname, nothing, &err);
		kilo_wg_counters_get(wg, &before);
		t = now_ms();
		r = r ? r : kilo_wg_device_set(wg, ifname, want, &err);
		if (r == 0 && now_ms() - t < row->kilo_ms)
			row->kilo_ms = now_ms() - t;
		kilo_wg_counters_get(wg, &after);
		row->full_messages = after.messages - before.messages;

		kilo_wg_counters_get(wg, &before);
		r = r ? r : set_change(wg, ifname, want, want_changed, &ms, &err);
		if (r == 0 && ms < row->change_ms)
			row->change_ms = ms;
		kilo_wg_counters_get(wg, &after);
		row->change_messages = after.messages - before.messages;
		row->change_peers = after.peers - before.peers;
		t = now_ms();
		r = r ? r : sync_to(wg, ifname, want, &err);
		if (r == 0 && now_ms() - t < row->sync_ms)
			row->sync_ms = now_ms() - t;

		r = r ? r : sync_to(wg, ifname, nothing, &err);
		t = now_ms();
		r = r ? r : wg_setconf(ifname, path);
		if (r == 0 && now_ms() - t < row->wg_ms)
			row->wg_ms = now_ms() - t;
		if (r < 0)
			break;
	}
	if (r < 0)
		fprintf(stderr, "bench-wg: %d peers: %s\n", n, err.code ? err.message : strerror(-r));
out:
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	kilo_wg_config_free(want);
	kilo_wg_config_free(want_changed);
	kilo_wg_config_free(nothing);
	free(full);
	free(changed);
	free(empty);
	return r;
}

int main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "backend", required_argument, NULL, 'b' },
		{ "userspace-wireguard", required_argument, NULL, 'u' },
		{ "peers", required_argument, NULL, 'n' },
		{ "runs", required_argument, NULL, 'r' },
		{ 0 },
	};
	struct kilo_wg_opts opts = { .sz = sizeof(opts) };
	unsigned sizes[8], n_sizes = 0, runs = DEFAULT_RUNS;
	const char *ifname = NULL;
	struct kilo_error err = { 0 };
	kilo_wg *wg = NULL;
	int c, r = 0;

	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case 'b':
			if (kilo_wg_backend_parse(optarg, &opts.backend, NULL) < 0)
				return 2;
			break;
		case 'u':
			opts.userspace_program = optarg;
			break;
		case 'n':
			if (n_sizes < 8)
				sizes[n_sizes++] = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			runs = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	if (!ifname || !runs) {
		fprintf(stderr, "usage: bench-wg --interface IF [--backend B] [--userspace-wireguard PATH] [--peers N]... [--runs K]\n");
		return 2;
	}
	if (!n_sizes) {
		sizes[n_sizes++] = 1000;
		sizes[n_sizes++] = 10000;
	}
	if (kilo_wg_open(&opts, &wg, &err) < 0 || kilo_wg_device_create(wg, ifname, &err) < 0) {
		fprintf(stderr, "bench-wg: %s\n", err.message);
		kilo_wg_close(wg);
		return 1;
	}
	printf("command:");
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\nlibkilo %s, %s backend, best of %u runs, milliseconds\n", kilo_version(),
	       kilo_wg_backend_of(wg, ifname) == KILO_WG_BACKEND_KERNEL ? "kernel" : "userspace", runs);
	printf("full: every peer onto a device without peers; one changed: the diff and set of one changed endpoint\n"
	       "in a full device; read+change: the same with the device read first (kilo_wg_device_sync)\n\n");
	printf("%7s %10s %11s %6s %9s %12s %9s %6s %8s %12s\n", "peers", "libkilo", "wg setconf", "ratio",
	       "messages", "one changed", "messages", "peers", "cheaper", "read+change");
	for (unsigned i = 0; i < n_sizes && r == 0; i++) {
		struct row row;

		r = bench(wg, ifname, sizes[i], runs, &row);
		if (r == 0)
			printf("%7u %10.2f %11.2f %6.2f %9llu %12.3f %9llu %6llu %7.0fx %12.2f\n", row.peers, row.kilo_ms,
			       row.wg_ms, row.kilo_ms / row.wg_ms, (unsigned long long)row.full_messages, row.change_ms,
			       (unsigned long long)row.change_messages, (unsigned long long)row.change_peers,
			       row.kilo_ms / row.change_ms, row.sync_ms);
	}
	printf("\ntargets: ratio <= 1.05; one changed peer at least 100 times cheaper than a full apply\n");
	kilo_wg_device_delete(wg, ifname, NULL);
	kilo_wg_close(wg);
	return r < 0 ? 1 : 0;
}
