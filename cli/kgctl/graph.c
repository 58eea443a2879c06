// SPDX-License-Identifier: Apache-2.0
/* kgctl graph --mesh FILE | --store file:DIR: the mesh as GraphViz DOT, or rendered to SVG by dot(1). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kgctl.h"

enum {
	OPT_GRANULARITY = 256,
};

static const char usage_text[] =
	"Usage: kgctl graph (--mesh FILE | --store file:DIR) [flags]\n"
	"\n"
	"Print the mesh as a GraphViz graph, exactly as Kilo's kgctl graph does, or\n"
	"render it to SVG with Graphviz's dot(1), which must be installed.\n"
	"\n"
	"Flags:\n"
	KGCTL_MESH_SOURCE_USAGE
	"  -o, --output FORMAT             dot (default) or svg\n"
	"      --mesh-granularity G        location, full or cross (default: the mesh's)\n"
	"  -h, --help                      print this help\n";

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Feeds dot to `dot -Tsvg`, whose output goes straight to our stdout. A
 * close-on-exec pipe tells a failed exec apart from dot's own failure.
 */
static int render_svg(const char *dot)
{
	int input[2] = { -1, -1 }, exec_status[2] = { -1, -1 }, child_errno = 0, status, r = KGCTL_EXIT_FAILURE;
	pid_t pid;
	ssize_t n;

	if (fflush(stdout) == EOF)
		return kgctl_fail("cannot write to stdout: %s", strerror(errno));
	if (pipe2(input, O_CLOEXEC) < 0 || pipe2(exec_status, O_CLOEXEC) < 0) {
		kgctl_fail("cannot create a pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		kgctl_fail("cannot start dot: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		if (dup2(input[0], STDIN_FILENO) >= 0)
			execlp("dot", "dot", "-Tsvg", (char *)NULL);
		child_errno = errno;
		(void)!write(exec_status[1], &child_errno, sizeof(child_errno));
		_exit(127);
	}
	close(input[0]);
	close(exec_status[1]);
	input[0] = exec_status[1] = -1;
	do
		n = read(exec_status[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	/* A write to a dot that died early must fail with EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	r = n > 0 ? 0 : write_all(input[1], dot, strlen(dot));
	close(input[1]);
	input[1] = -1;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n > 0 && child_errno == ENOENT)
		r = kgctl_fail("cannot render SVG: Graphviz's \"dot\" is not installed (apt-get install graphviz)");
	else if (n > 0)
		r = kgctl_fail("cannot run Graphviz's \"dot\": %s", strerror(child_errno));
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		r = kgctl_fail("Graphviz's \"dot\" failed to render the graph");
	else if (r < 0)
		r = kgctl_fail("cannot write the graph to dot: %s", strerror(-r));
out:
	for (size_t i = 0; i < 2; i++) {
		if (input[i] >= 0)
			close(input[i]);
		if (exec_status[i] >= 0)
			close(exec_status[i]);
	}
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
	kilo_topology *topology = NULL;
	kilo_mesh *mesh = NULL;
	char *dot = NULL;
	bool svg = false;
	int c, r;

	while ((c = kgctl_getopt("graph", argc, argv, ":o:h", options)) != -1) {
		switch (c) {
		case 'm':
			source.mesh_path = optarg;
			break;
		case 'S':
			source.store = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "dot") && strcmp(optarg, "svg"))
				return kgctl_fail("output format must be dot or svg; got \"%s\"", optarg);
			svg = !strcmp(optarg, "svg");
			break;
		case OPT_GRANULARITY:
			opts.override_granularity = true;
			if (kgctl_parse_granularity(optarg, &opts.granularity))
				return KGCTL_EXIT_FAILURE;
			break;
		case 'h':
			return kgctl_print(usage_text);
		default:
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
	if (kilo_topology_dot(topology, &dot) < 0) {
		r = kgctl_fail("cannot build the graph");
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
