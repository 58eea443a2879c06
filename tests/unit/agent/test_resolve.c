/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Endpoint names: which address Kilo takes of a lookup, the table of a
 * mesh's names and what an answer changes, what a solve sees, what is
 * reported, and the lookup thread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>

#include <cmocka.h>

#include <kilo/agent.h>

#include "agent/resolve.h"

#define KEY_A "GKzkKhYMUBmUgLGSMu7mGbAkWX8mGZvVtDBUh6+Y1UY="
#define KEY_B "BJdK6eoY0OtLvxHLBKgyZrfJJN8p+8GT9yMJkAu5d1w="
#define KEY_C "U/h32/FuvcETEuAV/1j/q8QfpgoJ9IvNCuBatnnJBl4="
#define KEY_P "vyWBFrXwHpLXUT2h0+2M+d2YtLqLQHdL89yafPfCZig="

/* Nodes a (an address), b and c (names, c shares the peer's), and peer office. */
static const char mesh_text[] =
	"{\"version\": 1, \"nodes\": ["
	"{\"name\": \"a\", \"location\": \"x\", \"endpoint\": \"192.0.2.1:51820\", \"podCIDR\": \"10.2.1.0/24\", "
	"\"publicKey\": \"" KEY_A "\"},"
	"{\"name\": \"b\", \"location\": \"y\", \"endpoint\": \"b.example.com:51820\", \"podCIDR\": \"10.2.2.0/24\", "
	"\"publicKey\": \"" KEY_B "\"},"
	"{\"name\": \"c\", \"location\": \"z\", \"endpoint\": \"vpn.example.com:4000\", \"podCIDR\": \"10.2.3.0/24\", "
	"\"publicKey\": \"" KEY_C "\"}],"
	"\"peers\": [{\"name\": \"office\", \"publicKey\": \"" KEY_P "\", \"allowedIPs\": [\"10.5.0.2/32\"], "
	"\"endpoint\": \"vpn.example.com:51820\"}]}";

struct log_lines {
	size_t n;
	enum kilo_log_level level[8];
	char text[8][KILO_ERROR_MESSAGE_MAX];
};

static void capture(void *ctx, enum kilo_log_level level, const char *message)
{
	struct log_lines *lines = ctx;

	if (lines->n < 8) {
		lines->level[lines->n] = level;
		snprintf(lines->text[lines->n++], KILO_ERROR_MESSAGE_MAX, "%s", message);
	}
}

static struct kilo_mesh *load(const char *text)
{
	kilo_mesh *mesh = NULL;

	assert_int_equal(kilo_mesh_from_json(text, strlen(text), &mesh, NULL), 0);
	return mesh;
}

static struct kilo_resolve_answer answer(const char *name, const char *addr)
{
	struct kilo_resolve_answer a = { 0 };

	snprintf(a.name, sizeof(a.name), "%s", name);
	if (addr) {
		assert_int_equal(kilo_addr_parse(addr, &a.addr, NULL), 0);
	} else {
		a.r = -EADDRNOTAVAIL;
		snprintf(a.reason, sizeof(a.reason), "Name or service not known");
	}
	return a;
}

