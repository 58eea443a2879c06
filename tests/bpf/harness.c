// SPDX-License-Identifier: Apache-2.0
#include "harness.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

static int mount_bpffs(void)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL) < 0)
		return -errno;
	return 0;
}

int kt_lb_open(struct kt_lb *lb)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	int r;

	memset(lb, 0, sizeof(*lb));
	r = mount_bpffs();
	if (r < 0) {
		fprintf(stderr, "mount bpffs: %s\n", strerror(-r));
		return r;
	}
	snprintf(lb->pin_dir, sizeof(lb->pin_dir), "/sys/fs/bpf/kilo-test-datapath-%d", (int)getpid());
	opts.pin_root_path = lb->pin_dir;
	lb->skel = kilo_lb_bpf__open_opts(&opts);
	if (!lb->skel) {
		r = -errno;
		fprintf(stderr, "open lb.bpf.o: %s\n", strerror(-r));
		return r;
	}
	r = kilo_lb_bpf__load(lb->skel);
	if (r < 0) {
		fprintf(stderr, "load lb.bpf.o: %s\n", strerror(-r));
		kt_lb_close(lb);
		return r;
	}
	return 0;
}

void kt_lb_close(struct kt_lb *lb)
{
	struct bpf_map *map;

	if (!lb->skel)
		return;
	bpf_object__for_each_map(map, lb->skel->obj)
		if (bpf_map__pin_path(map))
			bpf_map__unpin(map, NULL);
	kilo_lb_bpf__destroy(lb->skel);
	lb->skel = NULL;
	rmdir(lb->pin_dir);
}

static void empty_map(int fd, size_t key_size)
{
	unsigned char key[64], next[64];
	int guard = 1 << 22;

	assert_true(key_size <= sizeof(key));
	/* Deleting the first key until none is left avoids iterating a changing map. */
	while (guard-- > 0 && bpf_map_get_next_key(fd, NULL, next) == 0) {
		memcpy(key, next, key_size);
		assert_int_equal(bpf_map_delete_elem(fd, key), 0);
	}
}

void kt_lb_reset(struct kt_lb *lb)
{
	struct kilo_lb_counter_value *zero;
	int ncpu = libbpf_num_possible_cpus();
	struct bpf_map *map;
	__u32 i;

	assert_true(ncpu > 0);
	bpf_object__for_each_map(map, lb->skel->obj) {
		if (bpf_map__type(map) == BPF_MAP_TYPE_PERCPU_ARRAY || bpf_map__type(map) == BPF_MAP_TYPE_ARRAY)
			continue;
		empty_map(bpf_map__fd(map), bpf_map__key_size(map));
	}
	kt_set_node4(lb, NULL);
	zero = calloc((size_t)ncpu, sizeof(*zero));
	assert_non_null(zero);
	for (i = 0; i < KILO_LB_COUNTER_MAX; i++)
		assert_int_equal(bpf_map_update_elem(bpf_map__fd(lb->skel->maps.kilo_lb_counters), &i, zero, BPF_ANY), 0);
	free(zero);
}

void kt_set_node4(struct kt_lb *lb, const char *addr)
{
	struct kilo_lb_node node = { 0 };
	__u32 key = 0;

	if (addr) {
		kt_addr(4, addr, &node.v4);
		node.has_v4 = 1;
	}
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(lb->skel->maps.kilo_lb_node), &key, &node, BPF_ANY), 0);
}

void kt_addr(int family, const char *text, union kilo_lb_addr *out)
{
	memset(out, 0, sizeof(*out));
	assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, text, out->bytes), 1);
}

static uint8_t af(int family)
{
	return family == 4 ? AF_INET : AF_INET6;
}

void kt_add_service(struct kt_lb *lb, const struct kt_service *svc)
{
	struct kilo_lb_service_key key;
	struct kilo_lb_service value;
	struct kilo_lb_revnat revnat;
	uint16_t i;

	memset(&key, 0, sizeof(key));
	kt_addr(svc->family, svc->addr, &key.addr);
	key.port = htons(svc->port);
	key.proto = svc->proto;
	key.family = af(svc->family);
	key.scope = svc->scope;
	memset(&value, 0, sizeof(value));
	value.id = svc->id;
	value.backend_count = svc->n_slots;
	value.flags = svc->flags;
	value.affinity_timeout = svc->affinity_timeout;
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(lb->skel->maps.kilo_lb_services), &key, &value, BPF_ANY), 0);
	memset(&revnat, 0, sizeof(revnat));
	revnat.addr = key.addr;
	revnat.port = key.port;
	revnat.family = key.family;
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(lb->skel->maps.kilo_lb_revnat), &svc->id, &revnat, BPF_ANY), 0);
	for (i = 0; i < svc->n_slots; i++) {
		struct kilo_lb_slot_key slot = {.service_id = svc->id, .slot = i + 1u};

		assert_int_equal(bpf_map_update_elem(bpf_map__fd(lb->skel->maps.kilo_lb_slots), &slot, &svc->slots[i], BPF_ANY), 0);
	}
}

