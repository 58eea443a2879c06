/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every fallible public function, given a bad input, fails with a message
 * that names the value (or, for a missing one, the argument), and works as
 * well without a struct kilo_error. Through the shared library only: what
 * a binding sees. check_errors.py keeps this table and the headers in step.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <kilo/kilo.h>

static const char mesh_json[] =
	"{\"version\": 1, \"settings\": {\"subnet\": \"10.4.0.0/16\"},"
	" \"nodes\": ["
	"  {\"name\": \"a\", \"location\": \"east\", \"endpoint\": \"198.51.100.1:51820\","
	"   \"podCIDR\": \"10.244.0.0/24\", \"publicKey\": \"rWVtBbe4cKjQb3nY8f9n5JvYVRttWJKWe5AD1IHs3B4=\"},"
	"  {\"name\": \"b\", \"location\": \"west\", \"endpoint\": \"198.51.100.2:51820\","
	"   \"podCIDR\": \"10.244.1.0/24\", \"publicKey\": \"BJdK6eoY0OtLvxHLBKgyZrfJJN8p+8GT9yMJkAu5d1w=\"}],"
	" \"peers\": ["
	"  {\"name\": \"laptop\", \"publicKey\": \"vyWBFrXwHpLXUT2h0+2M+d2YtLqLQHdL89yafPfCZig=\","
	"   \"allowedIPs\": [\"10.5.0.1/32\"]}]}";

/* What the rows work on, made once. */
static kilo_mesh *mesh;
static kilo_topology *local;   /* solved for node a */
static kilo_topology *outside; /* solved with no hostname */
static kilo_wg_config *config; /* a's configuration: two peers */
static char dir[] = "/tmp/kilo-abi-errors-XXXXXX";

static char *out_text;
static kilo_wg_config *out_config;
static struct kilo_route *out_routes;
static struct kilo_rule *out_rules;
static struct kilo_nat_rule *out_nat;
static size_t out_n, out_n2;

/* ---- one function per row: the call with the bad input ---------------- */

static int addr_parse(struct kilo_error *err)
{
	struct kilo_addr a;

	return kilo_addr_parse("10.0.0.256", &a, err);
}

static int cidr_parse(struct kilo_error *err)
{
	struct kilo_cidr c;

	return kilo_cidr_parse("10.0.0.0/33", &c, err);
}

static int endpoint_parse(struct kilo_error *err)
{
	struct kilo_endpoint e;

	return kilo_endpoint_parse("198.51.100.1:70000", &e, err);
}

static int key_parse(struct kilo_error *err)
{
	struct kilo_key k;

	return kilo_key_parse("short", &k, err);
}

static int key_generate(struct kilo_error *err)
{
	return kilo_key_generate(NULL, err);
}

static int key_public(struct kilo_error *err)
{
	struct kilo_key pub;

	return kilo_key_public(NULL, &pub, err);
}

static int key_read_fd(struct kilo_error *err)
{
	struct kilo_key k;
	int fds[2], r;

	if (pipe(fds) < 0)
		return -errno;
	if (write(fds[1], "not a key\n", 10) != 10)
		return -EIO;
	close(fds[1]);
	r = kilo_key_read_fd(fds[0], &k, err);
	close(fds[0]);
	return r;
}

static int key_read_file(struct kilo_error *err)
{
	struct kilo_key k;

	return kilo_key_read_file("/nonexistent/kilo-abi.key", &k, err);
}

static int key_write_file(struct kilo_error *err)
{
	struct kilo_key k = { { 1 } };

	return kilo_key_write_file("/nonexistent/kilo-abi.key", &k, err);
}

static int granularity_parse(struct kilo_error *err)
{
	enum kilo_granularity g;

	return kilo_granularity_parse("regional", &g, err);
}

static int mesh_from_json(struct kilo_error *err)
{
	static const char doc[] = "{\"version\": 7}";
	kilo_mesh *m = NULL;

	return kilo_mesh_from_json(doc, sizeof(doc) - 1, &m, err);
}

static int mesh_load_file(struct kilo_error *err)
{
	kilo_mesh *m = NULL;

	return kilo_mesh_load_file("/nonexistent/kilo-mesh.json", &m, err);
}

