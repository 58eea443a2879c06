// SPDX-License-Identifier: Apache-2.0
/*
 * The rule for option structs (docs/design.md, "API conventions"), at every
 * public entry point that takes one: NULL and a zeroed struct mean the
 * defaults; sz 0 is refused, naming the struct; a smaller sz (an older
 * caller) reads nothing past it; a larger sz (a newer caller) is taken when
 * the tail this libkilo does not know is zero, and refused, naming the
 * struct and the size, when it is not.
 *
 * The entry points that reach the host (links, WireGuard, nftables) run in
 * a network namespace of the test's own, made with unshare(2): nothing has
 * a name in it, and it goes with the process. Where that is not allowed
 * they are skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <kilo/agent.h>
#include <kilo/net.h>
#include <kilo/plan.h>
#include <kilo/serial.h>
#include <kilo/store.h>
#include <kilo/topology.h>
#include <kilo/wg.h>

#include "../../../lib/core/io.h"
#include "../../../lib/core/strbuf.h"

/* The node whose view the topology-level entry points take: a leader with a private IP. */
#define NODE "aws-eu-1"

static kilo_mesh *mesh;
static kilo_topology *topology;
static char dir[] = "/tmp/kilo-abi-opts-XXXXXX";
static char store_uri[64], key_path[64];
static bool own_netns;

/* ---- each entry point, called with opts, its output as text to compare ---- */

static int call_solve(const void *opts, char **out, struct kilo_error *err)
{
	kilo_topology *t = NULL;
	int r = kilo_topology_solve(mesh, opts, &t, err);

	if (r == 0)
		r = kilo_topology_to_json(t, out, err);
	kilo_topology_free(t);
	return r;
}

static int call_routes(const void *opts, char **out, struct kilo_error *err)
{
	struct kilo_strbuf text = { 0 };
	struct kilo_route *routes = NULL;
	struct kilo_rule *rules = NULL;
	char key[KILO_ROUTE_KEY_STRLEN];
	size_t n_routes = 0, n_rules = 0;
	int r = kilo_topology_routes(topology, opts, &routes, &n_routes, &rules, &n_rules, err);

	for (size_t i = 0; i < n_routes; i++) {
		kilo_route_key(&routes[i], key);
		kilo_strbuf_printf(&text, "%s table %u\n", key, routes[i].table);
	}
	for (size_t i = 0; i < n_rules; i++) {
		kilo_rule_key(&rules[i], key);
		kilo_strbuf_printf(&text, "%s\n", key);
	}
	kilo_free(routes);
	kilo_free(rules);
	assert_int_equal(kilo_strbuf_finish(&text, out), 0);
	return r;
}

static int call_nat(const void *opts, char **out, struct kilo_error *err)
{
	struct kilo_strbuf text = { 0 };
	struct kilo_nat_rule *rules = NULL;
	size_t n = 0;
	int r = kilo_topology_nat_rules(topology, opts, &rules, &n, err);

	for (size_t i = 0; i < n; i++) {
		char *line = NULL;

		assert_int_equal(kilo_nat_rule_format(&rules[i], &line, NULL), 0);
		kilo_strbuf_printf(&text, "%s\n", line);
		kilo_free(line);
	}
	kilo_free(rules);
	assert_int_equal(kilo_strbuf_finish(&text, out), 0);
	return r;
}

static int call_plan(const void *opts, char **out, struct kilo_error *err)
{
	return kilo_plan_to_json(topology, opts, out, err);
}

/* A plan, as the text of what it holds: leader, addresses, the routes for no links, the NAT rules. */
static int call_plan_new(const void *opts, char **out, struct kilo_error *err)
{
	struct kilo_strbuf text = { 0 };
	struct kilo_route *routes = NULL;
	struct kilo_rule *rules = NULL;
	size_t n_routes = 0, n_rules = 0, n_nat = 0;
	struct kilo_cidr ip;
	char ip_text[KILO_CIDR_STRLEN];
	kilo_plan *plan = NULL;
	int r = kilo_plan_new(topology, opts, &plan, err);

	if (r < 0)
		return r;
	kilo_plan_wireguard_ip(plan, &ip);
	kilo_cidr_format(&ip, ip_text);
	kilo_plan_nat_rules(plan, &n_nat);
	assert_int_equal(kilo_plan_routes(plan, NULL, &routes, &n_routes, &rules, &n_rules, err), 0);
	kilo_strbuf_printf(&text, "leader %d ip %s tunnel %d routes %zu rules %zu nat %zu\n", kilo_plan_is_leader(plan),
			   ip_text, kilo_plan_needs_tunnel(plan), n_routes, n_rules, n_nat);
	kilo_free(routes);
	kilo_free(rules);
	kilo_plan_free(plan);
	assert_int_equal(kilo_strbuf_finish(&text, out), 0);
	return 0;
}

