// SPDX-License-Identifier: Apache-2.0
/*
 * The loader on the running kernel: programs loaded into a pin dir of the
 * test's own, desired states written and read back from the pinned maps,
 * only what differs rewritten, Maglev tables swapped whole, pinned maps
 * (with their flows) found again by a new handle, and clean-up; and every
 * policy fixture computed, synced and sent new flows: they reach the
 * backends the computation gave slots, and nothing else.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "bpf/internal.h"
#include "lb_case.h"
#include "lb_fixture.h"
#include "packet.h"
#include "policy/services.h"

static const char *pin_dir;

struct fixture {
	struct lb_fixture lb;
	kilo_bpf *bpf;
};

static int setup(void **state)
{
	struct kilo_bpf_opts opts = { .pin_dir = pin_dir };
	struct fixture *f = calloc(1, sizeof(*f));
	struct kilo_error err = { 0 };

	if (!f)
		return -1;
	if (kilo_bpf_open(&opts, &f->bpf, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	kilo_bpf_clean_up(f->bpf, NULL);
	kilo_bpf_close(f->bpf);
	free(f);
	return 0;
}

static int sync_state(struct fixture *f, bool read_maps, struct kilo_bpf_sync_report *report)
{
	struct kilo_error err = { 0 };
	int r = kilo_bpf_sync(f->bpf, &f->lb.desired, read_maps, report, &err);

	if (r < 0)
		fprintf(stderr, "%s\n", err.message);
	return r;
}

static void assert_changes(const struct kilo_bpf_changes *c, unsigned added, unsigned changed, unsigned removed)
{
	assert_int_equal(c->added, added);
	assert_int_equal(c->changed, changed);
	assert_int_equal(c->removed, removed);
}

/* The id of the Maglev table the outer map holds for service. */
static __u32 table_id(__u32 service)
{
	int fd = lb_fixture_map(pin_dir, "kilo_lb_maglev");
	__u32 id = 0;

	assert_true(fd >= 0);
	assert_int_equal(bpf_map_lookup_elem(fd, &service, &id), 0);
	close(fd);
	return id;
}

static void read_table(__u32 service, __u32 *table, __u32 m)
{
	int fd = bpf_map_get_fd_by_id(table_id(service));

	assert_true(fd >= 0);
	for (__u32 k = 0; k < m; k++)
		assert_int_equal(bpf_map_lookup_elem(fd, &k, &table[k]), 0);
	close(fd);
}

static void test_first_sync_writes_every_entry(void **state)
{
	struct fixture *f = *state;
	struct kilo_bpf_sync_report report;
	struct kilo_lb_service svc;
	struct kilo_lb_backend be;
	static __u32 table[KILO_LB_MAGLEV_DEFAULT];
	int fd;

	lb_fixture_build(&f->lb, 3, 2);
	assert_int_equal(sync_state(f, false, &report), 0);
	assert_changes(&report.services, 3, 0, 0);
	assert_changes(&report.backends, 6, 0, 0);
	assert_changes(&report.slots, 6, 0, 0);
	assert_changes(&report.revnat, 3, 0, 0);
	assert_changes(&report.maglev, 3, 0, 0);
	assert_int_equal(lb_fixture_count(pin_dir, "kilo_lb_services", sizeof(struct kilo_lb_service_key)), 3);
	assert_int_equal(lb_fixture_count(pin_dir, "kilo_lb_slots", sizeof(struct kilo_lb_slot_key)), 6);
	fd = lb_fixture_map(pin_dir, "kilo_lb_services");
	assert_int_equal(bpf_map_lookup_elem(fd, &f->lb.services[1].key, &svc), 0);
	assert_memory_equal(&svc, &f->lb.services[1].value, sizeof(svc));
	close(fd);
	fd = lb_fixture_map(pin_dir, "kilo_lb_backends");
	assert_int_equal(bpf_map_lookup_elem(fd, &f->lb.backends[3].id, &be), 0);
	assert_memory_equal(&be, &f->lb.backends[3].value, sizeof(be));
	close(fd);
	read_table(2, table, KILO_LB_MAGLEV_DEFAULT);
	assert_memory_equal(table, f->lb.tables[1], sizeof(table));
	/* The same state again: nothing to write, whether compared with the last sync or with the maps. */
	assert_int_equal(sync_state(f, false, &report), 0);
	assert_memory_equal(&report, &(struct kilo_bpf_sync_report){ 0 }, sizeof(report));
	assert_int_equal(sync_state(f, true, &report), 0);
	assert_memory_equal(&report, &(struct kilo_bpf_sync_report){ 0 }, sizeof(report));
}