static int mesh_to_json(struct kilo_error *err)
{
	return kilo_mesh_to_json(NULL, &out_text, err);
}

static int node_from_kubernetes(struct kilo_error *err)
{
	return kilo_node_from_kubernetes("[\"not-an-object\"]", NULL, &out_text, err);
}

static int peer_from_kubernetes(struct kilo_error *err)
{
	return kilo_peer_from_kubernetes("[\"not-an-object\"]", &out_text, err);
}

static int node_to_annotations(struct kilo_error *err)
{
	return kilo_node_to_annotations("{\"name\": \"n\", \"endpoint\": \"no-port\"}", &out_text, err);
}

static int topology_solve(struct kilo_error *err)
{
	struct kilo_solve_opts opts = { .sz = sizeof(opts), .hostname = "nobody" };
	kilo_topology *t = NULL;

	return kilo_topology_solve(mesh, &opts, &t, err);
}

static int topology_conf(struct kilo_error *err)
{
	return kilo_topology_conf(NULL, &out_config, err);
}

static int topology_peer_conf(struct kilo_error *err)
{
	return kilo_topology_peer_conf(local, "nobody", &out_config, err);
}

static int topology_as_peer(struct kilo_error *err)
{
	return kilo_topology_as_peer(outside, NULL, 0, &out_config, err);
}

static int topology_peer_as_peer(struct kilo_error *err)
{
	return kilo_topology_peer_as_peer(local, "nobody", NULL, 0, &out_config, err);
}

static int topology_set_allowed_location_ips(struct kilo_error *err)
{
	return kilo_topology_set_allowed_location_ips(local, 99, NULL, 0, false, err);
}

static int encapsulate_parse(struct kilo_error *err)
{
	enum kilo_encapsulate e;

	return kilo_encapsulate_parse("sometimes", &e, err);
}

static int compatibility_parse(struct kilo_error *err)
{
	enum kilo_compatibility c;

	return kilo_compatibility_parse("calico", &c, err);
}

static int topology_routes(struct kilo_error *err)
{
	/* NULL options are the defaults: a size of 0 is the mistake. */
	struct kilo_routes_opts opts = { .sz = 0 };

	return kilo_topology_routes(local, &opts, &out_routes, &out_n, &out_rules, &out_n2, err);
}

static int topology_peer_routes(struct kilo_error *err)
{
	return kilo_topology_peer_routes(local, "nobody", 1, NULL, 0, &out_routes, &out_n, err);
}

static int topology_nat_rules(struct kilo_error *err)
{
	struct kilo_nat_opts opts = { .sz = 0 };

	return kilo_topology_nat_rules(local, &opts, &out_nat, &out_n, err);
}

static int nat_rule_format(struct kilo_error *err)
{
	struct kilo_nat_rule rule = { .table = "nat" };

	return kilo_nat_rule_format(&rule, &out_text, err);
}

static int dedupe_cidr_lists(struct kilo_error *err)
{
	return kilo_dedupe_cidr_lists(NULL, 3, err);
}

static int wireguard_ip(struct kilo_error *err)
{
	struct kilo_cidr subnet, ip;

	if (kilo_cidr_parse("10.4.0.0/30", &subnet, NULL) < 0)
		return -EIO;
	return kilo_wireguard_ip(&subnet, 4, &ip, err);
}

static int topology_dot(struct kilo_error *err)
{
	return kilo_topology_dot(NULL, &out_text, err);
}

static int graph_render(struct kilo_error *err)
{
	size_t len;

	return kilo_graph_render("digraph kilo {}", "no-such-format", &out_text, &len, err);
}

static int peer_object_format(struct kilo_error *err)
{
	return kilo_peer_object_format(config, 9, "laptop", KILO_PEER_YAML, &out_text, err);
}

static int topology_to_json(struct kilo_error *err)
{
	return kilo_topology_to_json(NULL, &out_text, err);
}

static int plan_to_json(struct kilo_error *err)
{
	struct kilo_plan_opts opts = { .sz = 1 };

	return kilo_plan_to_json(local, &opts, &out_text, err);
}

