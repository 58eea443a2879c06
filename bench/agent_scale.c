// SPDX-License-Identifier: Apache-2.0
/*
 * bench-agent-scale: what an agent pays for a file store of N nodes: the
 * cold load, and one changed node file -> loaded again -> solved (plan:
 * solve, WireGuard config text, routes and rules), wall and CPU time,
 * and the process's peak RSS. bench/agent-scale.sh runs it, then a real kg
 * on stores it writes; never part of the test run.
 *
 *	bench-agent-scale [N...]                 the table; default N: 1000 10000 50000 100000
 *	bench-agent-scale write DIR N            a store of N nodes in DIR (seen now)
 *	bench-agent-scale change DIR N I VARIANT node I of N with another endpoint (x.x.x.7+VARIANT)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <kilo/kilo.h>

#include "generate.h"
#include "heap.h"

#define LOCATIONS_PER_NODE 10 /* N / 10 locations, as bench-solver's standard meshes */
#define CHANGE_RUNS 5

struct clock_pair {
	double wall, cpu; /* milliseconds */
};

static struct clock_pair now(void)
{
	struct timespec wall, cpu;

	clock_gettime(CLOCK_MONOTONIC, &wall);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	return (struct clock_pair){ wall.tv_sec * 1e3 + wall.tv_nsec / 1e6, cpu.tv_sec * 1e3 + cpu.tv_nsec / 1e6 };
}

static struct clock_pair since(struct clock_pair start)
{
	struct clock_pair end = now();

	return (struct clock_pair){ end.wall - start.wall, end.cpu - start.cpu };
}