void kt_add_backend(struct kt_lb *lb, uint32_t id, int family, const char *addr, uint16_t port,
		    uint8_t proto, uint32_t flags)
{
	struct kilo_lb_backend backend;

	memset(&backend, 0, sizeof(backend));
	kt_addr(family, addr, &backend.addr);
	backend.port = htons(port);
	backend.proto = proto;
	backend.family = af(family);
	backend.flags = flags;
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(lb->skel->maps.kilo_lb_backends), &id, &backend, BPF_ANY), 0);
}

void kt_remove_backend(struct kt_lb *lb, uint32_t id)
{
	assert_int_equal(bpf_map_delete_elem(bpf_map__fd(lb->skel->maps.kilo_lb_backends), &id), 0);
}

void kt_set_maglev(struct kt_lb *lb, uint32_t service_id, uint32_t m, const uint32_t *table,
		   uint32_t n)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP);
	int inner;
	uint32_t i;

	inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "kt_maglev", 4, 4, m, &opts);
	assert_true(inner >= 0);
	for (i = 0; i < m; i++)
		assert_int_equal(bpf_map_update_elem(inner, &i, &table[i % n], BPF_ANY), 0);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(lb->skel->maps.kilo_lb_maglev), &service_id, &inner, BPF_ANY), 0);
	close(inner);
}

static int prog_fd(struct kt_lb *lb, enum kt_prog prog)
{
	switch (prog) {
	case KT_FROM_POD:
		return bpf_program__fd(lb->skel->progs.kilo_lb_from_pod);
	case KT_TO_POD:
		return bpf_program__fd(lb->skel->progs.kilo_lb_to_pod);
	case KT_FROM_NETDEV:
		return bpf_program__fd(lb->skel->progs.kilo_lb_from_netdev);
	}
	return -1;
}

/*
 * Lists service_id (0: none) among the frontends of backend id, as
 * libkilo's desired state does: every backend has a record.
 */
static void link_backend(struct kt_lb *lb, __u32 id, __u32 service_id)
{
	int fd = bpf_map__fd(lb->skel->maps.kilo_lb_backend_frontends);
	struct kilo_lb_backend_frontends fronts;
	struct kilo_lb_backend_addr key;
	struct kilo_lb_backend backend;
	__u32 i;

	if (bpf_map_lookup_elem(bpf_map__fd(lb->skel->maps.kilo_lb_backends), &id, &backend))
		return;
	memset(&key, 0, sizeof(key));
	key.addr = backend.addr;
	key.port = backend.port;
	key.proto = backend.proto;
	key.family = backend.family;
	if (bpf_map_lookup_elem(fd, &key, &fronts)) {
		memset(&fronts, 0, sizeof(fronts));
		fronts.backend_id = id;
	}
	for (i = 0; i < fronts.n_services; i++)
		if (fronts.service_ids[i] == service_id)
			return;
	/* A backend marked so stands for one with more frontends than the record holds: none listed. */
	if (service_id && !(backend.flags & KILO_LB_BACKEND_REPLY_ENTRIES)) {
		assert_true(fronts.n_services < KILO_LB_BACKEND_FRONTENDS);
		fronts.service_ids[fronts.n_services++] = service_id;
	}
	assert_int_equal(bpf_map_update_elem(fd, &key, &fronts, BPF_ANY), 0);
}

/* Deletes the frontends of backends gone from the backends map (or moved to another address). */
static void prune_backend_frontends(struct kt_lb *lb)
{
	int fd = bpf_map__fd(lb->skel->maps.kilo_lb_backend_frontends);
	struct kilo_lb_backend_addr key, next;
	struct kilo_lb_backend_frontends fronts;
	struct kilo_lb_backend backend;
	int guard = 1 << 16;

	for (int r = bpf_map_get_next_key(fd, NULL, &next); r == 0 && guard-- > 0;) {
		key = next;
		r = bpf_map_get_next_key(fd, &key, &next);
		assert_int_equal(bpf_map_lookup_elem(fd, &key, &fronts), 0);
		if (bpf_map_lookup_elem(bpf_map__fd(lb->skel->maps.kilo_lb_backends), &fronts.backend_id, &backend) ||
		    memcmp(&backend.addr, &key.addr, sizeof(key.addr)) || backend.port != key.port)
			assert_int_equal(bpf_map_delete_elem(fd, &key), 0);
	}
}

/*
 * kilo_lb_backend_frontends from the backends map, and the services' slots
 * and Maglev tables, which the fixtures set. A backend keeps the frontends
 * it had while it is in the backends map, as libkilo keeps a terminating
 * backend's; the entry of a backend gone from it goes too.
 */
