// SPDX-License-Identifier: Apache-2.0
/*
 * A backend that says who it is, and the clients that count the answers,
 * for the service namespace tests:
 *
 *   whoami serve tcp|udp ADDR PORT NAME
 *       TCP: writes "NAME\n" to each connection, then echoes what it reads.
 *       UDP: answers each datagram with "NAME\n".
 *   whoami count tcp|udp ADDR PORT N
 *       N connections (or datagrams), one at a time, each given 2 s and all
 *       of them 30 s; prints "NAME COUNT" for every name that answered and
 *       "failed COUNT" (what did not answer, was not tried in time, or
 *       answered from another address than ADDR PORT: the peer a TCP
 *       socket reports, the source of a UDP answer to an unconnected
 *       socket; the first such address is printed to stderr).
 *   whoami stream ADDR PORT SECONDS
 *       one TCP connection, a byte echoed every 50 ms for SECONDS; prints the
 *       backend's name at once and, at the end, the longest wait for an echo
 *       in ms; fails if the connection breaks.
 *   whoami bulk ADDR PORT BYTES
 *       one TCP connection that sends BYTES (full-sized segments) and reads
 *       them back, within 10 s; prints the backend's name and fails if the
 *       echo differs or stops.
 *   whoami refused tcp|udp ADDR PORT
 *       one connection (TCP) or datagram on a connected socket (UDP);
 *       succeeds if it is refused (a reset, or an ICMP unreachable) within
 *       2 s, and says what happened instead otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_NAMES 64
#define NAME_MAX_LEN 64
#define WAIT_MS 2000
#define COUNT_MS 30000
#define BULK_MS 10000

static int resolve(const char *addr, const char *port, int type, struct addrinfo **out)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = type, .ai_flags = AI_NUMERICHOST };
	int r = getaddrinfo(addr, port, &hints, out);

	if (r) {
		fprintf(stderr, "whoami: %s port %s: %s\n", addr, port, gai_strerror(r));
		return -1;
	}
	return 0;
}

static int socket_type(const char *proto)
{
	if (strcmp(proto, "tcp") == 0)
		return SOCK_STREAM;
	if (strcmp(proto, "udp") == 0)
		return SOCK_DGRAM;
	fprintf(stderr, "whoami: protocol %s is neither tcp nor udp\n", proto);
	exit(2);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd to be ready for events; 0 when it is, -1 on timeout. */
static int wait_fd(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, ms) == 1 ? 0 : -1;
}

static int serve_tcp(int fd, const char *name)
{
	struct epoll_event ev = { .events = EPOLLIN }, events[64];
	char buf[4096];
	int ep = epoll_create1(0), n, i, c;
	ssize_t got;

	ev.data.fd = fd;
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		return 1;
	for (;;) {
		n = epoll_wait(ep, events, 64, -1);
		for (i = 0; i < n; i++) {
			if (events[i].data.fd == fd) {
				c = accept(fd, NULL, NULL);
				if (c < 0)
					continue;
				ev.data.fd = c;
				if (dprintf(c, "%s\n", name) < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) < 0)
					close(c);
				continue;
			}
			got = read(events[i].data.fd, buf, sizeof(buf));
			if (got <= 0 || write(events[i].data.fd, buf, (size_t)got) != got)
				close(events[i].data.fd);
		}
	}
}

static _Noreturn void serve_udp(int fd, const char *name)
{
	struct sockaddr_storage from;
	socklen_t len;
	char buf[2048];

	for (;;) {
		len = sizeof(from);
		if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len) < 0)
			continue;
		sendto(fd, buf, (size_t)snprintf(buf, sizeof(buf), "%s\n", name), 0, (struct sockaddr *)&from, len);
	}
}

static int serve(const char *proto, const char *addr, const char *port, const char *name)
{
	struct addrinfo *ai;
	int type = socket_type(proto), one = 1, fd;

	if (resolve(addr, port, type, &ai) < 0)
		return 2;
	fd = socket(ai->ai_family, type, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || (type == SOCK_STREAM && listen(fd, 1024) < 0)) {
		fprintf(stderr, "whoami: serve %s %s %s: %s\n", proto, addr, port, strerror(errno));
		return 1;
	}
	freeaddrinfo(ai);
	if (type == SOCK_DGRAM)
		serve_udp(fd, name);
	return serve_tcp(fd, name);
}