static int call_status(const void *opts, char **out, struct kilo_error *err)
{
	return kilo_mesh_status(mesh, opts, out, err);
}

static int call_store(const void *opts, char **out, struct kilo_error *err)
{
	kilo_store *store = NULL;
	int r = kilo_store_open_opts(store_uri, opts, &store, err);

	(void)out;
	kilo_store_close(store);
	return r;
}

static int call_wg(const void *opts, char **out, struct kilo_error *err)
{
	kilo_wg *wg = NULL;
	int r = kilo_wg_open(opts, &wg, err);

	(void)out;
	kilo_wg_close(wg);
	return r;
}

/* A link that does not exist: the options are read, and nothing is changed. */
static int call_link(const void *opts, char **out, struct kilo_error *err)
{
	kilo_net *net = NULL;
	int r = kilo_net_open(&net, err);

	(void)out;
	if (r == 0)
		r = kilo_net_link_set(net, INT_MAX, opts, NULL, err);
	kilo_net_close(net);
	return r;
}

/* In the test's own namespace no link holds the node's private IP: the apply stops before changing anything. */
static int call_apply(const void *opts, char **out, struct kilo_error *err)
{
	struct kilo_apply_report report;

	(void)out;
	return kilo_apply(topology, opts, &report, err);
}

static int call_clean_up(const void *opts, char **out, struct kilo_error *err)
{
	(void)out;
	return kilo_apply_clean_up(opts, err);
}

/* An applier takes the options once, then applies as kilo_apply does. */
static int call_applier(const void *opts, char **out, struct kilo_error *err)
{
	struct kilo_apply_report report;
	kilo_applier *applier = NULL;
	int r = kilo_applier_new(opts, &applier, err);

	(void)out;
	if (r == 0)
		r = kilo_applier_apply(applier, topology, &report, err);
	kilo_applier_free(applier);
	return r;
}

static int call_agent(const void *opts, char **out, struct kilo_error *err)
{
	kilo_agent *agent = NULL;
	int r = kilo_agent_new(opts, &agent, err);

	(void)out;
	kilo_agent_free(agent);
	return r;
}

static int call_connect(const void *opts, char **out, struct kilo_error *err)
{
	kilo_connect *c = NULL;
	int r = kilo_connect_new(opts, &c, err);

	(void)out;
	kilo_connect_free(c);
	return r;
}

struct entry {
	const char *name; /* the struct, as errors name it */
	size_t size;
	bool reports;     /* the entry point takes a struct kilo_error */
	bool host;        /* it reaches the host: only in the test's own network namespace */
	int (*call)(const void *opts, char **out, struct kilo_error *err);
};

#define ENTRY(type, reports, host, call) { "struct " #type, sizeof(struct type), reports, host, call }

static const struct entry entries[] = {
	ENTRY(kilo_solve_opts, true, false, call_solve),
	ENTRY(kilo_routes_opts, false, false, call_routes),
	ENTRY(kilo_nat_opts, false, false, call_nat),
	ENTRY(kilo_plan_opts, false, false, call_plan),
	ENTRY(kilo_plan_opts, true, false, call_plan_new),
	ENTRY(kilo_status_opts, true, false, call_status),
	ENTRY(kilo_store_opts, true, false, call_store),
	ENTRY(kilo_wg_opts, true, true, call_wg),
	ENTRY(kilo_link_opts, true, true, call_link),
	ENTRY(kilo_apply_opts, true, true, call_apply),
	ENTRY(kilo_apply_opts, true, true, call_clean_up),
	ENTRY(kilo_apply_opts, true, true, call_applier),
	ENTRY(kilo_agent_opts, true, true, call_agent),
	ENTRY(kilo_connect_opts, true, true, call_connect),
};

#define N_ENTRIES (sizeof(entries) / sizeof(entries[0]))

/* Room for any option struct and a tail past it, aligned for any of them. */
union buffer {
	max_align_t align;
	unsigned char bytes[1024];
};

struct result {
	int r;
	char *out;
	struct kilo_error err;
};

static struct result run(const struct entry *e, const void *opts)
{
	struct result res = { 0 };

	res.r = e->call(opts, &res.out, &res.err);
	return res;
}

static void result_free(struct result *res)
{
	kilo_free(res->out);
}

static bool skipped(const struct entry *e)
{
	return e->host && !own_netns;
}

/* An option struct of size bytes, every other byte zero. */
static const void *sized(union buffer *buf, size_t size)
{
	memset(buf, 0, sizeof(*buf));
	memcpy(buf->bytes, &size, sizeof(size));
	return buf->bytes;
}