static void test_a_changed_slot_rewrites_that_entry_only(void **state)
{
	struct fixture *f = *state;
	struct kilo_bpf_sync_report report;
	struct kilo_lb_service marked, svc;
	__u32 other_table, backend;
	int fd;

	lb_fixture_build(&f->lb, 3, 2);
	assert_int_equal(sync_state(f, false, &report), 0);
	other_table = table_id(3);
	/* Service 1's entry changed behind the loader's back: a sync that does not touch it leaves it so. */
	fd = lb_fixture_map(pin_dir, "kilo_lb_services");
	marked = f->lb.services[0].value;
	marked.affinity_timeout = 4242;
	assert_int_equal(bpf_map_update_elem(fd, &f->lb.services[0].key, &marked, BPF_ANY), 0);
	/* Service 2's second slot goes to its first backend. */
	f->lb.slots[3].backend_id = f->lb.slots[2].backend_id;
	assert_int_equal(sync_state(f, false, &report), 0);
	assert_changes(&report.slots, 0, 1, 0);
	assert_changes(&report.services, 0, 0, 0);
	assert_changes(&report.backends, 0, 0, 0);
	assert_changes(&report.maglev, 0, 0, 0);
	assert_int_equal(bpf_map_lookup_elem(fd, &f->lb.services[0].key, &svc), 0);
	assert_int_equal(svc.affinity_timeout, 4242);
	assert_int_equal(table_id(3), other_table);
	close(fd);
	fd = lb_fixture_map(pin_dir, "kilo_lb_slots");
	assert_int_equal(bpf_map_lookup_elem(fd, &f->lb.slots[3].key, &backend), 0);
	assert_int_equal(backend, f->lb.slots[2].backend_id);
	close(fd);
	/* A resync reads the maps and puts service 1 right. */
	assert_int_equal(sync_state(f, true, &report), 0);
	assert_changes(&report.services, 0, 1, 0);
	assert_changes(&report.slots, 0, 0, 0);
	fd = lb_fixture_map(pin_dir, "kilo_lb_services");
	assert_int_equal(bpf_map_lookup_elem(fd, &f->lb.services[0].key, &svc), 0);
	assert_memory_equal(&svc, &f->lb.services[0].value, sizeof(svc));
	close(fd);
}

static void test_a_maglev_table_is_swapped_whole(void **state)
{
	struct fixture *f = *state;
	struct kilo_bpf_sync_report report;
	static __u32 table[KILO_LB_MAGLEV_LARGE];
	__u32 before1, before2;

	lb_fixture_build(&f->lb, 2, 3);
	assert_int_equal(sync_state(f, false, &report), 0);
	before1 = table_id(1);
	before2 = table_id(2);
	/* Service 1 loses backend 13 from its table. */
	for (unsigned k = 0; k < KILO_LB_MAGLEV_DEFAULT; k++)
		if (f->lb.tables[0][k] == 13)
			f->lb.tables[0][k] = 11;
	assert_int_equal(sync_state(f, false, &report), 0);
	assert_changes(&report.maglev, 0, 1, 0);
	assert_int_not_equal(table_id(1), before1);
	assert_int_equal(table_id(2), before2);
	read_table(1, table, KILO_LB_MAGLEV_DEFAULT);
	assert_memory_equal(table, f->lb.tables[0], KILO_LB_MAGLEV_DEFAULT * sizeof(__u32));
	/* A table of the large size fits the same outer map. */
	static __u32 large[KILO_LB_MAGLEV_LARGE];
	for (unsigned k = 0; k < KILO_LB_MAGLEV_LARGE; k++)
		large[k] = 21 + k % 3;
	f->lb.maglev[1].m = KILO_LB_MAGLEV_LARGE;
	f->lb.maglev[1].table = large;
	assert_int_equal(sync_state(f, false, &report), 0);
	assert_changes(&report.maglev, 0, 1, 0);
	read_table(2, table, KILO_LB_MAGLEV_LARGE);
	assert_memory_equal(table, large, sizeof(large));
	/* Read back, the large table is the one desired: nothing to do. */
	assert_int_equal(sync_state(f, true, &report), 0);
	assert_changes(&report.maglev, 0, 0, 0);
	/* A table someone else swapped in is found by the next resync, and put right. */
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP);
	int stranger = bpf_map_create(BPF_MAP_TYPE_ARRAY, "stranger", 4, 4, KILO_LB_MAGLEV_DEFAULT, &opts);
	int outer = lb_fixture_map(pin_dir, "kilo_lb_maglev");
	__u32 service = 1;

	assert_true(stranger >= 0 && outer >= 0);
	assert_int_equal(bpf_map_update_elem(outer, &service, &stranger, BPF_ANY), 0);
	close(stranger);
	close(outer);
	assert_int_equal(sync_state(f, false, &report), 0);
	assert_changes(&report.maglev, 0, 0, 0);
	assert_int_equal(sync_state(f, true, &report), 0);
	assert_changes(&report.maglev, 0, 1, 0);
	read_table(1, table, KILO_LB_MAGLEV_DEFAULT);
	assert_memory_equal(table, f->lb.tables[0], KILO_LB_MAGLEV_DEFAULT * sizeof(__u32));
}

