/* SPDX-License-Identifier: Apache-2.0 */
/* Flow records: named from the store, kept in a bounded ring, filtered, printed as kgctl observe does. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "agent/flows.h"

static const char pods[] =
	"[{\"metadata\":{\"namespace\":\"shop\",\"name\":\"web-1\"},\"spec\":{\"nodeName\":\"n1\"},"
	"\"status\":{\"podIP\":\"10.1.0.5\",\"podIPs\":[{\"ip\":\"10.1.0.5\"}]}},"
	"{\"metadata\":{\"namespace\":\"shop\",\"name\":\"db-0\"},\"spec\":{\"nodeName\":\"n2\"},"
	"\"status\":{\"podIPs\":[{\"ip\":\"10.2.0.7\"}]}}]";
static const char services[] =
	"[{\"metadata\":{\"namespace\":\"shop\",\"name\":\"db\"},\"spec\":{\"clusterIP\":\"10.43.0.10\","
	"\"ports\":[{\"port\":5432,\"nodePort\":30432}]}}]";

static struct kilo_np_rule_name rule_names[] = { { 7, "shop/db-allow ingress[0]" } };
static const struct kilo_np_desired policy = { .n_rule_names = 1, .rule_names = rule_names };
static const struct kilo_flow_identity identities[] = { { 256, "pod:app=web,ns:name=shop" },
							 { 257, "pod:app=db,ns:name=shop" } };

static struct kilo_mesh *two_nodes(void)
{
	static struct kilo_node nodes[2];
	static struct kilo_mesh mesh;

	memset(nodes, 0, sizeof(nodes));
	nodes[0].name = "n1";
	nodes[0].location = "loc1";
	kilo_cidr_parse("10.1.0.0/24", &nodes[0].pod_cidr, NULL);
	kilo_cidr_parse("192.168.0.1/24", &nodes[0].internal_ip, NULL);
	nodes[1].name = "n2";
	nodes[1].location = "loc2";
	kilo_cidr_parse("10.2.0.0/24", &nodes[1].pod_cidr, NULL);
	mesh = (struct kilo_mesh){ .nodes = nodes, .n_nodes = 2 };
	return &mesh;
}

static struct kilo_flow_names *names_of_shop(void)
{
	struct kilo_flow_names *names = NULL;
	struct kilo_flow_names_inputs in = { .pods = pods, .services = services, .mesh = two_nodes(),
					     .policy = &policy, .identities = identities, .n_identities = 2 };

	assert_int_equal(kilo_flow_names_build(&in, &names), 0);
	return names;
}

static void v4(union kilo_lb_addr *a, const char *text)
{
	memset(a, 0, sizeof(*a));
	assert_int_equal(inet_pton(AF_INET, text, &a->v4), 1);
}

/* web-1 -> db-0:5432 balanced from the db Service, judged at db-0's veth. */
static struct kilo_flow_event web_to_db(uint8_t verdict, uint32_t rule_id)
{
	struct kilo_flow_event e = { .family = AF_INET, .proto = 6, .sport = htons(40000), .dport = htons(5432),
				     .src_identity = 256, .dst_identity = 257, .rule_id = rule_id, .verdict = verdict,
				     .reason = verdict ? KILO_FLOW_REASON_POLICY_DENIED : KILO_FLOW_REASON_NONE,
				     .direction = KILO_POLICY_INGRESS, .service_id = 3,
				     .service_port = htons(5432) };

	v4(&e.saddr, "10.1.0.5");
	v4(&e.daddr, "10.2.0.7");
	v4(&e.service_addr, "10.43.0.10");
	return e;
}