/* Whether the socket address got is want; else the first such address is reported. */
static bool same_peer(const struct addrinfo *want, const struct sockaddr_storage *got, socklen_t len)
{
	static bool reported;
	char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";

	const struct sockaddr_in *w4 = (const void *)want->ai_addr, *g4 = (const void *)got;
	const struct sockaddr_in6 *w6 = (const void *)want->ai_addr, *g6 = (const void *)got;

	if (got->ss_family == AF_INET && want->ai_family == AF_INET && len >= sizeof(*g4) &&
	    g4->sin_addr.s_addr == w4->sin_addr.s_addr && g4->sin_port == w4->sin_port)
		return true;
	if (got->ss_family == AF_INET6 && want->ai_family == AF_INET6 && len >= sizeof(*g6) &&
	    memcmp(&g6->sin6_addr, &w6->sin6_addr, sizeof(g6->sin6_addr)) == 0 && g6->sin6_port == w6->sin6_port)
		return true;
	if (!reported) {
		getnameinfo((const struct sockaddr *)got, len, host, sizeof(host), port, sizeof(port),
			    NI_NUMERICHOST | NI_NUMERICSERV);
		fprintf(stderr, "whoami: an answer from %s port %s, not the address asked\n", host, port);
		reported = true;
	}
	return false;
}

/*
 * One connection or datagram: the answering backend's name into name; -1
 * when none answered in time, or the answer came from another address.
 */
static int ask(const struct addrinfo *ai, int type, char name[NAME_MAX_LEN])
{
	int fd = socket(ai->ai_family, type | SOCK_NONBLOCK, 0), e = 0;
	struct sockaddr_storage peer;
	socklen_t len = sizeof(e), peer_len = sizeof(peer);
	ssize_t got;
	char *nl;

	if (fd < 0)
		return -1;
	if (type == SOCK_STREAM) {
		if ((connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) ||
		    wait_fd(fd, POLLOUT, WAIT_MS) < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0 || e ||
		    getpeername(fd, (struct sockaddr *)&peer, &peer_len) < 0)
			goto fail;
	} else if (sendto(fd, "?", 1, 0, ai->ai_addr, ai->ai_addrlen) != 1) {
		goto fail;
	}
	if (wait_fd(fd, POLLIN, WAIT_MS) < 0)
		goto fail;
	/* Unconnected, a UDP socket takes an answer from anywhere: its source is checked. */
	got = recvfrom(fd, name, NAME_MAX_LEN - 1, 0, type == SOCK_DGRAM ? (struct sockaddr *)&peer : NULL,
		       type == SOCK_DGRAM ? &peer_len : NULL);
	if (got <= 0 || !same_peer(ai, &peer, peer_len))
		goto fail;
	name[got] = '\0';
	nl = strchr(name, '\n');
	if (nl)
		*nl = '\0';
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

static int count(const char *proto, const char *addr, const char *port, long n)
{
	char names[MAX_NAMES][NAME_MAX_LEN], name[NAME_MAX_LEN];
	long counts[MAX_NAMES] = { 0 }, failed = 0, i, deadline = now_ms() + COUNT_MS;
	int type = socket_type(proto), k, used = 0;
	struct addrinfo *ai;

	if (resolve(addr, port, type, &ai) < 0)
		return 2;
	for (i = 0; i < n; i++) {
		if (now_ms() > deadline) {
			failed += n - i;
			break;
		}
		if (ask(ai, type, name) < 0) {
			failed++;
			continue;
		}
		for (k = 0; k < used && strcmp(names[k], name) != 0; k++)
			;
		if (k == used && used < MAX_NAMES)
			snprintf(names[used++], NAME_MAX_LEN, "%s", name);
		if (k < used)
			counts[k]++;
	}
	freeaddrinfo(ai);
	for (k = 0; k < used; k++)
		printf("%s %ld\n", names[k], counts[k]);
	printf("failed %ld\n", failed);
	return 0;
}

/* A TCP connection to addr port, blocking, and the name its backend sends first; -1 when either fails. */
static int open_stream(const char *addr, const char *port, char name[NAME_MAX_LEN])
{
	struct addrinfo *ai;
	ssize_t got;
	int fd;

	if (resolve(addr, port, SOCK_STREAM, &ai) < 0)
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		fprintf(stderr, "whoami: stream to %s port %s: %s\n", addr, port, strerror(errno));
		freeaddrinfo(ai);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	freeaddrinfo(ai);
	got = wait_fd(fd, POLLIN, WAIT_MS) < 0 ? -1 : recv(fd, name, NAME_MAX_LEN - 1, 0);
	if (got <= 0) {
		fprintf(stderr, "whoami: stream: no name from the backend\n");
		close(fd);
		return -1;
	}
	name[got] = '\0';
	name[strcspn(name, "\n")] = '\0';
	printf("%s\n", name);
	fflush(stdout);
	return fd;
}

static int stream(const char *addr, const char *port, long seconds)
{
	char name[NAME_MAX_LEN], byte;
	long end, sent, worst = 0;
	int fd = open_stream(addr, port, name);

	if (fd < 0)
		return 1;
	end = now_ms() + seconds * 1000;
	while (now_ms() < end) {
		sent = now_ms();
		if (send(fd, "x", 1, 0) != 1 || wait_fd(fd, POLLIN, 10 * WAIT_MS) < 0 || recv(fd, &byte, 1, 0) != 1) {
			fprintf(stderr, "whoami: stream broke after %ld ms\n", seconds * 1000 - (end - sent));
			return 1;
		}
		if (now_ms() - sent > worst)
			worst = now_ms() - sent;
		usleep(50000);
	}
	printf("longest wait %ld ms\n", worst);
	close(fd);
	return 0;
}

static unsigned char bulk_byte(long i)
{
	return (unsigned char)(i * 7 + i / 251);
}

/* Sends total bytes and reads their echo at once, so that neither side's buffer stops the other. */
static int bulk(const char *addr, const char *port, long total)
{
	unsigned char out[65536], in[65536];
	char name[NAME_MAX_LEN];
	long sent = 0, got = 0, end = now_ms() + BULK_MS, k;
	int fd = open_stream(addr, port, name), r = 1;
	ssize_t n;

	if (fd < 0)
		return 1;
	while (got < total && now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN | (sent < total ? POLLOUT : 0) };

		if (poll(&p, 1, WAIT_MS) != 1)
			break;
		if ((p.revents & POLLOUT) && sent < total) {
			for (k = 0; k < (long)sizeof(out); k++)
				out[k] = bulk_byte(sent + k);
			n = send(fd, out, (size_t)(total - sent < (long)sizeof(out) ? total - sent : (long)sizeof(out)),
				 MSG_DONTWAIT);
			if (n < 0 && errno != EAGAIN)
				break;
			sent += n > 0 ? n : 0;
		}
		if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
			n = recv(fd, in, sizeof(in), MSG_DONTWAIT);
			if (n <= 0 && !(n < 0 && errno == EAGAIN))
				break;
			for (k = 0; k < n; k++)
				if (in[k] != bulk_byte(got + k)) {
					fprintf(stderr, "whoami: bulk: byte %ld differs\n", got + k);
					goto out;
				}
			got += n > 0 ? n : 0;
		}
	}
	if (got == total)
		r = 0;
	else
		fprintf(stderr, "whoami: bulk: %ld of %ld bytes echoed (%ld sent)\n", got, total, sent);
