// SPDX-License-Identifier: Apache-2.0
/*
 * Connections per second through a service load balancer, for
 * bench/lb/connrate.sh:
 *
 *   bench-lb-connrate serve ADDR PORT
 *       accepts and closes connections on ADDR:PORT until killed; several
 *       servers may share one ADDR:PORT (SO_REUSEPORT).
 *   bench-lb-connrate connect SERVICES|ADDR PORT SECONDS CONCURRENCY
 *       opens TCP connections to random ones of SERVICES ClusterIPs (service
 *       i is 10.96.(i / 250).(i % 250 + 1), as bench/lb/connrate.sh makes
 *       them), or to the IPv4 address ADDR alone (bench/policy/connrate.sh),
 *       on PORT for SECONDS, CONCURRENCY at a time; each counts once its
 *       handshake completes, and is reset at close so that no TIME_WAIT piles
 *       up. Prints "connections SECONDS failed".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONCURRENCY 1024

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int serve(const char *addr, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, fd, c;

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "serve: %s is not an IPv4 address\n", addr);
		return 2;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 4096) < 0) {
		perror("serve");
		return 1;
	}
	for (;;) {
		c = accept(fd, NULL, NULL);
		if (c >= 0)
			close(c);
	}
}

/* Where to connect: one address, or services ClusterIPs drawn at random. */
struct target {
	struct in_addr addr; /* 0: a service */
	unsigned services;
	int port;
};

static void target_addr(const struct target *t, unsigned *seed, struct sockaddr_in *sin)
{
	unsigned i;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)t->port);
	if (t->addr.s_addr) {
		sin->sin_addr = t->addr;
		return;
	}
	i = (unsigned)rand_r(seed) % t->services;
	sin->sin_addr.s_addr = htonl((10u << 24) | (96u << 16) | ((i / 250) << 8) | (i % 250 + 1));
}

static int start_one(int ep, const struct target *t, unsigned *seed)
{
	struct linger reset = { .l_onoff = 1, .l_linger = 0 };
	struct epoll_event ev = { .events = EPOLLOUT };
	struct sockaddr_in sin;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
	target_addr(t, seed, &sin);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -errno;
	}
	ev.data.fd = fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return -errno;
	}
	return 0;
}

static int connect_loop(const struct target *t, double seconds, int concurrency)
{
	struct epoll_event events[64];
	unsigned long done = 0, failed = 0;
	unsigned seed = 1;
	double start, end;
	int ep, open_now = 0, n, i, e;
	socklen_t len;

	ep = epoll_create1(0);
	if (ep < 0) {
		perror("epoll");
		return 1;
	}
	start = now_s();
	end = start + seconds;
	while (now_s() < end) {
		while (open_now < concurrency && start_one(ep, t, &seed) == 0)
			open_now++;
		n = epoll_wait(ep, events, 64, 100);
		for (i = 0; i < n; i++) {
			e = 0;
			len = sizeof(e);
			getsockopt(events[i].data.fd, SOL_SOCKET, SO_ERROR, &e, &len);
			if (e)
				failed++;
			else
				done++;
			close(events[i].data.fd);
			open_now--;
		}
	}
	printf("%lu %.3f %lu\n", done, now_s() - start, failed);
	close(ep);
	return 0;
}

int main(int argc, char *argv[])
{
	if (argc == 4 && strcmp(argv[1], "serve") == 0)
		return serve(argv[2], atoi(argv[3]));
	if (argc == 6 && strcmp(argv[1], "connect") == 0) {
		struct target t = { .port = atoi(argv[3]) };
		bool one_addr = strchr(argv[2], '.');
		long services = one_addr ? 1 : atol(argv[2]);
		int concurrency = atoi(argv[5]);

		if (one_addr && (inet_pton(AF_INET, argv[2], &t.addr) != 1 || !t.addr.s_addr))
			services = 0;
		if (services < 1 || services > 250 * 250 || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
			fprintf(stderr, "connect: SERVICES 1..62500 or an IPv4 ADDR, CONCURRENCY 1..%d\n", MAX_CONCURRENCY);
			return 2;
		}
		t.services = (unsigned)services;
		return connect_loop(&t, atof(argv[4]), concurrency);
	}
	fprintf(stderr, "usage: bench-lb-connrate serve ADDR PORT\n"
			"       bench-lb-connrate connect SERVICES|ADDR PORT SECONDS CONCURRENCY\n");
	return 2;
}
