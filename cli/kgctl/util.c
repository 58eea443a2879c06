// SPDX-License-Identifier: Apache-2.0
/* What every command shares: error lines, option parsing, reading the mesh. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "kgctl.h"

int kgctl_getopt(const char *command, int argc, char *argv[], const char *shortopts, const struct option *longopts)
{
	const char *word;
	int c;

	/* shortopts starts with ':' so that a missing value is told apart. */
	opterr = 0;
	c = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (c != '?' && c != ':')
		return c;
	word = argv[optind - 1];
	if (!strncmp(word, "--", 2))
		kgctl_usage_fail(command, c == ':' ? "option %s needs a value" : "unknown option %s", word);
	else
		kgctl_usage_fail(command, c == ':' ? "option -%c needs a value" : "unknown option -%c", optopt);
	return '?';
}

int kgctl_read_file(const char *what, const char *path, char **text, size_t *len)
{
	bool use_stdin = !strcmp(path, "-");
	int fd, r;

	fd = use_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kgctl_fail("cannot open %s %s: %s", what, path, strerror(errno));
	r = kilo_read_all(fd, KILO_MESH_MAX_BYTES, text, len);
	if (!use_stdin)
		close(fd);
	if (r == -EFBIG)
		return kgctl_fail("%s %s is larger than %u MiB", what, path, KILO_MESH_MAX_BYTES >> 20);
	if (r < 0)
		return kgctl_fail("cannot read %s %s: %s", what, path, strerror(-r));
	return 0;
}

int kgctl_load_mesh(const char *path, kilo_mesh **mesh)
{
	struct kilo_error err = { 0 };
	char *text = NULL;
	size_t len = 0;
	int r;

	r = kgctl_read_file("mesh document", path, &text, &len);
	if (r)
		return r;
	r = kilo_mesh_from_json(text, len, mesh, &err);
	free(text);
	if (r < 0)
		return kgctl_fail("%s: %s", path, err.code ? err.message : strerror(-r));
	return 0;
}

static bool store_options_given(const struct kilo_store_opts *o)
{
	return o->etcd_cacert || o->etcd_cert || o->etcd_key || o->etcd_user || o->etcd_password_file;
}

int kgctl_open_store(const char *uri, const struct kilo_store_opts *opts, kilo_store **store)
{
	/* The flags' fields, whether or not the caller's struct had its size set. */
	struct kilo_store_opts sized = *opts;
	struct kilo_error err = { 0 };
	struct stat st;

	/* A mistyped path is an error, not an empty mesh. */
	if (!strncmp(uri, "file:", 5) && uri[5] && stat(uri + 5, &st) < 0)
		return kgctl_fail("store %s: %s", uri + 5, strerror(errno));
	sized.sz = sizeof(sized);
	if (kilo_store_open_opts(uri, &sized, store, &err) < 0)
		return kgctl_fail("%s", err.message);
	return 0;
}

static int load_store(const struct kgctl_mesh_source *source, kilo_mesh **mesh, char **store_text)
{
	struct kilo_store_report report;
	struct kilo_error err = { 0 };
	kilo_store *store = NULL;
	size_t shown;
	int r;

	struct kilo_store_opts opts = source->store_opts;

	/* A store is live: its mesh leaves out nodes whose agents stopped within the window. */
	opts.ready_window = source->ready_window;
	r = kgctl_open_store(source->store, &opts, &store);
	if (r)
		return r;
	r = kilo_store_load(store, NULL, mesh, &report, &err);
	/* What the store says of itself is part of the picture even when it cannot be loaded. */
	if (store_text && kilo_store_describe(store, store_text, &err) < 0 && r == 0) {
		r = -1;
		kilo_mesh_free(*mesh);
		*mesh = NULL;
	}
	kilo_store_close(store);
	if (r < 0) {
		if (store_text) {
			kilo_free(*store_text);
			*store_text = NULL;
		}
		return kgctl_fail("%s", err.code ? err.message : strerror(-r));
	}
	shown = report.n_problems < 16 ? report.n_problems : 16;
	for (size_t i = 0; i < shown; i++)
		cli_fail("warning: %s: %s", report.problems[i].path, report.problems[i].message);
	if (report.n_problems > shown)
		cli_fail("warning: %zu more files left out", report.n_problems - shown);
	return 0;
}