static int plan_new(struct kilo_error *err)
{
	struct kilo_routes_opts routes = { .sz = 0 };
	struct kilo_plan_opts opts = { .sz = sizeof(opts), .routes = &routes };
	kilo_plan *plan = NULL;
	int r = kilo_plan_new(local, &opts, &plan, err);

	kilo_plan_free(plan);
	return r;
}

static int plan_routes(struct kilo_error *err)
{
	size_t n_routes, n_rules;

	return kilo_plan_routes(NULL, NULL, &out_routes, &n_routes, &out_rules, &n_rules, err);
}

static int mesh_status(struct kilo_error *err)
{
	struct kilo_status_opts opts = { .sz = sizeof(opts), .format = 7 };

	return kilo_mesh_status(mesh, &opts, &out_text, err);
}

static int mesh_status_format(struct kilo_error *err)
{
	return kilo_mesh_status_format(NULL, 0, 0, &out_text, err);
}

static int wg_backend_parse(struct kilo_error *err)
{
	enum kilo_wg_backend b;

	return kilo_wg_backend_parse("fpga", &b, err);
}

static int wg_config_format(struct kilo_error *err)
{
	return kilo_wg_config_format(NULL, &out_text, err);
}

static int wg_config_parse(struct kilo_error *err)
{
	static const char text[] = "[Interface]\nListenPort = 99999\n";

	return kilo_wg_config_parse(text, sizeof(text) - 1, &out_config, err);
}

static int wg_config_to_json(struct kilo_error *err)
{
	return kilo_wg_config_to_json(NULL, false, &out_text, err);
}

static int wg_config_format_dump(struct kilo_error *err)
{
	return kilo_wg_config_format_dump(NULL, &out_text, err);
}

static int wg_config_format_show(struct kilo_error *err)
{
	return kilo_wg_config_format_show(config, NULL, 0, &out_text, err);
}

static int wg_config_diff(struct kilo_error *err)
{
	return kilo_wg_config_diff(config, NULL, &out_config, err);
}

static int wg_config_peer_key(struct kilo_error *err)
{
	struct kilo_key k;

	return kilo_wg_config_peer_key(config, 9, &k, err);
}

static int mesh_resolve(struct kilo_error *err)
{
	return kilo_mesh_resolve(NULL, NULL, NULL, err);
}

static int bpf_mode_parse(struct kilo_error *err)
{
	enum kilo_bpf_mode m;

	return kilo_bpf_mode_parse("sometimes", &m, err);
}

static int bpf_stats_format(struct kilo_error *err)
{
	return kilo_bpf_stats_format("/nonexistent/kilo-abi-bpf", &out_text, err);
}

static int agent_metrics(struct kilo_error *err)
{
	return kilo_agent_metrics(NULL, &out_text, err);
}

static int agent_graph(struct kilo_error *err)
{
	return kilo_agent_graph(NULL, &out_text, err);
}

static int agent_topology_hold(struct kilo_error *err)
{
	const kilo_topology *t;

	return kilo_agent_topology_hold(NULL, &t, err);
}

static int agent_store_problem(struct kilo_error *err)
{
	return kilo_agent_store_problem(NULL, &out_text, err);
}

static int agent_unresolved(struct kilo_error *err)
{
	return kilo_agent_unresolved(NULL, &out_text, err);
}

static int agent_flows(struct kilo_error *err)
{
	uint64_t next;

	return kilo_agent_flows(NULL, 0, NULL, &out_text, &next, err);
}

static int flow_line(struct kilo_error *err)
{
	return kilo_flow_line("[1]", NULL, KILO_FLOW_OUTPUT_TEXT, &out_text, NULL, err);
}

static int store_open(struct kilo_error *err)
{
	kilo_store *s = NULL;

	return kilo_store_open("gopher://nowhere", &s, err);
}

static int store_open_opts(struct kilo_error *err)
{
	struct kilo_store_opts opts = { .sz = sizeof(opts) };
	kilo_store *s = NULL;

	return kilo_store_open_opts("gopher://nowhere", &opts, &s, err);
}

/* The rows on a store run on an empty file store in dir. */
static int with_store(int (*call)(kilo_store *store, struct kilo_error *err), struct kilo_error *err)
{
	char uri[sizeof(dir) + 5];
	kilo_store *store = NULL;
	int r;

	snprintf(uri, sizeof(uri), "file:%s", dir);
	r = kilo_store_open(uri, &store, NULL);
	if (r < 0)
		return r;
	r = call(store, err);
	kilo_store_close(store);
	return r;
}

