// SPDX-License-Identifier: Apache-2.0
/*
 * The loader's network policy on the running kernel: the four maps written
 * by difference and read back (LPM tries included), only the rules of the
 * endpoints a compile lists compared after the sync of the computation
 * before, the enforcement flags with the endpoints (and every flow an
 * event, kg --flow-events all), the lookups each endpoint skips, bad
 * desired states refused whole, flow events read through the handle and
 * through the pin, per-rule counters, clean-up.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "bpf/internal.h"
#include "lb_fixture.h"
#include "packet.h"

static const char *pin_dir;

/* Two pods of this node (endpoints 1, 2), policed for ingress; a peer location's /24; rules and a region. */
struct np_fixture {
	struct kilo_np_desired desired;
	struct kilo_np_desired_ipcache ipcache[4];
	struct kilo_np_desired_endpoint endpoints[2];
	struct kilo_np_desired_rule rules[3];
	struct kilo_np_desired_cidr cidrs[2];
	kilo_bpf *bpf;
};

static int compare_keys(const void *a, const void *b, void *key_size)
{
	return memcmp(a, b, *(size_t *)key_size);
}

static void sort_records(void *records, size_t n, size_t size, size_t key_size)
{
	qsort_r(records, n, size, compare_keys, &key_size);
}

static void addr4(const char *text, union kilo_lb_addr *out)
{
	memset(out, 0, sizeof(*out));
	assert_int_equal(inet_pton(AF_INET, text, out), 1);
}

static void build(struct np_fixture *f)
{
	static const char *const pods[] = { "10.4.0.5", "10.4.0.6" };

	memset(&f->desired, 0, sizeof(f->desired));
	memset(f->ipcache, 0, sizeof(f->ipcache) + sizeof(f->endpoints) + sizeof(f->rules) + sizeof(f->cidrs));
	for (int i = 0; i < 2; i++) {
		f->ipcache[i].key = (struct kilo_ipcache_key){ .prefixlen = 64, .family = AF_INET };
		addr4(pods[i], &f->ipcache[i].key.addr);
		f->ipcache[i].value.identity = 300 + i;
		f->endpoints[i].key.family = AF_INET;
		addr4(pods[i], &f->endpoints[i].key.addr);
		f->endpoints[i].value = (struct kilo_policy_endpoint){ .id = i + 1, .identity = 300 + i,
								       .flags = KILO_POLICY_ENFORCE_INGRESS };
	}
	f->ipcache[2].key = (struct kilo_ipcache_key){ .prefixlen = 56, .family = AF_INET };
	addr4("10.4.1.0", &f->ipcache[2].key.addr);
	f->ipcache[2].value.identity = 400;
	f->ipcache[3].key = (struct kilo_ipcache_key){ .prefixlen = 64, .family = AF_INET };
	addr4("192.168.1.10", &f->ipcache[3].key.addr);
	f->ipcache[3].value.identity = KILO_IDENTITY_HOST;
	for (int i = 0; i < 3; i++) {
		f->rules[i].key = (struct kilo_policy_key){ .prefixlen = KILO_POLICY_KEY_FIXED_BITS + 8 + 16,
							    .endpoint = 1 + (i == 2), .identity = 400,
							    .direction = KILO_POLICY_INGRESS, .proto = IPPROTO_TCP,
							    .port = htons((uint16_t)(80 + i)) };
		f->rules[i].value.rule_id = 10 + i;
	}
	for (int i = 0; i < 2; i++) {
		f->cidrs[i].key = (struct kilo_policy_cidr_key){ .prefixlen = KILO_POLICY_CIDR_KEY_FIXED_BITS + 24 + i,
								 .endpoint = 2, .direction = KILO_POLICY_INGRESS,
								 .family = AF_INET };
		addr4(i ? "203.0.113.128" : "203.0.113.0", &f->cidrs[i].key.addr);
		f->cidrs[i].value.region = i ? 0 : 5;
	}
	f->desired = (struct kilo_np_desired){ .n_ipcache = 4, .ipcache = f->ipcache, .n_endpoints = 2,
					       .endpoints = f->endpoints, .n_rules = 3, .rules = f->rules, .n_cidrs = 2,
					       .cidrs = f->cidrs };
}

