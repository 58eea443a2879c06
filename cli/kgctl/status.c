// SPDX-License-Identifier: Apache-2.0
/* kgctl status: nodes, leaders, liveness and endpoints at a glance, as a table or JSON. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kgctl.h"

enum {
	OPT_NOW = 256,
};

static const char usage_text[] =
	"Usage: kgctl status (--store URI | --mesh FILE) [flags]\n"
	"\n"
	"Print every node of the mesh (its location, whether it leads its segment,\n"
	"whether it is ready, its endpoint, WireGuard IP and when it was last seen),\n"
	"then every VPN peer. With --store, a node is live while it was seen within\n"
	"the ready window, as the agents judge it; a mesh document is a snapshot,\n"
	"whose nodes are judged as showconf and graph judge them (lastSeen aside).\n"
	"With --store and text output, the store follows: a file store's directory;\n"
	"for etcd each endpoint, whether it answers, the leader, the revision and\n"
	"the DB size.\n"
	"\n"
	"Flags:\n"
	KGCTL_MESH_SOURCE_USAGE
	"  -o, --output FORMAT             text (tables, the default) or json:\n"
	"                                  {\"nodes\": [{\"name\", \"location\", \"leader\",\n"
	"                                  \"ready\", \"endpoint\", \"wireGuardIP\", \"lastSeen\"}],\n"
	"                                  \"peers\": [{\"name\", \"allowedIPs\", \"endpoint\",\n"
	"                                  \"persistentKeepalive\"}]}, null when absent\n"
	"      --now SECONDS               judge liveness and ages at this Unix time (default: now)\n"
	"  -h, --help                      print this help\n";

int kgctl_status(int argc, char *argv[])
{
	static const struct option options[] = {
		KGCTL_MESH_SOURCE_OPTIONS,
		{ "output", required_argument, NULL, 'o' },
		{ "now", required_argument, NULL, OPT_NOW },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct kilo_status_opts opts = { .sz = sizeof(opts), .now = (int64_t)time(NULL) };
	struct kgctl_mesh_source source = { 0 };
	struct kilo_error err = { 0 };
	kilo_mesh *mesh = NULL;
	unsigned long now;
	bool json;
	char *out = NULL, *store_text = NULL;
	int c, r;

	while ((c = kgctl_getopt("status", argc, argv, ":ho:", options)) != -1) {
		switch (c) {
		case OPT_NOW:
			if (cli_parse_number("status", "now", optarg, 1, INT64_MAX, &now))
				return KGCTL_EXIT_USAGE;
			opts.now = (int64_t)now;
			break;
		case 'o':
			if (kgctl_parse_text_or_json("status", optarg, &json))
				return KGCTL_EXIT_USAGE;
			opts.format = json ? KILO_STATUS_JSON : KILO_STATUS_TEXT;
			break;
		case 'h':
			return kgctl_print(usage_text);
		default:
			r = kgctl_mesh_source_option(c, optarg, &source);
			if (r <= 0)
				return KGCTL_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return kgctl_usage_fail("status", "unexpected argument \"%s\"", argv[optind]);
	r = kgctl_load_mesh_described("status", &source, &mesh, &store_text);
	if (r)
		return r;
	opts.snapshot = source.mesh_path != NULL;
	opts.ready_window = source.ready_window ? source.ready_window : KILO_DEFAULT_READY_WINDOW;
	if (kilo_mesh_status(mesh, &opts, &out, &err) < 0)
		r = kgctl_fail("%s", err.message);
	else
		r = kgctl_print(out);
	if (r == 0 && store_text && opts.format != KILO_STATUS_JSON)
		r = kgctl_print("\n");
	if (r == 0 && store_text && opts.format != KILO_STATUS_JSON)
		r = kgctl_print(store_text);
	kilo_free(store_text);
	kilo_free(out);
	kilo_mesh_free(mesh);
	return r;
}