static void test_a_removed_service_takes_its_entries(void **state)
{
	struct fixture *f = *state;
	struct kilo_bpf_sync_report report;

	lb_fixture_build(&f->lb, 3, 2);
	assert_int_equal(sync_state(f, false, &report), 0);
	lb_fixture_build(&f->lb, 2, 2);
	assert_int_equal(sync_state(f, false, &report), 0);
	assert_changes(&report.services, 0, 0, 1);
	assert_changes(&report.backends, 0, 0, 2);
	assert_changes(&report.slots, 0, 0, 2);
	assert_changes(&report.revnat, 0, 0, 1);
	assert_changes(&report.maglev, 0, 0, 1);
	assert_int_equal(lb_fixture_count(pin_dir, "kilo_lb_services", sizeof(struct kilo_lb_service_key)), 2);
	assert_int_equal(lb_fixture_count(pin_dir, "kilo_lb_backends", sizeof(__u32)), 4);
	assert_int_equal(lb_fixture_count(pin_dir, "kilo_lb_maglev", sizeof(__u32)), 2);
	/* And nothing at all empties every map. */
	lb_fixture_build(&f->lb, 0, 0);
	assert_int_equal(sync_state(f, true, &report), 0);
	assert_changes(&report.services, 0, 0, 2);
	assert_int_equal(lb_fixture_count(pin_dir, "kilo_lb_slots", sizeof(struct kilo_lb_slot_key)), 0);
}

static void test_bad_desired_state_writes_nothing(void **state)
{
	struct fixture *f = *state;
	struct kilo_bpf_sync_report report;
	struct kilo_lb_desired_service swap;
	struct kilo_error err = { 0 };

	lb_fixture_build(&f->lb, 2, 2);
	swap = f->lb.services[0];
	f->lb.services[0] = f->lb.services[1];
	f->lb.services[1] = swap;
	assert_int_equal(kilo_bpf_sync(f->bpf, &f->lb.desired, false, &report, &err), -EINVAL);
	assert_string_equal(err.message, "bpf: desired services[1]: not sorted after the entry before it (or the same "
					 "key twice)");
	lb_fixture_build(&f->lb, 2, 2);
	f->lb.slots[1].backend_id = 99;
	err = (struct kilo_error){ 0 };
	assert_int_equal(kilo_bpf_sync(f->bpf, &f->lb.desired, false, &report, &err), -EINVAL);
	assert_string_equal(err.message, "bpf: desired slots[1] (service 1, slot 2): backend 99 is not in the backends");
	lb_fixture_build(&f->lb, 2, 2);
	f->lb.maglev[0].m = 1000;
	assert_int_equal(kilo_bpf_sync(f->bpf, &f->lb.desired, false, &report, NULL), -EINVAL);
	assert_int_equal(lb_fixture_count(pin_dir, "kilo_lb_services", sizeof(struct kilo_lb_service_key)), 0);
	assert_int_equal(lb_fixture_count(pin_dir, "kilo_lb_backends", sizeof(__u32)), 0);
}