static void test_record_names_both_ends_rule_and_service(void **state)
{
	struct kilo_flow_names *names = names_of_shop();
	struct kilo_flow_event e = web_to_db(KILO_FLOW_FORWARDED, 7);
	char *line;

	(void)state;
	/* 2026-12-05T01:02:03.000000004Z */
	assert_int_equal(kilo_flow_format(&e, 42, 1796432523000000004LL, "n2", names, &line), 0);
	assert_string_equal(
		line,
		"{\"seq\":42,\"time\":\"2026-12-05T01:02:03.000000004Z\",\"node\":\"n2\",\"verdict\":\"forwarded\","
		"\"reason\":\"none\",\"direction\":\"ingress\",\"protocol\":\"TCP\","
		"\"source\":{\"ip\":\"10.1.0.5\",\"port\":40000,\"identity\":256,\"labels\":\"pod:app=web,ns:name=shop\","
		"\"namespace\":\"shop\",\"pod\":\"web-1\",\"node\":\"n1\",\"location\":\"loc1\"},"
		"\"destination\":{\"ip\":\"10.2.0.7\",\"port\":5432,\"identity\":257,\"labels\":\"pod:app=db,ns:name=shop\","
		"\"namespace\":\"shop\",\"pod\":\"db-0\",\"node\":\"n2\",\"location\":\"loc2\"},"
		"\"rule\":{\"id\":7,\"name\":\"shop/db-allow ingress[0]\"},"
		"\"service\":{\"id\":3,\"name\":\"shop/db\",\"ip\":\"10.43.0.10\",\"port\":5432}}");
	kilo_free(line);
	kilo_flow_names_free(names);
}

static void test_unknown_addresses_named_by_what_holds_them(void **state)
{
	struct kilo_flow_names *names = names_of_shop();
	struct kilo_flow_where w;
	union kilo_lb_addr a;

	(void)state;
	/* A pod the store does not know yet: its node's pod CIDR gives node and location. */
	v4(&a, "10.2.0.99");
	kilo_flow_names_where(names, AF_INET, &a, &w);
	assert_null(w.pod);
	assert_string_equal(w.node, "n2");
	assert_string_equal(w.location, "loc2");
	/* A node's own address. */
	v4(&a, "192.168.0.1");
	kilo_flow_names_where(names, AF_INET, &a, &w);
	assert_string_equal(w.node, "n1");
	/* The world. */
	v4(&a, "8.8.8.8");
	kilo_flow_names_where(names, AF_INET, &a, &w);
	assert_null(w.node);
	assert_null(w.pod);
	/* A NodePort on any node's address. */
	v4(&a, "192.168.0.1");
	assert_string_equal(kilo_flow_names_service(names, AF_INET, &a, htons(30432)), "shop/db");
	assert_null(kilo_flow_names_service(names, AF_INET, &a, htons(30433)));
	kilo_flow_names_free(names);
}

/* The pod at addr's name in names. */
static const char *pod_at(const struct kilo_flow_names *names, const char *addr)
{
	struct kilo_flow_where w;
	union kilo_lb_addr a;

	v4(&a, addr);
	kilo_flow_names_where(names, AF_INET, &a, &w);
	return w.pod;
}

/* Built after others, names take their order only while every address is where it was. */
static void test_names_built_after_others_follow_their_pods(void **state)
{
	static const char renamed[] =
		"[{\"metadata\":{\"namespace\":\"shop\",\"name\":\"web-2\"},\"spec\":{\"nodeName\":\"n1\"},"
		"\"status\":{\"podIP\":\"10.1.0.5\"}},"
		"{\"metadata\":{\"namespace\":\"shop\",\"name\":\"db-0\"},\"spec\":{\"nodeName\":\"n2\"},"
		"\"status\":{\"podIP\":\"10.2.0.7\"}}]";
	static const char swapped[] =
		"[{\"metadata\":{\"namespace\":\"shop\",\"name\":\"web-2\"},\"spec\":{\"nodeName\":\"n1\"},"
		"\"status\":{\"podIP\":\"10.2.0.7\"}},"
		"{\"metadata\":{\"namespace\":\"shop\",\"name\":\"db-0\"},\"spec\":{\"nodeName\":\"n2\"},"
		"\"status\":{\"podIP\":\"10.1.0.5\"}}]";
	struct kilo_flow_names *first = names_of_shop(), *second = NULL, *third = NULL;
	struct kilo_flow_names_inputs in = { .pods = renamed, .mesh = two_nodes(), .last = first };

	(void)state;
	assert_int_equal(kilo_flow_names_build(&in, &second), 0);
	assert_string_equal(pod_at(second, "10.1.0.5"), "web-2");
	assert_string_equal(pod_at(second, "10.2.0.7"), "db-0");
	in = (struct kilo_flow_names_inputs){ .pods = swapped, .mesh = two_nodes(), .last = second };
	assert_int_equal(kilo_flow_names_build(&in, &third), 0);
	assert_string_equal(pod_at(third, "10.2.0.7"), "web-2");
	assert_string_equal(pod_at(third, "10.1.0.5"), "db-0");
	assert_null(pod_at(third, "192.168.0.1"));
	kilo_flow_names_free(first);
	kilo_flow_names_free(second);
	kilo_flow_names_free(third);
}

