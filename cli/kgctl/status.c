// SPDX-License-Identifier: Apache-2.0
/* kgctl status --store file:DIR: nodes, leaders, liveness and endpoints at a glance. */
#include <stdio.h>
#include <time.h>

#include "kgctl.h"

enum {
	OPT_NOW = 256,
};

static const char usage_text[] =
	"Usage: kgctl status (--store file:DIR | --mesh FILE) [flags]\n"
	"\n"
	"Print every node of the mesh (its location, whether it leads its segment,\n"
	"whether it is ready, its endpoint, WireGuard IP and when it was last seen),\n"
	"then every VPN peer. A node is live while it was seen within the ready\n"
	"window, as the agents judge it.\n"
	"\n"
	"Flags:\n"
	KGCTL_MESH_SOURCE_USAGE
	"      --now SECONDS               judge liveness at this Unix time (default: now)\n"
	"  -h, --help                      print this help\n";

int kgctl_status(int argc, char *argv[])
{
	static const struct option options[] = {
		KGCTL_MESH_SOURCE_OPTIONS,
		{ "now", required_argument, NULL, OPT_NOW },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	/* status judges a mesh document's liveness too, at --now. */
	struct kgctl_mesh_source source = { .snapshot_liveness = true };
	long long now = (long long)time(NULL);
	struct kilo_error err = { 0 };
	kilo_mesh *mesh = NULL;
	char *table = NULL;
	int c, r;

	while ((c = kgctl_getopt("status", argc, argv, ":h", options)) != -1) {
		switch (c) {
		case OPT_NOW:
			if (kgctl_parse_seconds("now", optarg, INT64_MAX, &now))
				return KGCTL_EXIT_FAILURE;
			break;
		case 'h':
			return kgctl_print(usage_text);
		default:
			r = kgctl_mesh_source_option(c, optarg, &source);
			if (r <= 0)
				return r ? KGCTL_EXIT_FAILURE : KGCTL_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return kgctl_usage_fail("status", "unexpected argument \"%s\"", argv[optind]);
	r = kgctl_load_mesh_from("status", &source, &mesh);
	if (r)
		return r;
	if (kilo_mesh_status_format(mesh, now, source.ready_window ? source.ready_window : KILO_DEFAULT_READY_WINDOW,
				    &table, &err) < 0)
		r = kgctl_fail("%s", err.message);
	else
		r = kgctl_print(table);
	kilo_free(table);
	kilo_mesh_free(mesh);
	return r;
}
