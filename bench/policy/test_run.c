// SPDX-License-Identifier: Apache-2.0
/*
 * What network policy adds to a packet of kilo_lb_from_pod (a pod's egress)
 * and kilo_lb_to_pod (its ingress), through BPF_PROG_TEST_RUN, at 10, 1k and
 * 10k rules with 100k ipcache entries. Needs root; maps pinned in a
 * directory of its own under bpffs, removed at the end.
 *
 * The pod is policed in the direction measured and allowed to its peers'
 * identities on port 80, to them (egress) or from them (ingress) (rule j: endpoint 1 + j / 1000, identity 256 + j % 1000: the pod
 * has up to 1000 rules, the others go to other endpoints), its skip bits
 * as the loader sets them (no rule for any peer, no ipBlock). The ipcache holds
 * 100k /32s (in the hosts' hash, as the loader puts them), 10.128.0.0 + i of identity 256 + i % min(rules, 1000), so that
 * the pod's rules allow every one; each flow goes to one drawn at random
 * (cold entries, the same at every size).
 *   established: one flow, repeat 10^6 (the kernel's mean): the policy's
 *     conntrack hit; "off": the same packet with no endpoint policed.
 *   new flow: NEW_FLOWS flows, each its own test_run (repeat 1), averaged:
 *     identity, rule lookups, the conntrack insert and the flow event (every
 *     one written: every DRAIN_EVERY flows each CPU's event budget is reset,
 *     which allows 10k a second, and the ring buffer drained, as kg would
 *     drain it; checked by count); "off": the same packets with no
 *     endpoint policed (a clock read per call included in both, so the
 *     difference is the policy's).
 *   one peer: the same, every flow to one peer (another source port each):
 *     its ipcache entry, rule and rule counter stay in the cache, so the
 *     difference with random peers is what the lookups' cache misses cost.
 *   denied: the random peers on port 81, which no rule allows: every lookup
 *     the endpoint has, the default denial's counter and event (its "off":
 *     port 80's).
 *   unpoliced pod: new flows from a pod no policy selects while another is
 *     policed: the endpoint lookup alone; its established flow the same.
 *   all flows (kg --flow-events all, KILO_POLICY_ALL_FLOWS): the unpoliced
 *     pod's established flow (the endpoint lookup and its conntrack hit) and
 *     new flows (the peer's identity, the conntrack insert and the event,
 *     every one written and checked by count).
 *   policed the other way: new flows from a pod policed only in the other
 *     direction (both policed on the node): the endpoint lookup and the
 *     conntrack entry that lets the flow's replies back in.
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

#include "packet.h"
#include "skel_open.h"
#include "policy_maps.h"

#define IPCACHE_ENTRIES 100000
#define IDENTITIES 1000
#define HIT_REPEAT 1000000
#define NEW_FLOWS 50000 /* one conntrack entry each: below the LRU's size, no eviction */
#define DRAIN_EVERY 1000 /* flows between two reads of the ring buffer and event budget resets: far below either */
#define PEERS 0x0a800000 /* 10.128.0.0 */
#define RANDOM_PEERS (IPCACHE_ENTRIES - 1) /* the random flows' peers; the last entry is the one peer's */
#define ALLOWED_PORT 80 /* the pod's rules' */
#define DENIED_PORT 81
#define VERDICT_OK 0   /* TC_ACT_OK */
#define VERDICT_SHOT 2 /* TC_ACT_SHOT */
#define POD "10.4.0.5"
#define OTHER_POD "10.4.0.6"
#define OTHER_WAY_POD "10.4.0.7"

static const unsigned sizes[] = {10, 1000, 10000};


/* The generation moves on, as the loader's does after a change of endpoints: the programs' copies of them end. */
static int set_enforce(struct bench_skel *b, __u32 flags)
{
	struct kilo_policy_state state = {0};
	int fd = bpf_map__fd(b->skel->maps.kilo_policy_state);
	__u32 key = 0;

	if (bpf_map_lookup_elem(fd, &key, &state))
		return -errno;
	state.enforce = flags;
	state.generation++;
	return bpf_map_update_elem(fd, &key, &state, BPF_ANY) ? -errno : 0;
}

