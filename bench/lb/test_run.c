// SPDX-License-Identifier: Apache-2.0
/*
 * Per-packet cost of kilo_lb_from_pod through BPF_PROG_TEST_RUN, at 10 to
 * 100k services. Needs root; maps pinned in a directory of its own under
 * bpffs, removed at the end.
 *
 * How each figure is taken (test_run runs one packet `repeat` times on the
 * same buffer, which the program rewrites in place):
 *   conntrack hit, repeat 10^6: the flow's backend is the frontend's own
 *     address on another port, and that port is a frontend whose backend is
 *     the first port: each repetition is a conntrack hit that rewrites the
 *     packet to the other frontend, with its checksum updates. The kernel's
 *     mean over the repetitions.
 *   new flow: a repetition would be a hit, so each new flow is its own
 *     test_run call with repeat 1 (a new client address and port); the
 *     kernel's time of that one run, averaged. It includes one clock read
 *     more per packet than the repeated figure: the "hit, one run" column is
 *     the same measurement for hits, for comparison. "one service": every
 *     new flow to the same service (the maps' cost at that size, warm);
 *     "random service": to a service drawn at random (cold map entries: the
 *     machine's memory latency, at 100k services, dominates).
 *   hit, one of 50k flows: an ACK of each flow the first new-flow column
 *     opened, one call each, after the other columns: a conntrack hit whose
 *     entry is no longer in the cache, as most are on a node with many
 *     flows (the first figure is one flow's, always warm).
 *   its SYN into a local backend: the new flow's first packet once more,
 *     DNATed, at the backend pod's veth (kilo_lb_to_pod), as on a node that
 *     runs the backend: no reply, judged by no policy; one call each.
 *   empty program: the same SYN through a program that only returns, one
 *     call each: what a test_run call of repeat 1 costs besides the program
 *     (two clock reads on this VM). "less the call" is the new flow's figure
 *     minus it, the program's own time, comparable to the repeated hit.
 *   LRU alone: a program that only looks up a random key in a map of the
 *     conntrack's shape (a miss) and inserts it, as a new flow does, one
 *     call each, less the call: what the kernel's LRU hash takes of a new
 *     flow, the floor under any datapath that keeps an entry for each flow
 *     in such a map. HASH alone: the same in a preallocated hash without
 *     LRU (which needs a collector of expired entries, and drops new flows
 *     when full).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lb_maps.h"
#include "packet.h"
#include "skel_open.h"

#define HIT_REPEAT 1000000
#define NEW_FLOWS 50000 /* per column; one conntrack entry each: below the LRU's size, no eviction */

static const unsigned sizes[] = {10, 1000, 10000, 100000};


static int add_frontend(struct bench_skel *b, __u32 id, __be32 vip, __be16 port, __be32 backend_addr,
			__be16 backend_port)
{
	struct kilo_lb_service_key key = {.addr.v4 = vip, .port = port, .proto = IPPROTO_TCP, .family = AF_INET};
	struct kilo_lb_service svc = {.id = id, .backend_count = 1};
	struct kilo_lb_slot_key slot = {.service_id = id, .slot = 1};
	struct kilo_lb_backend backend = {.addr.v4 = backend_addr, .port = backend_port,
					  .proto = IPPROTO_TCP, .family = AF_INET};
	struct kilo_lb_revnat revnat = {.addr.v4 = vip, .port = port, .family = AF_INET};
	struct kilo_lb_backend_addr reverse = {.addr.v4 = backend_addr, .port = backend_port,
					       .proto = IPPROTO_TCP, .family = AF_INET};
	struct kilo_lb_backend_frontends fronts = {.backend_id = id, .n_services = 1, .service_ids = {id}};

	if (bpf_map_update_elem(bpf_map__fd(b->skel->maps.kilo_lb_backend_frontends), &reverse, &fronts, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(b->skel->maps.kilo_lb_services), &key, &svc, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(b->skel->maps.kilo_lb_slots), &slot, &id, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(b->skel->maps.kilo_lb_backends), &id, &backend, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(b->skel->maps.kilo_lb_revnat), &id, &revnat, BPF_ANY))
		return -errno;
	return 0;
}