static void test_pick_prefers_ipv4_as_go_does(void **state)
{
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6 }, mapped = { .sin6_family = AF_INET6 };
	struct sockaddr_in v4 = { .sin_family = AF_INET };
	struct addrinfo a6 = { .ai_family = AF_INET6, .ai_addr = (struct sockaddr *)&v6 };
	struct addrinfo a4 = { .ai_family = AF_INET, .ai_addr = (struct sockaddr *)&v4 };
	struct addrinfo am = { .ai_family = AF_INET6, .ai_addr = (struct sockaddr *)&mapped };
	struct kilo_addr out;
	char text[KILO_ADDR_STRLEN];

	(void)state;
	inet_pton(AF_INET6, "2001:db8::1", &v6.sin6_addr);
	inet_pton(AF_INET, "192.0.2.7", &v4.sin_addr);
	inet_pton(AF_INET6, "::ffff:198.51.100.9", &mapped.sin6_addr);
	/* An IPv6 answer first still loses to the IPv4 one after it. */
	a6.ai_next = &a4;
	assert_int_equal(kilo_resolve_pick(&a6, &out), 0);
	kilo_addr_format(&out, text);
	assert_string_equal(text, "192.0.2.7");
	/* Only IPv6: the first one. */
	a6.ai_next = NULL;
	assert_int_equal(kilo_resolve_pick(&a6, &out), 0);
	assert_int_equal(out.family, 6);
	kilo_addr_format(&out, text);
	assert_string_equal(text, "2001:db8::1");
	/* An IPv4-mapped answer is IPv4. */
	a6.ai_next = &am;
	assert_int_equal(kilo_resolve_pick(&a6, &out), 0);
	assert_int_equal(out.family, 4);
	kilo_addr_format(&out, text);
	assert_string_equal(text, "198.51.100.9");
	assert_int_equal(kilo_resolve_pick(NULL, &out), -ENOENT);
}

static void test_track_keeps_each_name_once_and_drops_unused(void **state)
{
	struct kilo_mesh *mesh = load(mesh_text);
	struct kilo_names t = { 0 };
	struct kilo_resolve_answer a = answer("b.example.com", "192.0.2.2");

	(void)state;
	assert_int_equal(kilo_names_track(&t, mesh), 0);
	assert_int_equal(t.n, 2);
	assert_string_equal(t.items[0].name, "b.example.com");
	assert_string_equal(t.items[1].name, "vpn.example.com");
	assert_int_equal(t.items[0].state, KILO_NAME_PENDING);
	kilo_names_answer(&t, &a);
	/* b's endpoint becomes an address: its name goes, the other keeps its state. */
	assert_int_equal(kilo_endpoint_parse("192.0.2.2:51820", &mesh->nodes[1].endpoint, NULL), 0);
	assert_int_equal(kilo_names_track(&t, mesh), 0);
	assert_int_equal(t.n, 1);
	assert_string_equal(t.items[0].name, "vpn.example.com");
	/* And comes back as new. */
	assert_int_equal(kilo_endpoint_parse("b.example.com:51820", &mesh->nodes[1].endpoint, NULL), 0);
	assert_int_equal(kilo_names_track(&t, mesh), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.items[0].state, KILO_NAME_PENDING);
	kilo_names_free(&t);
	kilo_mesh_free(mesh);
}

static void test_answers_change_a_name_once_per_change(void **state)
{
	struct kilo_mesh *mesh = load(mesh_text);
	struct kilo_names t = { 0 };
	struct kilo_resolve_answer first = answer("vpn.example.com", "192.0.2.9"),
				   moved = answer("vpn.example.com", "192.0.2.10"),
				   broke = answer("vpn.example.com", NULL),
				   stranger = answer("gone.example.com", "192.0.2.11");

	(void)state;
	assert_int_equal(kilo_names_track(&t, mesh), 0);
	assert_int_equal(kilo_names_answer(&t, &first), KILO_NAME_FIRST);
	assert_int_equal(kilo_names_answer(&t, &first), KILO_NAME_SAME);
	assert_int_equal(kilo_names_answer(&t, &moved), KILO_NAME_MOVED);
	assert_int_equal(kilo_names_answer(&t, &broke), KILO_NAME_BROKE);
	assert_int_equal(kilo_names_answer(&t, &broke), KILO_NAME_SAME);
	assert_int_equal(kilo_names_answer(&t, &moved), KILO_NAME_RECOVERED);
	/* A name the mesh no longer uses is ignored. */
	assert_int_equal(kilo_names_answer(&t, &stranger), KILO_NAME_SAME);
	kilo_names_free(&t);
	kilo_mesh_free(mesh);
}