/* skip: the lookups the loader would find the endpoint's rules need not. */
static int add_endpoint(struct bench_skel *b, const char *addr, __u32 id, __u32 flags, __u32 skip)
{
	struct kilo_policy_endpoint_key key = {.family = AF_INET};
	struct kilo_policy_endpoint ep = {.id = id, .identity = 200, .flags = flags, .skip = skip};

	inet_pton(AF_INET, addr, &key.addr);
	return bpf_map_update_elem(bpf_map__fd(b->skel->maps.kilo_policy_endpoints), &key, &ep, BPF_ANY) ? -errno : 0;
}

static int fill(struct bench_skel *b, unsigned rules, __u8 direction)
{
	const __u32 no_rules = KILO_POLICY_SKIP_ALL | KILO_POLICY_SKIP_ALL << KILO_POLICY_SKIP_SHIFT(KILO_POLICY_EGRESS);
	unsigned identities = rules < IDENTITIES ? rules : IDENTITIES;
	int hosts = bpf_map__fd(b->skel->maps.kilo_policy_ipcache_hosts), rule_map = bpf_map__fd(b->skel->maps.kilo_policy_rules);
	unsigned i;

	for (i = 0; i < IPCACHE_ENTRIES; i++) {
		/* Where the loader puts a /32. */
		struct kilo_policy_endpoint_key key = {.family = AF_INET, .addr.v4 = htonl(PEERS + i)};
		struct kilo_ipcache_value value = {.identity = KILO_IDENTITY_FIRST_ALLOCATED + i % identities};

		if (bpf_map_update_elem(hosts, &key, &value, BPF_ANY))
			return -errno;
	}
	for (i = 0; i < rules; i++) {
		struct kilo_policy_key key = {
			.prefixlen = KILO_POLICY_KEY_FIXED_BITS + 8 + 16,
			.endpoint = 1 + i / IDENTITIES,
			.identity = KILO_IDENTITY_FIRST_ALLOCATED + i % IDENTITIES,
			.direction = direction,
			.proto = IPPROTO_TCP,
			.port = htons(80),
		};
		struct kilo_policy_value value = {.rule_id = 1 + i % (KILO_POLICY_MAX_RULE_IDS - 1)};

		if (bpf_map_update_elem(rule_map, &key, &value, BPF_ANY))
			return -errno;
	}
	/* The others have no rule; the pod only rules by identity, in the direction measured. */
	if (add_endpoint(b, OTHER_POD, 9999, 0, no_rules) < 0 ||
	    add_endpoint(b, OTHER_WAY_POD, 9998,
			 direction == KILO_POLICY_INGRESS ? KILO_POLICY_ENFORCE_EGRESS : KILO_POLICY_ENFORCE_INGRESS,
			 no_rules) < 0)
		return -errno;
	return add_endpoint(b, POD, 1, KILO_POLICY_ENFORCE_INGRESS | KILO_POLICY_ENFORCE_EGRESS,
			    no_rules & ~(KILO_POLICY_SKIP_IDENTITIES << KILO_POLICY_SKIP_SHIFT(direction)));
}

/* Runs one frame repeat times; the kernel's mean ns per run, or -1 (also when the verdict is not verdict). */
static double run(struct bench_skel *b, __u8 direction, const uint8_t *frame, size_t len, __u32 repeat, int verdict)
{
	struct bpf_program *prog = direction == KILO_POLICY_EGRESS ? b->skel->progs.kilo_lb_from_pod
								  : b->skel->progs.kilo_lb_to_pod;
	uint8_t out[KT_PACKET_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);

	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts) < 0 || opts.retval != (__u32)verdict)
		return -1;
	return opts.duration;
}

/* A TCP packet between pod and peer:server (from the pod's port, egress; to it from the peer's, ingress). */
static size_t tcp(__u8 direction, const char *pod, __u32 peer, uint16_t port, uint16_t server, uint8_t flags,
		  uint8_t *frame)
{
	char text[INET_ADDRSTRLEN];
	__be32 addr = htonl(peer);
	struct kt_packet p = {.family = 4, .proto = IPPROTO_TCP, .src = pod, .dst = text,
			      .sport = port, .dport = server, .tcp_flags = flags};

	inet_ntop(AF_INET, &addr, text, sizeof(text));
	if (direction == KILO_POLICY_INGRESS)
		p = (struct kt_packet){.family = 4, .proto = IPPROTO_TCP, .src = text, .dst = pod,
				       .sport = port, .dport = server, .tcp_flags = flags};
	return kt_packet_build(&p, frame, KT_PACKET_MAX);
}

static int count_event(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	++*(size_t *)ctx;
	return 0;
}