static void test_a_new_handle_finds_the_pinned_maps_and_their_flows(void **state)
{
	struct fixture *f = *state;
	struct kilo_bpf_opts opts = { .pin_dir = pin_dir };
	struct kilo_bpf_sync_report report;
	struct kilo_lb_ct_key key = { .saddr.v4 = 0x0100020a, .daddr.v4 = 0x0100600a, .sport = 1234, .dport = 80,
				      .proto = IPPROTO_TCP, .family = AF_INET };
	struct kilo_lb_ct ct = { .expires_ns = ~0ULL, .backend_id = 11, .service_id = 1,
				 .tcp_state = KILO_LB_TCP_ESTABLISHED }, found;
	int fd;

	lb_fixture_build(&f->lb, 2, 2);
	assert_int_equal(sync_state(f, false, &report), 0);
	fd = lb_fixture_map(pin_dir, "kilo_lb_conntrack");
	assert_int_equal(bpf_map_update_elem(fd, &key, &ct, BPF_ANY), 0);
	close(fd);
	/* kg restarts: a new handle, the old one closed. */
	kilo_bpf_close(f->bpf);
	f->bpf = NULL;
	assert_int_equal(kilo_bpf_open(&opts, &f->bpf, NULL), 0);
	fd = lb_fixture_map(pin_dir, "kilo_lb_conntrack");
	assert_int_equal(bpf_map_lookup_elem(fd, &key, &found), 0);
	assert_memory_equal(&found, &ct, sizeof(ct));
	close(fd);
	/* Its first sync reads the maps: the same state needs no write. */
	assert_int_equal(sync_state(f, false, &report), 0);
	assert_memory_equal(&report, &(struct kilo_bpf_sync_report){ 0 }, sizeof(report));
	/* And the programs of the new handle use the pinned map itself. */
	fd = lb_fixture_map(pin_dir, "kilo_lb_conntrack");
	assert_int_equal(bpf_map_lookup_elem(kilo__bpf_map_fd(f->bpf, "kilo_lb_conntrack"), &key, &found), 0);
	close(fd);
}

/* A dual-stack Service applied first, another later: the later one's ids come after the first's. */
#define WEB_SERVICE                                                                                           \
	"{\"kind\": \"Service\", \"metadata\": {\"name\": \"web\", \"namespace\": \"default\"}, \"spec\": "  \
	"{\"clusterIPs\": [\"10.96.0.10\", \"fd96::10\"], \"ports\": [{\"name\": \"http\", \"protocol\": "     \
	"\"TCP\", \"port\": 80, \"targetPort\": 8080}]}}"
#define API_SERVICE                                                                                           \
	"{\"kind\": \"Service\", \"metadata\": {\"name\": \"api\", \"namespace\": \"default\"}, \"spec\": "  \
	"{\"clusterIP\": \"10.96.0.20\", \"ports\": [{\"name\": \"http\", \"protocol\": \"TCP\", \"port\": " \
	"80, \"targetPort\": 8080}]}}"
#define SLICE(service, family, address)                                                                       \
	"{\"kind\": \"EndpointSlice\", \"metadata\": {\"name\": \"" service "-" family "\", \"namespace\": "   \
	"\"default\", \"labels\": {\"kubernetes.io/service-name\": \"" service "\"}}, \"addressType\": \"" family \
	"\", \"ports\": [{\"name\": \"http\", \"protocol\": \"TCP\", \"port\": 8080}], \"endpoints\": "       \
	"[{\"addresses\": [\"" address "\"], \"conditions\": {\"ready\": true}}]}"
#define WEB_SLICES SLICE("web", "IPv4", "10.2.1.5") ", " SLICE("web", "IPv6", "fd02:1::5")

static void compute_and_sync(struct fixture *f, struct kilo_lb_ids *ids, const char *services, const char *slices,
			     struct kilo_bpf_sync_report *report)
{
	struct kilo_lb_inputs in = { .services = services, .slices = slices, .maglev_m = kilo_bpf_maglev_m(f->bpf) };
	struct kilo_lb_desired desired = { 0 };
	struct kilo_error err = { 0 };