static int put_bad_node(kilo_store *store, struct kilo_error *err)
{
	return kilo_store_put_node(store, "{\"name\": \"n\", \"podCIDR\": \"10.244.0.0/33\"}", err);
}

static int put_bad_peer(kilo_store *store, struct kilo_error *err)
{
	return kilo_store_put_peer(store, "{\"name\": \"p\", \"allowedIPs\": [\"10.5.0.1/40\"]}", err);
}

static int delete_bad_node(kilo_store *store, struct kilo_error *err)
{
	return kilo_store_delete_node(store, "../escape", err);
}

static int delete_bad_peer(kilo_store *store, struct kilo_error *err)
{
	return kilo_store_delete_peer(store, "../escape", err);
}

static int get_missing_node(kilo_store *store, struct kilo_error *err)
{
	return kilo_store_get_node(store, "nobody", &out_text, err);
}

static int set_missing_node(kilo_store *store, struct kilo_error *err)
{
	const char *assignments[] = { "location=x" };

	return kilo_store_set_node(store, "nobody", assignments, 1, err);
}

static int load_bad_settings(kilo_store *store, struct kilo_error *err)
{
	kilo_mesh *m = NULL;

	return kilo_store_load(store, "{\"settings\": {\"subnet\": \"10.4.0.0/99\"}}", &m, NULL, err);
}

static int store_put_node(struct kilo_error *err)
{
	return with_store(put_bad_node, err);
}

static int store_put_peer(struct kilo_error *err)
{
	return with_store(put_bad_peer, err);
}

static int store_delete_node(struct kilo_error *err)
{
	return with_store(delete_bad_node, err);
}

static int store_delete_peer(struct kilo_error *err)
{
	return with_store(delete_bad_peer, err);
}

static int store_get_node(struct kilo_error *err)
{
	return with_store(get_missing_node, err);
}

static int store_set_node(struct kilo_error *err)
{
	return with_store(set_missing_node, err);
}

static int store_load(struct kilo_error *err)
{
	return with_store(load_bad_settings, err);
}

static int put_bad_object(kilo_store *store, struct kilo_error *err)
{
	return kilo_store_put_object(store,
				     "{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"web\"},"
				     " \"spec\": {\"ports\": [{\"port\": 70000}]}}",
				     err);
}

static int apply_bad_object(kilo_store *store, struct kilo_error *err)
{
	enum kilo_object_change change;

	return kilo_store_apply_object(store, "{\"apiVersion\": \"apps/v1\", \"kind\": \"Deployment\"}", &change, err);
}

static int delete_missing_object(kilo_store *store, struct kilo_error *err)
{
	return kilo_store_delete_object(store, "Service", "prod", "nobody", err);
}

static int get_missing_object(kilo_store *store, struct kilo_error *err)
{
	return kilo_store_get_object(store, "svc", NULL, "nobody", &out_text, err);
}

static int list_unknown_kind(kilo_store *store, struct kilo_error *err)
{
	return kilo_store_list_objects(store, "gophers", &out_text, err);
}

static int list_in_bad_kind(kilo_store *store, struct kilo_error *err)
{
	return kilo_store_list_objects_in(store, "gophers", "default", &out_text, err);
}

static int store_put_object(struct kilo_error *err)
{
	return with_store(put_bad_object, err);
}

static int store_apply_object(struct kilo_error *err)
{
	return with_store(apply_bad_object, err);
}

static int store_delete_object(struct kilo_error *err)
{
	return with_store(delete_missing_object, err);
}

static int store_get_object(struct kilo_error *err)
{
	return with_store(get_missing_object, err);
}

static int store_list_objects(struct kilo_error *err)
{
	return with_store(list_unknown_kind, err);
}

static int store_list_objects_in(struct kilo_error *err)
{
	return with_store(list_in_bad_kind, err);
}

static int allocate_empty_labels(kilo_store *store, struct kilo_error *err)
{
	uint32_t id;

	return kilo_store_identity_allocate(store, "", &id, err);
}

