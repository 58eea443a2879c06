/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sock_env.h"

#define BPFFS "/sys/fs/bpf"

static int fail(char *why, size_t why_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t why_size, const char *fmt, ...)
{
	int r = errno ? -errno : -EINVAL;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, why_size, fmt, ap);
	va_end(ap);
	n = strlen(why);
	snprintf(why + n, why_size - n, ": %s", strerror(-r));
	return r;
}

static void dir_remove(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *entry;

	if (!dir)
		return;
	while ((entry = readdir(dir)))
		if (entry->d_name[0] != '.')
			unlinkat(dirfd(dir), entry->d_name, 0);
	closedir(dir);
	rmdir(path);
}

/* What a process killed before its close left under parent: entries named prefix<dead pid>. */
static void leftovers_remove(const char *parent, const char *prefix, bool pins)
{
	DIR *dir = opendir(parent);
	size_t len = strlen(prefix);
	struct dirent *entry;
	char path[PATH_MAX];

	if (!dir)
		return;
	while ((entry = readdir(dir))) {
		if (strncmp(entry->d_name, prefix, len) || kill(atoi(entry->d_name + len), 0) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", parent, entry->d_name);
		if (pins)
			dir_remove(path);
		else
			rmdir(path);
	}
	closedir(dir);
}

static bool is_fs(const char *path, long magic)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == magic;
}

/* The cgroup v2 hierarchy: the host's (hybrid or unified), else one mounted here. */
static int cgroup2_root(struct sock_env *env, const char *prefix)
{
	static const char *const candidates[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
	size_t i;

	for (i = 0; i < 2; i++) {
		if (is_fs(candidates[i], CGROUP2_SUPER_MAGIC)) {
			snprintf(env->cgroup_root, sizeof(env->cgroup_root), "%s", candidates[i]);
			return 0;
		}
	}
	snprintf(env->cgroup_mount, sizeof(env->cgroup_mount), "/tmp/%s%d", prefix, getpid());
	if (mkdir(env->cgroup_mount, 0700) < 0 || mount("cgroup2", env->cgroup_mount, "cgroup2", 0, NULL) < 0)
		return -errno;
	snprintf(env->cgroup_root, sizeof(env->cgroup_root), "%s", env->cgroup_mount);
	return 0;
}

static int attach_all(struct sock_env *env, char *why, size_t why_size)
{
	struct bpf_program *prog;
	int cgroup_fd, r = 0;

	cgroup_fd = open(env->cgroup_dir, O_DIRECTORY | O_CLOEXEC);
	if (cgroup_fd < 0)
		return fail(why, why_size, "open %s", env->cgroup_dir);
	bpf_object__for_each_program(prog, env->skel->obj) {
		struct bpf_link *link = bpf_program__attach_cgroup(prog, cgroup_fd);

		if (!link || env->n_links == sizeof(env->links) / sizeof(env->links[0])) {
			bpf_link__destroy(link);
			r = fail(why, why_size, "attaching %s to %s", bpf_program__name(prog), env->cgroup_dir);
			break;
		}
		env->links[env->n_links++] = link;
	}
	close(cgroup_fd);
	return r;
}

int sock_env_open(struct sock_env *env, const char *prefix, char *why, size_t why_size)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);

	memset(env, 0, sizeof(*env));
	errno = 0;
	leftovers_remove(BPFFS, prefix, true);
	if (!is_fs(BPFFS, BPF_FS_MAGIC) && mount("bpf", BPFFS, "bpf", 0, NULL) < 0)
		return fail(why, why_size, "mount bpffs at " BPFFS);
	snprintf(env->pin_dir, sizeof(env->pin_dir), BPFFS "/%s%d", prefix, getpid());
	if (mkdir(env->pin_dir, 0700) < 0)
		return fail(why, why_size, "mkdir %s", env->pin_dir);
	opts.pin_root_path = env->pin_dir;
	env->skel = kilo_sock_bpf__open_opts(&opts);
	if (!env->skel)
		return fail(why, why_size, "opening sock.bpf.o");
	if (kilo_sock_bpf__load(env->skel) < 0)
		return fail(why, why_size, "loading sock.bpf.o");
	if (cgroup2_root(env, prefix) < 0)
		return fail(why, why_size, "no cgroup2 hierarchy, and mounting one failed");
	leftovers_remove(env->cgroup_root, prefix, false);
	snprintf(env->cgroup_dir, sizeof(env->cgroup_dir), "%s/%s%d", env->cgroup_root, prefix, getpid());
	if (mkdir(env->cgroup_dir, 0755) < 0) {
		int r = fail(why, why_size, "mkdir %s", env->cgroup_dir);

		env->cgroup_dir[0] = '\0';
		return r;
	}
	return attach_all(env, why, why_size);
}

void sock_env_close(struct sock_env *env)
{
	size_t i;

	for (i = 0; i < env->n_links; i++)
		bpf_link__destroy(env->links[i]);
	kilo_sock_bpf__destroy(env->skel);
	if (env->cgroup_dir[0])
		rmdir(env->cgroup_dir);
	if (env->cgroup_mount[0]) {
		umount(env->cgroup_mount);
		rmdir(env->cgroup_mount);
	}
	if (env->pin_dir[0])
		dir_remove(env->pin_dir);
	memset(env, 0, sizeof(*env));
}

static int procs_write(const char *cgroup, pid_t pid)
{
	char path[PATH_MAX + 96], text[32];
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
	snprintf(text, sizeof(text), "%d", pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		r = -errno;
	close(fd);
	return r;
}

int sock_env_join(const struct sock_env *env, pid_t pid)
{
	return procs_write(env->cgroup_dir, pid);
}

int sock_env_leave(const struct sock_env *env, pid_t pid)
{
	return procs_write(env->cgroup_root, pid);
}

static int addr_parse(const char *text, union kilo_lb_addr *addr, __u8 *family)
{
	memset(addr, 0, sizeof(*addr));
	*family = strchr(text, ':') ? AF_INET6 : AF_INET;
	return inet_pton(*family, text, addr->bytes) == 1 ? 0 : -EINVAL;
}

int sock_env_backend_add(struct sock_env *env, __u32 id, const char *address, int port, int proto)
{
	struct kilo_lb_backend backend = { .port = htons(port), .proto = proto };

	if (addr_parse(address, &backend.addr, &backend.family) < 0)
		return -EINVAL;
	return bpf_map__update_elem(env->skel->maps.kilo_lb_backends, &id, sizeof(id), &backend,
				    sizeof(backend), BPF_ANY);
}

int sock_env_frontend_add(struct sock_env *env, __u32 id, enum kilo_lb_scope scope, const char *address,
			  int port, int proto, __u16 flags, const __u32 *backend_ids, __u16 n)
{
	struct kilo_lb_service_key key = { .port = htons(port), .proto = proto, .scope = scope };
	struct kilo_lb_service value = { .id = id, .backend_count = n, .flags = flags,
					 .affinity_timeout = 300 };
	__u16 slot;
	int r;

	if (addr_parse(address, &key.addr, &key.family) < 0)
		return -EINVAL;
	for (slot = 1; slot <= n; slot++) {
		struct kilo_lb_slot_key slot_key = { .service_id = id, .slot = slot };

		r = bpf_map__update_elem(env->skel->maps.kilo_lb_slots, &slot_key, sizeof(slot_key),
					 &backend_ids[slot - 1], sizeof(__u32), BPF_ANY);
		if (r < 0)
			return r;
	}
	return bpf_map__update_elem(env->skel->maps.kilo_lb_services, &key, sizeof(key), &value,
				    sizeof(value), BPF_ANY);
}
