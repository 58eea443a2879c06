// SPDX-License-Identifier: Apache-2.0
/* kgctl showconf node|peer NAME: the WireGuard configuration of one member. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kgctl.h"

enum output {
	OUTPUT_WIREGUARD,
	OUTPUT_JSON,
	OUTPUT_YAML,
};

struct showconf_args {
	struct kgctl_mesh_source source;
	bool as_peer;
	enum output output;
	struct kilo_cidr *allowed_ips;
	size_t n_allowed_ips;
	uint16_t port;
	bool override_granularity;
	enum kilo_granularity granularity;
};

enum {
	OPT_AS_PEER = 256,
	OPT_ALLOWED_IPS,
	OPT_PORT,
	OPT_GRANULARITY,
};

static const char usage_text[] =
	"Usage: kgctl showconf (node|peer) NAME (--mesh FILE | --store URI) [flags]\n"
	"\n"
	"Print the WireGuard configuration of a node or of a VPN peer, as Kilo's\n"
	"kgctl does. A node that does not lead its location prints a notice on\n"
	"stderr and nothing on stdout.\n"
	"\n"
	"Flags:\n"
	KGCTL_MESH_SOURCE_USAGE
	"      --as-peer                   print the node or peer as a peer of the mesh\n"
	"  -o, --output FORMAT             wireguard (default), json or yaml; json and\n"
	"                                  yaml print a Kilo Peer object (with --as-peer)\n"
	"      --allowed-ips CIDR[,CIDR]   extra allowed IPs for --as-peer (repeatable)\n"
	"      --port PORT                 the node's listen port (default 51820; not used\n"
	"                                  for peers, which always see port 51820)\n"
	"      --mesh-granularity G        location, full or cross (default: the mesh's)\n"
	"  -h, --help                      print this help\n";

static int parse_output(const char *text, enum output *out)
{
	if (!strcmp(text, "wireguard"))
		*out = OUTPUT_WIREGUARD;
	else if (!strcmp(text, "json"))
		*out = OUTPUT_JSON;
	else if (!strcmp(text, "yaml"))
		*out = OUTPUT_YAML;
	else
		return kgctl_fail("output format must be one of wireguard, json or yaml; got \"%s\"", text);
	return 0;
}

/*
 * Appends every CIDR of a comma-separated list, masked as Go's ParseCIDR
 * masks it. Like pflag, an empty value adds nothing but an empty item is bad.
 */
static int add_allowed_ips(struct showconf_args *args, const char *list)
{
	char *copy = strdup(list), *rest = copy, *token;
	struct kilo_cidr cidr, *grown;
	int r = 0;

	if (!copy)
		return kgctl_fail("out of memory");
	while (list[0] && (token = strsep(&rest, ","))) {
		if (kilo_cidr_parse(token, &cidr, NULL) < 0) {
			r = kgctl_fail("allowed-ips must contain only valid CIDRs; got \"%s\"", token);
			break;
		}
		grown = realloc(args->allowed_ips, (args->n_allowed_ips + 1) * sizeof(*grown));
		if (!grown) {
			r = kgctl_fail("out of memory");
			break;
		}
		args->allowed_ips = grown;
		args->allowed_ips[args->n_allowed_ips++] = kilo_cidr_masked(&cidr);
	}
	free(copy);
	return r;
}

/* Prints config (its first peer, as a Peer object) in the chosen format. */
static int print_config(const kilo_wg_config *config, const char *name, enum output output)
{
	struct kilo_error err = { 0 };
	char *text = NULL;
	int r;

	if (output == OUTPUT_WIREGUARD)
		r = kilo_wg_config_format(config, &text, &err);
	else
		r = kilo_peer_object_format(config, 0, name, output == OUTPUT_JSON ? KILO_PEER_JSON : KILO_PEER_YAML,
					    &text, &err);
	if (r < 0)
		return kgctl_fail("%s", err.message);
	r = kgctl_print(text);
	kilo_free(text);
	return r;
}

static bool find_peer(const kilo_mesh *mesh, const char *name)
{
	for (size_t i = 0; i < kilo_mesh_peer_count(mesh); i++)
		if (!strcmp(kilo_mesh_peer_name(mesh, i), name))
			return true;
	return false;
}

