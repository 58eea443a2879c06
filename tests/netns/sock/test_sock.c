/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Socket-level load balancing (lib/bpf/progs/sock.bpf.c) on the running
 * kernel: the programs are loaded with their maps pinned in a directory of
 * this test's own under bpffs, attached to a cgroup v2 of its own, and the
 * maps filled by hand. Clients are processes moved into that cgroup; the
 * backends are sockets of this process (outside the cgroup) on addresses of
 * a network namespace the test unshares, so nothing of the host is touched.
 * The pin directory and the cgroup are removed on exit, and a later run
 * removes those of a run that died. Needs root; skips (77) without.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../netns_test.h"
#include "lb.skel.h"
#include "sock_env.h"

#define PREFIX "kilo-test-sock-"
#define MAX_TRIES 128
#define MAX_SERVERS 16

/* The namespace's addresses: three backends per family, one address that is no service's. */
static const char *const backends4[] = { "10.200.0.1", "10.200.0.2", "10.200.0.3" };
static const char *const backends6[] = { "fd00:200::1", "fd00:200::2", "fd00:200::3" };
#define OTHER4 "10.200.0.100"
#define VIP4 "10.96.0.10"        /* TCP 80 and UDP 53; also a local address, for TCP 53 */
#define VIP4_MAGLEV "10.96.0.11"
#define VIP4_AFFINITY "10.96.0.12"
#define VIP4_EMPTY "10.96.0.13"
#define VIP6 "fd00:96::10"
#define NODE4 OTHER4             /* the node's own address, with a NodePort */
#define NODE_PORT 30080
#define TCP_BACKEND_PORT 8080
#define UDP_BACKEND_PORT 5353

struct fixture {
	struct sock_env env;
	int servers[MAX_SERVERS];
	size_t n_servers;
	int stop[2];
	pthread_t thread;
	bool thread_started;
};

/* What a client in the cgroup saw: per try, its errno (0: reached) and two "ADDRESS PORT"s. */
struct client_result {
	int err[MAX_TRIES];
	char backend[MAX_TRIES][64]; /* the address the server reported as its own */
	char peer[MAX_TRIES][64];    /* getpeername() for TCP, recvfrom()'s source for UDP */
};

struct client_job {
	int family;   /* of the client's socket */
	int type;     /* SOCK_STREAM or SOCK_DGRAM */
	const char *address;
	int port;
	int tries;
	bool one_socket; /* UDP: every try from the same socket */
	bool connected;  /* UDP: connect() then send(), as a resolver does */
};

static struct fixture fixture;

/* ---- sockaddr helpers ------------------------------------------------- */

static socklen_t sockaddr_make(int family, const char *address, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, address, &sin->sin_addr), 1);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	/* An IPv4 address on an IPv6 socket is asked for in its mapped form. */
	if (strchr(address, ':')) {
		assert_int_equal(inet_pton(AF_INET6, address, &sin6->sin6_addr), 1);
	} else {
		char mapped[64];

		snprintf(mapped, sizeof(mapped), "::ffff:%s", address);
		assert_int_equal(inet_pton(AF_INET6, mapped, &sin6->sin6_addr), 1);
	}
	return sizeof(*sin6);
}

static void sockaddr_format(const struct sockaddr_storage *ss, char *out, size_t size)
{
	char text[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
		port = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
		port = ntohs(sin6->sin6_port);
	}
	snprintf(out, size, "%s %d", text, port);
}

/* ---- backends: sockets of this process, outside the cgroup ------------ */

static void server_add(int type, const char *address, int port)
{
	int family = strchr(address, ':') ? AF_INET6 : AF_INET, one = 1, fd;
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_make(family, address, port, &ss);

	assert_true(fixture.n_servers < MAX_SERVERS);
	fd = socket(family, type | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		fail_msg("bind %s %d: %s", address, port, strerror(errno));
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 64), 0);
	fixture.servers[fixture.n_servers++] = fd;
}

