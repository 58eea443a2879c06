// SPDX-License-Identifier: Apache-2.0
/* kgctl node set NAME KEY=VALUE... --store URI: change a node's own settings in the store. */
#include <stdio.h>
#include <string.h>

#include "kgctl.h"

static const char usage_text[] =
	"Usage: kgctl node set NAME KEY=VALUE... --store URI\n"
	"\n"
	"Change settings of a node in the store; its agent and every other agent\n"
	"pick the change up at once. An empty VALUE removes the setting. An edit\n"
	"that another writer's change overtakes is read again and retried, so that\n"
	"neither change is lost.\n"
	"\n"
	"Keys (the names of kg's flags):\n"
	"  location                 the node's location\n"
	"  leader                   true or false: prefer this node as its location's leader\n"
	"  force-endpoint           the endpoint others reach it at (ip:port or name:port)\n"
	"  force-internal-ip        its internal IP as a CIDR\n"
	"  persistent-keepalive     WireGuard keepalive in seconds\n"
	"  allowed-location-ips     comma-separated CIDRs routed to its location\n"
	"  pod-cidr                 its pod CIDR\n"
	"\n"
	"Flags:\n"
	"      --store URI                 the store the agents share: file:DIR or\n"
	"                                  etcd://HOST:PORT[,...][/CLUSTER]\n"
	KGCTL_STORE_USAGE
	"  -h, --help                      print this help\n";

int kgctl_node(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "store", required_argument, NULL, 'S' },
		KGCTL_STORE_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct kilo_store_opts store_opts = { .sz = sizeof(store_opts) };
	struct kilo_error err = { 0 };
	kilo_store *store = NULL;
	const char *uri = NULL;
	int c, r;

	while ((c = kgctl_getopt("node", argc, argv, ":h", options)) != -1) {
		switch (c) {
		case 'S':
			uri = optarg;
			break;
		case 'h':
			return kgctl_print(usage_text);
		default:
			if (!kgctl_store_option(c, optarg, &store_opts))
				return KGCTL_EXIT_USAGE;
		}
	}
	if (argc - optind < 3 || strcmp(argv[optind], "set"))
		return kgctl_usage_fail("node", "expected \"set NAME KEY=VALUE...\"");
	if (!uri)
		return kgctl_usage_fail("node", "missing --store URI");
	r = kgctl_open_store(uri, &store_opts, &store);
	if (r)
		return r;
	if (kilo_store_set_node(store, argv[optind + 1], (const char *const *)argv + optind + 2,
				(size_t)(argc - optind - 2), &err) < 0)
		r = kgctl_fail("node \"%s\": %s", argv[optind + 1], err.message);
	kilo_store_close(store);
	return r;
}
