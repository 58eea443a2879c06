// SPDX-License-Identifier: Apache-2.0
/*
 * What socket-level balancing (lib/bpf/progs/sock.bpf.c) costs a host
 * process, at 10 to 100k services. Needs root: it runs in a network
 * namespace of its own in which 10.0.0.0/8 is local, with the programs on a
 * cgroup and a bpffs pin directory of its own (tests/netns/sock/sock_env.c),
 * all removed at the end.
 *
 * How each figure is taken (the best of seven short runs: the machine is shared):
 *   UDP connect(): one UDP socket connected again and again, each time to an
 *     address drawn at random: the connect4 program and a route lookup, no
 *     packet. "no program": the process outside the cgroup, to services;
 *     "not a service": inside, to addresses of no service (two lookups that
 *     miss); "one service": inside, always to the same service (balanced,
 *     its entries warm in the cache); "random service": to services drawn at
 *     random (their entries cold: at 100k services the machine's memory
 *     latency dominates). A service's reverse entry for the socket is found
 *     unchanged, so looked up, not written.
 *   TCP connections/s: connect(), accept() and close() by a thread, close()
 *     with a reset (the server's FIN first, then the client's reset: no
 *     TIME_WAIT piles up, and connect() never returns a reset that raced it);
 *     a new socket each time, so a service's
 *     connection also writes its reverse entry. "no program": outside the
 *     cgroup, straight to the backend; "service": inside, to services drawn
 *     at random, balanced to that backend.
 * Half the services are TCP, half UDP (the services map holds 131072).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "sock_env.h"

#define UDP_CONNECTS 50000
#define TCP_CONNECTIONS 10000
#define RUNS 7
#define BACKEND "10.200.0.1"
#define BACKEND_PORT 8080
#define SERVICE_PORT 80

static const unsigned sizes[] = { 10, 1000, 10000, 100000 };

struct bench {
	struct sock_env env;
	unsigned services;
	__u32 random;
	int listener;
};

static __u32 next_random(struct bench *b)
{
	b->random ^= b->random << 13;
	b->random ^= b->random >> 17;
	b->random ^= b->random << 5;
	return b->random;
}

/* Service i is 10.96.0.0 + i, port 80: UDP when i is even, TCP when odd. */
static struct sockaddr_in service_addr(unsigned i)
{
	return (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(SERVICE_PORT),
				     .sin_addr.s_addr = htonl(0x0a600000u + i) };
}

static struct sockaddr_in random_service(struct bench *b, int proto)
{
	unsigned i = next_random(b) % b->services;

	return service_addr(proto == IPPROTO_UDP ? i & ~1u : i | 1u);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int services_grow(struct bench *b, unsigned size)
{
	static const __u32 tcp_backend = 1, udp_backend = 2;
	char vip[INET_ADDRSTRLEN];
	int r;

	for (; b->services < size; b->services++) {
		struct sockaddr_in sin = service_addr(b->services);
		bool udp = b->services % 2 == 0;

		inet_ntop(AF_INET, &sin.sin_addr, vip, sizeof(vip));
		r = sock_env_frontend_add(&b->env, b->services + 1, KILO_LB_SCOPE_CLUSTER, vip, SERVICE_PORT,
					  udp ? IPPROTO_UDP : IPPROTO_TCP, 0, udp ? &udp_backend : &tcp_backend, 1);
		if (r < 0)
			return r;
	}
	return 0;
}

enum udp_target { UDP_RANDOM_SERVICE, UDP_ONE_SERVICE, UDP_NOT_A_SERVICE };

/* ns per connect(), or a negative errno. */
static double udp_connects(struct bench *b, enum udp_target target)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), i;
	double start;

	if (fd < 0)
		return -errno;
	start = now_ns();
	for (i = 0; i < UDP_CONNECTS; i++) {
		struct sockaddr_in to = target == UDP_ONE_SERVICE ? service_addr(0)
								  : random_service(b, IPPROTO_UDP);

		if (target == UDP_NOT_A_SERVICE)
			to.sin_addr.s_addr = htonl(0x0a960000u + (next_random(b) & 0xffff));
		if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
			int r = -errno;

			close(fd);
			return r;
		}
	}
	close(fd);
	return (now_ns() - start) / UDP_CONNECTS;
}

static void *accept_run(void *arg)
{
	struct bench *b = arg;
	int fd;

	while ((fd = accept4(b->listener, NULL, NULL, SOCK_CLOEXEC)) >= 0 || errno == ECONNABORTED)
		if (fd >= 0)
			close(fd);
	return NULL;
}