/* Each backend answers with its own address: a TCP server on accept, a UDP one to each datagram. */
static void server_answer(int fd)
{
	struct sockaddr_storage own, from;
	socklen_t own_len = sizeof(own), from_len = sizeof(from);
	char text[64], buf[64];
	int type = 0, conn;
	socklen_t type_len = sizeof(type);

	getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len);
	if (type == SOCK_DGRAM) {
		if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &from_len) < 0)
			return;
		getsockname(fd, (struct sockaddr *)&own, &own_len);
		sockaddr_format(&own, text, sizeof(text));
		sendto(fd, text, strlen(text), 0, (struct sockaddr *)&from, from_len);
		return;
	}
	conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return;
	getsockname(conn, (struct sockaddr *)&own, &own_len);
	sockaddr_format(&own, text, sizeof(text));
	if (write(conn, text, strlen(text)) < 0) {
		/* the client left; nothing to report to */
	}
	close(conn);
}

static void *server_run(void *arg)
{
	struct pollfd pfds[MAX_SERVERS + 1];
	size_t i;

	(void)arg;
	for (i = 0; i < fixture.n_servers; i++)
		pfds[i] = (struct pollfd){ .fd = fixture.servers[i], .events = POLLIN };
	pfds[i] = (struct pollfd){ .fd = fixture.stop[0], .events = POLLIN };
	while (poll(pfds, fixture.n_servers + 1, -1) >= 0 && !pfds[fixture.n_servers].revents) {
		for (i = 0; i < fixture.n_servers; i++)
			if (pfds[i].revents & POLLIN)
				server_answer(pfds[i].fd);
	}
	return NULL;
}

/* ---- clients: processes moved into the cgroup ------------------------- */

static int client_try(const struct client_job *job, int *fd, char *backend, char *peer)
{
	struct timeval timeout = { .tv_sec = 2 };
	struct sockaddr_storage to, from;
	socklen_t to_len = sockaddr_make(job->family, job->address, job->port, &to);
	socklen_t from_len = sizeof(from);
	ssize_t n;

	if (*fd < 0) {
		*fd = socket(job->family, job->type, 0);
		if (*fd < 0)
			return errno;
		setsockopt(*fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	}
	if (job->type == SOCK_STREAM) {
		if (connect(*fd, (struct sockaddr *)&to, to_len) < 0)
			return errno;
		if (getpeername(*fd, (struct sockaddr *)&from, &from_len) < 0)
			return errno;
		n = read(*fd, backend, 63);
	} else {
		if (job->connected ? connect(*fd, (struct sockaddr *)&to, to_len) < 0 || send(*fd, "ping", 4, 0) < 0
				   : sendto(*fd, "ping", 4, 0, (struct sockaddr *)&to, to_len) < 0)
			return errno;
		n = recvfrom(*fd, backend, 63, 0, (struct sockaddr *)&from, &from_len);
	}
	if (n <= 0)
		return n < 0 ? errno : EPIPE;
	backend[n] = '\0';
	sockaddr_format(&from, peer, 64);
	return 0;
}

static void client_main(const struct client_job *job, struct client_result *result)
{
	int fd = -1, i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm(60);
	if (sock_env_join(&fixture.env, getpid()) < 0)
		_exit(2);
	/* Up to the first failure, which is the one the test reports. */
	for (i = 0; i < job->tries; i++) {
		result->err[i] = client_try(job, &fd, result->backend[i], result->peer[i]);
		if (result->err[i])
			break;
		if (!job->one_socket) {
			close(fd);
			fd = -1;
		}
	}
	_exit(0);
}

/* Runs the job in a new process inside the cgroup. Unmap the result with client_done. */
static struct client_result *client_run(const struct client_job *job)
{
	struct client_result *result = mmap(NULL, sizeof(*result), PROT_READ | PROT_WRITE,
					    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int status;
	pid_t pid;

	assert_true(result != MAP_FAILED);
	assert_true(job->tries <= MAX_TRIES);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		client_main(job, result);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	return result;
}

static void client_done(struct client_result *result)
{
	munmap(result, sizeof(*result));
}

/* ---- the maps, filled by hand ----------------------------------------- */

/* A Maglev table of KILO_LB_MAGLEV_DEFAULT entries that alternates between two backends. */
static void maglev_add(__u32 service_id, __u32 first, __u32 second)
{
	/* The outer map takes only tables with the flags of its inner template. */
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP);
	int inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "kilo_test_maglev", sizeof(__u32), sizeof(__u32),
				   KILO_LB_MAGLEV_DEFAULT, &opts);
	__u32 i;

	assert_true(inner >= 0);
	for (i = 0; i < KILO_LB_MAGLEV_DEFAULT; i++)
		assert_int_equal(bpf_map_update_elem(inner, &i, i % 2 ? &second : &first, BPF_ANY), 0);
	assert_int_equal(bpf_map__update_elem(fixture.env.skel->maps.kilo_lb_maglev, &service_id,
					      sizeof(service_id), &inner, sizeof(inner), BPF_ANY), 0);
	close(inner);
}