/* Every array in memcmp order of its records' keys, as np_desired.h asks. */
static void sort(struct np_fixture *f)
{
	sort_records(f->ipcache, 4, sizeof(f->ipcache[0]), sizeof(f->ipcache[0].key));
	sort_records(f->endpoints, 2, sizeof(f->endpoints[0]), sizeof(f->endpoints[0].key));
	sort_records(f->rules, 3, sizeof(f->rules[0]), sizeof(f->rules[0].key));
	sort_records(f->cidrs, 2, sizeof(f->cidrs[0]), sizeof(f->cidrs[0].key));
}

static int setup(void **state)
{
	struct kilo_bpf_opts opts = { .pin_dir = pin_dir };
	struct np_fixture *f = calloc(1, sizeof(*f));
	struct kilo_error err = { 0 };

	if (!f)
		return -1;
	if (kilo_bpf_open(&opts, &f->bpf, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		free(f);
		return -1;
	}
	build(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct np_fixture *f = *state;

	kilo_bpf_clean_up(f->bpf, NULL);
	kilo_bpf_close(f->bpf);
	free(f);
	return 0;
}

static int sync_policy(struct np_fixture *f, bool read_maps, struct kilo_bpf_policy_sync_report *report)
{
	struct kilo_error err = { 0 };
	int r = kilo_bpf_policy_sync(f->bpf, &f->desired, read_maps, report, &err);

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

static struct kilo_policy_state policy_state(void)
{
	struct kilo_policy_state s = { 0 };
	int fd = lb_fixture_map(pin_dir, "kilo_policy_state");
	__u32 key = 0;

	assert_true(fd >= 0);
	assert_int_equal(bpf_map_lookup_elem(fd, &key, &s), 0);
	close(fd);
	return s;
}

static __u32 enforce_flags(void)
{
	return policy_state().enforce;
}

static void test_sync_writes_by_difference(void **state)
{
	__u32 generation;
	struct np_fixture *f = *state;
	struct kilo_bpf_policy_sync_report report;
	struct kilo_policy_value value;
	int fd;

	sort(f);
	assert_int_equal(sync_policy(f, false, &report), 0);
	assert_changes(&report.ipcache, 4, 0, 0);
	assert_changes(&report.endpoints, 2, 0, 0);
	assert_changes(&report.rules, 3, 0, 0);
	assert_changes(&report.cidrs, 2, 0, 0);
	assert_int_equal(enforce_flags(), KILO_POLICY_ENFORCE_INGRESS);
	/* The /32s in the hosts' hash, the /24 alone in the trie. */
	assert_int_equal(lb_fixture_count(pin_dir, "kilo_policy_ipcache_hosts", sizeof(struct kilo_policy_endpoint_key)), 3);
	assert_int_equal(lb_fixture_count(pin_dir, "kilo_policy_ipcache", sizeof(struct kilo_ipcache_key)), 1);
	fd = lb_fixture_map(pin_dir, "kilo_policy_rules");
	assert_true(fd >= 0);
	assert_int_equal(bpf_map_lookup_elem(fd, &f->rules[1].key, &value), 0);
	assert_int_equal(value.rule_id, f->rules[1].value.rule_id);

	/* One rule's id changes, one region goes: only they are written. */
	f->rules[0].value.rule_id = 99;
	f->desired.n_cidrs = 1;
	assert_int_equal(sync_policy(f, false, &report), 0);
	assert_changes(&report.rules, 0, 1, 0);
	assert_changes(&report.cidrs, 0, 0, 1);
	assert_changes(&report.ipcache, 0, 0, 0);
	assert_int_equal(bpf_map_lookup_elem(fd, &f->rules[0].key, &value), 0);
	assert_int_equal(value.rule_id, 99);
	close(fd);

	/* The maps read back (LPM tries too) are what was written: a resync changes nothing. */
	assert_int_equal(sync_policy(f, true, &report), 0);
	assert_changes(&report.ipcache, 0, 0, 0);
	/* A pod's identity changes: its /32 is rewritten in the hash. */
	f->ipcache[3].value.identity = 777;
	assert_int_equal(sync_policy(f, true, &report), 0);
	assert_changes(&report.ipcache, 0, 1, 0);
	assert_int_equal(sync_policy(f, true, &report), 0);
	assert_changes(&report.ipcache, 0, 0, 0);
	assert_changes(&report.endpoints, 0, 0, 0);
	assert_changes(&report.rules, 0, 0, 0);
	assert_changes(&report.cidrs, 0, 0, 0);

	/* No endpoint policed any more: the programs skip the endpoint lookup, and their copies of endpoints end. */
	generation = policy_state().generation;
	f->desired.n_endpoints = 0;
	assert_int_equal(sync_policy(f, false, &report), 0);
	assert_true(policy_state().generation > generation);
	assert_changes(&report.endpoints, 0, 0, 2);
	assert_int_equal(enforce_flags(), 0);
}

static __u32 endpoint_skip(const struct kilo_np_desired_endpoint *e)
{
	struct kilo_policy_endpoint value;
	int fd = lb_fixture_map(pin_dir, "kilo_policy_endpoints");

	assert_true(fd >= 0);
	assert_int_equal(bpf_map_lookup_elem(fd, &e->key, &value), 0);
	close(fd);
	return value.skip;
}

/*
 * Each endpoint is written with the lookups its rules and regions need
 * not skipped: rules by identity in, ipBlocks in for endpoint 2 only;
 * nothing for any peer, nor any egress. A rule for any peer makes its
 * endpoint look for one, and only that endpoint changes.
 */
static void test_endpoints_skip_the_lookups_they_need_not(void **state)
{
	const __u32 egress = KILO_POLICY_SKIP_ALL << KILO_POLICY_SKIP_SHIFT(KILO_POLICY_EGRESS);
	const __u32 egress_any = KILO_POLICY_SKIP_ANY << KILO_POLICY_SKIP_SHIFT(KILO_POLICY_EGRESS);
	struct np_fixture *f = *state;
	struct kilo_bpf_policy_sync_report report;
	uint32_t two = 2;

	sort(f);
	assert_int_equal(sync_policy(f, false, &report), 0);
	/* Sorted by address: 10.4.0.5 (endpoint 1), 10.4.0.6 (endpoint 2). */
	assert_int_equal(endpoint_skip(&f->endpoints[0]), egress | KILO_POLICY_SKIP_ANY | KILO_POLICY_SKIP_REGIONS);
	assert_int_equal(endpoint_skip(&f->endpoints[1]), egress | KILO_POLICY_SKIP_ANY);
	assert_int_equal(f->endpoints[0].value.skip, 0); /* the desired state is left as it was */

	f->rules[2].key.identity = KILO_IDENTITY_ANY;
	sort(f);
	assert_int_equal(sync_policy(f, false, &report), 0);
	assert_changes(&report.endpoints, 0, 1, 0);
	assert_int_equal(endpoint_skip(&f->endpoints[1]), egress | KILO_POLICY_SKIP_IDENTITIES);
	/* Read back, the skips are what the desired state gives: nothing to write. */
	assert_int_equal(sync_policy(f, true, &report), 0);
	assert_changes(&report.endpoints, 0, 0, 0);
	/* An endpoint's rules of one prefix length in both directions: each direction's lookups. */
	f->rules[1].key.direction = KILO_POLICY_EGRESS;
	f->rules[1].key.identity = KILO_IDENTITY_ANY;
	sort(f);
	assert_int_equal(sync_policy(f, false, &report), 0);
	assert_int_equal(endpoint_skip(&f->endpoints[0]),
			 (egress & ~egress_any) | KILO_POLICY_SKIP_ANY | KILO_POLICY_SKIP_REGIONS);
	/* Listed after the sync they follow: endpoint 2's from its runs, endpoint 1's as written; read back, the same. */
	f->desired.changes = (struct kilo_np_desired_changes){ .serial = 1 };
	assert_int_equal(sync_policy(f, false, &report), 0);
	f->desired.n_cidrs = 0;
	f->desired.changes = (struct kilo_np_desired_changes){ 2, 1, 1, &two };
	assert_int_equal(sync_policy(f, false, &report), 0);
	assert_changes(&report.endpoints, 0, 1, 0);
	assert_int_equal(endpoint_skip(&f->endpoints[1]), egress | KILO_POLICY_SKIP_IDENTITIES | KILO_POLICY_SKIP_REGIONS);
	assert_int_equal(endpoint_skip(&f->endpoints[0]),
			 (egress & ~egress_any) | KILO_POLICY_SKIP_ANY | KILO_POLICY_SKIP_REGIONS);
	assert_int_equal(sync_policy(f, true, &report), 0);
	assert_changes(&report.endpoints, 0, 0, 0);
}

/* Between resyncs the policy sync compares with what it wrote last, whatever the load balancer's sync does. */
static void test_sync_compares_with_its_last_state(void **state)
{
	struct np_fixture *f = *state;
	struct kilo_bpf_policy_sync_report report;
	struct kilo_bpf_sync_report lb_report;
	struct kilo_lb_desired no_services = { 0 };
	struct kilo_error err = { 0 };
	int fd;

	sort(f);
	assert_int_equal(sync_policy(f, false, &report), 0);
	fd = lb_fixture_map(pin_dir, "kilo_policy_rules");
	assert_true(fd >= 0);
	assert_int_equal(bpf_map_delete_elem(fd, &f->rules[0].key), 0);
	close(fd);
	assert_int_equal(kilo_bpf_sync(f->bpf, &no_services, false, &lb_report, &err), 0);
	/* Not read back: the entry removed behind its back stays removed... */
	assert_int_equal(sync_policy(f, false, &report), 0);
	assert_changes(&report.rules, 0, 0, 0);
	/* ...until a resync reads the maps. */
	assert_int_equal(sync_policy(f, true, &report), 0);
	assert_changes(&report.rules, 1, 0, 0);
}

static void expect_refused(struct np_fixture *f, const char *message)
{
	struct kilo_bpf_policy_sync_report report;
	struct kilo_error err = { 0 };

	assert_int_equal(kilo_bpf_policy_sync(f->bpf, &f->desired, false, &report, &err), -EINVAL);
	if (!strstr(err.message, message))
		fail_msg("\"%s\" does not say \"%s\"", err.message, message);
	build(f);
	sort(f);
}

static void test_bad_desired_state_writes_nothing(void **state)
{
	struct np_fixture *f = *state;
	int fd;

	sort(f);
	f->rules[1] = f->rules[0];
	expect_refused(f, "desired rules[1]: not sorted after the entry before it (or the same key twice)");
	f->ipcache[0].key.prefixlen = 60; /* a /28 of an address with bits past it */
	f->ipcache[0].key.addr.bytes[3] = 5;
	expect_refused(f, "desired ipcache[");
	f->ipcache[0].key.prefixlen = 48; /* a /16 with a bit set a whole byte past it */
	f->ipcache[0].key.addr.bytes[3] = 1;
	expect_refused(f, "desired ipcache[");
	f->rules[1].value.rule_id = 0;
	expect_refused(f, "desired rules[1]: rule id 0 is not 1..65535");
	f->cidrs[1].key.family = 7;
	expect_refused(f, "desired cidrs[1]: family 7");
	f->endpoints[0].value.id = 0;
	expect_refused(f, "desired endpoints[0]: id 0");
	f->rules[0].key.prefixlen = 71;
	expect_refused(f, "desired rules[0]: prefixlen 71 is not 72..96");
	fd = lb_fixture_map(pin_dir, "kilo_policy_ipcache");
	assert_true(fd >= 0);
	assert_int_not_equal(bpf_map_get_next_key(fd, NULL, &f->ipcache[0].key), 0);
	close(fd);
}

/*
 * After a sync, the next one checks only the rules and regions that differ
 * from what it wrote, endpoint by endpoint (the rest was checked then): a
 * bad one among them is still refused, and the maps keep what was written.
 */
static void test_bad_entries_after_a_sync_are_refused_too(void **state)
{
	struct np_fixture *f = *state;
	struct kilo_bpf_policy_sync_report report;

	sort(f);
	assert_int_equal(sync_policy(f, false, &report), 0);
	f->rules[1].value.rule_id = 0;
	expect_refused(f, "desired rules[1]: rule id 0 is not 1..65535");
	f->rules[2] = f->rules[1];
	expect_refused(f, "desired rules[2]: not sorted after the entry before it (or the same key twice)");
	f->cidrs[0].key.direction = 2;
	expect_refused(f, "desired cidrs[0]: direction 2");
	/* Out of order only with the run (endpoint) before or after, which is what was written. */
	f->rules[2].key.endpoint = 0;
	expect_refused(f, "desired rules[2]: not sorted after the entry before it");
	f->rules[0].key.endpoint = 3;
	expect_refused(f, "desired rules[1]: not sorted after the entry before it");
	assert_int_equal(lb_fixture_count(pin_dir, "kilo_policy_rules", sizeof(struct kilo_policy_key)), 3);
	assert_int_equal(sync_policy(f, false, &report), 0);
	assert_changes(&report.rules, 0, 0, 0);
}

/* One more endpoint than the map holds, sorted: a sync that writes them fails after the rules. */
static struct kilo_np_desired_endpoint *too_many_endpoints(size_t *n)
{
	struct kilo_np_desired_endpoint *e = calloc(KILO_POLICY_MAX_ENDPOINTS + 1, sizeof(*e));

	assert_non_null(e);
	*n = KILO_POLICY_MAX_ENDPOINTS + 1;
	for (size_t i = 0; i < *n; i++) {
		e[i].key.family = AF_INET;
		e[i].key.addr.bytes[0] = 10;
		e[i].key.addr.bytes[1] = (uint8_t)(8 + (i >> 16));
		e[i].key.addr.bytes[2] = (uint8_t)(i >> 8);
		e[i].key.addr.bytes[3] = (uint8_t)i;
		e[i].value.id = (uint32_t)i + 1;
	}
	sort_records(e, *n, sizeof(*e), sizeof(e->key));
	return e;
}

static bool has_rule(const struct kilo_policy_key *key)
{
	struct kilo_policy_value value;
	int fd = lb_fixture_map(pin_dir, "kilo_policy_rules"), r;

	assert_true(fd >= 0);
	r = bpf_map_lookup_elem(fd, key, &value);
	close(fd);
	return r == 0;
}

/* A sync of f with changes (maps read back if read_maps) adds and changes as many rules, removes none. */
static void expect_rules(struct np_fixture *f, struct kilo_np_desired_changes changes, bool read_maps, unsigned added,
			 unsigned changed)
{
	struct kilo_bpf_policy_sync_report report;

	f->desired.changes = changes;
	assert_int_equal(sync_policy(f, read_maps, &report), 0);
	assert_changes(&report.rules, added, changed, 0);
}

/*
 * The endpoints a compile lists as changed are all the sync compares, when
 * the last sync wrote the computation they are changes from: else (another
 * base, or the last sync failed half way) it diffs all, with the maps read
 * back after a failure, and they end right.
 */
static void test_listed_changes_are_trusted_after_the_sync_they_follow_only(void **state)
{
	struct np_fixture *f = *state;
	struct kilo_bpf_policy_sync_report report;
	struct kilo_policy_key stray;
	struct kilo_error err = { 0 };
	uint32_t one = 1, two = 2;
	__u32 generation;
	struct kilo_np_desired_endpoint *many;
	size_t n_many;

	sort(f);
	expect_rules(f, (struct kilo_np_desired_changes){ .serial = 1 }, false, 3, 0);
	/* Endpoint 1's rule changed, endpoint 2 listed: endpoint 1's runs are not compared (a resync reads them). */
	f->rules[0].value.rule_id = 20;
	expect_rules(f, (struct kilo_np_desired_changes){ 2, 1, 1, &two }, false, 0, 0);
	expect_rules(f, (struct kilo_np_desired_changes){ 3, 2, 0, NULL }, true, 0, 1);
	/* Listed: compared. */
	f->rules[0].value.rule_id = 25;
	expect_rules(f, (struct kilo_np_desired_changes){ 4, 3, 1, &one }, false, 0, 1);
	/* Changes from a computation the last sync did not write: no promise. */
	f->rules[0].value.rule_id = 30;
	expect_rules(f, (struct kilo_np_desired_changes){ 5, 3, 0, NULL }, false, 0, 1);
	/* Endpoint 2's port 82 to 90: the rule written, then the endpoints fail; port 82 was not removed yet. */
	f->rules[2].key.port = htons(90);
	stray = f->rules[2].key;
	many = too_many_endpoints(&n_many);
	f->desired.endpoints = many;
	f->desired.n_endpoints = n_many;
	f->desired.changes = (struct kilo_np_desired_changes){ 6, 5, 1, &two };
	generation = policy_state().generation;
	assert_int_not_equal(kilo_bpf_policy_sync(f->bpf, &f->desired, false, &report, &err), 0);
	assert_non_null(strstr(err.message, "writing map kilo_policy_endpoints"));
	/* The copies of endpoints the programs made while they were half written (at generation + 1) end too. */
	assert_true(policy_state().generation >= generation + 2);
	assert_true(has_rule(&stray));
	/* Back as it was, listed as a compile would: the maps read back, the stray rule removed. */
	f->rules[2].key.port = htons(82);
	f->desired.endpoints = f->endpoints;
	f->desired.n_endpoints = 2;
	f->desired.changes = (struct kilo_np_desired_changes){ 7, 6, 1, &two };
	assert_int_equal(sync_policy(f, false, &report), 0);
	assert_false(has_rule(&stray));
	assert_int_equal(lb_fixture_count(pin_dir, "kilo_policy_rules", sizeof(struct kilo_policy_key)), 3);
	assert_int_equal(lb_fixture_count(pin_dir, "kilo_policy_endpoints", sizeof(struct kilo_policy_endpoint_key)), 2);
	free(many);
}

static void *copy_of(const void *items, size_t size)
{
	void *copy = malloc(size);

	assert_non_null(copy);
	return memcpy(copy, items, size);
}

/* A sync taking f's rules and regions (copies, malloc'ed as the compile's): -errno. */
static int sync_taking(struct np_fixture *f, struct kilo_bpf_policy_sync_report *report, struct kilo_error *err)
{
	int r;

	f->desired.rules = copy_of(f->rules, sizeof(f->rules));
	f->desired.n_rules = 3;
	f->desired.cidrs = copy_of(f->cidrs, sizeof(f->cidrs));
	f->desired.n_cidrs = 2;
	r = kilo_bpf_policy_sync_taking(f->bpf, &f->desired, false, report, err);
	if (r < 0) {
		assert_non_null(f->desired.rules);
		assert_int_equal(f->desired.n_rules, 3);
		free(f->desired.rules);
		free(f->desired.cidrs);
	}
	f->desired.rules = f->rules;
	f->desired.n_rules = 3;
	f->desired.cidrs = f->cidrs;
	f->desired.n_cidrs = 2;
	return r;
}

/* Taken once written, the rules and regions are what the next sync compares with; refused, they stay the caller's. */
static void test_a_sync_taking_the_rules_compares_the_next_with_them(void **state)
{
	struct np_fixture *f = *state;
	struct kilo_bpf_policy_sync_report report;
	struct kilo_error err = { 0 };
	uint32_t one = 1;

	sort(f);
	f->desired.changes = (struct kilo_np_desired_changes){ .serial = 1 };
	f->desired.rules = copy_of(f->rules, sizeof(f->rules));
	f->desired.cidrs = copy_of(f->cidrs, sizeof(f->cidrs));
	assert_int_equal(kilo_bpf_policy_sync_taking(f->bpf, &f->desired, false, &report, &err), 0);
	assert_null(f->desired.rules);
	assert_null(f->desired.cidrs);
	assert_int_equal(f->desired.n_rules + f->desired.n_cidrs, 0);
	assert_changes(&report.rules, 3, 0, 0);
	f->rules[0].value.rule_id = 20;
	f->desired.changes = (struct kilo_np_desired_changes){ 2, 1, 1, &one };
	assert_int_equal(sync_taking(f, &report, &err), 0);
	assert_changes(&report.rules, 0, 1, 0);
	f->rules[0].value.rule_id = 0;
	f->desired.changes = (struct kilo_np_desired_changes){ 3, 2, 1, &one };
	assert_int_equal(sync_taking(f, &report, &err), -EINVAL);
	f->rules[0].value.rule_id = 21;
	assert_int_equal(sync_taking(f, &report, &err), 0);
	assert_changes(&report.rules, 0, 1, 0);
}

struct seen {
	size_t n;
	struct kilo_flow_event last;
};

static int on_event(void *ctx, const struct kilo_flow_event *event)
{
	struct seen *seen = ctx;

	seen->n++;
	seen->last = *event;
	return 0;
}

/* A SYN from the peer location to endpoint 2's port 443, which no rule allows, through kilo_lb_to_pod. */
static void run_denied_syn(struct np_fixture *f)
{
	struct kt_packet p = { .family = 4, .proto = IPPROTO_TCP, .src = "10.4.1.9", .dst = "10.4.0.6",
			       .sport = 40000, .dport = 443, .tcp_flags = 0x02 };
	uint8_t frame[KT_PACKET_MAX], out[KT_PACKET_MAX];
	size_t len = kt_packet_build(&p, frame, sizeof(frame));
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(kilo__bpf_program(f->bpf, "kilo_lb_to_pod")), &opts), 0);
	assert_int_equal(opts.retval, 2 /* TC_ACT_SHOT */);
}

static void test_events_and_rule_counters(void **state)
{
	struct np_fixture *f = *state;
	struct kilo_bpf_policy_sync_report report;
	struct kilo_lb_counter_value counters[2];
	const uint32_t rules[2] = { 0, 12 };
	struct kilo_error err = { 0 };
	kilo_bpf_events *events, *pinned;
	struct seen seen = { 0 }, seen_pinned = { 0 };

	sort(f);
	assert_int_equal(sync_policy(f, false, &report), 0);
	assert_int_equal(kilo_bpf_events_open(f->bpf, on_event, &seen, &events, &err), 0);
	assert_true(kilo_bpf_events_fd(events) >= 0);
	run_denied_syn(f);
	assert_int_equal(kilo_bpf_events_consume(events, &err), 1);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.last.verdict, KILO_FLOW_DROPPED);
	assert_int_equal(seen.last.dst_identity, 301);
	assert_int_equal(seen.last.src_identity, 400);
	assert_int_equal(kilo_bpf_events_consume(events, &err), 0);

	/* kgctl's way: the pinned ring buffer, without a handle. */
	assert_int_equal(kilo_bpf_events_open_pinned(pin_dir, on_event, &seen_pinned, &pinned, &err), 0);
	run_denied_syn(f);
	assert_int_equal(kilo_bpf_events_consume(pinned, &err), 1);
	assert_int_equal(seen_pinned.last.dport, htons(443));
	kilo_bpf_events_close(pinned);
	kilo_bpf_events_close(events);

	assert_int_equal(kilo_bpf_policy_rule_counters(f->bpf, rules, 2, counters, &err), 0);
	assert_int_equal(counters[0].packets, 2); /* the default denials */
	assert_int_equal(counters[1].packets, 0);
	assert_int_equal(kilo_bpf_policy_rule_counters(f->bpf, (const uint32_t[]){ 70000 }, 1, counters, &err), -EINVAL);
	assert_string_equal(err.message, "bpf: rule id 70000: not below 65536");
	err = (struct kilo_error){ 0 };
	assert_int_equal(kilo_bpf_events_open_pinned("/nonexistent/kilo-np", on_event, &seen, &pinned, &err), -ENOENT);
	assert_non_null(strstr(err.message, "/nonexistent/kilo-np/kilo_policy_events"));
}