	if (kilo_lb_compute(&in, ids, &desired, NULL, &err) < 0)
		fail_msg("kilo_lb_compute: %s", err.message);
	if (kilo_bpf_sync(f->bpf, &desired, false, report, &err) < 0)
		fail_msg("kilo_bpf_sync: %s", err.message);
	kilo_lb_desired_release(&desired);
}

/*
 * kg restarts: its new allocator adopts the ids in the pinned maps, so that
 * the same Services, listed in another order than they came in, keep every
 * frontend's and backend's id (the conntrack's flows keep their backends)
 * and the first sync writes nothing.
 */
static void test_a_new_handle_adopts_the_pinned_ids(void **state)
{
	static const char all_services[] = "[" API_SERVICE ", " WEB_SERVICE "]";
	static const char all_slices[] = "[" SLICE("api", "IPv4", "10.2.2.5") ", " WEB_SLICES "]";
	struct fixture *f = *state;
	struct kilo_bpf_opts opts = { .pin_dir = pin_dir };
	struct kilo_lb_ids *before = kilo_lb_ids_new(), *after = kilo_lb_ids_new();
	struct kilo_bpf_sync_report report;
	struct kilo_error err = { 0 };

	assert_non_null(before);
	assert_non_null(after);
	compute_and_sync(f, before, "[" WEB_SERVICE "]", "[" WEB_SLICES "]", &report);
	compute_and_sync(f, before, all_services, all_slices, &report);
	assert_int_equal(report.services.added, 1);
	kilo_bpf_close(f->bpf);
	f->bpf = NULL;
	assert_int_equal(kilo_bpf_open(&opts, &f->bpf, NULL), 0);
	if (kilo_bpf_adopt_ids(f->bpf, after, &err) < 0)
		fail_msg("kilo_bpf_adopt_ids: %s", err.message);
	compute_and_sync(f, after, all_services, all_slices, &report);
	assert_memory_equal(&report, &(struct kilo_bpf_sync_report){ 0 }, sizeof(report));
	kilo_lb_ids_free(before);
	kilo_lb_ids_free(after);
}

/*
 * A new flow from client to frontend s through the program the frontend's
 * traffic meets (a pod's for a ClusterIP, the node's device for a
 * NodePort); returns its verdict, and in *backend the desired backend it
 * was sent to, or NULL.
 */
static int new_flow(kilo_bpf *bpf, const struct kilo_lb_desired *d, const struct kilo_lb_desired_service *s,
		    const char *client, uint16_t sport, const struct kilo_lb_desired_backend **backend)
{
	int family = s->key.family == AF_INET6 ? 6 : 4;
	char vip[INET6_ADDRSTRLEN];
	struct kt_packet p = { .family = family, .proto = s->key.proto, .src = client, .dst = vip, .sport = sport,
			       .dport = ntohs(s->key.port), .tcp_flags = 0x02 /* SYN */, .payload_len = 8 };
	uint8_t frame[KT_PACKET_MAX], out[KT_PACKET_MAX];
	const char *prog = s->key.scope == KILO_LB_SCOPE_NODEPORT ? "kilo_lb_from_netdev" : "kilo_lb_from_pod";
	size_t len, l4;
	const uint8_t *daddr;
	__be16 dport;

	assert_non_null(inet_ntop(s->key.family, s->key.addr.bytes, vip, sizeof(vip)));
	len = kt_packet_build(&p, frame, sizeof(frame));
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(kilo__bpf_program(bpf, prog)), &opts), 0);
	*backend = NULL;
	l4 = family == 4 ? 14 + (size_t)(out[14] & 0xf) * 4 : 14 + 40;
	daddr = family == 4 ? out + 14 + 16 : out + 14 + 24;
	memcpy(&dport, out + l4 + 2, sizeof(dport));
	for (size_t i = 0; i < d->n_backends; i++)
		if (memcmp(daddr, d->backends[i].value.addr.bytes, family == 4 ? 4 : 16) == 0 &&
		    dport == d->backends[i].value.port && s->key.proto == d->backends[i].value.proto)
			*backend = &d->backends[i];
	return opts.retval;
}