static __u64 counter(enum kilo_lb_counter reason)
{
	int cpus = libbpf_num_possible_cpus(), i;
	struct kilo_lb_counter_value values[cpus];
	__u32 key = reason;
	__u64 sum = 0;

	assert_int_equal(bpf_map__lookup_elem(fixture.env.skel->maps.kilo_lb_counters, &key, sizeof(key),
					      values, sizeof(values), 0), 0);
	for (i = 0; i < cpus; i++)
		sum += values[i].packets;
	return sum;
}

static void backend_add(__u32 id, const char *address, int port, int proto)
{
	assert_int_equal(sock_env_backend_add(&fixture.env, id, address, port, proto), 0);
}

static void frontend_add(__u32 id, enum kilo_lb_scope scope, const char *address, int port, int proto,
			 __u16 flags, const __u32 *backend_ids, __u16 n)
{
	assert_int_equal(sock_env_frontend_add(&fixture.env, id, scope, address, port, proto, flags,
					       backend_ids, n), 0);
}

static void service_add(__u32 id, const char *vip, int port, int proto, __u16 flags,
			const __u32 *backend_ids, __u16 n)
{
	frontend_add(id, KILO_LB_SCOPE_CLUSTER, vip, port, proto, flags, backend_ids, n);
}

static void maps_fill(void)
{
	const __u32 tcp4[] = { 1, 2, 3 }, udp4[] = { 4, 5, 6 }, tcp6[] = { 11, 12, 13 },
		    udp6[] = { 14, 15, 16 };
	int i;

	for (i = 0; i < 3; i++) {
		backend_add(tcp4[i], backends4[i], TCP_BACKEND_PORT, IPPROTO_TCP);
		backend_add(udp4[i], backends4[i], UDP_BACKEND_PORT, IPPROTO_UDP);
		backend_add(tcp6[i], backends6[i], TCP_BACKEND_PORT, IPPROTO_TCP);
		backend_add(udp6[i], backends6[i], UDP_BACKEND_PORT, IPPROTO_UDP);
	}
	service_add(1, VIP4, 80, IPPROTO_TCP, 0, tcp4, 3);
	service_add(2, VIP4, 53, IPPROTO_UDP, 0, udp4, 3);
	service_add(3, VIP4_MAGLEV, 80, IPPROTO_TCP, KILO_LB_SERVICE_MAGLEV, tcp4, 3);
	maglev_add(3, 1, 2);
	service_add(4, VIP4_AFFINITY, 80, IPPROTO_TCP, KILO_LB_SERVICE_AFFINITY, tcp4, 3);
	service_add(5, VIP4_EMPTY, 80, IPPROTO_TCP, 0, NULL, 0);
	service_add(6, VIP4_EMPTY, 53, IPPROTO_UDP, 0, NULL, 0);
	service_add(7, VIP6, 80, IPPROTO_TCP, 0, tcp6, 3);
	service_add(8, VIP6, 53, IPPROTO_UDP, 0, udp6, 3);
	frontend_add(9, KILO_LB_SCOPE_NODEPORT, NODE4, NODE_PORT, IPPROTO_TCP, 0, tcp4, 3);
}

/* ---- assertions ------------------------------------------------------- */

/*
 * Runs the job; every try must have reached one of the backends at port and
 * seen peer as its peer. Returns a mask of the backends used.
 */
static unsigned backends_reached(const struct client_job *job, const char *const *backends, int port,
				 const char *peer)
{
	struct client_result *result = client_run(job);
	unsigned used = 0;
	int i, b;

	for (i = 0; i < job->tries; i++) {
		if (result->err[i])
			fail_msg("try %d: %s", i, strerror(result->err[i]));
		for (b = 0; b < 3; b++) {
			char want[64];

			snprintf(want, sizeof(want), "%s %d", backends[b], port);
			if (!strcmp(result->backend[i], want)) {
				used |= 1u << b;
				break;
			}
		}
		if (b == 3)
			fail_msg("try %d reached \"%s\", not a backend", i, result->backend[i]);
		assert_string_equal(result->peer[i], peer);
	}
	client_done(result);
	return used;
}

