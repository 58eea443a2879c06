/* SPDX-License-Identifier: Apache-2.0 */
/* Userspace WireGuard processes (wireguard-go, boringtun) that libkilo starts and stops. */
#ifndef KILO_LIB_WG_USERSPACE_H
#define KILO_LIB_WG_USERSPACE_H

#include <stdbool.h>
#include <sys/types.h>

#include <kilo/core.h>

/*
 * True when path is a socket that accepts connections: a userspace device
 * is running. A socket nobody listens on (left by a killed implementation)
 * is removed, and the answer is false.
 */
bool kilo_wg_userspace_socket_exists(const char *path);

/*
 * Runs PROGRAM IFNAME (no shell, PATH searched) in the foreground mode of
 * wireguard-go (WG_PROCESS_FOREGROUND=1) in its own session, with stdin
 * from /dev/null, stdout and stderr to output_fd (negative: /dev/null) and
 * no other descriptor of the caller, and
 * waits, a bounded time, until socket_path accepts connections. The
 * process is stopped again when it fails to come up.
 */
int kilo_wg_userspace_start(const char *program, const char *ifname, const char *socket_path, int output_fd,
			    pid_t *pid, struct kilo_error *err);

/* Reaps the process started above if it has exited; true when it has. Never waits. */
bool kilo_wg_userspace_reap(pid_t pid);

/* Stops a process started above: SIGTERM, then SIGKILL after a bounded wait; reaps it. */
void kilo_wg_userspace_stop(pid_t pid);

#endif