/*
 * Calls every entry point with NULL and with the struct make builds, and
 * asserts the same result: the same code and output, and no complaint
 * about the struct.
 */
static void assert_each_as_with_null(const void *(*make)(const struct entry *e, union buffer *buf))
{
	for (size_t i = 0; i < N_ENTRIES; i++) {
		const struct entry *e = &entries[i];
		struct result defaults, res;
		union buffer buf;

		if (skipped(e))
			continue;
		defaults = run(e, NULL);
		if (defaults.r == -E2BIG || strstr(defaults.err.message, e->name))
			fail_msg("%s: NULL refused: %s", e->name, defaults.err.message);
		res = run(e, make(e, &buf));
		if (res.r != defaults.r || (defaults.out == NULL) != (res.out == NULL) ||
		    (res.out && strcmp(res.out, defaults.out)) || strstr(res.err.message, e->name))
			fail_msg("%s (%s): %d \"%s\" where NULL gave %d \"%s\"", e->name, res.err.message, res.r,
				 res.out ? res.out : "", defaults.r, defaults.out ? defaults.out : "");
		result_free(&defaults);
		result_free(&res);
	}
}

/* Calls every entry point with the struct make builds, and asserts that it is refused with code, naming its sz. */
static void assert_each_refused(const void *(*make)(const struct entry *e, union buffer *buf), int code)
{
	for (size_t i = 0; i < N_ENTRIES; i++) {
		const struct entry *e = &entries[i];
		const void *opts;
		union buffer buf;
		struct result res;
		char words[64];
		size_t sz;

		if (skipped(e))
			continue;
		opts = make(e, &buf);
		memcpy(&sz, opts, sizeof(sz));
		res = run(e, opts);
		snprintf(words, sizeof(words), "sz is %zu", sz);
		if (res.r != -code)
			fail_msg("%s: %d where %d was expected (%s)", e->name, res.r, -code, res.err.message);
		if (e->reports && (!strstr(res.err.message, e->name) || !strstr(res.err.message, words)))
			fail_msg("%s: the message \"%s\" does not name the struct and \"%s\"", e->name, res.err.message,
				 words);
		result_free(&res);
	}
}

static const void *zeroed(const struct entry *e, union buffer *buf)
{
	return sized(buf, e->size);
}

static const void *sz_zero(const struct entry *e, union buffer *buf)
{
	(void)e;
	return sized(buf, 0);
}

/* An older caller's struct, which ends after sz, in memory that makes every pointer wild and every enum unknown. */
static const void *older_over_garbage(const struct entry *e, union buffer *buf)
{
	size_t sz = sizeof(size_t);

	(void)e;
	memset(buf, 0xa5, sizeof(*buf));
	memcpy(buf->bytes, &sz, sizeof(sz));
	return buf->bytes;
}

/* A newer caller's struct, whose options this libkilo does not know are all zero. */
static const void *newer_with_zero_tail(const struct entry *e, union buffer *buf)
{
	return sized(buf, e->size + 64);
}

/* A newer caller's struct that asks for an option this libkilo does not have. */
static const void *newer_with_non_zero_tail(const struct entry *e, union buffer *buf)
{
	sized(buf, e->size + 64);
	buf->bytes[e->size + 63] = 1;
	return buf->bytes;
}

static void test_null_and_a_zeroed_struct_mean_the_defaults(void **state)
{
	(void)state;
	assert_each_as_with_null(zeroed);
}

static void test_sz_zero_is_refused_naming_the_struct(void **state)
{
	(void)state;
	assert_each_refused(sz_zero, EINVAL);
}

/* Whatever an older caller's memory holds past its struct is not read. */
static void test_smaller_sz_reads_nothing_past_it(void **state)
{
	(void)state;
	assert_each_as_with_null(older_over_garbage);
}

static void test_larger_sz_with_a_zero_tail_is_accepted(void **state)
{
	(void)state;
	assert_each_as_with_null(newer_with_zero_tail);
}

static void test_larger_sz_with_a_non_zero_tail_is_refused_naming_the_struct_and_size(void **state)
{
	(void)state;
	assert_each_refused(newer_with_non_zero_tail, E2BIG);
}

/* kilo_topology_ipip_rules answers a bool: options it cannot read give false. */
static void test_ipip_rules_take_the_rule_too(void **state)
{
	const struct entry routes = ENTRY(kilo_routes_opts, false, false, call_routes);
	union buffer buf;

	(void)state;
	assert_true(kilo_topology_ipip_rules(topology, NULL));
	assert_true(kilo_topology_ipip_rules(topology, newer_with_zero_tail(&routes, &buf)));
	assert_false(kilo_topology_ipip_rules(topology, sz_zero(&routes, &buf)));
	assert_false(kilo_topology_ipip_rules(topology, newer_with_non_zero_tail(&routes, &buf)));
}

