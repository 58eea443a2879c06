// SPDX-License-Identifier: Apache-2.0
/*
 * bench-solver: how long one node takes to turn a mesh into what it
 * applies: solve, WireGuard config text, routes and ip rules (the total,
 * the same work as Kilo's NewTopology, Conf().Bytes() and Routes()), and
 * the NAT rule set, timed beside the total. Prints a table; never part of
 * the test run.
 *
 *	bench-solver                       the standard sizes
 *	bench-solver --nodes N --locations L
 *	bench-solver --mesh FILE --node NAME
 */
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <kilo/kilo.h>

#include "generate.h"
#include "heap.h"

#define DEFAULT_RUNS 7

enum phase {
	PHASE_SOLVE,
	PHASE_CONF,
	PHASE_ROUTES, /* routes and ip rules */
	PHASE_TOTAL_END,
	PHASE_NAT = PHASE_TOTAL_END, /* timed, but not part of the total */
	PHASE_COUNT,
};

struct result {
	size_t nodes;
	size_t segments;
	double parse_ms;
	double phase_ms[PHASE_COUNT]; /* best of the runs, per phase */
	double total_ms;              /* best of the runs' sums */
	long faults;                  /* fewest page faults of a run (all phases) */
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double min_of(double a, double b)
{
	return a < b ? a : b;
}

static long page_faults(void)
{
	struct rusage usage;

	return getrusage(RUSAGE_SELF, &usage) == 0 ? usage.ru_minflt + usage.ru_majflt : 0;
}

/* The mesh document of n nodes in l locations, as the issue defines it. */
static char *generate_mesh(unsigned n, unsigned l)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	if (!f)
		return NULL;
	fputs("{\"version\":1,\"settings\":{\"granularity\":\"location\",\"subnet\":\"10.4.0.0/16\",\"port\":51820},"
	      "\"nodes\":[",
	      f);
	for (unsigned i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		bench_node_json(f, i, l, 0, 0);
	}
	fputs("],\"peers\":[]}", f);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static char *read_file(const char *path)
{
	char *text = NULL;
	size_t size = 0;
	FILE *in = fopen(path, "rb"), *out;
	char buf[65536];
	size_t n;

	if (!in)
		return NULL;
	out = open_memstream(&text, &size);
	while (out && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	if (out)
		fclose(out);
	if (ferror(in)) {
		free(text);
		text = NULL;
	}
	fclose(in);
	return text;
}

/* One run of every phase; adds each phase's time to ms. */
static int run_once(const kilo_mesh *mesh, const char *node, double ms[PHASE_COUNT], size_t *segments,
		    struct kilo_error *err)
{
	const struct kilo_solve_opts solve_opts = { .sz = sizeof(solve_opts), .hostname = node };
	const struct kilo_routes_opts routes_opts = {
		.sz = sizeof(routes_opts),
		.encapsulate = KILO_ENCAPSULATE_ALWAYS,
		.wg_interface = "kilo0",
		.wg_ifindex = 0,
		.private_ifindex = 1,
		.tunnel_ifindex = 2,
	};
	const struct kilo_nat_opts nat_opts = { .sz = sizeof(nat_opts), .ipip_rules = true };
	kilo_topology *topology = NULL;
	kilo_wg_config *config = NULL;
	struct kilo_route *routes = NULL;
	struct kilo_rule *rules = NULL;
	struct kilo_nat_rule *nat = NULL;
	size_t n_routes, n_rules, n_nat;
	char *text = NULL;
	double t;
	int r;

	t = now_ms();
	r = kilo_topology_solve(mesh, &solve_opts, &topology, err);
	ms[PHASE_SOLVE] = now_ms() - t;
	if (r < 0)
		goto out;
	*segments = kilo_topology_segment_count(topology);
	t = now_ms();
	r = kilo_topology_conf(topology, &config, NULL);
	if (r == 0)
		r = kilo_wg_config_format(config, &text, NULL);
	ms[PHASE_CONF] = now_ms() - t;
	if (r < 0)
		goto out;
	t = now_ms();
	r = kilo_topology_routes(topology, &routes_opts, &routes, &n_routes, &rules, &n_rules, NULL);
	ms[PHASE_ROUTES] = now_ms() - t;
	if (r < 0)
		goto out;
	t = now_ms();
	r = kilo_topology_nat_rules(topology, &nat_opts, &nat, &n_nat, NULL);
	ms[PHASE_NAT] = now_ms() - t;
out:
	kilo_free(nat);
	kilo_free(rules);
	kilo_free(routes);
	kilo_free(text);
	kilo_wg_config_free(config);
	kilo_topology_free(topology);
	return r;
}

static int bench(const char *text, const char *node, unsigned runs, struct result *res)
{
	struct kilo_error err = { 0 };
	kilo_mesh *mesh = NULL;
	double ms[PHASE_COUNT] = { 0 }, t, sum;
	long faults;
	int r;

	t = now_ms();
	r = kilo_mesh_from_json(text, strlen(text), &mesh, &err);
	res->parse_ms = now_ms() - t;
	if (r < 0) {
		fprintf(stderr, "bench-solver: mesh: %s\n", err.message);
		return r;
	}
	res->nodes = kilo_mesh_node_count(mesh);
	for (int p = 0; p < PHASE_COUNT; p++)
		res->phase_ms[p] = 1e300;
	res->total_ms = 1e300;
	res->faults = -1;
	for (unsigned run = 0; run < runs; run++) {
		faults = page_faults();
		r = run_once(mesh, node, ms, &res->segments, &err);
		faults = page_faults() - faults;
		if (res->faults < 0 || faults < res->faults)
			res->faults = faults;
		if (r < 0) {
			fprintf(stderr, "bench-solver: %s\n", err.code ? err.message : strerror(-r));
			break;
		}
		sum = 0;
		for (int p = 0; p < PHASE_COUNT; p++) {
			res->phase_ms[p] = min_of(res->phase_ms[p], ms[p]);
			if (p < PHASE_TOTAL_END)
				sum += ms[p];
		}
		res->total_ms = min_of(res->total_ms, sum);
	}
	kilo_mesh_free(mesh);
	return r;
}

static void print_header(int argc, char *argv[], unsigned runs, bool cold_heap)
{
	printf("command:");
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\nlibkilo %s, best of %u runs, milliseconds; parse (kilo_mesh_from_json) is not part of the total\n",
	       kilo_version(), runs);
	printf("heap: %s\n", cold_heap ? "cold (glibc defaults: large freed blocks go back to the kernel)"
				       : "warm (freed memory kept between runs, as in a long-running agent)");
	printf("L is the number of segments of the solved topology (locations, with granularity location)\n");
	printf("conf is the configuration and its text; routes are the routes and ip rules; total = solve + conf + "
	       "routes;\nnat (the NAT and forward rule set, with the IPIP rules) is timed beside the total;\n"
	       "faults: the fewest page faults of a run (all phases; a warm heap has none)\n\n");
	printf("%-24s %7s %7s %9s %9s %9s %9s %9s %9s %7s\n", "mesh", "N", "L", "parse", "solve", "conf", "routes",
	       "total", "nat", "faults");
}

static void print_row(const char *mesh, const struct result *res)
{
	printf("%-24s %7zu %7zu %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %7ld\n", mesh, res->nodes, res->segments,
	       res->parse_ms, res->phase_ms[PHASE_SOLVE], res->phase_ms[PHASE_CONF], res->phase_ms[PHASE_ROUTES],
	       res->total_ms, res->phase_ms[PHASE_NAT], res->faults);
}

static int bench_generated(unsigned n, unsigned l, unsigned runs)
{
	struct result res;
	char *text = generate_mesh(n, l);
	int r;

	if (!text) {
		fprintf(stderr, "bench-solver: out of memory\n");
		return -ENOMEM;
	}
	r = bench(text, "node-00000", runs, &res);
	free(text);
	if (r == 0)
		print_row("generated", &res);
	return r;
}

static unsigned parse_count(const char *text, const char *flag, unsigned max)
{
	char *end;
	unsigned long v = strtoul(text, &end, 10);

	if (end == text || *end || v == 0 || v > max) {
		fprintf(stderr, "bench-solver: %s must be a number from 1 to %u; got \"%s\"\n", flag, max, text);
		exit(2);
	}
	return (unsigned)v;
}

int main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "mesh", required_argument, NULL, 'm' },
		{ "node", required_argument, NULL, 'n' },
		{ "nodes", required_argument, NULL, 'N' },
		{ "locations", required_argument, NULL, 'L' },
		{ "runs", required_argument, NULL, 'r' },
		{ "cold-heap", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const unsigned sizes[][2] = { { 1000, 100 }, { 10000, 1000 }, { 10000, 10000 } };
	const char *mesh_path = NULL, *node = NULL;
	unsigned runs = DEFAULT_RUNS, n = 0, l = 0;
	bool cold_heap = false;
	struct result res;
	char *text;
	int c, r = 0;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'm':
			mesh_path = optarg;
			break;
		case 'n':
			node = optarg;
			break;
		case 'N':
			n = parse_count(optarg, "--nodes", BENCH_MAX_NODES);
			break;
		case 'L':
			l = parse_count(optarg, "--locations", BENCH_MAX_NODES);
			break;
		case 'r':
			runs = parse_count(optarg, "--runs", 1000000);
			break;
		case 'c':
			cold_heap = true;
			break;
		case 'h':
			printf("Usage: %s [--runs K] [--cold-heap] [--nodes N --locations L | --mesh FILE --node NAME]\n",
			       argv[0]);
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc || !mesh_path != !node || !n != !l || (mesh_path && n)) {
		fprintf(stderr, "Usage: %s [--runs K] [--cold-heap] [--nodes N --locations L | --mesh FILE --node NAME]\n",
			argv[0]);
		return 2;
	}

	if (!cold_heap)
		bench_keep_heap_warm();
	print_header(argc, argv, runs, cold_heap);
	if (mesh_path) {
		text = read_file(mesh_path);
		if (!text) {
			fprintf(stderr, "bench-solver: cannot read %s: %s\n", mesh_path, strerror(errno));
			return 1;
		}
		r = bench(text, node, runs, &res);
		free(text);
		if (r == 0)
			print_row(strrchr(mesh_path, '/') ? strrchr(mesh_path, '/') + 1 : mesh_path, &res);
	} else if (n) {
		r = bench_generated(n, l, runs);
	} else {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]) && r == 0; i++)
			r = bench_generated(sizes[i][0], sizes[i][1], runs);
	}
	printf("\ntargets (total): <= 3 ms for 10000/1000, <= 7 ms for 10000/10000\n"
	       "Kilo 0.6.0 (same work, Go): 64 ms for 10000/1000, 144 ms for 10000/10000\n");
	return r < 0 ? 1 : 0;
}
