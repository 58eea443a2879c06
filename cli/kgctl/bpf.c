// SPDX-License-Identifier: Apache-2.0
/* kgctl bpf stats: the load balancer's counters, read from the maps kg pinned. */
#include <stdio.h>
#include <string.h>

#include "kgctl.h"

enum {
	OPT_PIN_DIR = 256,
};

static const char usage_text[] =
	"Usage: kgctl bpf stats [--pin-dir DIR]\n"
	"\n"
	"Print the packets and bytes that kg's load-balancing programs\n"
	"handled on this host, summed over CPUs, one line per reason: new flows\n"
	"balanced, packets of known flows, replies reverse-NATed, drops and why.\n"
	"\n"
	"Flags:\n"
	"      --pin-dir DIR               where kg pinned the maps (kg's --bpf-pin-dir;\n"
	"                                  default /sys/fs/bpf/kilo)\n"
	"  -h, --help                      print this help\n";

int kgctl_bpf(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *pin_dir = NULL;
	struct kilo_error err = { 0 };
	char *out = NULL;
	int c, r;

	while ((c = kgctl_getopt("bpf", argc, argv, ":h", options)) != -1) {
		if (c == 'h')
			return kgctl_print(usage_text);
		if (c != OPT_PIN_DIR)
			return KGCTL_EXIT_USAGE;
		pin_dir = optarg;
	}
	if (optind >= argc)
		return kgctl_usage_fail("bpf", "missing subcommand (stats)");
	if (strcmp(argv[optind], "stats") != 0)
		return kgctl_usage_fail("bpf", "unknown subcommand \"%s\" (stats)", argv[optind]);
	if (optind + 1 != argc)
		return kgctl_usage_fail("bpf", "unexpected argument \"%s\"", argv[optind + 1]);
	if (kilo_bpf_stats_format(pin_dir, &out, &err) < 0)
		return kgctl_fail("%s", err.message);
	r = kgctl_print(out);
	kilo_free(out);
	return r;
}
