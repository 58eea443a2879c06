// SPDX-License-Identifier: Apache-2.0
/* kgctl policy explain: whether a flow would pass the store's NetworkPolicies, and by which rule. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kgctl.h"

enum {
	OPT_FROM = 256,
	OPT_TO,
	OPT_PORT,
};

static const char usage_text[] =
	"Usage: kgctl policy explain --from NS/POD|PEER --to NS/POD --port PORT/PROTO --store URI [flags]\n"
	"\n"
	"Explain whether a flow would be allowed by the store's NetworkPolicies, with\n"
	"no traffic: egress at the source's node, then ingress at the destination's,\n"
	"each allowed (by which rule, or because no policy selects the pod) or denied\n"
	"(and which policies isolate the pod). It is computed from the maps the nodes'\n"
	"agents would load, looked up as the datapath looks a packet up.\n"
	"\n"
	"Flags:\n"
	KGCTL_MESH_SOURCE_USAGE
	"      --from NS/POD|PEER          the source: a pod, or a VPN peer by name\n"
	"      --to NS/POD                 the destination pod (after load balancing)\n"
	"      --port PORT/PROTO           the destination port and TCP, UDP or SCTP (80/TCP)\n"
	"  -o, --output FORMAT             text (the default) or json\n"
	"  -h, --help                      print this help\n";

/* "80/TCP" (the protocol defaults to TCP). */
static int parse_port(const char *text, uint16_t *port, uint8_t *proto)
{
	static const char *const names[] = { "TCP", "UDP", "SCTP" };
	static const uint8_t numbers[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP };
	const char *slash = strchr(text, '/');
	char *end;
	unsigned long n = strtoul(text, &end, 10);

	if (end == text || (*end && end != slash) || n < 1 || n > 65535 || text[0] == '-' || text[0] == '+')
		return -1;
	*port = (uint16_t)n;
	*proto = IPPROTO_TCP;
	if (!slash)
		return 0;
	for (size_t i = 0; i < 3; i++)
		if (strcasecmp(slash + 1, names[i]) == 0) {
			*proto = numbers[i];
			return 0;
		}
	return -1;
}

static int explain(struct kgctl_mesh_source *source, struct kilo_policy_explain_opts *opts)
{
	char *pods = NULL, *namespaces = NULL, *policies = NULL, *peers = NULL, *out = NULL;
	struct kilo_error err = { 0 };
	kilo_store *store = NULL;
	kilo_mesh *mesh = NULL;
	int r = kgctl_load_mesh_from("policy", source, &mesh);

	if (r == 0)
		r = kgctl_open_store(source->store, &source->store_opts, &store);
	opts->mesh = mesh;
	if (r == 0 && (kilo_store_list_objects(store, "Pod", &pods, &err) < 0 ||
		       kilo_store_list_objects(store, "Namespace", &namespaces, &err) < 0 ||
		       kilo_store_list_objects(store, "NetworkPolicy", &policies, &err) < 0 ||
		       kilo_store_list_objects(store, "Peer", &peers, &err) < 0))
		r = kgctl_fail("%s", err.message);
	/* The same objects as kg's agent reads, so that the answer is its maps'. */
	opts->pods = pods;
	opts->namespaces = namespaces;
	opts->policies = policies;
	opts->peer_objects = peers;
	if (r == 0 && kilo_policy_explain(opts, &out, &err) < 0)
		r = kgctl_fail("%s", err.message);
	if (r == 0)
		r = kgctl_print(out);
	kilo_free(out);
	kilo_free(pods);
	kilo_free(namespaces);
	kilo_free(policies);
	kilo_free(peers);
	kilo_store_close(store);
	kilo_mesh_free(mesh);
	return r;
}

int kgctl_policy(int argc, char *argv[])
{
	static const struct option options[] = {
		KGCTL_MESH_SOURCE_OPTIONS,
		{ "from", required_argument, NULL, OPT_FROM },
		{ "to", required_argument, NULL, OPT_TO },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct kilo_policy_explain_opts opts = { .sz = sizeof(opts) };
	struct kgctl_mesh_source source = { 0 };
	bool json = false;
	int c, r;

	while ((c = kgctl_getopt("policy", argc, argv, ":ho:", options)) != -1) {
		switch (c) {
		case OPT_FROM:
			opts.from = optarg;
			break;
		case OPT_TO:
			opts.to = optarg;
			break;
		case OPT_PORT:
			if (parse_port(optarg, &opts.port, &opts.proto) < 0)
				return kgctl_usage_fail("policy", "--port: \"%s\" is not PORT/PROTO (80/TCP; UDP, SCTP)",
							optarg);
			break;
		case 'o':
			if (kgctl_parse_text_or_json("policy", optarg, &json))
				return KGCTL_EXIT_USAGE;
			opts.format = json ? KILO_POLICY_FORMAT_JSON : KILO_POLICY_FORMAT_TEXT;
			break;
		case 'h':
			return kgctl_print(usage_text);
		default:
			r = kgctl_mesh_source_option(c, optarg, &source);
			if (r <= 0)
				return KGCTL_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return kgctl_usage_fail("policy", "missing subcommand (explain)");
	if (strcmp(argv[optind], "explain") != 0)
		return kgctl_usage_fail("policy", "unknown subcommand \"%s\" (explain)", argv[optind]);
	if (optind + 1 != argc)
		return kgctl_usage_fail("policy", "unexpected argument \"%s\"", argv[optind + 1]);
	if (!opts.from || !opts.to || !opts.port)
		return kgctl_usage_fail("policy", "--%s is required", !opts.from ? "from" : !opts.to ? "to" : "port");
	/* Policies live in a store; a mesh document has none. */
	if (source.mesh_path || !source.store)
		return kgctl_usage_fail("policy", "--store is required (a mesh document holds no NetworkPolicies)");
	return explain(&source, &opts);
}
