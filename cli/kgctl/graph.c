// SPDX-License-Identifier: Apache-2.0
/* kgctl graph --mesh FILE | --store file:DIR: the mesh as GraphViz DOT, or rendered to SVG by dot(1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kgctl.h"

enum {
	OPT_GRANULARITY = 256,
};

static const char usage_text[] =
	"Usage: kgctl graph (--mesh FILE | --store URI) [flags]\n"
	"\n"
	"Print the mesh as a GraphViz graph, exactly as Kilo's kgctl graph does, or\n"
	"render it to SVG with Graphviz's dot(1), which must be installed.\n"
	"\n"
	"Flags:\n"
	KGCTL_MESH_SOURCE_USAGE
	"  -o, --output FORMAT             dot (default) or svg\n"
	"      --mesh-granularity G        location, full or cross (default: the mesh's)\n"
	"  -h, --help                      print this help\n";

/* The graph rendered by Graphviz's dot, on stdout. */
static int render_svg(const char *dot)
{
	struct kilo_error err = { 0 };
	char *svg = NULL;
	size_t len = 0;
	int r;

	if (kilo_graph_render(dot, "svg", &svg, &len, &err) < 0)
		return kgctl_fail("cannot render SVG: %s", err.message);
	r = kgctl_print(svg);
	kilo_free(svg);
	return r;
}

int kgctl_graph(int argc, char *argv[])
{
	static const struct option options[] = {
		KGCTL_MESH_SOURCE_OPTIONS,
		{ "output", required_argument, NULL, 'o' },
		{ "mesh-granularity", required_argument, NULL, OPT_GRANULARITY },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct kilo_solve_opts opts = { .sz = sizeof(opts) };
	struct kgctl_mesh_source source = { 0 };
	struct kilo_error err = { 0 };
	kilo_topology *topology = NULL;
	kilo_mesh *mesh = NULL;
	char *dot = NULL;
	bool svg = false;
	int c, r;

	while ((c = kgctl_getopt("graph", argc, argv, ":o:h", options)) != -1) {
		switch (c) {
		case 'o':
			if (strcmp(optarg, "dot") && strcmp(optarg, "svg"))
				return kgctl_usage_fail("graph", "--output: \"%s\" is not dot or svg", optarg);
			svg = !strcmp(optarg, "svg");
			break;
		case OPT_GRANULARITY:
			opts.override_granularity = true;
			if (kgctl_parse_granularity(optarg, &opts.granularity))
				return KGCTL_EXIT_USAGE;
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
		return kgctl_usage_fail("graph", "unexpected argument \"%s\"", argv[optind]);

	r = kgctl_load_mesh_from("graph", &source, &mesh);
	if (r)
		goto out;
	/* The graph shows neither the local node nor its port or key, so defaults do. */
	r = kgctl_solve_topology(mesh, &opts, &topology);
	if (r)
		goto out;
	if (kilo_topology_dot(topology, &dot, &err) < 0) {
		r = kgctl_fail("%s", err.message);
		goto out;
	}
	if (svg)
		r = render_svg(dot);
	else if (!(r = kgctl_print(dot)))
		/* Kilo prints the graph with Println: one more newline. */
		r = kgctl_print("\n");
out:
	kilo_free(dot);
	kilo_topology_free(topology);
	kilo_mesh_free(mesh);
	return r;
}