/* ---- tests ------------------------------------------------------------ */

static void test_tcp_connect_to_a_vip_reaches_a_backend_and_shows_the_vip(void **state)
{
	struct client_job job = { .family = AF_INET, .type = SOCK_STREAM, .address = VIP4,
				  .port = 80, .tries = 1 };
	__u64 forwarded = counter(KILO_LB_SOCK_FORWARD), reversed = counter(KILO_LB_SOCK_REVERSE);

	(void)state;
	backends_reached(&job, backends4, TCP_BACKEND_PORT, VIP4 " 80");
	assert_int_equal(counter(KILO_LB_SOCK_FORWARD), forwarded + 1);
	assert_int_equal(counter(KILO_LB_SOCK_REVERSE), reversed + 1); /* getpeername */
}

static void test_tcp_connects_use_every_backend(void **state)
{
	struct client_job job = { .family = AF_INET, .type = SOCK_STREAM, .address = VIP4,
				  .port = 80, .tries = 100 };

	(void)state;
	assert_int_equal(backends_reached(&job, backends4, TCP_BACKEND_PORT, VIP4 " 80"), 0x7);
}

static void test_maglev_service_picks_from_its_table(void **state)
{
	struct client_job job = { .family = AF_INET, .type = SOCK_STREAM, .address = VIP4_MAGLEV,
				  .port = 80, .tries = 100 };

	(void)state;
	/* The table holds backends 1 and 2 only; the slots, which would give 3 too, are not asked. */
	assert_int_equal(backends_reached(&job, backends4, TCP_BACKEND_PORT, VIP4_MAGLEV " 80"), 0x3);
}

static void test_affinity_keeps_a_client_on_one_backend(void **state)
{
	struct client_job job = { .family = AF_INET, .type = SOCK_STREAM, .address = VIP4_AFFINITY,
				  .port = 80, .tries = 30 };
	unsigned used;

	(void)state;
	used = backends_reached(&job, backends4, TCP_BACKEND_PORT, VIP4_AFFINITY " 80");
	assert_true(used == 0x1 || used == 0x2 || used == 0x4);
}

static void test_udp_round_trip_shows_the_vip_as_the_peer(void **state)
{
	struct client_job job = { .family = AF_INET, .type = SOCK_DGRAM, .address = VIP4,
				  .port = 53, .tries = 60 };

	(void)state;
	/* A socket per try: sockets spread over the backends by their cookies. */
	assert_int_equal(backends_reached(&job, backends4, UDP_BACKEND_PORT, VIP4 " 53"), 0x7);
}

static void test_udp_socket_keeps_its_backend(void **state)
{
	struct client_job job = { .family = AF_INET, .type = SOCK_DGRAM, .address = VIP4,
				  .port = 53, .tries = 20, .one_socket = true };
	unsigned used;

	(void)state;
	used = backends_reached(&job, backends4, UDP_BACKEND_PORT, VIP4 " 53");
	assert_true(used == 0x1 || used == 0x2 || used == 0x4);
}

/* A resolver connects its UDP socket and checks that answers come from the server it asked. */
static void test_connected_udp_answers_come_from_the_vip(void **state)
{
	struct client_job v4 = { .family = AF_INET, .type = SOCK_DGRAM, .address = VIP4,
				  .port = 53, .tries = 60, .connected = true };
	struct client_job v6 = { .family = AF_INET6, .type = SOCK_DGRAM, .address = VIP6,
				  .port = 53, .tries = 60, .connected = true };

	(void)state;
	assert_int_equal(backends_reached(&v4, backends4, UDP_BACKEND_PORT, VIP4 " 53"), 0x7);
	assert_int_equal(backends_reached(&v6, backends6, UDP_BACKEND_PORT, VIP6 " 53"), 0x7);
}