static int store_identity_allocate(struct kilo_error *err)
{
	return with_store(allocate_empty_labels, err);
}

static int store_identity_list(struct kilo_error *err)
{
	struct kilo_store_identity *ids;
	size_t n;

	return kilo_store_identity_list(NULL, &ids, &n, err);
}

static int store_identities_release_unused(struct kilo_error *err)
{
	return kilo_store_identities_release_unused(NULL, NULL, 0, 60, NULL, err);
}

static int manifest_read(struct kilo_error *err)
{
	kilo_manifest *m = NULL;

	return kilo_manifest_read("a: *anchor\n", 11, &m, err);
}

static int objects_format(struct kilo_error *err)
{
	return kilo_objects_format("gophers", "[]", KILO_OBJECT_TABLE, &out_text, err);
}

static int wg_open(struct kilo_error *err)
{
	struct kilo_wg_opts opts = { .sz = sizeof(opts), .backend = 9 };
	kilo_wg *wg = NULL;

	return kilo_wg_open(&opts, &wg, err);
}

/* The rows on a device run on a userspace handle whose socket folder is dir: no root needed. */
static int with_wg(int (*call)(kilo_wg *wg, struct kilo_error *err), struct kilo_error *err)
{
	struct kilo_wg_opts opts = { .sz = sizeof(opts), .backend = KILO_WG_BACKEND_USERSPACE, .socket_dir = dir };
	kilo_wg *wg = NULL;
	int r = kilo_wg_open(&opts, &wg, NULL);

	if (r < 0)
		return r;
	r = call(wg, err);
	kilo_wg_close(wg);
	return r;
}

static int create_bad_name(kilo_wg *wg, struct kilo_error *err)
{
	return kilo_wg_device_create(wg, "name-far-too-long-for-a-link", err);
}

static int delete_bad_name(kilo_wg *wg, struct kilo_error *err)
{
	return kilo_wg_device_delete(wg, "name-far-too-long-for-a-link", err);
}

static int get_missing(kilo_wg *wg, struct kilo_error *err)
{
	return kilo_wg_device_get(wg, "kabierr0", &out_config, err);
}

static int set_missing(kilo_wg *wg, struct kilo_error *err)
{
	return kilo_wg_device_set(wg, "kabierr0", config, err);
}

static int sync_missing(kilo_wg *wg, struct kilo_error *err)
{
	return kilo_wg_device_sync(wg, "kabierr0", config, NULL, err);
}

static int wg_device_create(struct kilo_error *err)
{
	return with_wg(create_bad_name, err);
}

static int wg_device_delete(struct kilo_error *err)
{
	return with_wg(delete_bad_name, err);
}

static int wg_device_get(struct kilo_error *err)
{
	return with_wg(get_missing, err);
}

static int wg_device_set(struct kilo_error *err)
{
	return with_wg(set_missing, err);
}

static int wg_device_sync(struct kilo_error *err)
{
	return with_wg(sync_missing, err);
}

static int net_address_link(struct kilo_error *err)
{
	struct kilo_addr a;
	int ifindex;

	if (kilo_addr_parse("203.0.113.254", &a, NULL) < 0)
		return -EIO;
	return kilo_net_address_link(&a, &ifindex, err);
}

static int net_link_index(struct kilo_error *err)
{
	kilo_net *net = NULL;
	int ifindex, r = kilo_net_open(&net, NULL);

	if (r < 0)
		return r;
	r = kilo_net_link_index(net, "kabierr0", &ifindex, err);
	kilo_net_close(net);
	return r;
}

static int net_routes_check(struct kilo_error *err)
{
	struct kilo_route route = { .ifindex = 1 };

	if (kilo_cidr_parse("10.9.0.0/16", &route.dst, NULL) < 0 || kilo_addr_parse("fd00::1", &route.gw, NULL) < 0)
		return -EIO;
	return kilo_net_routes_check(&route, 1, err);
}

static int net_rules_check(struct kilo_error *err)
{
	struct kilo_rule rule = { .table = 7 };

	if (kilo_cidr_parse("10.9.0.0/16", &rule.src, NULL) < 0 || kilo_cidr_parse("fd00::/8", &rule.dst, NULL) < 0)
		return -EIO;
	return kilo_net_rules_check(&rule, 1, err);
}

