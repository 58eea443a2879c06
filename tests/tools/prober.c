// SPDX-License-Identifier: Apache-2.0
/*
 * Probes many (address, port, protocol) targets from one network namespace
 * at once, for the network policy truth table (tests/netns/policy):
 *
 *   prober [-u FIRST_UDP_PORT] TIMEOUT_MS < PROBES
 *
 * PROBES has one line per probe, "ID ADDRESS PORT tcp|udp" (ID is the
 * caller's label, no spaces). Every probe starts at once, on non-blocking
 * sockets, and ends by TIMEOUT_MS at the latest; then one line per probe,
 * in input order: "ID NAME" for the name the server answered with (the
 * first line it sent), or "ID - REASON" (timeout, refused, unreachable...).
 * A TCP probe connects and reads; a UDP probe sends a datagram, again every
 * UDP_RESEND_MS, since a datagram may be lost where a SYN is retransmitted.
 * With -u, the UDP probes send from FIRST_UDP_PORT, FIRST_UDP_PORT + 1, ...
 * rather than from ports the kernel picks at random: a caller that gives
 * each run ports of its own never repeats a flow that a firewall's
 * connection tracking still remembers from an earlier run.
 * Exits 0 when every probe ended, whatever it found; 2 on bad input.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROBES 1024
#define LABEL_LEN 128
#define ANSWER_LEN 64
#define UDP_RESEND_MS 250

struct probe {
	char id[LABEL_LEN];
	char answer[ANSWER_LEN]; /* the server's name, or "- REASON"; empty while running */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int type; /* SOCK_STREAM, SOCK_DGRAM */
	int fd;
	int connected; /* TCP: the handshake is done, the name is being read */
	long next_send_ms; /* UDP */
	unsigned short source_port; /* UDP: 0, or the port to send from */
	size_t got;
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The probe ends unanswered, unless an answer came already. */
static void fail(struct probe *p, int e)
{
	if (p->answer[0])
		return;
	snprintf(p->answer, sizeof(p->answer), "- %s",
		 e == ECONNREFUSED ? "refused" : e == ETIMEDOUT ? "timeout" : strerror(e));
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

static int parse_line(char *line, struct probe *p, unsigned n)
{
	char addr[64], port[8], proto[4];
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *ai;
	int r;

	if (sscanf(line, "%127s %63s %7s %3s", p->id, addr, port, proto) != 4) {
		fprintf(stderr, "prober: line %u: want \"ID ADDRESS PORT tcp|udp\", got: %s", n, line);
		return -1;
	}
	if (!strcmp(proto, "tcp"))
		p->type = SOCK_STREAM;
	else if (!strcmp(proto, "udp"))
		p->type = SOCK_DGRAM;
	else {
		fprintf(stderr, "prober: line %u: protocol %s is neither tcp nor udp\n", n, proto);
		return -1;
	}
	hints.ai_socktype = p->type;
	if ((r = getaddrinfo(addr, port, &hints, &ai))) {
		fprintf(stderr, "prober: line %u: %s port %s: %s\n", n, addr, port, gai_strerror(r));
		return -1;
	}
	memcpy(&p->addr, ai->ai_addr, ai->ai_addrlen);
	p->addr_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	p->fd = -1;
	return 0;
}

static void send_datagram(struct probe *p, long now)
{
	if (send(p->fd, "probe\n", 6, 0) < 0 && errno != EAGAIN && errno != ECONNREFUSED)
		fail(p, errno);
	p->next_send_ms = now + UDP_RESEND_MS;
}

/* Binds the socket to the probe's source port, in its family's wildcard address. */
static int bind_source(const struct probe *p)
{
	struct sockaddr_storage any = { .ss_family = p->addr.ss_family };

	if (p->addr.ss_family == AF_INET)
		((struct sockaddr_in *)&any)->sin_port = htons(p->source_port);
	else
		((struct sockaddr_in6 *)&any)->sin6_port = htons(p->source_port);
	return bind(p->fd, (struct sockaddr *)&any, p->addr_len);
}

static void start(struct probe *p)
{
	p->fd = socket(p->addr.ss_family, p->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		fail(p, errno);
		return;
	}
	if (p->source_port && bind_source(p) < 0)
		fail(p, errno);
	else if (connect(p->fd, (struct sockaddr *)&p->addr, p->addr_len) < 0 && errno != EINPROGRESS)
		fail(p, errno);
	else if (p->type == SOCK_DGRAM)
		send_datagram(p, now_ms());
}

/* Reads what the server sent; done at its first newline (or when it closes). */
static void receive(struct probe *p)
{
	ssize_t n = recv(p->fd, p->answer + p->got, sizeof(p->answer) - 1 - p->got, 0);
	char *nl;

	if (n < 0) {
		/* A UDP port closed answers with an ICMP error, reported here; keep trying until the timeout. */
		if (errno != EAGAIN && !(p->type == SOCK_DGRAM && errno == ECONNREFUSED))
			fail(p, errno);
		return;
	}
	p->got += (size_t)n;
	p->answer[p->got] = '\0';
	nl = strchr(p->answer, '\n');
	if (nl || n == 0 || p->got == sizeof(p->answer) - 1) {
		if (nl)
			*nl = '\0';
		if (!p->answer[0]) {
			fail(p, ECONNRESET);
			return;
		}
		close(p->fd);
		p->fd = -1;
	}
}

static void step(struct probe *p, short revents, long now)
{
	int e = 0;
	socklen_t len = sizeof(e);

	if (p->type == SOCK_STREAM && !p->connected) {
		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return;
		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
			e = errno;
		if (e) {
			fail(p, e);
			return;
		}
		p->connected = 1;
		return;
	}
	if (revents & (POLLIN | POLLERR | POLLHUP))
		receive(p);
	if (p->fd >= 0 && p->type == SOCK_DGRAM && now >= p->next_send_ms)
		send_datagram(p, now);
}

static int run(struct probe *probes, unsigned n, long timeout_ms)
{
	static struct pollfd fds[MAX_PROBES];
	long deadline = now_ms() + timeout_ms, now;
	unsigned i, open;

	for (i = 0; i < n; i++)
		start(&probes[i]);
	for (;;) {
		now = now_ms();
		open = 0;
		for (i = 0; i < n; i++) {
			fds[i].fd = probes[i].fd;
			fds[i].events = probes[i].type == SOCK_STREAM && !probes[i].connected ? POLLOUT : POLLIN;
			fds[i].revents = 0;
			if (probes[i].fd >= 0)
				open++;
		}
		if (!open || now >= deadline)
			break;
		/* Wake for the next UDP resend too. */
		if (poll(fds, n, (int)(deadline - now < UDP_RESEND_MS ? deadline - now : UDP_RESEND_MS)) < 0 &&
		    errno != EINTR)
			return -1;
		now = now_ms();
		for (i = 0; i < n; i++)
			if (probes[i].fd >= 0)
				step(&probes[i], fds[i].revents, now);
	}
	for (i = 0; i < n; i++)
		fail(&probes[i], ETIMEDOUT);
	return 0;
}

int main(int argc, char **argv)
{
	static struct probe probes[MAX_PROBES];
	char line[256], *end = NULL;
	unsigned n = 0, i;
	long timeout_ms, udp_port = 0;

	if (argc == 4 && !strcmp(argv[1], "-u")) {
		udp_port = strtol(argv[2], &end, 10);
		argv += 2;
		argc -= 2;
	}
	if ((end && (*end || udp_port < 1 || udp_port > 65535)) || argc != 2 ||
	    (timeout_ms = strtol(argv[1], &end, 10)) <= 0 || *end) {
		fprintf(stderr, "usage: prober [-u FIRST_UDP_PORT] TIMEOUT_MS < PROBES (lines \"ID ADDRESS PORT tcp|udp\")\n");
		return 2;
	}
	while (fgets(line, sizeof(line), stdin)) {
		if (line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if (n == MAX_PROBES) {
			fprintf(stderr, "prober: more than %d probes\n", MAX_PROBES);
			return 2;
		}
		if (parse_line(line, &probes[n], n + 1) < 0)
			return 2;
		if (udp_port && probes[n].type == SOCK_DGRAM) {
			if (udp_port > 65535) {
				fprintf(stderr, "prober: line %u: no UDP source port left\n", n + 1);
				return 2;
			}
			probes[n].source_port = (unsigned short)udp_port++;
		}
		n++;
	}
	if (run(probes, n, timeout_ms) < 0) {
		perror("prober: poll");
		return 1;
	}
	for (i = 0; i < n; i++)
		printf("%s %s\n", probes[i].id, probes[i].answer);
	return 0;
}