static void test_ipv6_tcp_and_udp(void **state)
{
	struct client_job tcp = { .family = AF_INET6, .type = SOCK_STREAM, .address = VIP6,
				  .port = 80, .tries = 60 };
	struct client_job udp = { .family = AF_INET6, .type = SOCK_DGRAM, .address = VIP6,
				  .port = 53, .tries = 60 };

	(void)state;
	assert_int_equal(backends_reached(&tcp, backends6, TCP_BACKEND_PORT, VIP6 " 80"), 0x7);
	assert_int_equal(backends_reached(&udp, backends6, UDP_BACKEND_PORT, VIP6 " 53"), 0x7);
}

static void test_ipv4_mapped_addresses_on_an_ipv6_socket(void **state)
{
	struct client_job tcp = { .family = AF_INET6, .type = SOCK_STREAM, .address = VIP4,
				  .port = 80, .tries = 60 };
	struct client_job udp = { .family = AF_INET6, .type = SOCK_DGRAM, .address = VIP4,
				  .port = 53, .tries = 60 };

	(void)state;
	/* The backends' own (IPv4) sockets report them; the client sees the service in mapped form. */
	assert_int_equal(backends_reached(&tcp, backends4, TCP_BACKEND_PORT, "::ffff:" VIP4 " 80"), 0x7);
	assert_int_equal(backends_reached(&udp, backends4, UDP_BACKEND_PORT, "::ffff:" VIP4 " 53"), 0x7);
}

static void test_nodeport_on_the_nodes_own_address(void **state)
{
	struct client_job job = { .family = AF_INET, .type = SOCK_STREAM, .address = NODE4,
				  .port = NODE_PORT, .tries = 30 };

	(void)state;
	assert_int_equal(backends_reached(&job, backends4, TCP_BACKEND_PORT, "10.200.0.100 30080"), 0x7);
}

static void test_service_without_backends_refuses(void **state)
{
	struct client_job tcp = { .family = AF_INET, .type = SOCK_STREAM, .address = VIP4_EMPTY,
				  .port = 80, .tries = 1 };
	struct client_job udp = { .family = AF_INET, .type = SOCK_DGRAM, .address = VIP4_EMPTY,
				  .port = 53, .tries = 1 };
	__u64 refused = counter(KILO_LB_SOCK_REJECT_NO_BACKEND);
	struct client_result *result;

	(void)state;
	result = client_run(&tcp);
	assert_int_equal(result->err[0], ECONNREFUSED);
	client_done(result);
	result = client_run(&udp);
	assert_int_equal(result->err[0], ECONNREFUSED);
	client_done(result);
	assert_int_equal(counter(KILO_LB_SOCK_REJECT_NO_BACKEND), refused + 2);
}

static void test_other_addresses_are_untouched(void **state)
{
	/* VIP4 is a service for TCP 80 and UDP 53 only: TCP 53 reaches the address itself. */
	struct client_job other_proto = { .family = AF_INET, .type = SOCK_STREAM, .address = VIP4,
				  .port = 53, .tries = 1 };
	struct client_job other_addr = { .family = AF_INET, .type = SOCK_STREAM, .address = OTHER4,
				  .port = 80, .tries = 1 };
	struct client_job backend = { .family = AF_INET, .type = SOCK_STREAM, .address = "10.200.0.2",
				  .port = TCP_BACKEND_PORT, .tries = 1 };
	__u64 forwarded = counter(KILO_LB_SOCK_FORWARD);
	struct client_result *result;

	(void)state;
	result = client_run(&other_proto);
	assert_int_equal(result->err[0], 0);
	assert_string_equal(result->backend[0], VIP4 " 53");
	assert_string_equal(result->peer[0], VIP4 " 53");
	client_done(result);
	result = client_run(&other_addr);
	assert_int_equal(result->err[0], 0);
	assert_string_equal(result->backend[0], OTHER4 " 80");
	client_done(result);
	/* A backend asked for by its own address is shown by it, never as a service. */
	result = client_run(&backend);
	assert_int_equal(result->err[0], 0);
	assert_string_equal(result->backend[0], "10.200.0.2 8080");
	assert_string_equal(result->peer[0], "10.200.0.2 8080");
	client_done(result);
	assert_int_equal(counter(KILO_LB_SOCK_FORWARD), forwarded);
}

