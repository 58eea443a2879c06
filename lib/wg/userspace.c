/* SPDX-License-Identifier: Apache-2.0 */
#include "userspace.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/error.h"

extern char **environ;

#define FOREGROUND "WG_PROCESS_FOREGROUND=1"
#define POLL_NSEC (10 * 1000 * 1000)
#define START_POLLS 1000 /* 10 s: wireguard-go is up in well under a second */
#define STOP_POLLS 500   /* 5 s before SIGKILL */

static void pause_poll(void)
{
	struct timespec ts = { .tv_nsec = POLL_NSEC };

	nanosleep(&ts, NULL);
}

static bool socket_accepts(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
	ok = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
	close(fd);
	return ok;
}

bool kilo_wg_userspace_socket_exists(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	if (socket_accepts(path))
		return true;
	/*
	 * A socket nobody listens on is what a killed implementation leaves
	 * behind: remove it, so that the device can be started again.
	 */
	unlink(path);
	return false;
}

/* The caller's environment with WG_PROCESS_FOREGROUND=1 in place of any other value. */
static char **child_environment(void)
{
	size_t n = 0, m = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "WG_PROCESS_FOREGROUND=", 22) != 0)
			env[m++] = environ[i];
	env[m] = (char *)FOREGROUND;
	return env;
}

/*
 * The program gets /dev/null, or output_fd, as stdout and stderr, and no
 * other descriptor of the caller: it would hold them open for as long as
 * the device lives (a `kgctl apply | head` would never see the end of its
 * input, a lock taken by the caller's caller would never be released).
 */
static int spawn(const char *program, const char *ifname, int output_fd, pid_t *pid, struct kilo_error *err)
{
	char *argv[] = { (char *)program, (char *)ifname, NULL };
	char **env = child_environment();
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	int r;

	if (!env)
		return kilo_error_set(err, ENOMEM, "out of memory");
	posix_spawn_file_actions_init(&actions);
	posix_spawnattr_init(&attr);
	/* Its own session: the device outlives the terminal of the program that started it. */
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
	posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (output_fd >= 0) {
		posix_spawn_file_actions_adddup2(&actions, output_fd, STDOUT_FILENO);
		posix_spawn_file_actions_adddup2(&actions, output_fd, STDERR_FILENO);
	} else {
		posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
	}
	posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
	r = posix_spawnp(pid, program, &actions, &attr, argv, env);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&actions);
	free(env);
	if (r != 0)
		return kilo_error_set(err, r, "%s: cannot start %s: %s", ifname, program, strerror(r));
	return 0;
}

int kilo_wg_userspace_start(const char *program, const char *ifname, const char *socket_path, int output_fd,
			    pid_t *pid, struct kilo_error *err)
{
	int r = spawn(program, ifname, output_fd, pid, err), status;

	if (r < 0)
		return r;
	for (int i = 0; i < START_POLLS; i++) {
		if (socket_accepts(socket_path))
			return 0;
		if (waitpid(*pid, &status, WNOHANG) == *pid) {
			if (WIFEXITED(status))
				return kilo_error_set(err, ECHILD, "%s: %s exited with status %d before %s appeared", ifname,
						      program, WEXITSTATUS(status), socket_path);
			return kilo_error_set(err, ECHILD, "%s: %s died of signal %d before %s appeared", ifname, program,
					      WTERMSIG(status), socket_path);
		}
		pause_poll();
	}
	kilo_wg_userspace_stop(*pid);
	return kilo_error_set(err, ETIMEDOUT, "%s: %s did not create %s within %d s", ifname, program, socket_path,
			      START_POLLS / 100);
}

bool kilo_wg_userspace_reap(pid_t pid)
{
	pid_t r = waitpid(pid, NULL, WNOHANG);

	/* ECHILD: reaped already, as a SIGCHLD set to SIG_IGN does. */
	return r == pid || (r < 0 && errno == ECHILD);
}

void kilo_wg_userspace_stop(pid_t pid)
{
	if (kill(pid, SIGTERM) < 0)
		return;
	for (int i = 0; i < STOP_POLLS; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		pause_poll();
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}
