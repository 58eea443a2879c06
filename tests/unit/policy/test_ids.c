// SPDX-License-Identifier: Apache-2.0
/*
 * Ids across computations: what did not change keeps its id and its
 * entries, a freed id is not handed to the next newcomer, and a counter
 * that went round skips the ids in use. Failures leave nothing behind.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "describe.h"

#define SERVICES                                                                                                 \
	"[{\"metadata\":{\"name\":\"one\",\"namespace\":\"default\"},"                                              \
	"\"spec\":{\"clusterIP\":\"10.96.0.1\",\"ports\":[{\"name\":\"http\",\"port\":80}]}},"                      \
	"{\"metadata\":{\"name\":\"two\",\"namespace\":\"default\"},"                                               \
	"\"spec\":{\"clusterIP\":\"10.96.0.2\",\"ports\":[{\"name\":\"http\",\"port\":80}]}}]"

/* The slices of services one and two, two's endpoints given as a JSON list of addresses. */
static char *slices(const char *two_addresses)
{
	char *text;
	char endpoints[1024] = "";
	const char *p = two_addresses;

	while (*p) {
		char address[64];
		size_t len = strcspn(p, " ");

		snprintf(address, sizeof(address), "%.*s", (int)len, p);
		snprintf(endpoints + strlen(endpoints), sizeof(endpoints) - strlen(endpoints),
			 "%s{\"addresses\":[\"%s\"]}", endpoints[0] ? "," : "", address);
		p += len;
		p += *p == ' ';
	}
	assert_true(asprintf(&text,
			     "[{\"metadata\":{\"name\":\"one-1\",\"namespace\":\"default\","
			     "\"labels\":{\"kubernetes.io/service-name\":\"one\"}},\"addressType\":\"IPv4\","
			     "\"ports\":[{\"name\":\"http\",\"port\":8080}],"
			     "\"endpoints\":[{\"addresses\":[\"10.2.0.1\"]},{\"addresses\":[\"10.2.0.2\"]}]},"
			     "{\"metadata\":{\"name\":\"two-1\",\"namespace\":\"default\","
			     "\"labels\":{\"kubernetes.io/service-name\":\"two\"}},\"addressType\":\"IPv4\","
			     "\"ports\":[{\"name\":\"http\",\"port\":8080}],\"endpoints\":[%s]}]",
			     endpoints) >= 0);
	return text;
}

static void compute(struct kilo_lb_ids *ids, const char *two_addresses, struct kilo_lb_desired *out)
{
	char *text = slices(two_addresses);
	struct kilo_lb_inputs in = {.services = SERVICES, .slices = text, .self = "a"};
	struct kilo_error err = {0};

	if (kilo_lb_compute(&in, ids, out, NULL, &err) < 0)
		fail_msg("kilo_lb_compute: %s", err.message);
	free(text);
}

static __u32 backend_id(const struct kilo_lb_desired *d, const char *address)
{
	union kilo_lb_addr addr = {0};

	assert_int_equal(inet_pton(AF_INET, address, addr.bytes), 1);
	for (size_t i = 0; i < d->n_backends; i++)
		if (memcmp(&d->backends[i].value.addr, &addr, sizeof(addr)) == 0)
			return d->backends[i].id;
	fail_msg("no backend %s", address);
	return 0;
}

static const struct kilo_lb_desired_service *frontend(const struct kilo_lb_desired *d, const char *vip)
{
	union kilo_lb_addr addr = {0};

	assert_int_equal(inet_pton(AF_INET, vip, addr.bytes), 1);
	for (size_t i = 0; i < d->n_services; i++)
		if (memcmp(&d->services[i].key.addr, &addr, sizeof(addr)) == 0)
			return &d->services[i];
	fail_msg("no frontend %s", vip);
	return NULL;
}

static const __u32 *maglev_table(const struct kilo_lb_desired *d, __u32 service_id)
{
	for (size_t i = 0; i < d->n_maglev; i++)
		if (d->maglev[i].service_id == service_id)
			return d->maglev[i].table;
	return NULL;
}

