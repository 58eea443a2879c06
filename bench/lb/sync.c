// SPDX-License-Identifier: Apache-2.0
/*
 * The loader's map sync at scale: the first sync into empty maps, one
 * service changed between resyncs (compared with the state kept), a resync
 * that reads every map back and finds nothing to do, and a restarted
 * handle's first sync (maps read back, nothing written). Each service has
 * two backends, its slots and reverse NAT; with Maglev, a table of M =
 * 16381 entries too (64 KiB each in the kernel: the rows stop at 1,000).
 * As root: it loads the programs into a pin dir of its own under bpffs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bpf/loader.h"

#define BACKENDS 2

struct state {
	struct kilo_lb_desired d;
	__u32 *tables;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int by_4(const void *a, const void *b)
{
	return memcmp(a, b, 4);
}

static int by_8(const void *a, const void *b)
{
	return memcmp(a, b, 8);
}

static int by_service_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct kilo_lb_service_key));
}

static int build(struct state *s, unsigned n, bool maglev)
{
	struct kilo_lb_desired *d = &s->d;

	memset(s, 0, sizeof(*s));
	d->services = calloc(n, sizeof(*d->services));
	d->backends = calloc((size_t)n * BACKENDS, sizeof(*d->backends));
	d->slots = calloc((size_t)n * BACKENDS, sizeof(*d->slots));
	d->revnat = calloc(n, sizeof(*d->revnat));
	d->maglev = maglev ? calloc(n, sizeof(*d->maglev)) : NULL;
	s->tables = maglev ? malloc((size_t)n * KILO_LB_MAGLEV_DEFAULT * sizeof(__u32)) : NULL;
	if (!d->services || !d->backends || !d->slots || !d->revnat || (maglev && (!d->maglev || !s->tables)))
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		__u32 id = i + 1;

		d->services[i].key = (struct kilo_lb_service_key){ .addr.v4 = htonl(0x0a600000 + i), .port = htons(80),
								   .proto = IPPROTO_TCP, .family = AF_INET };
		d->services[i].value = (struct kilo_lb_service){ .id = id, .backend_count = BACKENDS,
								 .flags = maglev ? KILO_LB_SERVICE_MAGLEV : 0 };
		d->revnat[i] = (struct kilo_lb_desired_revnat){
			.service_id = id, .value = { .addr = d->services[i].key.addr, .port = htons(80), .family = AF_INET } };
		for (unsigned b = 0; b < BACKENDS; b++) {
			size_t k = (size_t)i * BACKENDS + b;

			d->backends[k].id = (__u32)k + 1;
			d->backends[k].value = (struct kilo_lb_backend){ .addr.v4 = htonl(0x0a020000 + (__u32)k),
									 .port = htons(8080), .proto = IPPROTO_TCP,
									 .family = AF_INET };
			d->slots[k] = (struct kilo_lb_desired_slot){ .key = { .service_id = id, .slot = b + 1 },
								     .backend_id = (__u32)k + 1 };
		}
		if (maglev) {
			__u32 *t = s->tables + (size_t)i * KILO_LB_MAGLEV_DEFAULT;

			for (unsigned e = 0; e < KILO_LB_MAGLEV_DEFAULT; e++)
				t[e] = i * BACKENDS + 1 + e % BACKENDS;
			d->maglev[i] = (struct kilo_lb_desired_maglev){ .service_id = id, .m = KILO_LB_MAGLEV_DEFAULT,
									.table = t };
		}
	}
	d->n_services = d->n_revnat = n;
	d->n_backends = d->n_slots = (size_t)n * BACKENDS;
	d->n_maglev = maglev ? n : 0;
	qsort(d->services, n, sizeof(*d->services), by_service_key);
	qsort(d->backends, d->n_backends, sizeof(*d->backends), by_4);
	qsort(d->slots, d->n_slots, sizeof(*d->slots), by_8);
	qsort(d->revnat, n, sizeof(*d->revnat), by_4);
	if (maglev)
		qsort(d->maglev, n, sizeof(*d->maglev), by_4);
	return 0;
}

static void release(struct state *s)
{
	free(s->d.services);
	free(s->d.backends);
	free(s->d.slots);
	free(s->d.revnat);
	free(s->d.maglev);
	free(s->tables);
}

/* Service 1 sends both slots (and its whole table) to its first backend. */
static void change_one(struct state *s)
{
	for (size_t k = 0; k < s->d.n_slots; k++)
		if (s->d.slots[k].key.service_id == 1)
			s->d.slots[k].backend_id = 1;
	for (size_t k = 0; k < s->d.n_maglev; k++)
		if (s->d.maglev[k].service_id == 1)
			for (unsigned e = 0; e < KILO_LB_MAGLEV_DEFAULT; e++)
				((__u32 *)s->d.maglev[k].table)[e] = 1;
}

struct figures {
	double first, one, resync, restart;
};

static int timed_sync(kilo_bpf *bpf, const struct state *s, bool read_maps, double *ms, struct kilo_error *err)
{
	struct kilo_bpf_sync_report report;
	double start = now_ms();
	int r = kilo_bpf_sync(bpf, &s->d, read_maps, &report, err);

	*ms = now_ms() - start;
	return r;
}

static int measure(unsigned n, bool maglev, struct figures *f, struct kilo_error *err)
{
	char pin_dir[128];
	struct kilo_bpf_opts opts = { .pin_dir = pin_dir };
	struct state s;
	kilo_bpf *bpf = NULL;
	int r;

	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/kilo-bench-sync-%d-%u", (int)getpid(), n);
	r = build(&s, n, maglev);
	if (r == 0)
		r = kilo_bpf_open(&opts, &bpf, err);
	if (r == 0)
		r = timed_sync(bpf, &s, false, &f->first, err);
	change_one(&s);
	if (r == 0)
		r = timed_sync(bpf, &s, false, &f->one, err);
	if (r == 0)
		r = timed_sync(bpf, &s, true, &f->resync, err);
	kilo_bpf_close(bpf);
	bpf = NULL;
	if (r == 0)
		r = kilo_bpf_open(&opts, &bpf, err);
	if (r == 0)
		r = timed_sync(bpf, &s, false, &f->restart, err);
	if (bpf)
		kilo_bpf_clean_up(bpf, NULL);
	kilo_bpf_close(bpf);
	release(&s);
	return r;
}

int main(void)
{
	static const struct {
		unsigned n;
		bool maglev;
	} rows[] = { { 10, false }, { 1000, false }, { 10000, false }, { 100000, false }, { 10, true }, { 1000, true } };
	struct utsname uts;

	uname(&uts);
	printf("bench-lb-sync: kilo_bpf_sync into the pinned maps, ms (kernel %s, %ld CPUs)\n", uts.release,
	       sysconf(_SC_NPROCESSORS_ONLN));
	printf("command: build/bench/lb/bench-lb-sync (as root); %d backends per service\n\n", BACKENDS);
	printf("| services | Maglev M | first sync | one service changed | resync, nothing changed | restart's first sync |\n");
	printf("|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct kilo_error err = { 0 };
		struct figures f;
		int r = measure(rows[i].n, rows[i].maglev, &f, &err);

		if (r < 0) {
			fprintf(stderr, "bench-lb-sync: %u services: %s\n", rows[i].n, err.code ? err.message : strerror(-r));
			return r == -EPERM ? 77 : 1;
		}
		printf("| %u | %s | %.2f | %.3f | %.2f | %.2f |\n", rows[i].n, rows[i].maglev ? "16381" : "-", f.first, f.one,
		       f.resync, f.restart);
		fflush(stdout);
	}
	return 0;
}
