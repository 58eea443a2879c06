// SPDX-License-Identifier: Apache-2.0
/*
 * kgctl apply -f, delete and get: Kubernetes objects in a store, as
 * kubectl handles them. Each object is stored on its own: a bad one is
 * reported and the others go in, and the exit status says whether any
 * failed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kgctl.h"

#define MAX_FILENAMES 64

enum {
	OPT_ALL_NAMESPACES = 256,
};

static const char apply_usage[] =
	"Usage: kgctl apply -f FILE|DIR|- [-f ...] --store URI\n"
	"\n"
	"Store the Kubernetes objects of YAML or JSON manifests, as kubectl apply\n"
	"does: one object, several YAML documents, or a List (kubectl get -o json's\n"
	"output). A DIR gives every *.yaml, *.yml and *.json in it, in name order.\n"
	"Kinds: Node (its kilo.squat.ai/ annotations make a mesh node), Peer\n"
	"(kilo.squat.ai/v1alpha1), Service, EndpointSlice, Pod, Namespace and\n"
	"NetworkPolicy. Each object is checked and stored on its own and printed as\n"
	"created, configured or unchanged; a bad one is reported with its kind, name,\n"
	"field and value, and the others go in. Exit status 1 if any failed.\n"
	"Without -f, apply applies a node's plan to this host (kgctl apply --help).\n"
	"\n"
	"Flags:\n"
	"  -f, --filename FILE|DIR|-       a manifest, a folder of them, or stdin (repeatable)\n"
	"      --store URI                 the store the agents share: file:DIR or\n"
	"                                  etcd://HOST:PORT[,...][/CLUSTER]\n"
	KGCTL_STORE_USAGE
	"  -h, --help                      print this help\n";

static const char delete_usage[] =
	"Usage: kgctl delete -f FILE|DIR|- [-f ...] --store URI\n"
	"       kgctl delete KIND NAME [-n NAMESPACE] --store URI\n"
	"\n"
	"Remove from the store the objects of manifests (as kgctl apply -f reads\n"
	"them), or one object by kind and name. An object that is not there is an\n"
	"error; the others are removed all the same. Exit status 1 if any failed.\n"
	"\n"
	"Flags:\n"
	"  -f, --filename FILE|DIR|-       a manifest, a folder of them, or stdin (repeatable)\n"
	"  -n, --namespace NS              the namespace of NAME (default \"default\")\n"
	"      --store URI                 the store the agents share\n"
	KGCTL_STORE_USAGE
	"  -h, --help                      print this help\n";

static const char get_usage[] =
	"Usage: kgctl get KIND [NAME] [-n NAMESPACE] [-o json|yaml] --store URI\n"
	"\n"
	"Print stored objects as kubectl get does: a table, or the objects as JSON\n"
	"or YAML (several as a List). Without -n, every namespace. KIND as kubectl\n"
	"takes it: services (svc), endpointslices, pods (po), namespaces (ns),\n"
	"networkpolicies (netpol), nodes (no), peers, singular or plural.\n"
	"\n"
	"Flags:\n"
	"  -n, --namespace NS              only this namespace (NAME: default \"default\")\n"
	"  -A, --all-namespaces            every namespace (the default)\n"
	"  -o, --output FORMAT             json or yaml (default: a table)\n"
	"      --store URI                 the store the agents share\n"
	KGCTL_STORE_USAGE
	"  -h, --help                      print this help\n";

/* What every object command takes. */
struct object_flags {
	const char *store;
	struct kilo_store_opts store_opts;
	const char *files[MAX_FILENAMES];
	size_t n_files;
	const char *ns;
	const char *output;
};

/* Takes one flag of the object commands: 1 when it was one, 0 when not, -1 after a usage error. */
static int object_flag(const char *command, int c, const char *value, struct object_flags *f)
{
	if (kgctl_store_option(c, value, &f->store_opts))
		return 1;
	switch (c) {
	case 'S':
		f->store = value;
		return 1;
	case 'f':
		if (f->n_files == MAX_FILENAMES) {
			kgctl_usage_fail(command, "more than %d -f flags", MAX_FILENAMES);
			return -1;
		}
		f->files[f->n_files++] = value;
		return 1;
	case 'n':
		f->ns = value;
		return 1;
	case 'o':
		f->output = value;
		return 1;
	case OPT_ALL_NAMESPACES:
		f->ns = NULL;
		return 1;
	default:
		return 0;
	}
}