static int net_nat_check(struct kilo_error *err)
{
	struct kilo_nat_rule rule = { .kind = KILO_NAT_RULE, .family = 4, .table = "raw", .chain = "KILO-NAT" };

	return kilo_net_nat_check(&rule, 1, err);
}

static int agent_new(struct kilo_error *err)
{
	struct kilo_agent_opts opts = { .sz = sizeof(opts), .store = "file:/nonexistent", .hostname = "a",
					.key_path = "/nonexistent/kilo-abi.key", .subnet = "10.4.0.0/99" };
	kilo_agent *agent = NULL;

	return kilo_agent_new(&opts, &agent, err);
}

static int connect_new(struct kilo_error *err)
{
	struct kilo_connect_opts opts = { .sz = sizeof(opts), .store = "file:/nonexistent", .peer_name = "laptop",
					  .key_path = "/nonexistent/kilo-abi.key", .allowed_ip = "10.5.0.1/99" };
	kilo_connect *c = NULL;

	return kilo_connect_new(&opts, &c, err);
}

/* A name no link can have: the plan is refused before the host is read for more, or changed. */
static int apply(struct kilo_error *err)
{
	struct kilo_apply_opts opts = { .sz = sizeof(opts), .interface = "name-far-too-long-for-a-link" };
	struct kilo_apply_report report;

	return kilo_apply(local, &opts, &report, err);
}

static int applier_new(struct kilo_error *err)
{
	struct kilo_apply_opts opts = { .sz = 0 };
	kilo_applier *applier = NULL;

	return kilo_applier_new(&opts, &applier, err);
}

static int applier_apply(struct kilo_error *err)
{
	struct kilo_apply_report report;

	return kilo_applier_apply(NULL, local, &report, err);
}

static int applier_apply_plan(struct kilo_error *err)
{
	struct kilo_apply_report report;

	return kilo_applier_apply_plan(NULL, NULL, &report, err);
}

static int applier_clean_up(struct kilo_error *err)
{
	return kilo_applier_clean_up(NULL, err);
}

static int policy_explain(struct kilo_error *err)
{
	struct kilo_policy_explain_opts opts = { .sz = sizeof(opts), .from = "prod/a", .to = "prod/b", .port = 80,
						 .proto = 6, .pods = "{\"kind\": \"Pod\"}" };

	return kilo_policy_explain(&opts, &out_text, err);
}

static int lb_services_format(struct kilo_error *err)
{
	return kilo_lb_services_format("{\"kind\": \"Service\"}", NULL, NULL, NULL, KILO_SERVICES_FORMAT_TEXT, &out_text,
				       err);
}

/* ---- the table ---------------------------------------------------------- */

struct row {
	const char *function;
	int (*call)(struct kilo_error *err);
	int code;            /* the errno it must fail with */
	const char *names;   /* what the message must contain: the value, or the argument */
};

#define ROW(fn, code, names) { "kilo_" #fn, fn, code, names }