/* A new second of events on every CPU: the next DRAIN_EVERY flows' events are written, none counted lost. */
static int reset_event_budget(struct bench_skel *b, const struct kilo_flow_event_budget *zero)
{
	__u32 key = 0;

	return bpf_map_update_elem(bpf_map__fd(b->skel->maps.kilo_policy_event_budget), &key, zero, BPF_ANY) ? -errno : 0;
}

/* NEW_FLOWS SYNs of a pod: to or from peers drawn (seeded) from n of the ipcache's entries, from first on. */
struct flows {
	const char *pod;
	unsigned first, n, seed;
	uint16_t server; /* the pod's (ingress) or the peers' (egress) port */
	int verdict;     /* what the program returns for each */
};

/* The flows' mean ns; *events: the flow events they wrote. */
static int new_flows(struct bench_skel *b, __u8 direction, const struct flows *fl, double *mean, size_t *events)
{
	struct kilo_flow_event_budget *zero = calloc((size_t)libbpf_num_possible_cpus(), sizeof(*zero));
	struct ring_buffer *ring = ring_buffer__new(bpf_map__fd(b->skel->maps.kilo_policy_events), count_event, events,
						    NULL);
	uint8_t frame[KT_PACKET_MAX];
	double sum = 0, d;
	unsigned i;
	int r = -ENOMEM;

	if (!zero || !ring || ring_buffer__consume(ring) < 0)
		goto out;
	/* Counted from here: what was there is earlier packets'. */
	*events = 0;
	r = -EIO;
	srandom(fl->seed);
	for (i = 0; i < NEW_FLOWS; i++) {
		__u32 peer = PEERS + fl->first + (unsigned)random() % fl->n;
		size_t len = tcp(direction, fl->pod, peer, (uint16_t)(10000 + i), fl->server, 0x02, frame);

		if (i % DRAIN_EVERY == 0 && (ring_buffer__consume(ring) < 0 || reset_event_budget(b, zero) < 0))
			goto out;
		d = len ? run(b, direction, frame, len, 1, fl->verdict) : -1;
		if (d < 0)
			goto out;
		sum += d;
	}
	if (ring_buffer__consume(ring) < 0)
		goto out;
	*mean = sum / NEW_FLOWS;
	r = 0;
out:
	ring_buffer__free(ring);
	free(zero);
	return r;
}

/* New flows of the policed pod: each must have written its event, or the figure leaves the event out. */
static int judged_flows(struct bench_skel *b, __u8 direction, const struct flows *fl, double *mean)
{
	size_t events;
	int r = new_flows(b, direction, fl, mean, &events);

	return r < 0 ? r : events == NEW_FLOWS ? 0 : -EPROTO;
}

struct figures {
	double est_off, est_on, new_off, new_on, new_one_peer, new_denied, new_unpoliced, new_other_way;
	double est_unpoliced, est_all, new_all;
};

/* The flows of each figure, each set new to the conntrack (its own ports, peers or pod). */
static const struct flows random_peers = {POD, 0, RANDOM_PEERS, 1, ALLOWED_PORT, VERDICT_OK};
static const struct flows denied = {POD, 0, RANDOM_PEERS, 5, DENIED_PORT, VERDICT_SHOT};
static const struct flows unpoliced = {OTHER_POD, 0, RANDOM_PEERS, 2, ALLOWED_PORT, VERDICT_OK};
static const struct flows other_way = {OTHER_WAY_POD, 0, RANDOM_PEERS, 3, ALLOWED_PORT, VERDICT_OK};
static const struct flows one_peer = {POD, RANDOM_PEERS, 1, 4, ALLOWED_PORT, VERDICT_OK}; /* none of the random ones */