int kgctl_store_option(int c, const char *value, struct kilo_store_opts *opts)
{
	opts->sz = sizeof(*opts); /* kgctl_open_store passes NULL when no flag filled it */
	switch (c) {
	case KGCTL_OPT_ETCD_CACERT:
		opts->etcd_cacert = value;
		return 1;
	case KGCTL_OPT_ETCD_CERT:
		opts->etcd_cert = value;
		return 1;
	case KGCTL_OPT_ETCD_KEY:
		opts->etcd_key = value;
		return 1;
	case KGCTL_OPT_ETCD_USER:
		opts->etcd_user = value;
		return 1;
	case KGCTL_OPT_ETCD_PASSWORD_FILE:
		opts->etcd_password_file = value;
		return 1;
	default:
		return 0;
	}
}

int kgctl_mesh_source_option(int c, const char *value, struct kgctl_mesh_source *source)
{
	if (kgctl_store_option(c, value, &source->store_opts))
		return 1;
	switch (c) {
	case 'm':
		source->mesh_path = value;
		return 1;
	case 'S':
		source->store = value;
		return 1;
	case 'W':
		return cli_parse_seconds(NULL, "ready-window", value, 1, UINT32_MAX, &source->ready_window) ? -1 : 1;
	default:
		return 0;
	}
}

int kgctl_load_mesh_from(const char *command, const struct kgctl_mesh_source *source, kilo_mesh **mesh)
{
	return kgctl_load_mesh_described(command, source, mesh, NULL);
}

int kgctl_load_mesh_described(const char *command, const struct kgctl_mesh_source *source, kilo_mesh **mesh,
			      char **store_text)
{
	if (source->mesh_path && source->store)
		return kgctl_usage_fail(command, "--mesh and --store cannot be used together");
	if (source->mesh_path && source->ready_window)
		return kgctl_usage_fail(command, "--ready-window needs --store: a mesh document is a snapshot");
	if (source->mesh_path && store_options_given(&source->store_opts))
		return kgctl_usage_fail(command, "--etcd-* flags need --store: a mesh document is a file");
	if (source->store)
		return load_store(source, mesh, store_text);
	if (source->mesh_path)
		return kgctl_load_mesh(source->mesh_path, mesh);
	return kgctl_usage_fail(command, "missing --mesh FILE or --store URI");
}

bool kgctl_find_ready_node(const kilo_mesh *mesh, const char *name)
{
	/* A store's mesh over the agents' window, at the time of its load, as the solve judges it. */
	for (size_t i = 0; i < kilo_mesh_node_count(mesh); i++)
		if (!strcmp(kilo_mesh_node_name(mesh, i), name))
			return kilo_mesh_node_ready(mesh, i, 0);
	return false;
}

int kgctl_parse_text_or_json(const char *command, const char *text, bool *json)
{
	*json = !strcmp(text, "json");
	if (!*json && strcmp(text, "text"))
		return kgctl_usage_fail(command, "--output: \"%s\" is not text or json", text);
	return 0;
}

int kgctl_parse_granularity(const char *text, enum kilo_granularity *out)
{
	if (kilo_granularity_parse(text, out, NULL) < 0)
		return kgctl_usage_fail(NULL, "--mesh-granularity: \"%s\" is not location, full or cross", text);
	return 0;
}

int kgctl_solve_topology(const kilo_mesh *mesh, const struct kilo_solve_opts *opts, kilo_topology **out)
{
	struct kilo_error err = { 0 };
	int r = kilo_topology_solve(mesh, opts, out, &err);

	if (r < 0)
		return kgctl_fail("%s", err.code ? err.message : strerror(-r));
	return 0;
}

int kgctl_print(const char *text)
{
	if (fputs(text, stdout) == EOF || fflush(stdout) == EOF)
		return kgctl_fail("cannot write to stdout: %s", strerror(errno));
	return 0;
}
