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
	{ "apply", kgctl_apply, "Apply a node's plan to this host: WireGuard, routes, rules, NAT" },
	{ "wg", kgctl_wg, "Show a WireGuard device, or set it from a configuration file" },
	{ "status", kgctl_status, "Print the nodes and peers of a store: leaders, liveness, endpoints" },
	{ "node", kgctl_node, "Change a node's settings in a store" },
	{ "connect", kgctl_connect, "Make this machine a VPN peer of the mesh until stopped" },
};

static void usage(FILE *out)
{
	fputs("Usage: kgctl [--help | --version] <command> [<args>]\n"
	      "\n"
	      "Inspect a Kilo-compatible WireGuard mesh described by a mesh document or a store.\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\n"
	      "Run 'kgctl <command> --help' for the flags of a command.\n"
	      "Exit status: 0 on success, 1 on any error, 2 when the command line cannot be parsed.\n",
	      out);
}

int main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
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
		default:
			return KGCTL_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return kgctl_usage_fail(NULL, "missing command");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[optind], commands[i].name)) {
			argv += optind;
			argc -= optind;
			/* Commands parse their own flags from a fresh getopt state. */
			optind = 0;
			return commands[i].run(argc, argv);
		}
	}
	return kgctl_usage_fail(NULL, "unknown command \"%s\"", argv[optind]);
}