/* Connections per second, or a negative errno. */
static double tcp_connections(struct bench *b, bool to_service)
{
	struct linger reset = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr_in backend = { .sin_family = AF_INET, .sin_port = htons(BACKEND_PORT) };
	double start = now_ns();
	int i, fd;

	inet_pton(AF_INET, BACKEND, &backend.sin_addr);
	for (i = 0; i < TCP_CONNECTIONS; i++) {
		struct sockaddr_in to = to_service ? random_service(b, IPPROTO_TCP) : backend;

		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
			int r = -errno;

			close(fd);
			return r;
		}
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
		close(fd);
	}
	return TCP_CONNECTIONS / ((now_ns() - start) / 1e9);
}

/* The best of RUNS: the least ns, or the most connections per second. */
static double best_udp(struct bench *b, enum udp_target target)
{
	double best = 0, v;
	int run;

	for (run = 0; run < RUNS; run++) {
		v = udp_connects(b, target);
		if (v < 0)
			return v;
		if (run == 0 || v < best)
			best = v;
	}
	return best;
}

static double best_tcp(struct bench *b, bool to_service)
{
	double best = 0, v;
	int run;

	for (run = 0; run < RUNS; run++) {
		v = tcp_connections(b, to_service);
		if (v < 0)
			return v;
		if (v > best)
			best = v;
	}
	return best;
}

static int listener_open(struct bench *b)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(BACKEND_PORT) };

	inet_pton(AF_INET, BACKEND, &sin.sin_addr);
	b->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (b->listener < 0 || bind(b->listener, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(b->listener, 4096) < 0)
		return -errno;
	return 0;
}

static int measure(struct bench *b)
{
	double none, miss, one, hit, tcp_none, tcp_hit;
	size_t i;
	int r;

	printf("| services | UDP connect(), no program | not a service | one service | random service "
	       "| TCP conn/s, no program | random service |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|\n");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		r = services_grow(b, sizes[i]);
		if (r < 0) {
			fprintf(stderr, "bench-lb-sock: filling %u services: %s\n", sizes[i], strerror(-r));
			return r;
		}
		none = best_udp(b, UDP_RANDOM_SERVICE);
		tcp_none = best_tcp(b, false);
		r = sock_env_join(&b->env, getpid());
		if (r < 0) {
			fprintf(stderr, "bench-lb-sock: joining the cgroup: %s\n", strerror(-r));
			return r;
		}
		miss = best_udp(b, UDP_NOT_A_SERVICE);
		one = best_udp(b, UDP_ONE_SERVICE);
		hit = best_udp(b, UDP_RANDOM_SERVICE);
		tcp_hit = best_tcp(b, true);
		r = sock_env_leave(&b->env, getpid());
		if (none < 0 || miss < 0 || one < 0 || hit < 0 || tcp_none < 0 || tcp_hit < 0 || r < 0) {
			fprintf(stderr, "bench-lb-sock: at %u services: a connect() or leaving the cgroup failed\n",
				sizes[i]);
			return -EIO;
		}
		printf("| %u | %.0f ns | %.0f ns | %.0f ns | %.0f ns | %.0f | %.0f |\n", sizes[i], none, miss, one,
		       hit, tcp_none, tcp_hit);
	}
	return 0;
}

int main(void)
{
	struct bench b = { .random = 2463534242u, .listener = -1 };
	struct utsname uts;
	pthread_t accepter;
	char why[256];
	int r, status = 1;

	if (geteuid() != 0) {
		fprintf(stderr, "bench-lb-sock: needs root (a network namespace, a cgroup, BPF programs)\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET) < 0 ||
	    system("ip link set lo up && ip route add local 10.0.0.0/8 dev lo") != 0) {
		fprintf(stderr, "bench-lb-sock: cannot set up a network namespace\n");
		return 1;
	}
	if (sock_env_open(&b.env, "kilo-bench-sock-", why, sizeof(why)) < 0) {
		fprintf(stderr, "bench-lb-sock: %s\n", why);
		goto out;
	}
	r = sock_env_backend_add(&b.env, 1, BACKEND, BACKEND_PORT, IPPROTO_TCP);
	if (r == 0)
		r = sock_env_backend_add(&b.env, 2, BACKEND, 5353, IPPROTO_UDP);
	if (r < 0) {
		fprintf(stderr, "bench-lb-sock: adding the backends: %s\n", strerror(-r));
		goto out;
	}
	if (listener_open(&b) < 0 || pthread_create(&accepter, NULL, accept_run, &b) != 0) {
		fprintf(stderr, "bench-lb-sock: cannot listen on " BACKEND ": %s\n", strerror(errno));
		goto out;
	}
	uname(&uts);
	printf("bench-lb-sock: socket-level balancing for a host process (kernel %s)\n", uts.release);
	printf("command: build/bench/lb/bench-lb-sock; UDP: %d connect()s, TCP: %d connections, best of %d\n\n",
	       UDP_CONNECTS, TCP_CONNECTIONS, RUNS);
	status = measure(&b) < 0;
	shutdown(b.listener, SHUT_RDWR);
	pthread_join(accepter, NULL);
out:
	if (b.listener >= 0)
		close(b.listener);
	sock_env_close(&b.env);
	return status;
}
