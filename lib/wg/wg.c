/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The WireGuard handle: picks the kernel module or a userspace
 * implementation per device and dispatches to backend.h or uapi.h.
 */
#include <kilo/wg.h>

#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/error.h"
#include "../core/opts.h"
#include "backend.h"
#include "uapi.h"
#include "userspace.h"

/*
 * A userspace device this handle started: its process is a child of the
 * caller, reaped by the handle when it exits and stopped by
 * kilo_wg_device_delete.
 */
struct child {
	char ifname[IF_NAMESIZE];
	pid_t pid;
};

struct kilo_wg {
	enum kilo_wg_backend backend;
	char *program;    /* NULL: start nothing */
	char *socket_dir; /* NULL: KILO_UAPI_SOCKET_DIR */
	struct kilo_wg_kernel *kernel; /* NULL: no kernel module (or not asked for) */
	struct kilo_wg_counters counters;
	struct child *children;
	size_t n_children;
	int output_fd; /* the started programs' stdout and stderr; -1: /dev/null */
};

int kilo_wg_backend_parse(const char *text, enum kilo_wg_backend *out, struct kilo_error *err)
{
	static const char *const names[] = {
		[KILO_WG_BACKEND_AUTO] = "auto",
		[KILO_WG_BACKEND_KERNEL] = "kernel",
		[KILO_WG_BACKEND_USERSPACE] = "userspace",
	};
	int i = kilo_name_lookup(names, sizeof(names) / sizeof(names[0]), "wireguard backend", text, err);

	if (i < 0)
		return i;
	*out = (enum kilo_wg_backend)i;
	return 0;
}

static int check_ifname(const char *ifname, struct kilo_error *err)
{
	size_t len = ifname ? strlen(ifname) : 0;

	if (len == 0 || len >= IF_NAMESIZE || strcmp(ifname, ".") == 0 || strcmp(ifname, "..") == 0 ||
	    strpbrk(ifname, "/: \t\n"))
		return kilo_error_set(err, EINVAL, "interface name \"%s\" is not valid (1 to %d characters, no '/', ':' or spaces)",
				      ifname ? ifname : "", IF_NAMESIZE - 1);
	return 0;
}

