// SPDX-License-Identifier: Apache-2.0
/* kgctl: global flags and dispatch to the commands. */
#include <stdio.h>
#include <string.h>

#include "kgctl.h"

struct command {
	const char *name;
	int (*run)(int argc, char *argv[]);
	const char *summary;
};

static const struct command commands[] = {
	{ "solve", kgctl_solve, "Print a node's whole plan: topology, WireGuard config, routes, rules, NAT" },
	{ "showconf", kgctl_showconf, "Print the WireGuard configuration of a node or a VPN peer" },
	{ "graph", kgctl_graph, "Print the mesh as a GraphViz graph (DOT or SVG)" },
	{ "genkey", kgctl_genkey, "Print a new WireGuard private key" },
	{ "pubkey", kgctl_pubkey, "Read a private key on stdin and print its public key" },
	{ "apply", kgctl_apply, "Apply a node's plan to this host, or store Kubernetes objects (-f)" },
	{ "get", kgctl_get, "Print Kubernetes objects of a store (services, endpointslices, pods ...)" },
	{ "delete", kgctl_delete, "Remove Kubernetes objects from a store" },
	{ "wg", kgctl_wg, "Show a WireGuard device, or set it from a configuration file" },
	{ "status", kgctl_status, "Print the nodes and peers of a store: leaders, liveness, endpoints" },
	{ "node", kgctl_node, "Change a node's settings in a store" },
	{ "connect", kgctl_connect, "Make this machine a VPN peer of the mesh until stopped" },
	{ "services", kgctl_services, "Print a store's Services as a node's load balancer sees them" },
	{ "observe", kgctl_observe, "Print the flows network policy forwarded and dropped, from each kg" },
	{ "identities", kgctl_identities, "Print the numbers a store gave to label sets (network policy)" },
	{ "policy", kgctl_policy, "Explain whether the store's NetworkPolicies allow a flow, and by which rule" },
	{ "bpf", kgctl_bpf, "Print the counters of kg's load-balancing programs (bpf stats)" },
};

static void usage(FILE *out)
{
	fputs("Usage: kgctl [--help | --version] [<global flags>] <command> [<args>]\n"
	      "\n"
	      "Inspect a Kilo-compatible WireGuard mesh described by a mesh document or a store.\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\n"
	      "Global flags, before the command as in Kilo or after it, for the commands that take them:\n"
	      KGCTL_MESH_SOURCE_USAGE
	      "      --mesh-granularity G        location, full or cross (default: the mesh's)\n"
	      "      --port PORT                 the WireGuard listen port (default 51820)\n"
	      "\n"
	      "Run 'kgctl <command> --help' for the flags of a command.\n"
	      "Durations take Go's form (30s, 1m30s, 2h) or a number of seconds.\n"
	      "Exit status: 0 on success, 1 on any error, 2 when the command line cannot be parsed.\n",
	      out);
}

const char cli_program[] = "kgctl";

/*
 * Kilo's global flags come before the command (kgctl --store URI graph).
 * Here each command reads the flags it takes, so the global flags given
 * before the command are moved after its name: the command takes them, or
 * refuses one it has no use for, as if given after it.
 */
static void move_global_flags(char *argv[], int command)
{
	char *name = argv[command];

	memmove(argv + 2, argv + 1, (size_t)(command - 1) * sizeof(argv[0]));
	argv[1] = name;
}

int main(int argc, char *argv[])
{
	enum { GLOBAL = 'g' };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "mesh", required_argument, NULL, GLOBAL },
		{ "store", required_argument, NULL, GLOBAL },
		{ "ready-window", required_argument, NULL, GLOBAL },
		{ "etcd-cacert", required_argument, NULL, GLOBAL },
		{ "etcd-cert", required_argument, NULL, GLOBAL },
		{ "etcd-key", required_argument, NULL, GLOBAL },
		{ "etcd-user", required_argument, NULL, GLOBAL },
		{ "etcd-password-file", required_argument, NULL, GLOBAL },
		{ "mesh-granularity", required_argument, NULL, GLOBAL },
		{ "port", required_argument, NULL, GLOBAL },
		{ 0 },
	};
	int c;

	/* "+": stop at the command name, whose flags belong to the command. */
	while ((c = kgctl_getopt(NULL, argc, argv, "+:h", options)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return kgctl_print("");
		case 'V':
			printf("kgctl %s\n", kilo_version());
			return kgctl_print("");
		case GLOBAL:
			break;
		default:
			return KGCTL_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return kgctl_usage_fail(NULL, "missing command");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[optind], commands[i].name)) {
			move_global_flags(argv, optind);
			argv += 1;
			argc -= 1;
			/* Commands parse their own flags from a fresh getopt state. */
			optind = 0;
			return commands[i].run(argc, argv);
		}
	}
	return kgctl_usage_fail(NULL, "unknown command \"%s\"", argv[optind]);
}
