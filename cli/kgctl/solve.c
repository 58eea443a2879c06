// SPDX-License-Identifier: Apache-2.0
/* kgctl solve --mesh FILE --node NAME: everything a node would apply, as JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kgctl.h"

enum {
	OPT_LOCAL = 256,
	OPT_NO_LOCAL,
	OPT_ENCAPSULATE,
	OPT_COMPATIBILITY,
	OPT_INTERFACE,
	OPT_CNI,
	OPT_NO_CNI,
	OPT_FORWARD_RULES,
	OPT_GRANULARITY,
};

/*
 * The plan names links by index. Without a live host there are none, so
 * kgctl uses the numbers of Kilo's tests and of the conformance vectors.
 */
#define WG_IFINDEX 0
#define PRIVATE_IFINDEX 1
#define TUNNEL_IFINDEX 2

static const char usage_text[] =
	"Usage: kgctl solve --mesh FILE --node NAME [flags]\n"
	"\n"
	"Solve the mesh for one node and print its whole plan as JSON: the topology,\n"
	"the WireGuard configuration (without secrets), routes, ip rules and NAT rules.\n"
	"Links are named by index: 0 is the WireGuard interface, 1 the interface with\n"
	"the node's private IP, 2 the IPIP (or flannel/cilium) tunnel.\n"
	"\n"
	"Flags:\n"
	"      --mesh FILE                 the mesh document (\"-\" for stdin)\n"
	"      --node NAME                 the node to solve for\n"
	"  -o, --output FORMAT             json (the only format)\n"
	"      --local, --no-local         manage routes inside the location (default on)\n"
	"      --encapsulate MODE          never, crosssubnet or always (default always)\n"
	"      --compatibility MODE        flannel or cilium (default: plain IPIP)\n"
	"      --interface NAME            the WireGuard interface (default kilo0)\n"
	"      --cni, --no-cni             jump pod traffic to KILO-NAT (default on)\n"
	"      --iptables-forward-rules    add FORWARD rules for the pod subnet\n"
	"      --mesh-granularity G        location, full or cross (default: the mesh's)\n"
	"  -h, --help                      print this help\n";

int kgctl_solve(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "mesh", required_argument, NULL, 'm' },
		{ "node", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "local", no_argument, NULL, OPT_LOCAL },
		{ "no-local", no_argument, NULL, OPT_NO_LOCAL },
		{ "encapsulate", required_argument, NULL, OPT_ENCAPSULATE },
		{ "compatibility", required_argument, NULL, OPT_COMPATIBILITY },
		{ "interface", required_argument, NULL, OPT_INTERFACE },
		{ "cni", no_argument, NULL, OPT_CNI },
		{ "no-cni", no_argument, NULL, OPT_NO_CNI },
		{ "iptables-forward-rules", no_argument, NULL, OPT_FORWARD_RULES },
		{ "mesh-granularity", required_argument, NULL, OPT_GRANULARITY },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct kilo_solve_opts solve_opts = { .sz = sizeof(solve_opts) };
	struct kilo_plan_opts plan_opts = {
		.sz = sizeof(plan_opts),
		.routes = {
			.sz = sizeof(plan_opts.routes),
			.local = true,
			.encapsulate = KILO_ENCAPSULATE_ALWAYS,
			.compatibility = KILO_COMPATIBILITY_NONE,
			.wg_interface = "kilo0",
			.wg_ifindex = WG_IFINDEX,
			.private_ifindex = PRIVATE_IFINDEX,
			.tunnel_ifindex = TUNNEL_IFINDEX,
		},
		.nat = { .sz = sizeof(plan_opts.nat), .cni = true },
	};
	const char *mesh_path = NULL, *node = NULL;
	kilo_topology *topology = NULL;
	kilo_mesh *mesh = NULL;
	char *plan = NULL;
	int c, r = 0;

	while ((c = kgctl_getopt("solve", argc, argv, ":o:h", options)) != -1) {
		switch (c) {
		case 'm':
			mesh_path = optarg;
			break;
		case 'n':
			node = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "json"))
				return kgctl_fail("output format must be json; got \"%s\"", optarg);
			break;
		case OPT_LOCAL:
		case OPT_NO_LOCAL:
			plan_opts.routes.local = c == OPT_LOCAL;
			break;
		case OPT_ENCAPSULATE:
			if (kilo_encapsulate_parse(optarg, &plan_opts.routes.encapsulate) < 0)
				return kgctl_fail("encapsulate must be one of never, crosssubnet or always; got \"%s\"",
						  optarg);
			break;
		case OPT_COMPATIBILITY:
			if (kilo_compatibility_parse(optarg, &plan_opts.routes.compatibility) < 0)
				return kgctl_fail("compatibility must be flannel or cilium; got \"%s\"", optarg);
			break;
		case OPT_INTERFACE:
			if (!optarg[0] || strlen(optarg) >= KILO_IFNAMSIZ)
				return kgctl_fail("interface must be a name of 1 to %d characters; got \"%s\"",
						  KILO_IFNAMSIZ - 1, optarg);
			plan_opts.routes.wg_interface = optarg;
			break;
		case OPT_CNI:
		case OPT_NO_CNI:
			plan_opts.nat.cni = c == OPT_CNI;
			break;
		case OPT_FORWARD_RULES:
			plan_opts.nat.forward_rules = true;
			break;
		case OPT_GRANULARITY:
			solve_opts.override_granularity = true;
			if (kgctl_parse_granularity(optarg, &solve_opts.granularity))
				return KGCTL_EXIT_FAILURE;
			break;
		case 'h':
			return kgctl_print(usage_text);
		default:
			return KGCTL_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return kgctl_usage_fail("solve", "unexpected argument \"%s\"", argv[optind]);
	if (!mesh_path)
		return kgctl_usage_fail("solve", "missing --mesh FILE");
	if (!node)
		return kgctl_usage_fail("solve", "missing --node NAME");
	/* kg adds the IPIP rules only when it encapsulates inside its location. */
	plan_opts.nat.ipip_rules = plan_opts.routes.local && plan_opts.routes.encapsulate != KILO_ENCAPSULATE_NEVER;

	r = kgctl_load_mesh(mesh_path, &mesh);
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
	if (kilo_plan_to_json(topology, &plan_opts, &plan) < 0) {
		r = kgctl_fail("cannot build the plan of node \"%s\"", node);
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