static const struct row rows[] = {
	ROW(addr_parse, EINVAL, "address \"10.0.0.256\""),
	ROW(cidr_parse, EINVAL, "cidr \"10.0.0.0/33\": prefix 33 is longer than 32"),
	ROW(endpoint_parse, EINVAL, "port \"70000\""),
	/* A key may be a private one: its length is named, never its text. */
	ROW(key_parse, EINVAL, "key of 5 characters"),
	ROW(key_generate, EINVAL, "private_key is NULL"),
	ROW(key_public, EINVAL, "private_key is NULL"),
	ROW(key_read_fd, EINVAL, "key"),
	ROW(key_read_file, ENOENT, "/nonexistent/kilo-abi.key"),
	ROW(key_write_file, ENOENT, "/nonexistent/kilo-abi.key"),
	ROW(granularity_parse, EINVAL, "granularity \"regional\": not one of location, full, cross"),
	ROW(mesh_from_json, EINVAL, "7"),
	ROW(mesh_load_file, ENOENT, "/nonexistent/kilo-mesh.json"),
	ROW(mesh_to_json, EINVAL, "mesh is NULL"),
	ROW(node_from_kubernetes, EINVAL, "object"),
	ROW(peer_from_kubernetes, EINVAL, "object"),
	ROW(node_to_annotations, EINVAL, "no-port"),
	ROW(topology_solve, ENOENT, "hostname \"nobody\""),
	ROW(topology_conf, EINVAL, "topology is NULL"),
	ROW(topology_peer_conf, ENOENT, "peer \"nobody\""),
	ROW(topology_as_peer, ENOENT, "no local node"),
	ROW(topology_peer_as_peer, ENOENT, "peer \"nobody\""),
	ROW(topology_set_allowed_location_ips, ERANGE, "segment 99"),
	ROW(encapsulate_parse, EINVAL, "encapsulate \"sometimes\""),
	ROW(compatibility_parse, EINVAL, "compatibility \"calico\""),
	ROW(topology_routes, EINVAL, "struct kilo_routes_opts: sz is 0"),
	ROW(topology_peer_routes, ENOENT, "peer \"nobody\""),
	ROW(topology_nat_rules, EINVAL, "struct kilo_nat_opts: sz is 0"),
	ROW(nat_rule_format, EINVAL, "no chain"),
	ROW(dedupe_cidr_lists, EINVAL, "n_lists is 3"),
	ROW(wireguard_ip, ENOSPC, "subnet \"10.4.0.0/30\": has no WireGuard IP number 4"),
	ROW(topology_dot, EINVAL, "topology is NULL"),
	ROW(graph_render, EINVAL, "no-such-format"),
	ROW(peer_object_format, ERANGE, "peer 9"),
	ROW(topology_to_json, EINVAL, "topology is NULL"),
	ROW(plan_to_json, EINVAL, "sz is 1"),
	ROW(plan_new, EINVAL, "struct kilo_routes_opts: sz is 0"),
	ROW(plan_routes, EINVAL, "plan is NULL"),
	ROW(mesh_status, EINVAL, "7"),
	ROW(mesh_status_format, EINVAL, "mesh"),
	ROW(wg_backend_parse, EINVAL, "wireguard backend \"fpga\""),
	ROW(wg_config_format, EINVAL, "config is NULL"),
	ROW(wg_config_parse, EINVAL, "99999"),
	ROW(wg_config_to_json, EINVAL, "config is NULL"),
	ROW(wg_config_format_dump, EINVAL, "config is NULL"),
	ROW(wg_config_format_show, EINVAL, "ifname is NULL"),
	ROW(wg_config_diff, EINVAL, "desired is NULL"),
	ROW(wg_config_peer_key, ERANGE, "peer 9"),
	ROW(mesh_resolve, EINVAL, "mesh is NULL"),
	ROW(agent_metrics, EINVAL, "agent is NULL"),
	ROW(bpf_mode_parse, EINVAL, "bpf mode \"sometimes\""),
	ROW(bpf_stats_format, ENOENT, "/nonexistent/kilo-abi-bpf/kilo_lb_counters"),
	ROW(agent_graph, EINVAL, "agent is NULL"),
	ROW(agent_topology_hold, EINVAL, "agent is NULL"),
	ROW(agent_store_problem, EINVAL, "agent is NULL"),
	ROW(agent_unresolved, EINVAL, "agent is NULL"),
	ROW(agent_flows, EINVAL, "agent is NULL"),
	ROW(flow_line, EINVAL, "flow: not a JSON object: [1]"),
	ROW(store_open, EINVAL, "gopher://nowhere"),
	ROW(store_open_opts, EINVAL, "gopher://nowhere"),
	ROW(store_put_node, EINVAL, "10.244.0.0/33"),
	ROW(store_put_peer, EINVAL, "10.5.0.1/40"),
	ROW(store_delete_node, EINVAL, "../escape"),
	ROW(store_delete_peer, EINVAL, "../escape"),
	ROW(store_get_node, ENOENT, "nobody"),
	ROW(store_set_node, ENOENT, "nobody"),
	ROW(store_load, EINVAL, "10.4.0.0/99"),
	ROW(store_put_object, EINVAL, "70000"),
	ROW(store_apply_object, EINVAL, "Deployment"),
	ROW(store_delete_object, ENOENT, "Service prod/nobody"),
	ROW(store_get_object, ENOENT, "Service default/nobody"),
	ROW(store_list_objects, EINVAL, "gophers"),
	ROW(store_list_objects_in, EINVAL, "gophers"),
	ROW(store_identity_allocate, EINVAL, "identity labels: empty"),
	ROW(store_identity_list, EINVAL, "store is NULL"),
	ROW(store_identities_release_unused, EINVAL, "store is NULL"),
	ROW(manifest_read, EINVAL, "*anchor"),
	ROW(objects_format, EINVAL, "gophers"),
	ROW(wg_open, EINVAL, "9"),
	ROW(wg_device_create, EINVAL, "name-far-too-long-for-a-link"),
	ROW(wg_device_delete, EINVAL, "name-far-too-long-for-a-link"),
	ROW(wg_device_get, ENODEV, "kabierr0"),
	ROW(wg_device_set, ENODEV, "kabierr0"),
	ROW(wg_device_sync, ENODEV, "kabierr0"),
	ROW(net_address_link, ENOENT, "203.0.113.254"),
	ROW(net_link_index, ENODEV, "kabierr0"),
	ROW(net_routes_check, EINVAL, "fd00::1"),
	ROW(net_rules_check, EINVAL, "fd00::/8"),
	ROW(net_nat_check, EINVAL, "raw"),
	ROW(agent_new, EINVAL, "10.4.0.0/99"),
	ROW(connect_new, EINVAL, "10.5.0.1/99"),
	ROW(apply, EINVAL, "name-far-too-long-for-a-link"),
	ROW(applier_new, EINVAL, "struct kilo_apply_opts: sz is 0"),
	ROW(applier_apply, EINVAL, "applier is NULL"),
	ROW(applier_apply_plan, EINVAL, "applier is NULL"),
	ROW(applier_clean_up, EINVAL, "applier is NULL"),
	ROW(lb_services_format, EINVAL, "services: not a JSON array"),
	ROW(policy_explain, EINVAL, "pods: not a JSON array"),
};

