// SPDX-License-Identifier: Apache-2.0
/* kgctl solve (--mesh FILE | --store URI) --node NAME: everything a node would apply, as JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planflags.h"

/*
 * The plan names links by index. Without a live host there are none, so
 * kgctl uses the numbers of Kilo's tests and of the conformance vectors.
 */
#define WG_IFINDEX 0
#define PRIVATE_IFINDEX 1
#define TUNNEL_IFINDEX 2

static const char usage_text[] =
	"Usage: kgctl solve (--mesh FILE | --store URI) --node NAME [flags]\n"
	"\n"
	"Solve the mesh for one node and print its whole plan as JSON: the topology,\n"
	"the WireGuard configuration (without secrets), routes, ip rules and NAT rules.\n"
	"Links are named by index: 0 is the WireGuard interface, 1 the interface with\n"
	"the node's private IP, 2 the IPIP (or flannel/cilium) tunnel.\n"
	"\n"
	"Flags:\n"
	KGCTL_MESH_SOURCE_USAGE
	"      --node NAME                 the node to solve for\n"
	"  -o, --output FORMAT             json (the only format)\n"
	KGCTL_PLAN_USAGE
	"  -h, --help                      print this help\n";

int kgctl_solve(int argc, char *argv[])
{
	static const struct option options[] = {
		KGCTL_MESH_SOURCE_OPTIONS,
		{ "node", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		KGCTL_PLAN_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct kgctl_plan_flags flags = { 0 };
	struct kilo_solve_opts solve_opts = { .sz = sizeof(solve_opts) };
	struct kilo_routes_opts routes = {
		.sz = sizeof(routes),
		.wg_ifindex = WG_IFINDEX,
		.private_ifindex = PRIVATE_IFINDEX,
		.tunnel_ifindex = TUNNEL_IFINDEX,
	};
	struct kilo_nat_opts nat = { .sz = sizeof(nat) };
	struct kilo_plan_opts plan_opts = { .sz = sizeof(plan_opts), .routes = &routes, .nat = &nat };
	struct kgctl_mesh_source source = { 0 };
	const char *node = NULL;
	struct kilo_error err = { 0 };
	kilo_topology *topology = NULL;
	kilo_mesh *mesh = NULL;
	char *plan = NULL;
	int c, r = 0;

	while ((c = kgctl_getopt("solve", argc, argv, ":o:h", options)) != -1) {
		switch (c) {
		case 'n':
			node = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "json"))
				return kgctl_usage_fail("solve", "--output: \"%s\" is not json", optarg);
			break;
		case 'h':
			return kgctl_print(usage_text);
		default:
			r = kgctl_mesh_source_option(c, optarg, &source);
			if (r == 0)
				r = kgctl_plan_flag(c, optarg, &flags);
			if (r <= 0)
				return KGCTL_EXIT_USAGE;
			r = 0;
		}
	}
	if (optind != argc)
		return kgctl_usage_fail("solve", "unexpected argument \"%s\"", argv[optind]);
	if (!node)
		return kgctl_usage_fail("solve", "missing --node NAME");
	solve_opts.override_granularity = flags.override_granularity;
	solve_opts.granularity = flags.granularity;
	routes.no_local = flags.no_local;
	routes.encapsulate = flags.encapsulate;
	routes.compatibility = flags.compatibility;
	routes.wg_interface = flags.interface;
	nat.no_cni = flags.no_cni;
	nat.forward_rules = flags.forward_rules;

	r = kgctl_load_mesh_from("solve", &source, &mesh);
	if (r)
		goto out;
	if (!kgctl_find_ready_node(mesh, node)) {
		r = kgctl_fail("did not find any node named \"%s\" in the cluster", node);
		goto out;
	}
	solve_opts.hostname = node;
	r = kgctl_solve_topology(mesh, &solve_opts, &topology);
	if (r)
		goto out;
	nat.ipip_rules = kilo_topology_ipip_rules(topology, &routes);
	if (kilo_plan_to_json(topology, &plan_opts, &plan, &err) < 0) {
		r = kgctl_fail("%s", err.message);
		goto out;
	}
	r = kgctl_print(plan);
	if (!r && plan[0] && plan[strlen(plan) - 1] != '\n')
		r = kgctl_print("\n");
out:
	kilo_free(plan);
	kilo_topology_free(topology);
	kilo_mesh_free(mesh);
	return r;
}
