// SPDX-License-Identifier: Apache-2.0
/* kgctl apply: compute a node's plan and apply it to this host once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planflags.h"

enum {
	OPT_PRIVATE_KEY = KGCTL_OPT_FIRST_FREE,
	OPT_WG_BACKEND,
	OPT_USERSPACE,
	OPT_MTU,
	OPT_CLEAN_UP,
};

static const char usage_text[] =
	"Usage: kgctl apply --mesh FILE --node NAME --private-key FILE [flags]\n"
	"       kgctl apply --clean-up [--interface NAME] [--wg-backend B]\n"
	"       kgctl apply -f FILE|DIR|- --store URI   (Kubernetes objects: see kgctl apply -f - --help)\n"
	"\n"
	"Solve the mesh for NAME, this host, and apply the plan: the WireGuard device\n"
	"and its key, the device's address, routes, ip rules and NAT rules. Only what\n"
	"differs from the host is changed, and what changed is printed; a second run\n"
	"changes nothing. All or nothing: the links, addresses and key are checked\n"
	"first, and a failure undoes what the run changed (a device it created, the\n"
	"wireguard-go it started, routes, rules). Endpoint names are resolved first:\n"
	"one that does not resolve leaves its node or peer without an endpoint, with\n"
	"a warning, and the rest is applied. --clean-up removes what apply made.\n"
	"\n"
	"Flags:\n"
	"      --mesh FILE                 the mesh document (\"-\" for stdin)\n"
	"      --node NAME                 this host's node\n"
	"      --private-key FILE          the node's private key (wg genkey format, mode 0600)\n"
	"      --wg-backend B              auto, kernel or userspace (default auto)\n"
	"      --userspace-wireguard PATH  start PATH IFNAME when the device has no socket\n"
	"      --mtu auto|BYTES            the WireGuard MTU; auto: the default route's link's less 80 (default 1420)\n"
	KGCTL_PLAN_USAGE
	"      --clean-up                  remove the device, routes, rules and NAT rules\n"
	"  -h, --help                      print this help\n";

/* Prints one line for what changed; false when nothing did. */
static bool print_changes(const char *what, const struct kilo_net_changes *c)
{
	if (!c->added && !c->removed && !c->replaced)
		return false;
	printf("%s: %u added, %u removed, %u replaced\n", what, c->added, c->removed, c->replaced);
	return true;
}

static int print_report(const char *node, const char *interface, const struct kilo_apply_report *r)
{
	bool changed = r->device_created || r->wg_peers_changed || r->wg_interface_changed;

	if (changed)
		printf("wireguard %s:%s%s %u peers changed\n", interface, r->device_created ? " created," : "",
		       r->wg_interface_changed ? " key or port set," : "", r->wg_peers_changed);
	changed |= print_changes("link", &r->link);
	changed |= print_changes("addresses", &r->addresses);
	changed |= print_changes("routes", &r->routes);
	changed |= print_changes("rules", &r->rules);
	if (!changed)
		printf("node %s: nothing changed\n", node);
	return kgctl_print("");
}

/* The library's warnings (an endpoint name that does not resolve) on stderr, as kgctl's other warnings. */
static void warn(void *ctx, enum kilo_log_level level, const char *message)
{
	(void)ctx;
	if (level <= KILO_LOG_WARNING)
		fprintf(stderr, "kgctl: warning: %s\n", message);
}