static int show_node(const kilo_mesh *mesh, const char *name, const struct showconf_args *args)
{
	struct kilo_solve_opts opts = {
		.sz = sizeof(opts),
		.hostname = name,
		.port = args->port,
		.override_granularity = args->override_granularity,
		.granularity = args->granularity,
	};
	struct kilo_error err = { 0 };
	kilo_topology *topology = NULL;
	kilo_wg_config *config = NULL;
	int r;

	if (!kgctl_find_ready_node(mesh, name))
		return kgctl_fail("did not find any node named \"%s\" in the cluster", name);
	r = kgctl_solve_topology(mesh, &opts, &topology);
	if (r)
		return r;
	if (!kilo_topology_is_leader(topology)) {
		/* Kilo's notice: not an error, and nothing on stdout. */
		fprintf(stderr, "Node \"%s\" is not a leader node\n", name);
		goto out;
	}
	if (args->as_peer)
		r = kilo_topology_as_peer(topology, args->allowed_ips, args->n_allowed_ips, &config, &err);
	else
		r = kilo_topology_conf(topology, &config, &err);
	if (r < 0)
		r = kgctl_fail("%s", err.message);
	else
		r = print_config(config, name, args->as_peer ? args->output : OUTPUT_WIREGUARD);
out:
	kilo_wg_config_free(config);
	kilo_topology_free(topology);
	return r;
}

static int show_peer(const kilo_mesh *mesh, const char *name, const struct showconf_args *args)
{
	/* Kilo shows a peer the mesh on the default port, whatever --port says. */
	struct kilo_solve_opts opts = {
		.sz = sizeof(opts),
		.port = KILO_DEFAULT_PORT,
		.override_granularity = args->override_granularity,
		.granularity = args->granularity,
	};
	struct kilo_error err = { 0 };
	kilo_topology *topology = NULL;
	kilo_wg_config *config = NULL;
	int r;

	if (!find_peer(mesh, name))
		return kgctl_fail("did not find any peer named \"%s\" in the cluster", name);
	r = kgctl_solve_topology(mesh, &opts, &topology);
	if (r)
		return r;
	if (args->as_peer)
		r = kilo_topology_peer_as_peer(topology, name, args->allowed_ips, args->n_allowed_ips, &config, &err);
	else
		r = kilo_topology_peer_conf(topology, name, &config, &err);
	if (r < 0)
		r = kgctl_fail("%s", err.message);
	else
		r = print_config(config, name, args->as_peer ? args->output : OUTPUT_WIREGUARD);
	kilo_wg_config_free(config);
	kilo_topology_free(topology);
	return r;
}

int kgctl_showconf(int argc, char *argv[])
{
	static const struct option options[] = {
		KGCTL_MESH_SOURCE_OPTIONS,
		{ "as-peer", no_argument, NULL, OPT_AS_PEER },
		{ "output", required_argument, NULL, 'o' },
		{ "allowed-ips", required_argument, NULL, OPT_ALLOWED_IPS },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "mesh-granularity", required_argument, NULL, OPT_GRANULARITY },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct showconf_args args = { .port = KILO_DEFAULT_PORT };
	kilo_mesh *mesh = NULL;
	unsigned long port;
	int c, r = 0;

	while (!r && (c = kgctl_getopt("showconf", argc, argv, ":o:h", options)) != -1) {
		switch (c) {
		case OPT_AS_PEER:
			args.as_peer = true;
			break;
		case 'o':
			r = parse_output(optarg, &args.output);
			break;
		case OPT_ALLOWED_IPS:
			r = add_allowed_ips(&args, optarg);
			break;
		case OPT_PORT:
			r = cli_parse_number("showconf", "port", optarg, 1, 65535, &port);
			args.port = (uint16_t)port;
			break;
		case OPT_GRANULARITY:
			args.override_granularity = true;
			r = kgctl_parse_granularity(optarg, &args.granularity);
			break;
		case 'h':
			free(args.allowed_ips);
			return kgctl_print(usage_text);
		default:
			r = kgctl_mesh_source_option(c, optarg, &args.source);
			r = r > 0 ? 0 : KGCTL_EXIT_USAGE;
			break;
		}
	}
	if (r)
		goto out;
	if (argc - optind != 2 || (strcmp(argv[optind], "node") && strcmp(argv[optind], "peer")))
		r = kgctl_usage_fail("showconf", "expected \"node NAME\" or \"peer NAME\"");
	else
		r = kgctl_load_mesh_from("showconf", &args.source, &mesh);
	if (r)
		goto out;
	if (!strcmp(argv[optind], "node"))
		r = show_node(mesh, argv[optind + 1], &args);
	else
		r = show_peer(mesh, argv[optind + 1], &args);
out:
	kilo_mesh_free(mesh);
	free(args.allowed_ips);
	return r;
}
