/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The socket programs (sock.bpf.o) loaded and attached for a test or a
 * benchmark: maps pinned in a directory of its own under bpffs, programs on
 * a cgroup v2 of its own, both named PREFIX<pid> and removed on close; what
 * a process that died before closing left is removed on the next open.
 */
#ifndef KILO_TESTS_SOCK_ENV_H
#define KILO_TESTS_SOCK_ENV_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "lb_maps.h"
#include "sock.skel.h"

struct sock_env {
	char pin_dir[64];
	char cgroup_root[PATH_MAX];
	char cgroup_dir[PATH_MAX + 64];
	char cgroup_mount[64]; /* a cgroup2 mounted here, when the host has none */
	struct kilo_sock_bpf *skel;
	struct bpf_link *links[8];
	size_t n_links;
};

/* 0, or -errno with what failed in why. Close env even after a failure. */
int sock_env_open(struct sock_env *env, const char *prefix, char *why, size_t why_size);
void sock_env_close(struct sock_env *env);

/* Moves a process into the cgroup (its programs apply), or back to the hierarchy's root. */
int sock_env_join(const struct sock_env *env, pid_t pid);
int sock_env_leave(const struct sock_env *env, pid_t pid);

/* Map entries, as the policy layer would write them: 0 or -errno. */
int sock_env_backend_add(struct sock_env *env, __u32 id, const char *address, int port, int proto);
/* A frontend whose slots 1..n hold the backends; its affinity timeout is 300 s. */
int sock_env_frontend_add(struct sock_env *env, __u32 id, enum kilo_lb_scope scope, const char *address,
			  int port, int proto, __u16 flags, const __u32 *backend_ids, __u16 n);

#endif
