// SPDX-License-Identifier: Apache-2.0
/* kgctl services: the store's Services as a node's load balancer sees them. */
#include <stdio.h>
#include <string.h>

#include "kgctl.h"

enum {
	OPT_NODE = 256,
};

static const char usage_text[] =
	"Usage: kgctl services --store URI [flags]\n"
	"\n"
	"Print the Services and EndpointSlices of a store as a node's load balancer\n"
	"(kg's --bpf) sees them: each frontend (a ClusterIP, or a NodePort on the\n"
	"node's internal IPs) with every endpoint behind it, its node, location and\n"
	"state, and whether it takes new flows. Objects that cannot be used are\n"
	"listed as problems.\n"
	"\n"
	"Flags:\n"
	KGCTL_MESH_SOURCE_USAGE
	"      --node NAME                 as this node sees them (NodePorts, local and\n"
	"                                  location-preferred endpoints); default: from\n"
	"                                  outside the mesh\n"
	"  -o, --output FORMAT             text (a table, the default) or json\n"
	"  -h, --help                      print this help\n";

int kgctl_services(int argc, char *argv[])
{
	static const struct option options[] = {
		KGCTL_MESH_SOURCE_OPTIONS,
		{ "node", required_argument, NULL, OPT_NODE },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	enum kilo_services_format format = KILO_SERVICES_FORMAT_TEXT;
	bool json;
	struct kgctl_mesh_source source = { 0 };
	struct kilo_error err = { 0 };
	char *services = NULL, *slices = NULL, *out = NULL;
	const char *node = NULL;
	kilo_store *store = NULL;
	kilo_mesh *mesh = NULL;
	int c, r;

	while ((c = kgctl_getopt("services", argc, argv, ":ho:", options)) != -1) {
		switch (c) {
		case OPT_NODE:
			node = optarg;
			break;
		case 'o':
			if (kgctl_parse_text_or_json("services", optarg, &json))
				return KGCTL_EXIT_USAGE;
			format = json ? KILO_SERVICES_FORMAT_JSON : KILO_SERVICES_FORMAT_TEXT;
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
		return kgctl_usage_fail("services", "unexpected argument \"%s\"", argv[optind]);
	/* Services live in a store; a mesh document has none. */
	if (source.mesh_path || !source.store)
		return kgctl_usage_fail("services", "--store is required (a mesh document holds no Services)");
	r = kgctl_load_mesh_from("services", &source, &mesh);
	if (r == 0)
		r = kgctl_open_store(source.store, &source.store_opts, &store);
	if (r == 0 && (kilo_store_list_objects(store, "Service", &services, &err) < 0 ||
		       kilo_store_list_objects(store, "EndpointSlice", &slices, &err) < 0 ||
		       kilo_lb_services_format(services, slices, mesh, node, format, &out, &err) < 0))
		r = kgctl_fail("%s", err.message);
	if (r == 0)
		r = kgctl_print(out);
	kilo_free(out);
	kilo_free(services);
	kilo_free(slices);
	kilo_store_close(store);
	kilo_mesh_free(mesh);
	return r;
}
