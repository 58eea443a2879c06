// SPDX-License-Identifier: Apache-2.0
/* /graph?format=svg: the DOT text through GraphViz's dot, as kgctl graph does. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kg.h"

extern char **environ;

/* dot reads its whole input before it writes, so writing all first cannot deadlock. */
static int write_all(int fd, const char *text, size_t len)
{
	while (len) {
		ssize_t n = write(fd, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, char **out, size_t *len)
{
	size_t size = 0, cap = 16384;
	char *buf = malloc(cap), *grown;

	while (buf) {
		ssize_t n;

		if (size == cap) {
			grown = realloc(buf, cap * 2);
			if (!grown)
				break;
			buf = grown;
			cap *= 2;
		}
		n = read(fd, buf + size, cap - size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return -errno;
		}
		if (n == 0) {
			*out = buf;
			*len = size;
			return 0;
		}
		size += (size_t)n;
	}
	free(buf);
	return -ENOMEM;
}

int kg_dot_to_svg(const char *dot, char **svg, size_t *len)
{
	char *argv[] = { "dot", "-Tsvg", NULL };
	posix_spawn_file_actions_t actions;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, status, r;
	pid_t pid;

	*svg = NULL;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
	r = -posix_spawnp(&pid, "dot", &actions, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	if (r < 0)
		goto out;
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	r = write_all(in[1], dot, strlen(dot));
	close(in[1]);
	in[1] = -1;
	if (r == 0)
		r = read_all(out[0], svg, len);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		free(*svg);
		*svg = NULL;
		r = -EPROTO;
	}
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return r;
}