static __be32 ip4(__u32 base, __u32 i)
{
	return htonl(base + i);
}

static void text4(__be32 addr, char *buf)
{
	inet_ntop(AF_INET, &addr, buf, INET_ADDRSTRLEN);
}

/* Runs one frame repeat times through prog; the kernel's mean ns per run, or -1. */
static double run_prog(int prog, const uint8_t *frame, size_t len, __u32 repeat)
{
	uint8_t out[KT_PACKET_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);

	if (bpf_prog_test_run_opts(prog, &opts) < 0 || opts.retval != 0)
		return -1;
	return opts.duration;
}

static double run(struct bench_skel *b, const uint8_t *frame, size_t len, __u32 repeat)
{
	return run_prog(bpf_program__fd(b->skel->progs.kilo_lb_from_pod), frame, len, repeat);
}

/* The mean of NEW_FLOWS calls of repeat 1 of frame through prog; -1 when one fails. */
static double run_each(int prog, const uint8_t *frame, size_t len)
{
	double sum = 0, d;
	unsigned i;

	for (i = 0; i < NEW_FLOWS; i++) {
		d = run_prog(prog, frame, len, 1);
		if (d < 0)
			return -1;
		sum += d;
	}
	return sum / NEW_FLOWS;
}

static size_t syn(const char *client, uint16_t sport, const char *vip, uint16_t dport,
		  uint8_t flags, uint8_t *frame)
{
	struct kt_packet p = {.family = 4, .proto = IPPROTO_TCP, .src = client, .dst = vip,
			      .sport = sport, .dport = dport, .tcp_flags = flags};

	return kt_packet_build(&p, frame, KT_PACKET_MAX);
}

struct figures {
	double hit, hit_one, hit_cold, new_one_service, new_random_service, new_at_backend, empty, lru_alone, hash_alone;
};

/* Where flows sends its packets: through prog, to port at one of n addresses from base (n 1: the first). */
struct destination {
	int prog;
	__u32 base;
	unsigned n;
	uint16_t port;
};

/* A packet (TCP flags) of each of NEW_FLOWS flows from client block `block` to `to`, one call each: the mean. */
static int flows(const struct destination *to, unsigned block, uint8_t tcp_flags, double *mean)
{
	char dst[INET_ADDRSTRLEN], client[INET_ADDRSTRLEN];
	uint8_t frame[KT_PACKET_MAX];
	double sum = 0, d;
	size_t len;
	unsigned i;

	for (i = 0; i < NEW_FLOWS; i++) {
		text4(ip4(0x0a040000, block * 256 + 1 + i / 50000), client);
		text4(ip4(to->base, to->n > 1 ? (unsigned)random() % to->n : 0), dst);
		len = syn(client, (uint16_t)(10000 + i % 50000), dst, to->port, tcp_flags, frame);
		d = len ? run_prog(to->prog, frame, len, 1) : -1;
		if (d < 0)
			return -EIO;
		sum += d;
	}
	*mean = sum / NEW_FLOWS;
	return 0;
}

/* A miss and an insert alone in a map of the conntrack's shape and type of its own: the mean less the call. */
static int map_alone(enum bpf_map_type type, const uint8_t *frame, size_t len, double empty, double *out)
{
	int map = bpf_map_create(type, "kilo_bench_ct", sizeof(struct kilo_lb_ct_key), sizeof(struct kilo_lb_ct),
				 KILO_LB_MAX_CONNTRACK, NULL);
	int prog = map < 0 ? -errno : bench_insert_prog(map);
	double mean = prog < 0 ? -1 : run_each(prog, frame, len);

	if (map >= 0)
		close(map);
	if (prog < 0)
		return prog;
	close(prog);
	if (mean < 0)
		return -EIO;
	*out = mean - empty;
	return 0;
}