/* The flags of command into f: 0, or the exit status (0 too after --help: *done says so). */
static int parse_flags(const char *command, const char *usage, int argc, char *argv[], struct object_flags *f,
		       bool *done)
{
	static const struct option options[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "all-namespaces", no_argument, NULL, OPT_ALL_NAMESPACES },
		{ "output", required_argument, NULL, 'o' },
		{ "store", required_argument, NULL, 'S' },
		KGCTL_STORE_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, r;

	*done = false;
	f->store_opts.sz = sizeof(f->store_opts);
	while ((c = kgctl_getopt(command, argc, argv, ":hf:n:o:A", options)) != -1) {
		if (c == 'h') {
			*done = true;
			return kgctl_print(usage);
		}
		if (c == 'A')
			c = OPT_ALL_NAMESPACES;
		r = object_flag(command, c, optarg, f);
		if (r <= 0) {
			*done = true;
			return KGCTL_EXIT_USAGE;
		}
	}
	if (!f->store) {
		*done = true;
		return kgctl_usage_fail(command, "missing --store URI");
	}
	return 0;
}

static int is_manifest_file(const struct dirent *d)
{
	static const char *const suffixes[] = { ".yaml", ".yml", ".json" };
	size_t len = strlen(d->d_name);

	if (d->d_name[0] == '.')
		return 0;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (len > strlen(suffixes[i]) && !strcmp(d->d_name + len - strlen(suffixes[i]), suffixes[i]))
			return 1;
	return 0;
}

/* Runs each object of one manifest file through fn; false when the file or any object failed. */
typedef bool (*object_fn)(kilo_store *store, const char *path, const struct kilo_manifest_object *object);

/* "FILE: document 2 (line 14), item 3" */
static void object_place(const char *path, const struct kilo_manifest_object *o, char *out, size_t size)
{
	int n = snprintf(out, size, "%s: document %zu (line %zu)", path, o->document, o->line);

	if (o->item && n > 0 && (size_t)n < size)
		snprintf(out + n, size - (size_t)n, ", item %zu", o->item);
}

static bool each_object(kilo_store *store, const char *path, object_fn fn)
{
	struct kilo_error err = { 0 };
	kilo_manifest *manifest = NULL;
	char *text = NULL;
	size_t len = 0;
	bool ok = true;

	if (kgctl_read_file("manifest", path, &text, &len))
		return false;
	if (kilo_manifest_read(text, len, &manifest, &err) < 0) {
		kgctl_fail("%s: %s", path, err.message);
		ok = false;
	}
	for (size_t i = 0; i < kilo_manifest_count(manifest); i++)
		ok &= fn(store, path, kilo_manifest_object(manifest, i));
	kilo_manifest_free(manifest);
	free(text);
	return ok;
}

/* Every manifest of path: the file, "-", or the manifests of a folder. */
static bool each_file(kilo_store *store, const char *path, object_fn fn)
{
	struct dirent **names = NULL;
	struct stat st;
	char *file;
	bool ok = true;
	int n;

	if (strcmp(path, "-") && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		n = scandir(path, &names, is_manifest_file, alphasort);
		if (n < 0)
			return kgctl_fail("cannot list %s: %s", path, strerror(errno)), false;
		for (int i = 0; i < n; i++) {
			if (asprintf(&file, "%s/%s", path, names[i]->d_name) < 0) {
				ok = !kgctl_fail("out of memory");
			} else {
				ok &= each_object(store, file, fn);
				free(file);
			}
			free(names[i]);
		}
		free(names);
		return ok;
	}
	return each_object(store, path, fn);
}

static bool apply_one(kilo_store *store, const char *path, const struct kilo_manifest_object *o)
{
	static const char *const changes[] = { "created", "configured", "unchanged" };
	enum kilo_object_change change;
	struct kilo_error err = { 0 };
	char place[512];

	if (kilo_store_apply_object(store, o->json, &change, &err) < 0) {
		object_place(path, o, place, sizeof(place));
		kgctl_fail("%s: %s", place, err.message);
		return false;
	}
	printf("%s/%s %s\n", o->resource, o->name, changes[change]);
	return true;
}

static bool delete_one(kilo_store *store, const char *path, const struct kilo_manifest_object *o)
{
	struct kilo_error err = { 0 };
	char place[512];

	if (kilo_store_delete_object(store, o->kind, o->ns, o->name, &err) < 0) {
		object_place(path, o, place, sizeof(place));
		kgctl_fail("%s: %s", place, err.message);
		return false;
	}
	printf("%s \"%s\" deleted\n", o->resource, o->name);
	return true;
}