/* The Services' names of names: the ClusterIP's and the NodePort's, or NULLs. */
static void service_names(const struct kilo_flow_names *names, const char **cluster_ip, const char **node_port)
{
	union kilo_lb_addr a;

	v4(&a, "10.43.0.10");
	*cluster_ip = kilo_flow_names_service(names, AF_INET, &a, htons(5432));
	v4(&a, "192.168.0.1");
	*node_port = kilo_flow_names_service(names, AF_INET, &a, htons(30432));
}

/* Services whose text is the one the last names were built from are taken from them, not parsed again. */
static void test_services_unchanged_are_taken_from_the_last_names(void **state)
{
	struct kilo_flow_names *first = names_of_shop(), *second = NULL, *third = NULL;
	/* Another text, which the names must not be read from when told the Services are the last's. */
	struct kilo_flow_names_inputs in = { .pods = pods, .services = "[]", .mesh = two_nodes(), .last = first,
					     .services_as_last = true };
	const char *cluster_ip, *node_port;

	(void)state;
	assert_int_equal(kilo_flow_names_build(&in, &second), 0);
	kilo_flow_names_free(first);
	service_names(second, &cluster_ip, &node_port);
	assert_string_equal(cluster_ip, "shop/db");
	assert_string_equal(node_port, "shop/db");
	/* Not the last's: read, and there are none. */
	in = (struct kilo_flow_names_inputs){ .pods = pods, .services = "[]", .mesh = two_nodes(), .last = second };
	assert_int_equal(kilo_flow_names_build(&in, &third), 0);
	service_names(third, &cluster_ip, &node_port);
	assert_null(cluster_ip);
	assert_null(node_port);
	kilo_flow_names_free(second);
	kilo_flow_names_free(third);
}

static void test_default_deny_and_world_are_named(void **state)
{
	struct kilo_flow_event e = web_to_db(KILO_FLOW_DROPPED, 0);
	char *line, *text;

	(void)state;
	e.src_identity = KILO_IDENTITY_WORLD;
	e.service_id = 0;
	/* Without names (before the first sync), the line still says what the kernel said. */
	assert_int_equal(kilo_flow_format(&e, 1, 0, "n2", NULL, &line), 0);
	assert_non_null(strstr(line, "\"rule\":{\"id\":0,\"name\":\"default deny\"}"));
	assert_non_null(strstr(line, "\"labels\":\"reserved:world\""));
	assert_null(strstr(line, "\"service\""));
	assert_int_equal(kilo_flow_line(line, NULL, KILO_FLOW_OUTPUT_TEXT, &text, NULL, NULL), 0);
	assert_string_equal(text, "1970-01-01T00:00:00.000000000Z n2: 10.1.0.5:40000 (ID:2 reserved:world) -> "
				  "10.2.0.7:5432 (ID:257) TCP ingress DROPPED policy_denied rule \"default deny\"\n");
	kilo_free(text);
	kilo_free(line);
}

static void test_text_line_like_hubble(void **state)
{
	struct kilo_flow_names *names = names_of_shop();
	struct kilo_flow_event e = web_to_db(KILO_FLOW_FORWARDED, 7);
	uint64_t seq = 0;
	char *line, *text;

	(void)state;
	assert_int_equal(kilo_flow_format(&e, 9, 1796432523123000000LL, "n2", names, &line), 0);
	assert_int_equal(kilo_flow_line(line, NULL, KILO_FLOW_OUTPUT_TEXT, &text, &seq, NULL), 0);
	assert_int_equal(seq, 9);
	assert_string_equal(text, "2026-12-05T01:02:03.123000000Z n2: shop/web-1:40000 (ID:256) -> shop/db-0:5432 "
				  "(ID:257) TCP ingress FORWARDED rule \"shop/db-allow ingress[0]\" service shop/db\n");
	kilo_free(text);
	/* JSON: the line as it came. */
	assert_int_equal(kilo_flow_line(line, NULL, KILO_FLOW_OUTPUT_JSON, &text, NULL, NULL), 0);
	assert_int_equal(strlen(text), strlen(line) + 1);
	assert_memory_equal(text, line, strlen(line));
	kilo_free(text);
	kilo_free(line);
	kilo_flow_names_free(names);
}

