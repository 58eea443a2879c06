// SPDX-License-Identifier: Apache-2.0
/*
 * Identities in a store: what allocating, finding, listing and releasing N
 * label sets costs one process, and P processes racing for the same N at
 * once (every one asks for every label set; the answers must agree). Prints
 * one table row per operation. bench/identities.sh runs it on a file store
 * and on etcd.
 *
 * Usage: bench-identities URI N P
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <kilo/store.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void labels_of(const char *prefix, unsigned i, char out[128])
{
	snprintf(out, 128, "app=%s-%u,kubernetes.io/metadata.name=bench,kilo.squat.ai/location=loc-%u", prefix, i,
		 i % 10);
}

static void row(const char *uri, const char *op, unsigned n, unsigned p, double ms)
{
	printf("%-8s %-34s %7u %4u %10.1f %10.1f\n", !strncmp(uri, "file:", 5) ? "file" : "etcd", op, n, p, ms,
	       ms * 1e3 / n);
}

/* Allocates N label sets of prefix (from the i-th on, round); the sum of the numbers, for agreement. */
static int allocate_all(kilo_store *store, const char *prefix, unsigned n, unsigned start, uint64_t *sum)
{
	struct kilo_error err = { 0 };
	char labels[128];
	uint32_t id;

	*sum = 0;
	for (unsigned k = 0; k < n; k++) {
		labels_of(prefix, (start + k) % n, labels);
		if (kilo_store_identity_allocate(store, labels, &id, &err) < 0) {
			fprintf(stderr, "bench-identities: %s\n", err.message);
			return -1;
		}
		*sum += id;
	}
	return 0;
}

/* P processes allocate the same N label sets at once; 0 when every one agreed. */
static int race(const char *uri, unsigned n, unsigned p, double *ms)
{
	int out[2], status, r = 0;
	uint64_t sums[64];
	double start;

	if (p > 64 || pipe(out) < 0)
		return -1;
	start = now_ms();
	for (unsigned c = 0; c < p; c++) {
		pid_t pid = fork();

		if (pid == 0) {
			kilo_store *store = NULL;
			uint64_t sum = 0;
			int ok = kilo_store_open(uri, &store, NULL) == 0 &&
				 allocate_all(store, "race", n, c * n / p, &sum) == 0;

			kilo_store_close(store);
			_exit(ok && write(out[1], &sum, sizeof(sum)) == (ssize_t)sizeof(sum) ? 0 : 1);
		}
		if (pid < 0)
			r = -1;
	}
	close(out[1]);
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			r = -1;
	*ms = now_ms() - start;
	for (unsigned c = 0; c < p && r == 0; c++)
		if (read(out[0], &sums[c], sizeof(sums[c])) != (ssize_t)sizeof(sums[c]) || sums[c] != sums[0])
			r = -1;
	close(out[0]);
	return r;
}

int main(int argc, char *argv[])
{
	struct kilo_store_identity *ids = NULL;
	struct kilo_error err = { 0 };
	kilo_store *store = NULL;
	unsigned n, p;
	size_t n_ids = 0, released = 0;
	uint64_t sum;
	double t;

	if (argc == 2 && !strcmp(argv[1], "--header")) {
		printf("%-8s %-34s %7s %4s %10s %10s\n", "store", "operation", "N", "P", "total ms", "us/op");
		return 0;
	}
	if (argc != 4 || (n = (unsigned)atoi(argv[2])) == 0 || (p = (unsigned)atoi(argv[3])) == 0 || p > 64) {
		fprintf(stderr, "Usage: bench-identities --header | URI N P (P <= 64)\n");
		return 2;
	}
	if (kilo_store_open(argv[1], &store, &err) < 0) {
		fprintf(stderr, "bench-identities: %s\n", err.message);
		return 1;
	}
	t = now_ms();
	if (allocate_all(store, "one", n, 0, &sum) < 0)
		return 1;
	row(argv[1], "allocate new (one process)", n, 1, now_ms() - t);
	t = now_ms();
	if (allocate_all(store, "one", n, 0, &sum) < 0)
		return 1;
	row(argv[1], "allocate existing (one process)", n, 1, now_ms() - t);
	t = now_ms();
	if (kilo_store_identity_list(store, &ids, &n_ids, &err) < 0) {
		fprintf(stderr, "bench-identities: %s\n", err.message);
		return 1;
	}
	row(argv[1], "list", (unsigned)n_ids, 1, now_ms() - t);
	kilo_store_identities_free(ids, n_ids);
	if (race(argv[1], n, p, &t) < 0) {
		fprintf(stderr, "bench-identities: the racing processes failed or disagreed\n");
		return 1;
	}
	row(argv[1], "allocate the same new sets (racing)", n, p, t);
	/* A new handle: on etcd, list and release read what the store's watch brought, and this one has not looked. */
	kilo_store_close(store);
	store = NULL;
	if (kilo_store_open(argv[1], &store, &err) < 0) {
		fprintf(stderr, "bench-identities: %s\n", err.message);
		return 1;
	}
	t = now_ms();
	if (kilo_store_identities_release_unused(store, NULL, 0, 0, &released, &err) < 0) {
		fprintf(stderr, "bench-identities: %s\n", err.message);
		return 1;
	}
	row(argv[1], "release unused", (unsigned)released, 1, now_ms() - t);
	kilo_store_close(store);
	return 0;
}
