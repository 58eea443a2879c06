/* SPDX-License-Identifier: Apache-2.0 */
/* A GraphViz graph rendered by Graphviz's dot(1), for kgctl graph and kg's /graph. */
#include <kilo/serial.h>

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/error.h"
#include "../core/io.h"

extern char **environ;

/* What dot may print: far more than any mesh's graph. */
#define RENDER_MAX (64u << 20)

/*
 * dot's input is one end of a socket pair, not a pipe, so that a dot that
 * dies early makes the write fail with EPIPE rather than signal the caller.
 */
static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static bool format_valid(const char *format)
{
	size_t len = strlen(format);

	if (len == 0 || len > 16)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((format[i] >= 'a' && format[i] <= 'z') || (format[i] >= '0' && format[i] <= '9')))
			return false;
	return true;
}

int kilo_graph_render(const char *dot, const char *format, char **out, size_t *len, struct kilo_error *err)
{
	char format_arg[24], *argv[] = { "dot", format_arg, NULL };
	int in[2] = { -1, -1 }, output[2] = { -1, -1 }, status = 0, r;
	posix_spawn_file_actions_t actions;
	pid_t pid;

	*out = NULL;
	*len = 0;
	if (!format_valid(format))
		return kilo_error_set(err, EINVAL, "graph format \"%.32s\" is not a Graphviz output format", format);
	snprintf(format_arg, sizeof(format_arg), "-T%s", format);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0 || pipe2(output, O_CLOEXEC) < 0) {
		r = kilo_error_set(err, errno, "rendering the graph: %s", strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&actions, output[1], STDOUT_FILENO);
	/* Its complaints would land in the middle of the caller's output (kg's log, kgctl's stdout). */
	posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
	r = posix_spawnp(&pid, "dot", &actions, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	if (r == ENOENT) {
		r = kilo_error_set(err, ENOENT, "rendering the graph: Graphviz's \"dot\" is not installed");
		goto out;
	}
	if (r) {
		r = kilo_error_set(err, r, "rendering the graph: cannot run Graphviz's \"dot\": %s", strerror(r));
		goto out;
	}
	close(in[0]);
	close(output[1]);
	in[0] = output[1] = -1;
	/* dot reads all of its input before it writes, so writing it all first cannot deadlock. */
	r = send_all(in[1], dot, strlen(dot));
	close(in[1]);
	in[1] = -1;
	if (r == 0)
		r = kilo_read_all(output[0], RENDER_MAX, out, len);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		r = -EPROTO;
	if (r < 0) {
		free(*out);
		*out = NULL;
		*len = 0;
		kilo_error_set(err, -r, "Graphviz's \"dot\" could not render the graph as %s", format);
	}
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (output[i] >= 0)
			close(output[i]);
	}
	return r;
}