/* One changed EndpointSlice: the other service's entries are the same, ids and all; of its own, only what changed. */
static void test_unchanged_entries_keep_their_ids(void **state)
{
	struct kilo_lb_ids *ids = kilo_lb_ids_new();
	struct kilo_lb_desired before, after;
	const struct kilo_lb_desired_service *one_before, *one_after, *two_before, *two_after;

	(void)state;
	compute(ids, "10.2.1.1 10.2.1.2", &before);
	compute(ids, "10.2.1.1 10.2.1.2 10.2.1.3", &after);
	one_before = frontend(&before, "10.96.0.1");
	one_after = frontend(&after, "10.96.0.1");
	assert_memory_equal(one_before, one_after, sizeof(*one_before));
	/* The same table, not filled again; two's changed with its backends. */
	assert_ptr_equal(maglev_table(&before, one_before->value.id), maglev_table(&after, one_after->value.id));
	for (size_t i = 0; i < 2; i++)
		assert_memory_equal(&before.slots[i], &after.slots[i], sizeof(before.slots[i]));
	two_before = frontend(&before, "10.96.0.2");
	two_after = frontend(&after, "10.96.0.2");
	assert_int_equal(two_before->value.id, two_after->value.id);
	assert_int_equal(two_before->value.backend_count, 2);
	assert_int_equal(two_after->value.backend_count, 3);
	for (const char **a = (const char *[]){"10.2.0.1", "10.2.0.2", "10.2.1.1", "10.2.1.2", NULL}; *a; a++)
		assert_int_equal(backend_id(&before, *a), backend_id(&after, *a));
	assert_int_equal(after.n_backends, before.n_backends + 1);
	assert_int_equal(after.n_revnat, 2);
	assert_memory_equal(before.revnat, after.revnat, 2 * sizeof(*before.revnat));
	assert_ptr_not_equal(maglev_table(&before, two_before->value.id), maglev_table(&after, two_after->value.id));
	kilo_lb_desired_release(&before);
	kilo_lb_desired_release(&after);
	kilo_lb_ids_free(ids);
}

/* The backend (its address) of every entry of the Maglev table of the frontend vip. */
static void table_by_address(const struct kilo_lb_desired *d, const char *vip, __u32 *out)
{
	const __u32 *table = maglev_table(d, frontend(d, vip)->value.id);

	assert_non_null(table);
	for (size_t c = 0; c < KILO_LB_MAGLEV_DEFAULT; c++) {
		size_t i = 0;

		while (i < d->n_backends && d->backends[i].id != table[c])
			i++;
		assert_true(i < d->n_backends);
		out[c] = d->backends[i].value.addr.v4;
	}
}

/*
 * Every node builds the same table from the same backends, whatever ids
 * its own allocator gave them, and in whatever order the slices list
 * them: a flow keeps its backend when its path moves to another node.
 */
static void test_every_node_builds_the_same_table(void **state)
{
	struct kilo_lb_ids *a = kilo_lb_ids_new(), *b = kilo_lb_ids_new();
	static __u32 table_a[KILO_LB_MAGLEV_DEFAULT], table_b[KILO_LB_MAGLEV_DEFAULT];
	struct kilo_lb_desired da, db;

	(void)state;
	b->backends.next = 1000;
	compute(a, "10.2.1.1 10.2.1.2 10.2.1.3", &da);
	compute(b, "10.2.1.3 10.2.1.1 10.2.1.2", &db);
	assert_int_not_equal(backend_id(&da, "10.2.1.1"), backend_id(&db, "10.2.1.1"));
	table_by_address(&da, "10.96.0.2", table_a);
	table_by_address(&db, "10.96.0.2", table_b);
	assert_memory_equal(table_a, table_b, sizeof(table_a));
	kilo_lb_desired_release(&da);
	kilo_lb_desired_release(&db);
	kilo_lb_ids_free(a);
	kilo_lb_ids_free(b);
}

/* A table kept between computations is the one a fresh computation fills, also after its backends came back. */
static void test_a_kept_table_is_the_one_filled_anew(void **state)
{
	struct kilo_lb_ids *ids = kilo_lb_ids_new(), *fresh = kilo_lb_ids_new();
	static __u32 table_a[KILO_LB_MAGLEV_DEFAULT], table_b[KILO_LB_MAGLEV_DEFAULT];
	struct kilo_lb_desired first, second, third, anew;
	const __u32 *kept;

	(void)state;
	compute(ids, "10.2.1.1 10.2.1.2", &first);
	compute(ids, "10.2.1.1", &second);
	assert_null(maglev_table(&second, frontend(&second, "10.96.0.2")->value.id));
	compute(ids, "10.2.1.1 10.2.1.2", &third);
	kept = maglev_table(&third, frontend(&third, "10.96.0.1")->value.id);
	assert_ptr_equal(kept, maglev_table(&first, frontend(&first, "10.96.0.1")->value.id));
	/* Released before the state that shares it: the table lives on in third and in the cache. */
	kilo_lb_desired_release(&first);
	kilo_lb_desired_release(&second);
	compute(fresh, "10.2.1.1 10.2.1.2", &anew);
	assert_memory_equal(kept, maglev_table(&anew, frontend(&anew, "10.96.0.1")->value.id),
			    KILO_LB_MAGLEV_DEFAULT * sizeof(__u32));
	/* Two's backends came back: filled again, as a fresh computation fills it (ids differ: compare addresses). */
	table_by_address(&third, "10.96.0.2", table_a);
	table_by_address(&anew, "10.96.0.2", table_b);
	assert_memory_equal(table_a, table_b, sizeof(table_a));
	kilo_lb_ids_free(ids);
	kilo_lb_desired_release(&third);
	kilo_lb_desired_release(&anew);
	kilo_lb_ids_free(fresh);
}