/* What a failed call may still have handed out (none should; free it if it did). */
static void free_outputs(void)
{
	kilo_free(out_text);
	kilo_wg_config_free(out_config);
	kilo_free(out_routes);
	kilo_free(out_rules);
	kilo_free(out_nat);
	out_text = NULL;
	out_config = NULL;
	out_routes = NULL;
	out_rules = NULL;
	out_nat = NULL;
}

static void test_every_row_names_the_bad_value(void **state)
{
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *row = &rows[i];
		struct kilo_error err = { 0 };
		int r = row->call(&err), again;

		free_outputs();
		/* NULL err: the same code, and no crash. */
		again = row->call(NULL);
		free_outputs();
		if (r != -row->code || err.code != row->code || !err.message[0] || !strstr(err.message, row->names) ||
		    again != r) {
			print_error("%s: returned %d (%d without err), code %d, message \"%s\"; want -%d and a message "
				    "with \"%s\"\n",
				    row->function, r, again, err.code, err.message, row->code, row->names);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* The table is printed for check_errors.py, which compares it with the headers. */
static int list_rows(void)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		printf("%s\n", rows[i].function);
	return 0;
}

static int setup(void **state)
{
	struct kilo_solve_opts opts = { .sz = sizeof(opts), .hostname = "a" };
	struct kilo_error err = { 0 };

	(void)state;
	if (!mkdtemp(dir) || kilo_mesh_from_json(mesh_json, strlen(mesh_json), &mesh, &err) < 0 ||
	    kilo_topology_solve(mesh, &opts, &local, &err) < 0 || kilo_topology_conf(local, &config, &err) < 0)
		return print_error("fixture: %s\n", err.message), -1;
	opts.hostname = NULL;
	return kilo_topology_solve(mesh, &opts, &outside, &err) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[sizeof(dir) + 16];

	(void)state;
	kilo_wg_config_free(config);
	kilo_topology_free(outside);
	kilo_topology_free(local);
	kilo_mesh_free(mesh);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_row_names_the_bad_value),
	};

	if (argc > 1 && strcmp(argv[1], "--list") == 0)
		return list_rows();
	return cmocka_run_group_tests(tests, setup, teardown);
}