static void test_clean_up_removes_the_policy_pins(void **state)
{
	struct np_fixture *f = *state;
	static const char *const maps[] = { "kilo_policy_ipcache", "kilo_policy_endpoints", "kilo_policy_rules",
					    "kilo_policy_cidrs", "kilo_policy_rule_counters", "kilo_policy_state",
					    "kilo_policy_ipcache_hosts",
					    "kilo_policy_events", "kilo_policy_event_budget" };
	struct kilo_bpf_policy_sync_report report;

	sort(f);
	assert_int_equal(sync_policy(f, false, &report), 0);
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		int fd = lb_fixture_map(pin_dir, maps[i]);

		assert_true(fd >= 0);
		close(fd);
	}
	assert_int_equal(kilo_bpf_clean_up(f->bpf, NULL), 0);
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		assert_true(lb_fixture_map(pin_dir, maps[i]) < 0);
	/* The handle forgot what it wrote: the next sync, into maps no longer pinned, reads them. */
	assert_int_equal(sync_policy(f, false, &report), 0);
	assert_changes(&report.rules, 0, 0, 0);
}

/* An older kg's counters (fewer reasons) pinned: a new handle replaces that map instead of failing to load. */
static void test_a_map_pinned_with_an_older_layout_is_replaced(void **state)
{
	struct np_fixture *f = *state;
	struct kilo_bpf_opts opts = { .pin_dir = pin_dir };
	struct kilo_error err = { 0 };
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	char path[256];
	int old, fd;

	assert_int_equal(kilo_bpf_clean_up(f->bpf, NULL), 0);
	kilo_bpf_close(f->bpf);
	f->bpf = NULL;
	assert_int_equal(mkdir(pin_dir, 0700), 0);
	old = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "kilo_lb_counters", sizeof(__u32),
			     sizeof(struct kilo_lb_counter_value), KILO_LB_SOCK_REVERSE_LOST + 1, NULL);
	assert_true(old >= 0);
	snprintf(path, sizeof(path), "%s/kilo_lb_counters", pin_dir);
	assert_int_equal(bpf_obj_pin(old, path), 0);
	close(old);

	if (kilo_bpf_open(&opts, &f->bpf, &err) < 0)
		fail_msg("%s", err.message);
	fd = lb_fixture_map(pin_dir, "kilo_lb_counters");
	assert_true(fd >= 0);
	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	assert_int_equal(info.max_entries, KILO_LB_COUNTER_MAX);
	close(fd);
}