static int measure(unsigned rules, __u8 direction, struct figures *f)
{
	uint8_t frame[KT_PACKET_MAX];
	struct bench_skel b = {0};
	uint8_t unpoliced_frame[KT_PACKET_MAX];
	size_t len, unpoliced_len, events;
	int r;

	r = bench_skel_open(&b, "policy", rules);
	if (r == 0)
		r = fill(&b, rules, direction);
	if (r < 0)
		goto out;
	r = -EIO;
	len = tcp(direction, POD, PEERS, 40000, ALLOWED_PORT, 0x10, frame);
	unpoliced_len = tcp(direction, OTHER_POD, PEERS, 40000, ALLOWED_PORT, 0x10, unpoliced_frame);
	/* Off: the same maps, no endpoint policed. */
	if (set_enforce(&b, 0) || (f->est_off = run(&b, direction, frame, len, HIT_REPEAT, VERDICT_OK)) < 0 ||
	    new_flows(&b, direction, &random_peers, &f->new_off, &events) < 0)
		goto out;
	if (set_enforce(&b, 1U << direction) || run(&b, direction, frame, len, 1, VERDICT_OK) < 0 ||
	    (f->est_on = run(&b, direction, frame, len, HIT_REPEAT, VERDICT_OK)) < 0)
		goto out;
	/* The off run opened no flow: these are new. */
	if ((r = judged_flows(&b, direction, &random_peers, &f->new_on)) < 0 ||
	    (r = judged_flows(&b, direction, &denied, &f->new_denied)) < 0)
		goto out;
	r = -EIO;
	if (new_flows(&b, direction, &unpoliced, &f->new_unpoliced, &events) < 0 ||
	    (f->est_unpoliced = run(&b, direction, unpoliced_frame, unpoliced_len, HIT_REPEAT, VERDICT_OK)) < 0)
		goto out;
	if (set_enforce(&b, KILO_POLICY_ENFORCE_INGRESS | KILO_POLICY_ENFORCE_EGRESS) ||
	    new_flows(&b, direction, &other_way, &f->new_other_way, &events) < 0)
		goto out;
	/* Last, so that the columns before it are measured as they were. */
	if ((r = judged_flows(&b, direction, &one_peer, &f->new_one_peer)) < 0)
		goto out;
	/* Every flow an event: the unpoliced pod's flows above left no conntrack entry, so these are new. */
	r = -EIO;
	if (set_enforce(&b, (1U << direction) | KILO_POLICY_ALL_FLOWS) ||
	    run(&b, direction, unpoliced_frame, unpoliced_len, 1, VERDICT_OK) < 0 ||
	    (f->est_all = run(&b, direction, unpoliced_frame, unpoliced_len, HIT_REPEAT, VERDICT_OK)) < 0)
		goto out;
	r = judged_flows(&b, direction, &unpoliced, &f->new_all);
out:
	bench_skel_close(&b);
	return r;
}

int main(void)
{
	static const char *const names[] = {[KILO_POLICY_INGRESS] = "ingress", [KILO_POLICY_EGRESS] = "egress"};
	struct utsname uts;
	unsigned i;

	uname(&uts);
	printf("bench-policy-test-run: kilo_lb_from_pod (egress) and kilo_lb_to_pod (ingress) through BPF_PROG_TEST_RUN, "
	       "ns per packet (kernel %s, %ld CPUs)\n", uts.release, sysconf(_SC_NPROCESSORS_ONLN));
	printf("command: %s; ipcache %d entries; established: repeat %d; new flow: %d SYNs to random allowed peers, "
	       "one test_run each\n\n", "build/bench/policy/bench-policy-test-run", IPCACHE_ENTRIES, HIT_REPEAT,
	       NEW_FLOWS);
	printf("| direction | rules | established, off | established, policed | added | new flow, off "
	       "| new flow, policed | added | new flow, policed, one peer | added | new flow, denied | added "
	       "| new flow, unpoliced pod | added | new flow, policed the other way | added "
	       "| established, unpoliced pod | added | established, unpoliced, all flows | added "
	       "| new flow, unpoliced, all flows | added |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (__u8 d = KILO_POLICY_INGRESS; d <= KILO_POLICY_EGRESS; d++) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			struct figures f;
			int r = measure(sizes[i], d, &f);

			if (r < 0) {
				fprintf(stderr, "bench-policy-test-run: %s, %u rules: %s\n", names[d], sizes[i], strerror(-r));
				return r == -EPERM ? 77 : 1;
			}
			printf("| %s | %u | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f "
			       "| %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n",
			       names[d], sizes[i], f.est_off, f.est_on, f.est_on - f.est_off, f.new_off, f.new_on,
			       f.new_on - f.new_off, f.new_one_peer, f.new_one_peer - f.new_off, f.new_denied,
			       f.new_denied - f.new_off, f.new_unpoliced, f.new_unpoliced - f.new_off, f.new_other_way,
			       f.new_other_way - f.new_off, f.est_unpoliced, f.est_unpoliced - f.est_off, f.est_all,
			       f.est_all - f.est_off, f.new_all, f.new_all - f.new_off);
			fflush(stdout);
		}
	}
	return 0;
}