int kilo_wg_open(const struct kilo_wg_opts *opts, kilo_wg **out, struct kilo_error *err)
{
	struct kilo_wg_opts o;
	struct kilo_wg *wg;
	int r;

	*out = NULL;
	r = KILO_OPTS_COPY(&o, opts, kilo_wg_opts, err);
	if (r < 0)
		return r;
	if (o.backend > KILO_WG_BACKEND_USERSPACE)
		return kilo_error_set(err, EINVAL, "WireGuard backend %d is not auto, kernel or userspace", o.backend);
	wg = calloc(1, sizeof(*wg));
	if (!wg || (o.userspace_program && !(wg->program = strdup(o.userspace_program))) ||
	    (o.socket_dir && !(wg->socket_dir = strdup(o.socket_dir)))) {
		r = kilo_error_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	wg->backend = o.backend;
	wg->output_fd = -1;
	if (o.backend != KILO_WG_BACKEND_USERSPACE) {
		struct kilo_error probe = { 0 };

		r = kilo_wg_kernel_open(&wg->kernel, o.backend == KILO_WG_BACKEND_KERNEL ? err : &probe);
		/* Only a missing module sends AUTO to userspace; anything else is a real failure. */
		if (r == -ENOENT && o.backend == KILO_WG_BACKEND_AUTO) {
			wg->kernel = NULL;
			r = 0;
		} else if (r < 0 && o.backend == KILO_WG_BACKEND_AUTO) {
			r = kilo_error_set(err, probe.code, "%s", probe.message);
		}
		if (r < 0)
			goto fail;
	}
	*out = wg;
	return 0;
fail:
	kilo_wg_close(wg);
	return r;
}

void kilo_wg_set_output(kilo_wg *wg, int fd)
{
	wg->output_fd = fd;
}

/* Reaps the started programs that have exited (their device is gone), so none stays a zombie. */
static void reap_children(kilo_wg *wg)
{
	for (size_t i = 0; i < wg->n_children;) {
		if (kilo_wg_userspace_reap(wg->children[i].pid))
			wg->children[i] = wg->children[--wg->n_children];
		else
			i++;
	}
}

/*
 * The programs still running keep their devices: a device outlives the
 * handle, as a kernel link does, and its process is reaped by whoever
 * inherits it when the caller exits.
 */
void kilo_wg_close(kilo_wg *wg)
{
	if (!wg)
		return;
	reap_children(wg);
	kilo_wg_kernel_close(wg->kernel);
	free(wg->children);
	free(wg->program);
	free(wg->socket_dir);
	free(wg);
}

/*
 * A device that has a UAPI socket is a userspace one even where the kernel
 * module exists (as wg itself decides), else the kernel is used when present.
 */
static enum kilo_wg_backend resolve(const kilo_wg *wg, const char *path)
{
	if (wg->backend != KILO_WG_BACKEND_AUTO)
		return wg->backend;
	if (kilo_wg_userspace_socket_exists(path))
		return KILO_WG_BACKEND_USERSPACE;
	return wg->kernel ? KILO_WG_BACKEND_KERNEL : KILO_WG_BACKEND_USERSPACE;
}

enum kilo_wg_backend kilo_wg_backend_of(const kilo_wg *wg, const char *ifname)
{
	char path[KILO_UAPI_PATH_MAX];

	if (kilo_uapi_socket_path(wg->socket_dir, ifname, path, NULL) < 0)
		return wg->backend == KILO_WG_BACKEND_KERNEL ? KILO_WG_BACKEND_KERNEL : KILO_WG_BACKEND_USERSPACE;
	return resolve(wg, path);
}

/* The socket path and backend for ifname, or the error that says what is missing. */
static int locate(kilo_wg *wg, const char *ifname, char path[KILO_UAPI_PATH_MAX], enum kilo_wg_backend *backend,
		  bool creating, struct kilo_error *err)
{
	int r = check_ifname(ifname, err);

	if (r == 0)
		r = kilo_uapi_socket_path(wg->socket_dir, ifname, path, err);
	if (r < 0)
		return r;
	reap_children(wg);
	*backend = resolve(wg, path);
	if (*backend == KILO_WG_BACKEND_KERNEL || kilo_wg_userspace_socket_exists(path) || (creating && wg->program))
		return 0;
	if (wg->backend == KILO_WG_BACKEND_AUTO)
		return kilo_error_set(err, ENODEV,
				      "%s: no wireguard kernel module and no userspace socket %s; pass a userspace program such as wireguard-go",
				      ifname, path);
	return kilo_error_set(err, ENODEV, "%s: no userspace socket %s%s", ifname, path,
			      creating ? "; pass a userspace program such as wireguard-go" : "");
}

static struct child *find_child(kilo_wg *wg, const char *ifname)
{
	for (size_t i = 0; i < wg->n_children; i++)
		if (strcmp(wg->children[i].ifname, ifname) == 0)
			return &wg->children[i];
	return NULL;
}

static int start_userspace(kilo_wg *wg, const char *ifname, const char *path, struct kilo_error *err)
{
	struct child *children = realloc(wg->children, (wg->n_children + 1) * sizeof(*children));
	struct child *c;
	int r;

	if (!children)
		return kilo_error_set(err, ENOMEM, "out of memory");
	wg->children = children;
	c = &children[wg->n_children];
	memset(c, 0, sizeof(*c));
	memcpy(c->ifname, ifname, strlen(ifname));
	r = kilo_wg_userspace_start(wg->program, ifname, path, wg->output_fd, &c->pid, err);
	if (r == 0)
		wg->n_children++;
	return r;
}

int kilo_wg_device_create(kilo_wg *wg, const char *ifname, struct kilo_error *err)
{
	enum kilo_wg_backend backend;
	char path[KILO_UAPI_PATH_MAX];
	int r = locate(wg, ifname, path, &backend, true, err);

	if (r < 0)
		return r;
	if (backend == KILO_WG_BACKEND_KERNEL)
		return kilo_wg_kernel_link_add(wg->kernel, ifname, err);
	if (kilo_wg_userspace_socket_exists(path))
		return 0;
	r = start_userspace(wg, ifname, path, err);
	return r < 0 ? r : 1;
}

/*
 * A userspace device this handle did not start is stopped by removing its
 * socket: wireguard-go watches the socket file and shuts the device down.
 */
int kilo_wg_device_delete(kilo_wg *wg, const char *ifname, struct kilo_error *err)
{
	enum kilo_wg_backend backend;
	char path[KILO_UAPI_PATH_MAX];
	struct child *c;
	int r = locate(wg, ifname, path, &backend, false, err);

	if (r < 0)
		return r;
	if (backend == KILO_WG_BACKEND_KERNEL)
		return kilo_wg_kernel_link_del(wg->kernel, ifname, err);
	c = find_child(wg, ifname);
	if (c) {
		kilo_wg_userspace_stop(c->pid);
		*c = wg->children[--wg->n_children];
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return kilo_error_set(err, errno, "%s: cannot remove %s: %s", ifname, path, strerror(errno));
	return 0;
}

int kilo_wg_device_get(kilo_wg *wg, const char *ifname, kilo_wg_config **out, struct kilo_error *err)
{
	enum kilo_wg_backend backend;
	char path[KILO_UAPI_PATH_MAX];
	int r;

	*out = NULL;
	r = locate(wg, ifname, path, &backend, false, err);
	if (r < 0)
		return r;
	if (backend == KILO_WG_BACKEND_KERNEL)
		return kilo_wg_kernel_get(wg->kernel, ifname, out, err);
	return kilo_uapi_get(path, ifname, out, err);
}

static bool empty_change(const kilo_wg_config *change)
{
	return !change || (!change->has_private_key && !change->has_listen_port && !change->has_fwmark &&
			   !change->replace_peers && change->n_peers == 0);
}

int kilo_wg_device_set(kilo_wg *wg, const char *ifname, const kilo_wg_config *change, struct kilo_error *err)
{
	uint64_t before = wg->counters.messages;
	enum kilo_wg_backend backend;
	char path[KILO_UAPI_PATH_MAX];
	int r;

	/* A diff that found nothing is NULL: a reconcile with nothing to do sends nothing. */
	if (empty_change(change))
		return check_ifname(ifname, err);
	r = locate(wg, ifname, path, &backend, false, err);
	if (r < 0)
		return r;
	if (backend == KILO_WG_BACKEND_KERNEL)
		r = kilo_wg_kernel_set(wg->kernel, ifname, change, &wg->counters, err);
	else
		r = kilo_uapi_set(path, ifname, change, &wg->counters, err);
	if (wg->counters.messages != before)
		wg->counters.set_operations++;
	return r;
}

void kilo_wg_counters_get(const kilo_wg *wg, struct kilo_wg_counters *out)
{
	*out = wg->counters;
}