/* A backend that leaves frees its id; the next newcomer, and the same backend coming back, get new ones. */
static void test_a_freed_id_is_not_reused(void **state)
{
	struct kilo_lb_ids *ids = kilo_lb_ids_new();
	struct kilo_lb_desired d;
	__u32 gone, newcomer, back;

	(void)state;
	compute(ids, "10.2.1.1 10.2.1.2", &d);
	gone = backend_id(&d, "10.2.1.2");
	kilo_lb_desired_release(&d);
	compute(ids, "10.2.1.1", &d);
	assert_int_equal(d.n_backends, 3);
	kilo_lb_desired_release(&d);
	compute(ids, "10.2.1.1 10.2.1.3", &d);
	newcomer = backend_id(&d, "10.2.1.3");
	kilo_lb_desired_release(&d);
	compute(ids, "10.2.1.1 10.2.1.2 10.2.1.3", &d);
	back = backend_id(&d, "10.2.1.2");
	assert_int_not_equal(newcomer, gone);
	assert_int_not_equal(back, gone);
	assert_int_equal(backend_id(&d, "10.2.1.3"), newcomer);
	kilo_lb_desired_release(&d);
	kilo_lb_ids_free(ids);
}

/* After 2^32 ids the counter starts again at 1, and skips the ids still in use. */
static void test_a_counter_that_went_round_skips_ids_in_use(void **state)
{
	struct kilo_lb_ids *ids = kilo_lb_ids_new();
	struct kilo_lb_desired d;
	__u32 kept[4];

	(void)state;
	ids->backends.next = UINT32_MAX - 1;
	compute(ids, "10.2.1.1", &d);
	kept[0] = backend_id(&d, "10.2.0.1");
	kept[1] = backend_id(&d, "10.2.0.2");
	kept[2] = backend_id(&d, "10.2.1.1");
	assert_int_equal(kept[0], UINT32_MAX - 1);
	assert_int_equal(kept[1], UINT32_MAX);
	assert_int_equal(kept[2], 1);
	kilo_lb_desired_release(&d);
	ids->backends.next = 1; /* as if another 2^32 had gone by */
	compute(ids, "10.2.1.1 10.2.1.2", &d);
	kept[3] = backend_id(&d, "10.2.1.2");
	for (size_t i = 0; i < 3; i++)
		assert_int_not_equal(kept[3], kept[i]);
	assert_int_equal(kept[3], 2);
	kilo_lb_desired_release(&d);
	kilo_lb_ids_free(ids);
}

/* Ids adopted from an earlier process's maps: kept by the keys asked for, new ones after the largest. */
static void test_adopted_ids_are_kept_and_new_ones_follow(void **state)
{
	struct kilo_lb_ids *ids = kilo_lb_ids_new();
	struct kilo_lb_backend_key key = {.port = htons(8080), .proto = IPPROTO_TCP, .family = AF_INET};
	struct kilo_lb_desired d;

	(void)state;
	assert_int_equal(inet_pton(AF_INET, "10.2.0.2", key.addr.bytes), 1);
	assert_int_equal(kilo_lb_ids_adopt(ids, &ids->backends, &key, 40), 0);
	/* A key with an id keeps it; id 0 is none. */
	assert_int_equal(kilo_lb_ids_adopt(ids, &ids->backends, &key, 7), 0);
	assert_int_equal(inet_pton(AF_INET, "10.9.9.9", key.addr.bytes), 1);
	assert_int_equal(kilo_lb_ids_adopt(ids, &ids->backends, &key, 0), 0);
	compute(ids, "", &d);
	assert_int_equal(backend_id(&d, "10.2.0.2"), 40);
	assert_int_equal(backend_id(&d, "10.2.0.1"), 41);
	kilo_lb_desired_release(&d);
	kilo_lb_ids_free(ids);
}