/* Inner options are passed by pointer, and each is read by the same rule. */
static void test_inner_options_are_checked_by_the_same_rule(void **state)
{
	struct kilo_wg_opts wg = { .sz = 0 };
	struct kilo_routes_opts routes = { .sz = 0 };
	struct kilo_plan_opts plan = { .sz = sizeof(plan), .routes = &routes };
	struct kilo_apply_opts apply = { .sz = 0 };
	struct kilo_agent_opts agent = {
		.sz = sizeof(agent), .store = store_uri, .hostname = NODE, .key_path = key_path, .apply = &apply,
	};
	struct kilo_connect_opts connect = {
		.sz = sizeof(connect), .store = store_uri, .peer_name = "laptop", .key_path = key_path, .wg = &wg,
	};
	struct kilo_apply_opts apply_wg = { .sz = sizeof(apply_wg), .wg = &wg };
	struct kilo_error err = { 0 };
	char *out = NULL;
	kilo_plan *made = NULL;
	kilo_agent *a = NULL;
	kilo_connect *c = NULL;

	(void)state;
	assert_int_equal(kilo_plan_to_json(topology, &plan, &out, NULL), -EINVAL);
	assert_null(out);
	assert_int_equal(kilo_plan_new(topology, &plan, &made, &err), -EINVAL);
	assert_null(made);
	assert_non_null(strstr(err.message, "struct kilo_routes_opts: sz is 0"));
	memset(&err, 0, sizeof(err));
	if (!own_netns)
		skip();
	assert_int_equal(kilo_agent_new(&agent, &a, &err), -EINVAL);
	assert_non_null(strstr(err.message, "struct kilo_apply_opts: sz is 0"));
	memset(&err, 0, sizeof(err));
	assert_int_equal(kilo_connect_new(&connect, &c, &err), -EINVAL);
	assert_non_null(strstr(err.message, "struct kilo_wg_opts: sz is 0"));
	memset(&err, 0, sizeof(err));
	assert_int_equal(kilo_apply_clean_up(&apply_wg, &err), 0); /* the device stays: wg is not needed */
	apply_wg.clean_up_interface = true;
	assert_int_equal(kilo_apply_clean_up(&apply_wg, &err), -EINVAL);
	assert_non_null(strstr(err.message, "struct kilo_wg_opts: sz is 0"));
}

static char *read_text(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *text = NULL;
	size_t len;

	if (fd < 0 || kilo_read_all(fd, 1 << 20, &text, &len) < 0)
		fail_msg("cannot read %s", path);
	close(fd);
	return text;
}

static int setup(void **state)
{
	const char *data = getenv("KILO_TEST_DATA");
	struct kilo_solve_opts solve = { .sz = sizeof(solve), .hostname = NODE };
	struct kilo_error err = { 0 };
	char path[4096];
	char *text;

	(void)state;
	snprintf(path, sizeof(path), "%s/three-clouds.json", data ? data : ".");
	text = read_text(path);
	if (kilo_mesh_from_json(text, strlen(text), &mesh, &err) < 0 ||
	    kilo_topology_solve(mesh, &solve, &topology, &err) < 0 || !mkdtemp(dir)) {
		fprintf(stderr, "setup: %s\n", err.message);
		free(text);
		return -1;
	}
	free(text);
	snprintf(store_uri, sizeof(store_uri), "file:%s/store", dir);
	snprintf(key_path, sizeof(key_path), "%s/key", dir);
	return 0;
}

static int teardown(void **state)
{
	char command[128];

	(void)state;
	kilo_topology_free(topology);
	kilo_mesh_free(mesh);
	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	return system(command) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_and_a_zeroed_struct_mean_the_defaults),
		cmocka_unit_test(test_sz_zero_is_refused_naming_the_struct),
		cmocka_unit_test(test_smaller_sz_reads_nothing_past_it),
		cmocka_unit_test(test_larger_sz_with_a_zero_tail_is_accepted),
		cmocka_unit_test(test_larger_sz_with_a_non_zero_tail_is_refused_naming_the_struct_and_size),
		cmocka_unit_test(test_ipip_rules_take_the_rule_too),
		cmocka_unit_test(test_inner_options_are_checked_by_the_same_rule),
	};

	/* As root, or where user namespaces are allowed; otherwise the host's entry points are skipped. */
	own_netns = unshare(CLONE_NEWNET) == 0 || unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0;
	if (!own_netns)
		fprintf(stderr, "no network namespace of its own (%s): the host's entry points are skipped\n",
			strerror(errno));
	return cmocka_run_group_tests(tests, setup, teardown);
}
