// SPDX-License-Identifier: Apache-2.0
/*
 * bench-routes: kilo_net_routes_sync of N routes, as a leader of a big mesh
 * has them (a /24 and a /32 per node, through one gateway): the first sync,
 * a sync with nothing to change, and one with one route changed. Run it as
 * root inside a network namespace of its own (bench/routes.sh does that).
 *
 *	bench-routes --link IF [--routes N]... [--runs K]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kilo/kilo.h>

#define DEFAULT_RUNS 3
#define MAX_SIZES 8

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Route i: 10.x.y.0/24 for even i, 10.200.x.y/32 for odd i, via 10.9.0.2 onlink. */
static void make_routes(struct kilo_route *routes, unsigned n, int ifindex)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned node = i / 2;
		struct kilo_route *r = &routes[i];

		memset(r, 0, sizeof(*r));
		r->dst.addr.family = 4;
		r->dst.addr.bytes[0] = 10;
		r->dst.addr.bytes[1] = (uint8_t)(i % 2 ? 200 : 64 + ((node >> 8) & 127));
		r->dst.addr.bytes[2] = (uint8_t)(i % 2 ? (node >> 8) & 255 : node & 255);
		r->dst.addr.bytes[3] = (uint8_t)(i % 2 ? node & 255 : 0);
		r->dst.prefix = i % 2 ? 32 : 24;
		kilo_addr_parse("10.9.0.2", &r->gw, NULL);
		r->ifindex = ifindex;
		r->onlink = true;
	}
}

/* Milliseconds of one sync; exits on error. */
static double timed_sync(kilo_net *net, const struct kilo_route *routes, unsigned n)
{
	struct kilo_error err = { 0 };
	double t0 = now_ms();

	if (kilo_net_routes_sync(net, routes, n, NULL, &err) < 0) {
		fprintf(stderr, "bench-routes: %s\n", err.message);
		exit(1);
	}
	return now_ms() - t0;
}

static double min(double a, double b)
{
	return a < b ? a : b;
}

int main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "link", required_argument, NULL, 'l' },
		{ "routes", required_argument, NULL, 'n' },
		{ "runs", required_argument, NULL, 'r' },
		{ 0 },
	};
	unsigned sizes[MAX_SIZES] = { 0 }, n_sizes = 0, runs = DEFAULT_RUNS;
	const char *link = NULL;
	struct kilo_error err = { 0 };
	kilo_net *net = NULL;
	int c, ifindex;

	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (c == 'l')
			link = optarg;
		else if (c == 'n' && n_sizes < MAX_SIZES)
			sizes[n_sizes++] = (unsigned)strtoul(optarg, NULL, 10);
		else if (c == 'r')
			runs = (unsigned)strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	if (!link || runs == 0) {
		fprintf(stderr, "usage: bench-routes --link IF [--routes N]... [--runs K]\n");
		return 2;
	}
	if (n_sizes == 0) {
		sizes[n_sizes++] = 2000;
		sizes[n_sizes++] = 20000;
	}
	if (kilo_net_open(&net, &err) < 0 || kilo_net_link_index(net, link, &ifindex, &err) < 0) {
		fprintf(stderr, "bench-routes: %s\n", err.message);
		return 1;
	}
	printf("bench-routes --link %s --runs %u: kilo_net_routes_sync, best of %u, ms\n\n", link, runs, runs);
	printf("| routes | first sync | nothing changed | one changed |\n|---|---|---|---|\n");
	for (unsigned s = 0; s < n_sizes; s++) {
		unsigned n = sizes[s];
		struct kilo_route *routes = calloc(n ? n : 1, sizeof(*routes));
		double first = 1e300, same = 1e300, one = 1e300;

		if (!routes)
			return 1;
		make_routes(routes, n, ifindex);
		for (unsigned k = 0; k < runs; k++) {
			timed_sync(net, NULL, 0);
			first = min(first, timed_sync(net, routes, n));
			same = min(same, timed_sync(net, routes, n));
			kilo_addr_parse("10.9.0.3", &routes[n / 2].gw, NULL);
			one = min(one, timed_sync(net, routes, n));
			kilo_addr_parse("10.9.0.2", &routes[n / 2].gw, NULL);
		}
		timed_sync(net, NULL, 0);
		printf("| %u | %.1f | %.1f | %.1f |\n", n, first, same, one);
		free(routes);
	}
	kilo_net_close(net);
	return 0;
}