static bool has_slot(const struct kilo_lb_desired *d, __u32 service_id, __u32 backend_id)
{
	for (size_t i = 0; i < d->n_slots; i++)
		if (d->slots[i].key.service_id == service_id && d->slots[i].backend_id == backend_id)
			return true;
	return false;
}

/* Case number n's frontends, each sent new flows from a client of its own (no conntrack or affinity entry of another case). */
static void send_new_flows(struct fixture *f, const char *name, unsigned n)
{
	struct lb_case c;
	struct kilo_lb_ids *ids = kilo_lb_ids_new();
	struct kilo_lb_desired d;
	struct kilo_bpf_sync_report report;
	struct kilo_error err = { 0 };

	assert_non_null(ids);
	lb_case_load(&c, name);
	c.maglev_m = kilo_bpf_maglev_m(f->bpf); /* the slots do not depend on M; the loader's tables do */
	assert_int_equal(lb_case_compute(&c, ids, &d, NULL), 0);
	if (kilo_bpf_sync(f->bpf, &d, false, &report, &err) < 0)
		fail_msg("%s: kilo_bpf_sync: %s", name, err.message);
	for (size_t i = 0; i < d.n_services; i++) {
		const struct kilo_lb_desired_service *s = &d.services[i];
		char client[INET6_ADDRSTRLEN];

		snprintf(client, sizeof(client), s->key.family == AF_INET6 ? "fd03::%x:%zx" : "10.3.%u.%zu", n, i + 1);
		for (uint16_t k = 0; k < 8; k++) {
			const struct kilo_lb_desired_backend *backend;
			int verdict = new_flow(f->bpf, &d, s, client, (uint16_t)(40000 + k), &backend);

			if (s->value.backend_count == 0) {
				assert_null(backend);
				assert_int_equal(verdict, (s->value.flags & KILO_LB_SERVICE_ICMP_REJECT) ? TC_ACT_REDIRECT
													   : TC_ACT_SHOT);
			} else if (verdict != TC_ACT_OK || !backend || !has_slot(&d, s->value.id, backend->id)) {
				fail_msg("%s: frontend %zu: new flow %u: verdict %d, not to a backend with a slot", name, i,
					 k, verdict);
			}
		}
	}
	kilo_lb_desired_release(&d);
	kilo_lb_ids_free(ids);
	lb_case_free(&c);
}

static void test_every_case_s_slots_take_new_flows(void **state)
{
	struct fixture *f = *state;
	DIR *dir = opendir(lb_cases_dir());
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(dir);
	while ((e = readdir(dir))) {
		size_t len = strlen(e->d_name);

		if (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0)
			send_new_flows(f, e->d_name, ++n);
	}
	closedir(dir);
	assert_true(n >= 10);
}

