// SPDX-License-Identifier: Apache-2.0
/* kgctl identities: the numbers the store handed out to label sets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kgctl.h"

static const char usage_text[] =
	"Usage: kgctl identities --store URI [flags]\n"
	"\n"
	"Print the identities of a store: the number each label set of a pod or a\n"
	"VPN peer has on every node (what kg's policy maps and flow events carry),\n"
	"when it was handed out (UTC) and the label set.\n"
	"\n"
	"Flags:\n"
	KGCTL_MESH_SOURCE_USAGE
	"  -h, --help                      print this help\n";

/* The table, into a string (free), so that kgctl_print reports a failed write. */
static char *format_identities(const struct kilo_store_identity *ids, size_t n)
{
	char created[32], labels[KILO_ESCAPED_SIZE(KILO_IDENTITY_LABELS_MAX)], *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	if (!out)
		return NULL;
	fprintf(out, "%-10s %-20s %s\n", "ID", "CREATED", "LABELS");
	for (size_t i = 0; i < n; i++) {
		time_t t = (time_t)ids[i].created;
		struct tm tm;

		if (!gmtime_r(&t, &tm) || !strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm))
			snprintf(created, sizeof(created), "%lld", (long long)ids[i].created);
		fprintf(out, "%-10u %-20s %s\n", ids[i].id, created, kilo_escape(ids[i].labels, labels, sizeof(labels)));
	}
	if (fclose(out) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

int kgctl_identities(int argc, char *argv[])
{
	static const struct option options[] = {
		KGCTL_MESH_SOURCE_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct kgctl_mesh_source source = { 0 };
	struct kilo_store_identity *ids = NULL;
	struct kilo_error err = { 0 };
	kilo_store *store = NULL;
	char *text = NULL;
	size_t n = 0;
	int c, r;

	while ((c = kgctl_getopt("identities", argc, argv, ":h", options)) != -1) {
		if (c == 'h')
			return kgctl_print(usage_text);
		r = kgctl_mesh_source_option(c, optarg, &source);
		if (r <= 0)
			return KGCTL_EXIT_USAGE;
	}
	if (optind != argc)
		return kgctl_usage_fail("identities", "unexpected argument \"%s\"", argv[optind]);
	if (source.mesh_path || !source.store)
		return kgctl_usage_fail("identities", "--store is required (a mesh document holds no identities)");
	r = kgctl_open_store(source.store, &source.store_opts, &store);
	if (r == 0 && kilo_store_identity_list(store, &ids, &n, &err) < 0)
		r = kgctl_fail("%s", err.message);
	if (r == 0 && !(text = format_identities(ids, n)))
		r = kgctl_fail("out of memory");
	if (r == 0)
		r = kgctl_print(text);
	free(text);
	kilo_store_identities_free(ids, n);
	kilo_store_close(store);
	return r;
}