static void test_fill_gives_every_user_the_address_and_keeps_the_name(void **state)
{
	struct kilo_mesh *mesh = load(mesh_text);
	struct kilo_names t = { 0 };
	struct kilo_resolve_answer ok = answer("vpn.example.com", "192.0.2.9"), broke = answer("vpn.example.com", NULL);
	char text[KILO_ENDPOINT_STRLEN];

	(void)state;
	assert_int_equal(kilo_names_track(&t, mesh), 0);
	kilo_names_answer(&t, &ok);
	kilo_names_fill(&t, mesh);
	assert_int_equal(mesh->nodes[2].endpoint.addr.family, 4);
	assert_true(kilo_addr_equal(&mesh->nodes[2].endpoint.addr, &ok.addr));
	assert_true(kilo_addr_equal(&mesh->peers[0].endpoint.addr, &ok.addr));
	/* The name stays what the mesh says and prints (Kilo prints the DNS form). */
	kilo_endpoint_format(&mesh->peers[0].endpoint, text);
	assert_string_equal(text, "vpn.example.com:51820");
	/* Pending: no address yet. */
	assert_int_equal(mesh->nodes[1].endpoint.addr.family, 0);
	/* A name that breaks takes its address away from the solve. */
	kilo_names_answer(&t, &broke);
	kilo_names_fill(&t, mesh);
	assert_int_equal(mesh->peers[0].endpoint.addr.family, 0);
	assert_int_equal(mesh->nodes[2].endpoint.addr.family, 0);
	assert_int_equal(mesh->nodes[0].endpoint.addr.family, 4);
	kilo_names_free(&t);
	kilo_mesh_free(mesh);
}

static void test_unresolved_names_each_node_and_peer(void **state)
{
	struct kilo_mesh *mesh = load(mesh_text);
	struct kilo_names t = { 0 };
	struct kilo_resolve_answer broke = answer("vpn.example.com", NULL), ok = answer("b.example.com", "192.0.2.2");
	struct kilo_strbuf sb = { 0 };
	char *text;

	(void)state;
	assert_int_equal(kilo_names_track(&t, mesh), 0);
	/* Pending is not unresolved. */
	assert_int_equal(kilo_names_unresolved(&t, mesh, NULL), 0);
	kilo_names_answer(&t, &broke);
	kilo_names_answer(&t, &ok);
	kilo_strbuf_append(&sb, "");
	assert_int_equal(kilo_names_unresolved(&t, mesh, &sb), 2);
	assert_int_equal(kilo_strbuf_finish(&sb, &text), 0);
	assert_string_equal(text, "node c: endpoint vpn.example.com:4000 does not resolve (Name or service not known)\n"
				  "peer office: endpoint vpn.example.com:51820 does not resolve (Name or service not known)\n");
	kilo_free(text);
	kilo_names_free(&t);
	kilo_mesh_free(mesh);
}

static void test_log_warns_when_a_name_breaks_naming_its_users(void **state)
{
	struct kilo_mesh *mesh = load(mesh_text);
	struct log_lines lines = { 0 };
	struct kilo_logger log = { .fn = capture, .ctx = &lines };
	struct kilo_names t = { 0 };
	struct kilo_addr none = { 0 }, before;
	struct kilo_resolve_answer first = answer("vpn.example.com", "192.0.2.9"),
				   moved = answer("vpn.example.com", "192.0.2.10"), broke = answer("vpn.example.com", NULL);

	(void)state;
	assert_int_equal(kilo_names_track(&t, mesh), 0);
	kilo_names_log(&log, mesh, &t.items[1], kilo_names_answer(&t, &first), &none);
	before = t.items[1].addr;
	kilo_names_log(&log, mesh, &t.items[1], kilo_names_answer(&t, &moved), &before);
	kilo_names_log(&log, mesh, &t.items[1], kilo_names_answer(&t, &broke), &none);
	kilo_names_log(&log, mesh, &t.items[1], kilo_names_answer(&t, &broke), &none);
	assert_int_equal(lines.n, 3);
	assert_int_equal(lines.level[0], KILO_LOG_DEBUG);
	assert_int_equal(lines.level[1], KILO_LOG_INFO);
	assert_string_equal(lines.text[1], "endpoint name vpn.example.com now resolves to 192.0.2.10 (was 192.0.2.9): "
					   "node c, peer office");
	assert_int_equal(lines.level[2], KILO_LOG_WARNING);
	assert_string_equal(lines.text[2], "endpoint name vpn.example.com does not resolve (Name or service not known): "
					   "node c, peer office without endpoint until it does");
	kilo_names_free(&t);
	kilo_mesh_free(mesh);
}

