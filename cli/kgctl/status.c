// SPDX-License-Identifier: Apache-2.0
/* kgctl status --store file:DIR: nodes, leaders, liveness and endpoints at a glance. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kgctl.h"

enum {
	OPT_NOW = 256,
	OPT_READY_WINDOW,
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
	"      --ready-window SECONDS      the agents' ready window (default 6)\n"
	"  -h, --help                      print this help\n";

static int parse_seconds(const char *flag, const char *text, long long max, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(text, &end, 10);
	if (errno || end == text || *end || *out < 1 || *out > max)
		return kgctl_fail("%s must be a whole number of seconds from 1 to %lld; got \"%s\"", flag, max, text);
	return 0;
}

int kgctl_status(int argc, char *argv[])
{
	static const struct option options[] = {
		KGCTL_MESH_SOURCE_OPTIONS,
		{ "now", required_argument, NULL, OPT_NOW },
		{ "ready-window", required_argument, NULL, OPT_READY_WINDOW },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct kgctl_mesh_source source = { 0 };
	long long now = (long long)time(NULL), window = KILO_DEFAULT_READY_WINDOW;
	struct kilo_error err = { 0 };
	kilo_mesh *mesh = NULL;
	char *table = NULL;
	int c, r;

	while ((c = kgctl_getopt("status", argc, argv, ":h", options)) != -1) {
		switch (c) {
		case 'm':
			source.mesh_path = optarg;
			break;
		case 'S':
			source.store = optarg;
			break;
		case OPT_NOW:
			if (parse_seconds("now", optarg, INT64_MAX, &now))
				return KGCTL_EXIT_FAILURE;
			break;
		case OPT_READY_WINDOW:
			if (parse_seconds("ready-window", optarg, UINT32_MAX, &window))
				return KGCTL_EXIT_FAILURE;
			break;
		case 'h':
			return kgctl_print(usage_text);
		default:
			return KGCTL_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return kgctl_usage_fail("status", "unexpected argument \"%s\"", argv[optind]);
	r = kgctl_load_mesh_from("status", &source, &mesh);
	if (r)
		return r;
	if (kilo_mesh_status_format(mesh, now, (uint32_t)window, &table, &err) < 0)
		r = kgctl_fail("%s", err.message);
	else
		r = kgctl_print(table);
	kilo_free(table);
	kilo_mesh_free(mesh);
	return r;
}
