/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kgctl: the operator's command line. Each command lives in its own file
 * and only parses flags and prints; the work is done by libkilo.
 */
#ifndef KGCTL_H
#define KGCTL_H

#include <stdbool.h>
#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include <kilo/kilo.h>

#include "flags.h"

/* Exit statuses, kg's too: 1 for any failure, 2 when the command line cannot be parsed. */
#define KGCTL_EXIT_FAILURE CLI_EXIT_FAILURE
#define KGCTL_EXIT_USAGE CLI_EXIT_USAGE

int kgctl_solve(int argc, char *argv[]);
int kgctl_showconf(int argc, char *argv[]);
int kgctl_graph(int argc, char *argv[]);
int kgctl_genkey(int argc, char *argv[]);
int kgctl_pubkey(int argc, char *argv[]);
int kgctl_apply(int argc, char *argv[]);
int kgctl_wg(int argc, char *argv[]);
int kgctl_status(int argc, char *argv[]);
int kgctl_node(int argc, char *argv[]);
int kgctl_connect(int argc, char *argv[]);
int kgctl_bpf(int argc, char *argv[]);
int kgctl_services(int argc, char *argv[]);
int kgctl_observe(int argc, char *argv[]);
int kgctl_identities(int argc, char *argv[]);
int kgctl_policy(int argc, char *argv[]);
int kgctl_delete(int argc, char *argv[]);
int kgctl_get(int argc, char *argv[]);
/* kgctl apply -f: objects into a store (objects.c), chosen when argv has -f or --filename. */
bool kgctl_apply_wants_objects(int argc, char *argv[]);
int kgctl_apply_objects(int argc, char *argv[]);

/*
 * "kgctl: <message>" on stderr, returning KGCTL_EXIT_FAILURE; and the same
 * with a pointer to `kgctl <command> --help`, returning KGCTL_EXIT_USAGE.
 * In kg's words: both programs share them.
 */
#define kgctl_fail cli_fail
#define kgctl_usage_fail cli_usage_fail

/*
 * Runs getopt_long over argv (shortopts must start with ":") for command and
 * reports an unknown option or
 * a missing value as a usage error. Returns the option, -1 at the end,
 * or '?' after printing the error.
 */
int kgctl_getopt(const char *command, int argc, char *argv[], const char *shortopts, const struct option *longopts);

/*
 * Whether the mesh has a ready node of that name. Kilo's kgctl sees only
 * ready nodes, so a node that is not ready is "not found". Liveness
 * (lastSeen) is judged over the ready window for a store, not for a mesh
 * document, which is a snapshot.
 */
bool kgctl_find_ready_node(const kilo_mesh *mesh, const char *name);

/*
 * The helpers below print their own error and return an exit status:
 * 0 or KGCTL_EXIT_FAILURE.
 */

/* Reads the file at path ("-": stdin), at most KILO_MESH_MAX_BYTES; what names it in errors. */
int kgctl_read_file(const char *what, const char *path, char **text, size_t *len);

/* Reads and validates the mesh document at path ("-": stdin). */
int kgctl_load_mesh(const char *path, kilo_mesh **mesh);

/*
 * The etcd flags of every command that takes --store, with values beyond
 * any command's own options (which count from 256).
 */
enum {
	KGCTL_OPT_ETCD_CACERT = 0x1000,
	KGCTL_OPT_ETCD_CERT,
	KGCTL_OPT_ETCD_KEY,
	KGCTL_OPT_ETCD_USER,
	KGCTL_OPT_ETCD_PASSWORD_FILE,
};

#define KGCTL_STORE_OPTIONS                                                        \
	{ "etcd-cacert", required_argument, NULL, KGCTL_OPT_ETCD_CACERT },         \
	{ "etcd-cert", required_argument, NULL, KGCTL_OPT_ETCD_CERT },             \
	{ "etcd-key", required_argument, NULL, KGCTL_OPT_ETCD_KEY },               \
	{ "etcd-user", required_argument, NULL, KGCTL_OPT_ETCD_USER },             \
	{ "etcd-password-file", required_argument, NULL, KGCTL_OPT_ETCD_PASSWORD_FILE }