static int measure(unsigned n, struct figures *f)
{
	const __u32 services = 0x0a600000, backends = 0x0a800000, bench_vip = 0x0a5f0001;
	char vip[INET_ADDRSTRLEN];
	uint8_t frame[KT_PACKET_MAX];
	struct bench_skel b = {0};
	struct destination one_service, random_service, local_backend;
	size_t len;
	unsigned i;
	int r, empty;

	r = bench_skel_open(&b, "datapath", n);
	if (r < 0)
		return r;
	for (i = 0; i < n && r == 0; i++)
		r = add_frontend(&b, i + 1, ip4(services, i), htons(80), ip4(backends, i), htons(8080));
	if (r == 0)
		r = add_frontend(&b, n + 1, ip4(bench_vip, 0), htons(80), ip4(bench_vip, 0), htons(8080));
	if (r == 0)
		r = add_frontend(&b, n + 2, ip4(bench_vip, 0), htons(8080), ip4(bench_vip, 0), htons(80));
	if (r < 0)
		goto out;

	r = -EIO;
	text4(ip4(bench_vip, 0), vip);
	len = syn("10.4.0.5", 40000, vip, 80, 0x10, frame);
	/* Two runs open both flows (80 -> 8080, 8080 -> 80); the rest are hits. */
	if (run(&b, frame, len, 2) < 0 || (f->hit = run(&b, frame, len, HIT_REPEAT)) < 0 ||
	    (f->hit_one = run_each(bpf_program__fd(b.skel->progs.kilo_lb_from_pod), frame, len)) < 0)
		goto out;
	empty = bench_empty_prog();
	if (empty < 0) {
		r = empty;
		goto out;
	}
	f->empty = run_each(empty, frame, len);
	close(empty);
	if (f->empty < 0)
		goto out;
	r = map_alone(BPF_MAP_TYPE_LRU_HASH, frame, len, f->empty, &f->lru_alone);
	if (r == 0)
		r = map_alone(BPF_MAP_TYPE_HASH, frame, len, f->empty, &f->hash_alone);
	if (r < 0)
		goto out;
	srandom(n);
	one_service = (struct destination){bpf_program__fd(b.skel->progs.kilo_lb_from_pod), services, 1, 80};
	random_service = one_service;
	random_service.n = n;
	local_backend = (struct destination){bpf_program__fd(b.skel->progs.kilo_lb_to_pod), backends, 1, 8080};
	r = flows(&one_service, 1, 0x02, &f->new_one_service);
	if (r == 0)
		r = flows(&random_service, 2, 0x02, &f->new_random_service);
	if (r == 0)
		r = flows(&local_backend, 3, 0x02, &f->new_at_backend);
	/* The first column's flows again, 100k calls later: hits on entries gone cold. */
	if (r == 0)
		r = flows(&one_service, 1, 0x10, &f->hit_cold);
out:
	bench_skel_close(&b);
	return r;
}

int main(void)
{
	struct utsname uts;
	unsigned i;

	uname(&uts);
	printf("bench-lb-test-run: kilo_lb_from_pod through BPF_PROG_TEST_RUN, ns per packet (kernel %s, %ld CPUs)\n",
	       uts.release, sysconf(_SC_NPROCESSORS_ONLN));
	printf("hit: one flow, repeat %d; new flow: %d SYNs from new client ports, one test_run each;\n"
	       "empty program: one test_run each, the call's own cost in every one-run column\n\n",
	       HIT_REPEAT, NEW_FLOWS);
	printf("| services | conntrack hit | hit, one run per call | hit, one of 50k flows, one run per call "
	       "| new flow, one service | new flow, random service | its SYN into a local backend "
	       "| empty program, one run per call | new flow, one service, less the call "
	       "| LRU alone: a miss and an insert, less the call | HASH alone, less the call |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct figures f;
		int r = measure(sizes[i], &f);

		if (r < 0) {
			fprintf(stderr, "bench-lb-test-run: %u services: %s\n", sizes[i], strerror(-r));
			return r == -EPERM ? 77 : 1;
		}
		printf("| %u | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n", sizes[i],
		       f.hit, f.hit_one, f.hit_cold, f.new_one_service, f.new_random_service, f.new_at_backend,
		       f.empty, f.new_one_service - f.empty, f.lru_alone, f.hash_alone);
		fflush(stdout);
	}
	return 0;
}