static __u32 map_id(const struct bpf_map *map)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	assert_int_equal(bpf_obj_get_info_by_fd(bpf_map__fd(map), &info, &len), 0);
	return info.id;
}

/*
 * The tc programs, loaded on the same pin directory as kg does, share every
 * map these declare too (network policy's maps are the tc programs' own).
 */
static void test_tc_programs_share_the_maps(void **state)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = fixture.env.pin_dir);
	struct kilo_lb_bpf *lb = kilo_lb_bpf__open_opts(&opts);
	const struct bpf_map *map, *ours;
	int shared = 0;

	(void)state;
	assert_non_null(lb);
	/* libbpf refuses a pinned map whose definition differs from the object's. */
	assert_int_equal(kilo_lb_bpf__load(lb), 0);
	bpf_object__for_each_map(map, lb->obj) {
		if (!bpf_map__pin_path(map))
			continue; /* the object's own data sections */
		ours = bpf_object__find_map_by_name(fixture.env.skel->obj, bpf_map__name(map));
		if (!ours)
			continue;
		assert_int_equal(map_id(map), map_id(ours));
		shared++;
	}
	assert_true(shared >= 10);
	kilo_lb_bpf__destroy(lb);
}

/* ---- setup: the programs on their cgroup, the namespace's backends ---- */

static void namespace_setup(void)
{
	int i;

	sh("ip link set lo up");
	for (i = 0; i < 3; i++) {
		sh("ip addr add %s/32 dev lo", backends4[i]);
		sh("ip addr add %s/128 dev lo", backends6[i]);
	}
	sh("ip addr add " OTHER4 "/32 dev lo");
	sh("ip addr add " VIP4 "/32 dev lo");
	for (i = 0; i < 3; i++) {
		server_add(SOCK_STREAM, backends4[i], TCP_BACKEND_PORT);
		server_add(SOCK_DGRAM, backends4[i], UDP_BACKEND_PORT);
		server_add(SOCK_STREAM, backends6[i], TCP_BACKEND_PORT);
		server_add(SOCK_DGRAM, backends6[i], UDP_BACKEND_PORT);
	}
	server_add(SOCK_STREAM, OTHER4, 80);
	server_add(SOCK_STREAM, VIP4, 53);
	assert_int_equal(pipe2(fixture.stop, O_CLOEXEC), 0);
	assert_int_equal(pthread_create(&fixture.thread, NULL, server_run, NULL), 0);
	fixture.thread_started = true;
}

static int group_setup(void **state)
{
	char why[256];

	(void)state;
	if (sock_env_open(&fixture.env, PREFIX, why, sizeof(why)) < 0)
		fail_msg("%s", why);
	assert_int_equal(fixture.env.n_links, 8);
	maps_fill();
	namespace_setup();
	return 0;
}

static int group_teardown(void **state)
{
	size_t i;

	(void)state;
	if (fixture.thread_started) {
		if (write(fixture.stop[1], "", 1) == 1)
			pthread_join(fixture.thread, NULL);
	}
	for (i = 0; i < fixture.n_servers; i++)
		close(fixture.servers[i]);
	sock_env_close(&fixture.env);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_connect_to_a_vip_reaches_a_backend_and_shows_the_vip),
		cmocka_unit_test(test_tcp_connects_use_every_backend),
		cmocka_unit_test(test_maglev_service_picks_from_its_table),
		cmocka_unit_test(test_affinity_keeps_a_client_on_one_backend),
		cmocka_unit_test(test_udp_round_trip_shows_the_vip_as_the_peer),
		cmocka_unit_test(test_udp_socket_keeps_its_backend),
		cmocka_unit_test(test_connected_udp_answers_come_from_the_vip),
		cmocka_unit_test(test_ipv6_tcp_and_udp),
		cmocka_unit_test(test_ipv4_mapped_addresses_on_an_ipv6_socket),
		cmocka_unit_test(test_nodeport_on_the_nodes_own_address),
		cmocka_unit_test(test_service_without_backends_refuses),
		cmocka_unit_test(test_other_addresses_are_untouched),
		cmocka_unit_test(test_tc_programs_share_the_maps),
	};

	static const char *const programs[] = { "ip", NULL };
	int skip = netns_test_enter(programs);

	if (skip)
		return skip;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