static void test_line_filters(void **state)
{
	struct kilo_flow_names *names = names_of_shop();
	struct kilo_flow_event e = web_to_db(KILO_FLOW_DROPPED, 0);
	struct kilo_flow_filter dropped = { .sz = sizeof(dropped), .verdict = KILO_FLOW_FILTER_DROPPED };
	struct kilo_flow_filter forwarded = { .sz = sizeof(forwarded), .verdict = KILO_FLOW_FILTER_FORWARDED };
	struct kilo_flow_filter db = { .sz = sizeof(db), .pod = "shop/db-0" };
	struct kilo_flow_filter other = { .sz = sizeof(other), .pod = "shop/db" };
	struct kilo_error err = { 0 };
	char *line, *text;

	(void)state;
	assert_int_equal(kilo_flow_format(&e, 1, 0, "n2", names, &line), 0);
	assert_int_equal(kilo_flow_line(line, &dropped, KILO_FLOW_OUTPUT_TEXT, &text, NULL, NULL), 0);
	assert_non_null(text);
	kilo_free(text);
	assert_int_equal(kilo_flow_line(line, &forwarded, KILO_FLOW_OUTPUT_TEXT, &text, NULL, NULL), 0);
	assert_null(text);
	assert_int_equal(kilo_flow_line(line, &db, KILO_FLOW_OUTPUT_JSON, &text, NULL, NULL), 0);
	assert_non_null(text);
	kilo_free(text);
	/* A prefix of the pod's name is another pod. */
	assert_int_equal(kilo_flow_line(line, &other, KILO_FLOW_OUTPUT_JSON, &text, NULL, NULL), 0);
	assert_null(text);
	kilo_free(line);
	/* Lost lines, and lines that are no flow. */
	assert_int_equal(kilo_flow_line("{\"lost\":12}", &dropped, KILO_FLOW_OUTPUT_TEXT, &text, NULL, NULL), 0);
	assert_string_equal(text, "12 flows lost (the node's ring of recent flows went round)\n");
	kilo_free(text);
	assert_int_equal(kilo_flow_line("not json", NULL, KILO_FLOW_OUTPUT_TEXT, &text, NULL, &err), -EINVAL);
	assert_null(text);
	assert_non_null(strstr(err.message, "not a JSON object: not json"));
	err = (struct kilo_error){ 0 };
	assert_int_equal(kilo_flow_line("{\"seq\":1}", NULL, KILO_FLOW_OUTPUT_TEXT, &text, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.message, "no seq, source or destination"));
	kilo_flow_names_free(names);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

static void test_ring_is_bounded_and_reports_what_a_reader_lost(void **state)
{
	struct kilo_flow_names *names = names_of_shop();
	struct kilo_flow_ring ring;
	struct kilo_strbuf sb = { 0 };
	uint64_t next, lost;
	size_t n;

	(void)state;
	assert_int_equal(kilo_flow_ring_init(&ring, 4), 0);
	for (int i = 0; i < 10; i++) {
		struct kilo_flow_event e = web_to_db(i % 2 ? KILO_FLOW_DROPPED : KILO_FLOW_FORWARDED, i % 2 ? 0 : 7);

		assert_int_equal(kilo_flow_ring_add(&ring, &e, 0, "n2", names), 0);
	}
	/* Ten added, four kept (7..10): a reader that saw 2 lost 3..6. */
	n = kilo_flow_ring_read(&ring, 2, NULL, KILO_FLOW_PAGE_MAX, &sb, &next, &lost);
	assert_int_equal(n, 4);
	assert_int_equal(lost, 4);
	assert_int_equal(next, 10);
	assert_non_null(strstr(sb.data, "{\"seq\":7,"));
	assert_int_equal(count_lines(sb.data), 4);
	kilo_strbuf_reset(&sb);
	/* Nothing new: the same cursor back, nothing lost. */
	n = kilo_flow_ring_read(&ring, 10, NULL, KILO_FLOW_PAGE_MAX, &sb, &next, &lost);
	assert_int_equal(n, 0);
	assert_int_equal(next, 10);
	assert_int_equal(lost, 0);
	/* A page: at most max, and the cursor where it stopped. */
	n = kilo_flow_ring_read(&ring, 0, NULL, 3, &sb, &next, &lost);
	assert_int_equal(n, 3);
	assert_int_equal(next, 9);
	kilo_strbuf_reset(&sb);
	/* The filter: dropped are the even seqs (8 and 10); the cursor passes what it skipped. */
	n = kilo_flow_ring_read(&ring, 0,
				&(struct kilo_flow_filter){ .sz = sizeof(struct kilo_flow_filter),
							    .verdict = KILO_FLOW_FILTER_DROPPED },
				KILO_FLOW_PAGE_MAX, &sb, &next, &lost);
	assert_int_equal(n, 2);
	assert_int_equal(next, 10);
	assert_non_null(strstr(sb.data, "{\"seq\":8,"));
	kilo_strbuf_reset(&sb);
	/* A cursor from before a restart of kg (beyond the newest): read from the oldest kept. */
	n = kilo_flow_ring_read(&ring, 1000, NULL, KILO_FLOW_PAGE_MAX, &sb, &next, &lost);
	assert_int_equal(n, 4);
	assert_int_equal(lost, 0);
	kilo_strbuf_reset(&sb);
	kilo_flow_ring_release(&ring);
	kilo_flow_names_free(names);
}

static void test_metrics_by_reason_and_rule(void **state)
{
	struct kilo_flow_names *names = names_of_shop();
	struct kilo_flow_ring ring;
	struct kilo_strbuf sb = { 0 };
	char *text;

	(void)state;
	assert_int_equal(kilo_flow_ring_init(&ring, 2), 0);
	for (int i = 0; i < 5; i++) {
		struct kilo_flow_event e = web_to_db(i < 3 ? KILO_FLOW_FORWARDED : KILO_FLOW_DROPPED, i < 3 ? 7 : 0);

		assert_int_equal(kilo_flow_ring_add(&ring, &e, 0, "n2", names), 0);
	}
	kilo_flow_ring_metrics(&ring, names, &sb);
	assert_int_equal(kilo_strbuf_finish(&sb, &text), 0);
	/* Counts outlive the ring's two places. */
	assert_non_null(strstr(text, "# TYPE kilo_policy_flows_total counter\n"));
	assert_non_null(strstr(text, "\nkilo_policy_flows_total{verdict=\"forwarded\",reason=\"none\"} 3\n"));
	assert_non_null(strstr(text, "\nkilo_policy_flows_total{verdict=\"dropped\",reason=\"policy_denied\"} 2\n"));
	assert_non_null(strstr(text, "\nkilo_policy_flows_total{verdict=\"dropped\",reason=\"no_backend\"} 0\n"));
	/* Only the pairs that can happen: a forwarded flow has no reason, a drop has one. */
	assert_null(strstr(text, "verdict=\"forwarded\",reason=\"policy_denied\""));
	assert_null(strstr(text, "verdict=\"dropped\",reason=\"none\""));
	assert_non_null(strstr(text, "\nkilo_policy_rule_flows_total{rule_id=\"0\",rule=\"default deny\","
				     "verdict=\"dropped\"} 2\n"));
	assert_non_null(strstr(text, "\nkilo_policy_rule_flows_total{rule_id=\"7\",rule=\"shop/db-allow ingress[0]\","
				     "verdict=\"forwarded\"} 3\n"));
	kilo_free(text);
	kilo_flow_ring_release(&ring);
	kilo_flow_names_free(names);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_names_both_ends_rule_and_service),
		cmocka_unit_test(test_unknown_addresses_named_by_what_holds_them),
		cmocka_unit_test(test_names_built_after_others_follow_their_pods),
		cmocka_unit_test(test_services_unchanged_are_taken_from_the_last_names),
		cmocka_unit_test(test_default_deny_and_world_are_named),
		cmocka_unit_test(test_text_line_like_hubble),
		cmocka_unit_test(test_line_filters),
		cmocka_unit_test(test_ring_is_bounded_and_reports_what_a_reader_lost),
		cmocka_unit_test(test_metrics_by_reason_and_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