/* kg --flow-events all: the state carries KILO_POLICY_ALL_FLOWS beside the endpoints' flags, at every sync. */
static void test_all_flow_events_in_the_state(void **state)
{
	struct np_fixture *f = *state;
	struct kilo_bpf_opts opts = { .pin_dir = pin_dir, .all_flow_events = true };
	struct kilo_bpf_policy_sync_report report;
	struct kilo_error err = { 0 };

	kilo_bpf_close(f->bpf);
	f->bpf = NULL;
	if (kilo_bpf_open(&opts, &f->bpf, &err) < 0)
		fail_msg("%s", err.message);
	sort(f);
	assert_int_equal(sync_policy(f, false, &report), 0);
	assert_int_equal(enforce_flags(), KILO_POLICY_ENFORCE_INGRESS | KILO_POLICY_ALL_FLOWS);
	f->desired.n_endpoints = 0;
	assert_int_equal(sync_policy(f, false, &report), 0);
	assert_int_equal(enforce_flags(), KILO_POLICY_ALL_FLOWS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sync_writes_by_difference, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_entries_after_a_sync_are_refused_too, setup, teardown),
		cmocka_unit_test_setup_teardown(test_endpoints_skip_the_lookups_they_need_not, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_compares_with_its_last_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listed_changes_are_trusted_after_the_sync_they_follow_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_sync_taking_the_rules_compares_the_next_with_them, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_desired_state_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_and_rule_counters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean_up_removes_the_policy_pins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_map_pinned_with_an_older_layout_is_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_flow_events_in_the_state, setup, teardown),
	};

	pin_dir = lb_fixture_pin_dir("policy");
	if (!pin_dir)
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