#define KGCTL_STORE_USAGE                                                                  \
	"      --etcd-cacert FILE          the CA of the etcd cluster's certificates\n"        \
	"      --etcd-cert FILE            this client's certificate for etcd\n"               \
	"      --etcd-key FILE             and its key\n"                                       \
	"      --etcd-user NAME            the etcd user\n"                                     \
	"      --etcd-password-file FILE   the etcd user's password, from this file\n"

/* Takes option c with its value into opts if it is one of KGCTL_STORE_OPTIONS: 1 when it was, else 0. */
int kgctl_store_option(int c, const char *value, struct kilo_store_opts *opts);

/*
 * Where a command reads the mesh: a mesh document (--mesh FILE) or a store
 * (--store URI); exactly one of them. A store is live: a node last
 * seen a ready window ago or more is out, as the agents judge it, so
 * --ready-window must match theirs. Commands take the options with
 * KGCTL_MESH_SOURCE_OPTIONS and fill this with kgctl_mesh_source_option.
 */
struct kgctl_mesh_source {
	const char *mesh_path;
	const char *store;
	uint32_t ready_window; /* seconds; 0: KILO_DEFAULT_READY_WINDOW */
	struct kilo_store_opts store_opts;
};

#define KGCTL_MESH_SOURCE_OPTIONS                                     \
	{ "mesh", required_argument, NULL, 'm' },                     \
	{ "store", required_argument, NULL, 'S' },                    \
	{ "ready-window", required_argument, NULL, 'W' },             \
	KGCTL_STORE_OPTIONS

#define KGCTL_MESH_SOURCE_USAGE                                                           \
	"      --mesh FILE                 the mesh document (\"-\" for stdin)\n"          \
	"      --store URI                 the store the agents share, instead of --mesh:\n" \
	"                                  file:DIR or etcd://HOST:PORT[,...][/CLUSTER]\n"  \
	"      --ready-window DURATION     the agents' ready window (kg's --ready-window,\n"  \
	"                                  default 6s): a node silent this long is out\n"    \
	KGCTL_STORE_USAGE

/*
 * Takes option c with its value if it is one of KGCTL_MESH_SOURCE_OPTIONS:
 * returns 1 when it was one, 0 when it was not, -1 (after printing the
 * error) for a bad value, which is a usage error (KGCTL_EXIT_USAGE).
 */
int kgctl_mesh_source_option(int c, const char *value, struct kgctl_mesh_source *source);


/*
 * Loads the mesh from source. A store's files that cannot be read as a node
 * or peer are left out with a warning on stderr. Returns 0,
 * KGCTL_EXIT_FAILURE, or KGCTL_EXIT_USAGE (for command) when the source is
 * missing or given twice.
 */
int kgctl_load_mesh_from(const char *command, const struct kgctl_mesh_source *source, kilo_mesh **mesh);
/* The same; with a store, *store_text (NULL otherwise) gets kilo_store_describe's lines. */
int kgctl_load_mesh_described(const char *command, const struct kgctl_mesh_source *source, kilo_mesh **mesh,
			      char **store_text);

/* Opens the store at uri, which must exist already; prints its own error. */
int kgctl_open_store(const char *uri, const struct kilo_store_opts *opts, kilo_store **store);

/* Parses an --output of text or json (*json says which); prints its own error and returns KGCTL_EXIT_USAGE for another. */
int kgctl_parse_text_or_json(const char *command, const char *text, bool *json);

/* Parses a --mesh-granularity value; prints its own error and returns KGCTL_EXIT_USAGE for a bad one. */
int kgctl_parse_granularity(const char *text, enum kilo_granularity *out);

/* Solves mesh with opts; the library's error names the cause (e.g. an exhausted subnet). */
int kgctl_solve_topology(const kilo_mesh *mesh, const struct kilo_solve_opts *opts, kilo_topology **out);

/* Writes text to stdout and flushes it, so that a failed write is reported. */
int kgctl_print(const char *text);

#endif