static void test_bad_input_fails_whole(void **state)
{
	static const struct {
		const char *text, *message;
	} malformed[] = {
		{"[{", "endpointslices[0]: not JSON: "},
		{"[{}, ]", "endpointslices[1]: not JSON: "},
		{"[{} {}]", "endpointslices: not JSON: no ',' or ']' after element 0"},
		{"[{}] []", "endpointslices: not JSON: text after the array's end"},
		{"[{}", "endpointslices: not JSON: no ',' or ']' after element 0"},
		{"", "endpointslices: not a JSON array of objects"},
	};
	struct kilo_lb_ids *ids = kilo_lb_ids_new();
	struct kilo_lb_inputs in = {.services = "{\"not\": \"an array\"}"};
	struct kilo_lb_desired d;
	struct kilo_error err = {0};

	(void)state;
	assert_int_equal(kilo_lb_compute(&in, ids, &d, NULL, &err), -EINVAL);
	assert_string_equal(err.message, "services: not a JSON array of objects");
	assert_int_equal(d.n_services, 0);
	assert_null(d.services);
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		memset(&err, 0, sizeof(err));
		in = (struct kilo_lb_inputs){.slices = malformed[i].text};
		assert_int_equal(kilo_lb_compute(&in, ids, &d, NULL, &err), -EINVAL);
		if (strncmp(err.message, malformed[i].message, strlen(malformed[i].message)) != 0)
			fail_msg("%s: \"%s\", not \"%s...\"", malformed[i].text, err.message, malformed[i].message);
		assert_null(d.services);
	}
	memset(&err, 0, sizeof(err));
	in = (struct kilo_lb_inputs){.maglev_m = 16383};
	assert_int_equal(kilo_lb_compute(&in, ids, &d, NULL, &err), -EINVAL);
	assert_string_equal(err.message, "maglev_m: 16383 is not a prime of at most 65521");
	kilo_lb_ids_free(ids);
}

/* Kubernetes and kubectl write arrays pretty-printed, and an empty one is none. */
static void test_arrays_may_be_pretty_printed(void **state)
{
	struct kilo_lb_ids *ids = kilo_lb_ids_new();
	struct kilo_lb_inputs in = {
		.services = " \n[\n  {\"metadata\": {\"name\": \"one\"},\n   \"spec\": {\"clusterIP\": \"10.96.0.1\","
			    " \"ports\": [{\"port\": 80}]}} ,\r\n\t{\"metadata\": {\"name\": \"two\"},"
			    " \"spec\": {\"clusterIP\": \"10.96.0.2\", \"ports\": [{\"port\": 80}]}}\n]\n",
		.slices = " [ ] ",
	};
	struct kilo_lb_desired d;

	(void)state;
	assert_int_equal(kilo_lb_compute(&in, ids, &d, NULL, NULL), 0);
	assert_int_equal(d.n_services, 2);
	kilo_lb_desired_release(&d);
	kilo_lb_ids_free(ids);
}

/* An element ends where JSON says, whatever its strings hold; a scalar is an element too. */
static void test_elements_are_delimited_as_json(void **state)
{
	struct kilo_lb_ids *ids = kilo_lb_ids_new();
	struct kilo_lb_inputs in = {
		.services = "[{\"kind\": \"]}\\\"x,\", \"spec\": {\"x\": [1, {\"y\": \"[\"}]}},\"s,t\",5 , true ,"
			    "{\"metadata\": {\"name\": \"one\"}, \"spec\": {\"clusterIP\": \"10.96.0.1\", "
			    "\"ports\": [{\"port\": 80}]}}]",
	};
	const char *expected[] = {"services[0]: metadata.name: missing", "services[1]: not an object",
				  "services[2]: not an object", "services[3]: not an object"};
	struct kilo_lb_report report;
	struct kilo_lb_desired d;

	(void)state;
	for (int pass = 0; pass < 2; pass++) {
		memset(&report, 0, sizeof(report));
		assert_int_equal(kilo_lb_compute(&in, ids, &d, &report, NULL), 0);
		assert_int_equal(d.n_services, 1);
		assert_int_equal(report.n_problems, 4);
		for (size_t i = 0; i < 4; i++)
			assert_string_equal(report.problems[i], expected[i]);
		kilo_lb_desired_release(&d);
	}
	kilo_lb_ids_free(ids);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unchanged_entries_keep_their_ids),
		cmocka_unit_test(test_a_kept_table_is_the_one_filled_anew),
		cmocka_unit_test(test_every_node_builds_the_same_table),
		cmocka_unit_test(test_a_freed_id_is_not_reused),
		cmocka_unit_test(test_a_counter_that_went_round_skips_ids_in_use),
		cmocka_unit_test(test_adopted_ids_are_kept_and_new_ones_follow),
		cmocka_unit_test(test_bad_input_fails_whole),
		cmocka_unit_test(test_arrays_may_be_pretty_printed),
		cmocka_unit_test(test_elements_are_delimited_as_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
