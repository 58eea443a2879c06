// SPDX-License-Identifier: Apache-2.0
/* kgctl wg show|setconf: a WireGuard device, read or set like `wg` does it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kgctl.h"

enum {
	OPT_WG_BACKEND = 256,
};

static const char usage_text[] =
	"Usage: kgctl wg show IF [-o text|json|dump] [--wg-backend B]\n"
	"       kgctl wg setconf IF FILE [--wg-backend B]\n"
	"\n"
	"show prints the live device: text like `wg show IF`, json (no secrets), or\n"
	"dump exactly like `wg show IF dump` (with the private key). setconf makes the\n"
	"device equal to a configuration file of the `wg setconf` format, changing\n"
	"only what differs.\n"
	"\n"
	"Flags:\n"
	"  -o, --output FORMAT             text, json or dump (show; default text)\n"
	"      --wg-backend B              auto, kernel or userspace (default auto)\n"
	"  -h, --help                      print this help\n";

enum output {
	OUTPUT_TEXT,
	OUTPUT_JSON,
	OUTPUT_DUMP,
};

static int show(kilo_wg *wg, const char *ifname, enum output output)
{
	struct kilo_error err = { 0 };
	kilo_wg_config *config = NULL;
	char *text = NULL;
	int r;

	if (kilo_wg_device_get(wg, ifname, &config, &err) < 0)
		return kgctl_fail("%s", err.message);
	if (output == OUTPUT_DUMP)
		r = kilo_wg_config_format_dump(config, &text, &err);
	else if (output == OUTPUT_JSON)
		r = kilo_wg_config_to_json(config, false, &text, &err);
	else
		r = kilo_wg_config_format_show(config, ifname, (int64_t)time(NULL), &text, &err);
	kilo_wg_config_free(config);
	if (r < 0)
		return kgctl_fail("%s", err.message);
	r = kgctl_print(text);
	if (!r && output == OUTPUT_JSON)
		r = kgctl_print("\n");
	/* A dump holds the private key. */
	explicit_bzero(text, strlen(text));
	kilo_free(text);
	return r;
}

static int setconf(kilo_wg *wg, const char *ifname, const char *path)
{
	struct kilo_error err = { 0 };
	struct kilo_wg_sync_report report;
	kilo_wg_config *config = NULL;
	char *text = NULL;
	size_t len = 0;
	int r;

	r = kgctl_read_file("configuration", path, &text, &len);
	if (r)
		return r;
	if (kilo_wg_config_parse(text, len, &config, &err) < 0)
		r = kgctl_fail("%s: %s", path, err.message);
	else if (kilo_wg_device_sync(wg, ifname, config, &report, &err) < 0)
		r = kgctl_fail("%s", err.message);
	else if (report.peers_changed || report.interface_changed)
		printf("%s: %u peers changed%s\n", ifname, report.peers_changed,
		       report.interface_changed ? ", interface changed" : "");
	else
		printf("%s: nothing changed\n", ifname);
	kilo_wg_config_free(config);
	explicit_bzero(text, len);
	free(text);
	return r ? r : kgctl_print("");
}

int kgctl_wg(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "wg-backend", required_argument, NULL, OPT_WG_BACKEND },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct kilo_wg_opts opts = { .sz = sizeof(opts) };
	struct kilo_error err = { 0 };
	enum output output = OUTPUT_TEXT;
	const char *verb;
	kilo_wg *wg = NULL;
	int c, r;

	while ((c = kgctl_getopt("wg", argc, argv, ":o:h", options)) != -1) {
		switch (c) {
		case 'o':
			if (!strcmp(optarg, "text"))
				output = OUTPUT_TEXT;
			else if (!strcmp(optarg, "json"))
				output = OUTPUT_JSON;
			else if (!strcmp(optarg, "dump"))
				output = OUTPUT_DUMP;
			else
				return kgctl_fail("output format must be text, json or dump; got \"%s\"", optarg);
			break;
		case OPT_WG_BACKEND:
			if (kilo_wg_backend_parse(optarg, &opts.backend, NULL) < 0)
				return kgctl_fail("wg-backend must be one of auto, kernel or userspace; got \"%s\"", optarg);
			break;
		case 'h':
			return kgctl_print(usage_text);
		default:
			return KGCTL_EXIT_USAGE;
		}
	}
	verb = optind < argc ? argv[optind] : NULL;
	if (!verb || (strcmp(verb, "show") && strcmp(verb, "setconf")))
		return kgctl_usage_fail("wg", "expected show or setconf");
	if (argc - optind != (strcmp(verb, "show") ? 3 : 2))
		return kgctl_usage_fail("wg", strcmp(verb, "show") ? "expected: setconf IF FILE" : "expected: show IF");
	if (kilo_wg_open(&opts, &wg, &err) < 0)
		return kgctl_fail("%s", err.message);
	if (!strcmp(verb, "show"))
		r = show(wg, argv[optind + 1], output);
	else
		r = setconf(wg, argv[optind + 1], argv[optind + 2]);
	kilo_wg_close(wg);
	return r;
}