out:
	close(fd);
	return r;
}

/* 0 when a connection (or a datagram) to addr port is refused within WAIT_MS. */
static int refused(const char *proto, const char *addr, const char *port)
{
	int type = socket_type(proto), fd = -1, e = 0;
	socklen_t len = sizeof(e);
	struct addrinfo *ai;
	char buf[NAME_MAX_LEN];

	if (resolve(addr, port, type, &ai) < 0)
		return 2;
	fd = socket(ai->ai_family, type | SOCK_NONBLOCK, 0);
	if (fd < 0 || (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)) {
		e = errno;
		goto out;
	}
	if (type == SOCK_DGRAM && send(fd, "?", 1, 0) != 1) {
		e = errno;
		goto out;
	}
	if (wait_fd(fd, type == SOCK_STREAM ? POLLOUT : POLLIN, WAIT_MS) < 0) {
		e = ETIMEDOUT;
		goto out;
	}
	if (type == SOCK_STREAM)
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len);
	else if (recv(fd, buf, sizeof(buf), 0) < 0)
		e = errno;
out:
	freeaddrinfo(ai);
	if (fd >= 0)
		close(fd);
	if (e == ECONNREFUSED)
		return 0;
	fprintf(stderr, "whoami: %s %s port %s: not refused (%s)\n", proto, addr, port, e ? strerror(e) : "answered");
	return 1;
}

int main(int argc, char *argv[])
{
	if (argc == 6 && strcmp(argv[1], "serve") == 0)
		return serve(argv[2], argv[3], argv[4], argv[5]);
	if (argc == 6 && strcmp(argv[1], "count") == 0)
		return count(argv[2], argv[3], argv[4], atol(argv[5]));
	if (argc == 5 && strcmp(argv[1], "stream") == 0)
		return stream(argv[2], argv[3], atol(argv[4]));
	if (argc == 5 && strcmp(argv[1], "bulk") == 0)
		return bulk(argv[2], argv[3], atol(argv[4]));
	if (argc == 5 && strcmp(argv[1], "refused") == 0)
		return refused(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: whoami serve tcp|udp ADDR PORT NAME\n"
			"       whoami count tcp|udp ADDR PORT N\n"
			"       whoami stream ADDR PORT SECONDS\n"
			"       whoami bulk ADDR PORT BYTES\n"
			"       whoami refused tcp|udp ADDR PORT\n");
	return 2;
}