int kgctl_apply(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "mesh", required_argument, NULL, 'm' },
		{ "node", required_argument, NULL, 'n' },
		{ "private-key", required_argument, NULL, OPT_PRIVATE_KEY },
		{ "wg-backend", required_argument, NULL, OPT_WG_BACKEND },
		{ "userspace-wireguard", required_argument, NULL, OPT_USERSPACE },
		{ "mtu", required_argument, NULL, OPT_MTU },
		{ "clean-up", no_argument, NULL, OPT_CLEAN_UP },
		KGCTL_PLAN_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	/* apply makes the device, and --clean-up removes it with the rest. */
	struct kilo_wg_opts wg = { .sz = sizeof(wg) };
	struct kilo_apply_opts opts = { .sz = sizeof(opts), .wg = &wg, .clean_up_interface = true };
	const char *mesh_path = NULL, *node = NULL, *key_path = NULL, *mtu = NULL;
	struct kilo_apply_report report;
	struct kilo_error err = { 0 };
	struct kgctl_plan_flags flags = { 0 };
	struct kilo_key key = { { 0 } };
	kilo_topology *topology = NULL;
	kilo_mesh *mesh = NULL;
	bool clean_up = false;
	const char *ifname;
	int c, r = 0;

	if (kgctl_apply_wants_objects(argc, argv))
		return kgctl_apply_objects(argc, argv);
	while ((c = kgctl_getopt("apply", argc, argv, ":h", options)) != -1) {
		switch (c) {
		case 'm':
			mesh_path = optarg;
			break;
		case 'n':
			node = optarg;
			break;
		case OPT_PRIVATE_KEY:
			key_path = optarg;
			break;
		case OPT_WG_BACKEND:
			if (kilo_wg_backend_parse(optarg, &wg.backend, NULL) < 0)
				return kgctl_usage_fail("apply", "--wg-backend: \"%s\" is not auto, kernel or userspace", optarg);
			break;
		case OPT_USERSPACE:
			wg.userspace_program = optarg;
			break;
		case OPT_MTU:
			mtu = optarg; /* measured once the flags are read */
			break;
		case OPT_CLEAN_UP:
			clean_up = true;
			break;
		case 'h':
			return kgctl_print(usage_text);
		default:
			r = kgctl_plan_flag(c, optarg, &flags);
			if (r <= 0)
				return KGCTL_EXIT_USAGE;
			r = 0;
		}
	}
	if (optind != argc)
		return kgctl_usage_fail("apply", "unexpected argument \"%s\"", argv[optind]);
	opts.interface = flags.interface;
	ifname = flags.interface ? flags.interface : KILO_DEFAULT_INTERFACE;
	opts.no_local = flags.no_local;
	opts.encapsulate = flags.encapsulate;
	opts.compatibility = flags.compatibility;
	opts.no_cni = flags.no_cni;
	opts.forward_rules = flags.forward_rules;
	if (clean_up) {
		if (kilo_apply_clean_up(&opts, &err) < 0)
			return kgctl_fail("%s", err.message);
		printf("removed %s and the routes, rules and NAT rules of libkilo\n", ifname);
		return kgctl_print("");
	}
	if (!mesh_path)
		return kgctl_usage_fail("apply", "missing --mesh FILE");
	if (mtu && (r = cli_parse_mtu("apply", mtu, NULL, &opts.mtu)))
		return r;
	if (!node)
		return kgctl_usage_fail("apply", "missing --node NAME");
	if (!key_path)
		return kgctl_usage_fail("apply", "missing --private-key FILE");

	if (kilo_key_read_file(key_path, &key, &err) < 0) {
		r = kgctl_fail("%s", err.message);
		goto out;
	}
	r = kgctl_load_mesh(mesh_path, &mesh);
	if (r)
		goto out;
	if (!kgctl_find_ready_node(mesh, node)) {
		r = kgctl_fail("did not find any node named \"%s\" in the cluster", node);
		goto out;
	}
	/* A name that does not resolve leaves its node or peer without endpoint; the rest is applied. */
	if (kilo_mesh_resolve(mesh, warn, NULL, &err) < 0) {
		r = kgctl_fail("%s", err.message);
		goto out;
	}
	r = kgctl_solve_topology(mesh,
				 &(struct kilo_solve_opts){ .sz = sizeof(struct kilo_solve_opts),
							    .hostname = node,
							    .private_key = &key,
							    .override_granularity = flags.override_granularity,
							    .granularity = flags.granularity },
				 &topology);
	if (r)
		goto out;
	if (kilo_apply(topology, &opts, &report, &err) < 0)
		r = kgctl_fail("%s", err.message);
	else
		r = print_report(node, ifname, &report);
out:
	kilo_key_wipe(&key);
	kilo_topology_free(topology);
	kilo_mesh_free(mesh);
	return r;
}