static void derive_backend_frontends(struct kt_lb *lb)
{
	struct kilo_lb_slot_key slot, next;
	__u32 service_id, next_id, inner_id, i, backend, next_backend;
	int backends = bpf_map__fd(lb->skel->maps.kilo_lb_backends);
	int slots = bpf_map__fd(lb->skel->maps.kilo_lb_slots);
	int maglev = bpf_map__fd(lb->skel->maps.kilo_lb_maglev);
	struct bpf_map_info info;
	__u32 info_len;
	int inner;

	prune_backend_frontends(lb);
	for (int r = bpf_map_get_next_key(backends, NULL, &next_backend); r == 0;
	     r = bpf_map_get_next_key(backends, &backend, &next_backend)) {
		backend = next_backend;
		link_backend(lb, backend, 0);
	}
	for (int r = bpf_map_get_next_key(slots, NULL, &next); r == 0; r = bpf_map_get_next_key(slots, &slot, &next)) {
		slot = next;
		assert_int_equal(bpf_map_lookup_elem(slots, &slot, &backend), 0);
		link_backend(lb, backend, slot.service_id);
	}
	for (int r = bpf_map_get_next_key(maglev, NULL, &next_id); r == 0;
	     r = bpf_map_get_next_key(maglev, &service_id, &next_id)) {
		service_id = next_id;
		assert_int_equal(bpf_map_lookup_elem(maglev, &service_id, &inner_id), 0);
		inner = bpf_map_get_fd_by_id(inner_id);
		assert_true(inner >= 0);
		memset(&info, 0, sizeof(info));
		info_len = sizeof(info);
		assert_int_equal(bpf_obj_get_info_by_fd(inner, &info, &info_len), 0);
		for (i = 0; i < info.max_entries; i++) {
			assert_int_equal(bpf_map_lookup_elem(inner, &i, &backend), 0);
			link_backend(lb, backend, service_id);
		}
		close(inner);
	}
}

int kt_run(struct kt_lb *lb, enum kt_prog prog, const uint8_t *in, size_t in_len, uint8_t *out,
	   size_t *out_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (__u32)in_len,
		    .data_out = out, .data_size_out = KT_PACKET_MAX, .repeat = 1);

	derive_backend_frontends(lb);
	assert_int_equal(bpf_prog_test_run_opts(prog_fd(lb, prog), &opts), 0);
	*out_len = opts.data_size_out;
	return (int)opts.retval;
}

void kt_expect(struct kt_lb *lb, enum kt_prog prog, const struct kt_packet *in, int verdict,
	       const struct kt_packet *want)
{
	uint8_t in_buf[KT_PACKET_MAX], out_buf[KT_PACKET_MAX], want_buf[KT_PACKET_MAX];
	size_t in_len, out_len, want_len;
	const char *bad;

	in_len = kt_packet_build(in, in_buf, sizeof(in_buf));
	assert_true(in_len > 0);
	assert_int_equal(kt_run(lb, prog, in_buf, in_len, out_buf, &out_len), verdict);
	if (want) {
		want_len = kt_packet_build(want, want_buf, sizeof(want_buf));
		assert_true(want_len > 0);
		assert_true(kt_packet_equal(out_buf, out_len, want_buf, want_len));
	} else {
		assert_true(kt_packet_equal(out_buf, out_len, in_buf, in_len));
	}
	bad = kt_packet_verify_checksums(out_buf, out_len);
	if (bad)
		fail_msg("wrong %s in the output", bad);
}

size_t kt_conntrack_entries(struct kt_lb *lb)
{
	int fd = bpf_map__fd(lb->skel->maps.kilo_lb_conntrack);
	struct kilo_lb_ct_key key, next;
	size_t n = 0;

	for (int r = bpf_map_get_next_key(fd, NULL, &next); r == 0 && n < KILO_LB_MAX_CONNTRACK;
	     r = bpf_map_get_next_key(fd, &key, &next)) {
		key = next;
		n++;
	}
	return n;
}

uint64_t kt_counter(struct kt_lb *lb, enum kilo_lb_counter counter)
{
	int ncpu = libbpf_num_possible_cpus();
	struct kilo_lb_counter_value *values = calloc((size_t)ncpu, sizeof(*values));
	uint64_t packets = 0;
	__u32 key = counter;
	int i;

	assert_non_null(values);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(lb->skel->maps.kilo_lb_counters), &key, values), 0);
	for (i = 0; i < ncpu; i++)
		packets += values[i].packets;
	free(values);
	return packets;
}

static uint32_t rotl32(uint32_t x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static uint32_t hash_word(uint32_t h, uint32_t k)
{
	k *= 0xcc9e2d51;
	k = rotl32(k, 15);
	k *= 0x1b873593;
	h ^= k;
	h = rotl32(h, 13);
	return h * 5 + 0xe6546b64;
}

uint32_t kt_flow_hash(const struct kt_packet *p)
{
	union kilo_lb_addr src, dst;
	uint16_t sport = htons(p->sport), dport = htons(p->dport);
	uint32_t h = 0;
	int i;

	kt_addr(p->family, p->src, &src);
	kt_addr(p->family, p->dst, &dst);
	for (i = 0; i < 4; i++)
		h = hash_word(h, src.v6[i]);
	for (i = 0; i < 4; i++)
		h = hash_word(h, dst.v6[i]);
	h = hash_word(h, (uint32_t)sport << 16 | dport);
	h = hash_word(h, p->proto);
	h ^= 40;
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

uint64_t kt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