static void test_clean_up_removes_the_pins(void **state)
{
	struct fixture *f = *state;
	struct kilo_bpf_sync_report report;
	struct stat st;

	lb_fixture_build(&f->lb, 1, 1);
	assert_int_equal(sync_state(f, false, &report), 0);
	assert_int_equal(stat(pin_dir, &st), 0);
	assert_int_equal(kilo_bpf_clean_up(f->bpf, NULL), 0);
	assert_int_equal(stat(pin_dir, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_counters_are_summed_over_cpus(void **state)
{
	struct fixture *f = *state;
	int cpus = libbpf_num_possible_cpus(), fd;
	struct kilo_lb_counter_value *per_cpu = calloc((size_t)cpus, sizeof(*per_cpu));
	struct kilo_error err = { 0 };
	__u32 reason = KILO_LB_DROP_NO_BACKEND;
	char *text = NULL;

	assert_non_null(per_cpu);
	for (int c = 0; c < cpus; c++)
		per_cpu[c] = (struct kilo_lb_counter_value){ .packets = 2, .bytes = 100 };
	fd = lb_fixture_map(pin_dir, "kilo_lb_counters");
	assert_int_equal(bpf_map_update_elem(fd, &reason, per_cpu, BPF_ANY), 0);
	close(fd);
	free(per_cpu);
	assert_int_equal(kilo_bpf_stats_format(pin_dir, &text, &err), 0);
	char expected[128];
	snprintf(expected, sizeof(expected), "\n%-20s %20d %20d\n", "drop_no_backend", 2 * cpus, 100 * cpus);
	assert_non_null(strstr(text, "REASON"));
	assert_non_null(strstr(text, expected));
	assert_non_null(strstr(text, "\nforward_new "));
	free(text);
	(void)f;
}

static void test_stats_name_the_missing_path(void **state)
{
	struct kilo_error err = { 0 };
	char *text = NULL;

	(void)state;
	assert_int_equal(kilo_bpf_stats_format("/sys/fs/bpf/kilo-loader-nothing-here", &text, &err), -ENOENT);
	assert_null(text);
	assert_string_equal(err.message, "bpf stats: /sys/fs/bpf/kilo-loader-nothing-here/kilo_lb_counters: No such "
					 "file or directory (is kg running with --bpf?)");
}

static void test_bad_options_are_named(void **state)
{
	struct kilo_bpf_opts m = { .pin_dir = pin_dir, .maglev_m = 1000 }, relative = { .pin_dir = "kilo" };
	struct kilo_error err = { 0 };
	kilo_bpf *bpf = NULL;

	(void)state;
	assert_int_equal(kilo_bpf_open(&m, &bpf, &err), -EINVAL);
	assert_string_equal(err.message, "bpf: Maglev table size 1000: not 16381 or 65521");
	err = (struct kilo_error){ 0 };
	assert_int_equal(kilo_bpf_open(&relative, &bpf, &err), -EINVAL);
	assert_string_equal(err.message, "bpf: pin dir \"kilo\": not an absolute path");
	assert_null(bpf);
}

/* What --bpf auto logs when it stays off: a process without the privilege to load programs. */
static void test_a_load_refused_says_why(void **state)
{
	struct kilo_bpf_opts opts = { .pin_dir = "/sys/fs/bpf/kilo-loader-refused" };
	int fds[2], status;
	pid_t child;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct kilo_error err = { 0 };
		kilo_bpf *bpf = NULL;
		int r = setgid(65534) == 0 && setuid(65534) == 0 ? kilo_bpf_open(&opts, &bpf, &err) : -ECHILD;

		if (write(fds[1], err.message, strlen(err.message) + 1) < 0)
			_exit(3);
		_exit(r < 0 && !bpf ? 0 : 1);
	}
	close(fds[1]);
	char message[KILO_ERROR_MESSAGE_MAX] = "";
	assert_true(read(fds[0], message, sizeof(message) - 1) > 0);
	close(fds[0]);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	rmdir(opts.pin_dir);
	/* The kernel's refusal, and libbpf's first word on it. */
	assert_non_null(strstr(message, "bpf: loading lb.bpf.o into the kernel: Operation not permitted: libbpf: "));
}

static void test_mode_parse(void **state)
{
	enum kilo_bpf_mode mode;
	struct kilo_error err = { 0 };

	(void)state;
	assert_int_equal(kilo_bpf_mode_parse("auto", &mode, NULL), 0);
	assert_int_equal(mode, KILO_BPF_AUTO);
	assert_int_equal(kilo_bpf_mode_parse("on", &mode, NULL), 0);
	assert_int_equal(mode, KILO_BPF_ON);
	assert_int_equal(kilo_bpf_mode_parse("maybe", &mode, &err), -EINVAL);
	assert_non_null(strstr(err.message, "\"maybe\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_sync_writes_every_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_changed_slot_rewrites_that_entry_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_maglev_table_is_swapped_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_removed_service_takes_its_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_desired_state_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_new_handle_finds_the_pinned_maps_and_their_flows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_new_handle_adopts_the_pinned_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_case_s_slots_take_new_flows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean_up_removes_the_pins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters_are_summed_over_cpus, setup, teardown),
		cmocka_unit_test(test_stats_name_the_missing_path),
		cmocka_unit_test(test_bad_options_are_named),
		cmocka_unit_test(test_mode_parse),
		cmocka_unit_test(test_a_load_refused_says_why),
	};

	pin_dir = lb_fixture_pin_dir("sync");
	if (!pin_dir)
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