static int write_node(const char *dir, unsigned i, unsigned l, unsigned variant, int64_t last_seen)
{
	char path[4096], tmp[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/nodes/node-%05u.json", dir, i);
	snprintf(tmp, sizeof(tmp), "%s/nodes/.node-%05u.json.tmp", dir, i);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	bench_node_json(f, i, l, variant, last_seen);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return -errno;
	return 0;
}

/* Load, solve and the plan's text, routes and rules: what kg does for one change. */
static int load_and_plan(kilo_store *store, int64_t t, struct kilo_error *err)
{
	const struct kilo_solve_opts solve = {
		.sz = sizeof(solve), .hostname = "node-00000", .now = t, .ready_window = 60 };
	const struct kilo_routes_opts routes_opts = {
		.sz = sizeof(routes_opts), .wg_interface = "kilo0", .private_ifindex = 1 };
	struct kilo_route *routes = NULL;
	struct kilo_rule *rules = NULL;
	kilo_topology *topology = NULL;
	kilo_wg_config *config = NULL;
	kilo_mesh *mesh = NULL;
	size_t n_routes, n_rules;
	char *text = NULL;
	int r;

	r = kilo_store_load(store, NULL, &mesh, NULL, err);
	if (r == 0)
		r = kilo_topology_solve(mesh, &solve, &topology, err);
	if (r == 0)
		r = kilo_topology_conf(topology, &config, NULL);
	if (r == 0)
		r = kilo_wg_config_format(config, &text, NULL);
	if (r == 0)
		r = kilo_topology_routes(topology, &routes_opts, &routes, &n_routes, &rules, &n_rules, NULL);
	kilo_free(routes);
	kilo_free(rules);
	kilo_free(text);
	kilo_wg_config_free(config);
	kilo_topology_free(topology);
	kilo_mesh_free(mesh);
	return r;
}

/* Writes the N nodes of a store into dir/nodes, seen at seen. */
static int write_store(const char *dir, unsigned n, int64_t seen)
{
	unsigned l = n / LOCATIONS_PER_NODE ? n / LOCATIONS_PER_NODE : 1;
	char path[4096];
	int r = 0;

	snprintf(path, sizeof(path), "%s/nodes", dir);
	if ((mkdir(dir, 0755) < 0 && errno != EEXIST) || (mkdir(path, 0755) < 0 && errno != EEXIST))
		return -errno;
	for (unsigned i = 0; i < n && r == 0; i++)
		r = write_node(dir, i, l, 0, seen);
	return r;
}

static int bench(unsigned n)
{
	struct kilo_error err = { 0 };
	char dir[] = "/tmp/kilo-bench-store-XXXXXX", uri[64], cmd[96];
	struct clock_pair cold_load, cold_plan, t, best = { 1e300, 1e300 }, beat = { 1e300, 1e300 };
	kilo_store *store = NULL;
	kilo_mesh *mesh = NULL;
	unsigned l = n / LOCATIONS_PER_NODE ? n / LOCATIONS_PER_NODE : 1;
	int64_t seen = time(NULL);
	struct rusage ru;
	int r = 0;

	if (!mkdtemp(dir))
		return -errno;
	r = write_store(dir, n, seen);
	snprintf(uri, sizeof(uri), "file:%s", dir);
	/* Cold: a new process's first load. */
	t = now();
	if (r == 0)
		r = kilo_store_open(uri, &store, &err);
	if (r == 0)
		r = kilo_store_load(store, NULL, &mesh, NULL, &err);
	cold_load = since(t);
	kilo_mesh_free(mesh);
	kilo_store_close(store);
	store = NULL;
	t = now();
	if (r == 0)
		r = kilo_store_open(uri, &store, &err);
	if (r == 0)
		r = load_and_plan(store, seen, &err);
	cold_plan = since(t);
	/* One node changes its endpoint; the agent's store sees it and plans again. */
	for (unsigned run = 0; run < CHANGE_RUNS && r == 0; run++) {
		r = write_node(dir, n / 2, l, run + 1, seen);
		t = now();
		if (r == 0)
			r = load_and_plan(store, seen, &err);
		t = since(t);
		if (t.cpu < best.cpu)
			best = t;
	}
	/* A heartbeat: the same node, only seen later; what every check-in of every node costs. */
	for (unsigned run = 0; run < CHANGE_RUNS && r == 0; run++) {
		r = write_node(dir, n / 2, l, CHANGE_RUNS, seen + run + 1);
		t = now();
		if (r == 0)
			r = kilo_store_load(store, NULL, &mesh, NULL, &err);
		kilo_mesh_free(mesh);
		mesh = NULL;
		t = since(t);
		if (t.cpu < beat.cpu)
			beat = t;
	}
	kilo_store_close(store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench-agent-scale: could not remove %s\n", dir);
	if (r < 0) {
		fprintf(stderr, "bench-agent-scale: %s\n", err.code ? err.message : strerror(-r));
		return r;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("%8u %8u %10.1f %10.1f %10.1f %10.1f %10.2f %10.2f %10.2f %10.1f\n", n, l, cold_load.wall, cold_load.cpu,
	       cold_plan.wall, cold_plan.cpu, best.wall, best.cpu, beat.cpu, ru.ru_maxrss / 1024.0);
	fflush(stdout);
	return 0;
}

static unsigned parse_count(const char *text)
{
	char *end;
	unsigned long n = strtoul(text, &end, 10);

	if (*end || end == text || n > BENCH_MAX_NODES) {
		fprintf(stderr, "bench-agent-scale: \"%s\" is not a number from 0 to %u\n", text, BENCH_MAX_NODES);
		exit(2);
	}
	return (unsigned)n;
}

/* The helpers of bench/agent-scale.sh: write a store, change one node. */
static int helper(int argc, char *argv[])
{
	unsigned n, l;
	int r;

	if (!strcmp(argv[1], "write") && argc == 4) {
		r = write_store(argv[2], parse_count(argv[3]), time(NULL));
	} else if (!strcmp(argv[1], "change") && argc == 6) {
		n = parse_count(argv[3]);
		l = n / LOCATIONS_PER_NODE ? n / LOCATIONS_PER_NODE : 1;
		r = write_node(argv[2], parse_count(argv[4]), l, parse_count(argv[5]), time(NULL));
	} else {
		fprintf(stderr, "Usage: bench-agent-scale [N...] | write DIR N | change DIR N I VARIANT\n");
		return 2;
	}
	if (r < 0)
		fprintf(stderr, "bench-agent-scale: %s: %s\n", argv[2], strerror(-r));
	return r < 0 ? 1 : 0;
}

int main(int argc, char *argv[])
{
	static const unsigned sizes[] = { 1000, 10000, 50000, 100000 };
	int r = 0;

	if (argc > 1 && (!strcmp(argv[1], "write") || !strcmp(argv[1], "change")))
		return helper(argc, argv);
	bench_keep_heap_warm();

	printf("command:");
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\nlibkilo %s; a file store of N nodes in N/10 locations; milliseconds, wall and CPU of this process\n"
	       "cold load: open + kilo_store_load in a new handle; cold plan: the same + solve, config text, routes;\n"
	       "one change: one node file replaced, then load + solve + config text + routes (best of %d);\n"
	       "beat cpu: one node's heartbeat (lastSeen only), then the load alone;\n"
	       "heap: warm (freed memory kept for the next load, as kg keeps it);\n"
	       "peak RSS (MiB) is the process's so far, so it grows with the largest N run\n\n",
	       kilo_version(), CHANGE_RUNS);
	printf("%8s %8s %10s %10s %10s %10s %10s %10s %10s %10s\n", "N", "L", "load", "load cpu", "plan", "plan cpu",
	       "change", "chg cpu", "beat cpu", "RSS MiB");
	for (int i = 1; i < argc && r == 0; i++)
		r = bench(parse_count(argv[i]) ? parse_count(argv[i]) : 1);
	for (size_t i = 0; argc < 2 && i < sizeof(sizes) / sizeof(sizes[0]) && r == 0; i++)
		r = bench(sizes[i]);
	printf("\ntargets at 10000: cold load <= 150 ms, one change <= 10 ms CPU; at 100000: one change <= 100 ms\n");
	return r < 0 ? 1 : 0;
}