/* localhost is in every /etc/hosts: the thread's round trip without a network. */
static void test_thread_answers_through_its_fd(void **state)
{
	static const char text[] = "{\"version\": 1, \"peers\": [{\"name\": \"p\", \"publicKey\": \"" KEY_P
				   "\", \"allowedIPs\": [\"10.5.0.2/32\"], \"endpoint\": \"localhost:51820\"}]}";
	struct kilo_mesh *mesh = load(text);
	struct kilo_resolver *r = NULL;
	struct kilo_names t = { 0 };
	struct pollfd p = { .events = POLLIN };
	struct kilo_addr loopback;

	(void)state;
	assert_int_equal(kilo_resolver_new(&r), 0);
	p.fd = kilo_resolver_fd(r);
	assert_int_equal(poll(&p, 1, 0), 0);
	assert_int_equal(kilo_names_track(&t, mesh), 0);
	assert_int_equal(kilo_names_ask(&t, r, false), 0);
	assert_true(t.items[0].asked);
	/* Asked and not answered: not asked again. */
	assert_int_equal(kilo_names_ask(&t, r, true), 0);
	assert_int_equal(poll(&p, 1, 10000), 1);
	assert_true(kilo_names_collect(&t, r, mesh, NULL));
	/* The fd is drained with the answers. */
	assert_int_equal(poll(&p, 1, 0), 0);
	assert_false(t.items[0].asked);
	kilo_names_fill(&t, mesh);
	assert_int_equal(kilo_addr_parse("127.0.0.1", &loopback, NULL), 0);
	assert_true(kilo_addr_equal(&mesh->peers[0].endpoint.addr, &loopback));
	/* Asked again at a resync, the same answer changes nothing. */
	assert_int_equal(kilo_names_ask(&t, r, true), 0);
	assert_int_equal(poll(&p, 1, 10000), 1);
	assert_false(kilo_names_collect(&t, r, mesh, NULL));
	/* Freed with a lookup queued: the thread cleans up after itself. */
	assert_int_equal(kilo_resolver_ask(r, "localhost"), 0);
	kilo_resolver_free(r);
	kilo_names_free(&t);
	kilo_mesh_free(mesh);
}

static void test_mesh_resolve_reports_how_many_are_left_without(void **state)
{
	static const char text[] = "{\"version\": 1, \"peers\": [{\"name\": \"p\", \"publicKey\": \"" KEY_P
				   "\", \"allowedIPs\": [\"10.5.0.2/32\"], \"endpoint\": \"localhost:51820\"}]}";
	struct kilo_mesh *mesh = load(text);
	struct log_lines lines = { 0 };

	(void)state;
	assert_int_equal(kilo_mesh_resolve(mesh, capture, &lines, NULL), 0);
	assert_int_equal(mesh->peers[0].endpoint.addr.family, 4);
	assert_int_equal(mesh->peers[0].endpoint.addr.bytes[0], 127);
	/* Success is no warning. */
	for (size_t i = 0; i < lines.n; i++)
		assert_true(lines.level[i] > KILO_LOG_WARNING);
	kilo_mesh_free(mesh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick_prefers_ipv4_as_go_does),
		cmocka_unit_test(test_track_keeps_each_name_once_and_drops_unused),
		cmocka_unit_test(test_answers_change_a_name_once_per_change),
		cmocka_unit_test(test_fill_gives_every_user_the_address_and_keeps_the_name),
		cmocka_unit_test(test_unresolved_names_each_node_and_peer),
		cmocka_unit_test(test_log_warns_when_a_name_breaks_naming_its_users),
		cmocka_unit_test(test_thread_answers_through_its_fd),
		cmocka_unit_test(test_mesh_resolve_reports_how_many_are_left_without),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