/* apply -f and delete -f: every object of every file, each on its own. */
static int run_files(const struct object_flags *f, object_fn fn, bool create)
{
	kilo_store *store = NULL;
	struct kilo_error err = { 0 };
	bool ok = true;
	int r;

	/* apply makes a new file store; delete and get need one that is there. */
	if (create)
		r = kilo_store_open_opts(f->store, &f->store_opts, &store, &err) < 0 ? kgctl_fail("%s", err.message) : 0;
	else
		r = kgctl_open_store(f->store, &f->store_opts, &store);
	if (r)
		return r;
	for (size_t i = 0; i < f->n_files; i++)
		ok &= each_file(store, f->files[i], fn);
	kilo_store_close(store);
	r = kgctl_print("");
	return r ? r : ok ? 0 : KGCTL_EXIT_FAILURE;
}

bool kgctl_apply_wants_objects(int argc, char *argv[])
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-f") || !strncmp(argv[i], "-f", 2) || !strcmp(argv[i], "--filename") ||
		    !strncmp(argv[i], "--filename=", 11))
			return true;
	return false;
}

int kgctl_apply_objects(int argc, char *argv[])
{
	struct object_flags f = { 0 };
	bool done;
	int r = parse_flags("apply", apply_usage, argc, argv, &f, &done);

	if (done)
		return r;
	if (optind != argc)
		return kgctl_usage_fail("apply", "unexpected argument \"%s\"", argv[optind]);
	if (f.ns || f.output)
		return kgctl_usage_fail("apply", "-n and -o are for kgctl get; a manifest names its namespaces");
	return run_files(&f, apply_one, true);
}

int kgctl_delete(int argc, char *argv[])
{
	struct object_flags f = { 0 };
	struct kilo_error err = { 0 };
	kilo_store *store = NULL;
	const char *kind;
	bool done;
	int r = parse_flags("delete", delete_usage, argc, argv, &f, &done);

	if (done)
		return r;
	if (f.n_files) {
		if (optind != argc)
			return kgctl_usage_fail("delete", "unexpected argument \"%s\" with -f", argv[optind]);
		return run_files(&f, delete_one, false);
	}
	if (argc - optind != 2)
		return kgctl_usage_fail("delete", "expected -f FILE, or KIND NAME");
	kind = kilo_object_kind(argv[optind]);
	if (!kind)
		return kgctl_usage_fail("delete", "\"%s\" is not a kind kgctl stores", argv[optind]);
	r = kgctl_open_store(f.store, &f.store_opts, &store);
	if (r)
		return r;
	if (kilo_store_delete_object(store, kind, f.ns, argv[optind + 1], &err) < 0)
		r = kgctl_fail("%s", err.message);
	else
		printf("%s \"%s\" deleted\n", argv[optind], argv[optind + 1]);
	kilo_store_close(store);
	return r ? r : kgctl_print("");
}

int kgctl_get(int argc, char *argv[])
{
	enum kilo_object_format format = KILO_OBJECT_TABLE;
	struct object_flags f = { 0 };
	struct kilo_error err = { 0 };
	kilo_store *store = NULL;
	char *json = NULL, *text = NULL;
	const char *kind, *name;
	bool done;
	int r = parse_flags("get", get_usage, argc, argv, &f, &done);

	if (done)
		return r;
	if (argc - optind < 1 || argc - optind > 2)
		return kgctl_usage_fail("get", "expected KIND [NAME]");
	if (f.n_files)
		return kgctl_usage_fail("get", "-f is for apply and delete");
	kind = kilo_object_kind(argv[optind]);
	if (!kind)
		return kgctl_usage_fail("get", "\"%s\" is not a kind kgctl stores", argv[optind]);
	name = argc - optind == 2 ? argv[optind + 1] : NULL;
	if (f.output && !strcmp(f.output, "json"))
		format = KILO_OBJECT_JSON;
	else if (f.output && !strcmp(f.output, "yaml"))
		format = KILO_OBJECT_YAML;
	else if (f.output)
		return kgctl_usage_fail("get", "--output: \"%s\" is not json or yaml", f.output);
	r = kgctl_open_store(f.store, &f.store_opts, &store);
	if (r)
		return r;
	if (name)
		r = kilo_store_get_object(store, kind, f.ns, name, &json, &err);
	else
		r = kilo_store_list_objects_in(store, kind, f.ns, &json, &err);
	if (r == 0)
		r = kilo_objects_format(kind, json, format, &text, &err);
	if (r < 0)
		r = kgctl_fail("%s", err.message);
	else if (!text[0])
		fprintf(stderr, "No resources found%s%s.\n", f.ns ? " in namespace " : "", f.ns ? f.ns : "");
	else
		r = kgctl_print(text);
	kilo_free(json);
	kilo_free(text);
	kilo_store_close(store);
	return r;
}
