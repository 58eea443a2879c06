// SPDX-License-Identifier: Apache-2.0
/*
 * Loading the programs of lib/bpf/progs: bpffs mounted when missing, one
 * pin dir, every object opened from the bytes its skeleton embeds with
 * that pin_root_path, so that all of them share the maps pinned there.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include <bpf/bpf.h>

#include "../core/error.h"
#include "lb.skel.h"
#if __has_include("sock.skel.h")
#include "sock.skel.h"
#define KILO_BPF_HAVE_SOCK 1
#endif

#define BPFFS_ROOT "/sys/fs/bpf"

struct embedded_object {
	const char *name;
	const void *(*bytes)(size_t *size);
};

static const struct embedded_object embedded[] = {
	{ "lb", kilo_lb_bpf__elf_bytes },
#ifdef KILO_BPF_HAVE_SOCK
	{ "sock", kilo_sock_bpf__elf_bytes },
#endif
};

/*
 * libbpf prints its complaints (the verifier's log, the kernel's netlink
 * errors) to stderr unless told otherwise, and a library must not: while
 * libkilo calls it, they go into this thread's buffer instead, whose last
 * first line explains a failure.
 */
static _Thread_local char libbpf_said[256];

__attribute__((format(printf, 2, 0))) static int capture_libbpf(enum libbpf_print_level level, const char *fmt,
							      va_list ap)
{
	char line[sizeof(libbpf_said)];
	size_t len;

	if (level == LIBBPF_DEBUG)
		return 0;
	/* The first complaint is the cause; those after it report the failure it caused. */
	if (libbpf_said[0])
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	len = strcspn(line, "\n");
	line[len] = '\0';
	memcpy(libbpf_said, line, len + 1);
	return 0;
}

libbpf_print_fn_t kilo__bpf_quiet(void)
{
	libbpf_said[0] = '\0';
	/* Process-wide, but only for the time of libkilo's calls: the program's own printer comes back after. */
	return libbpf_set_print(capture_libbpf);
}

void kilo__bpf_loud(libbpf_print_fn_t previous)
{
	libbpf_set_print(previous);
}

const char *kilo__bpf_said(void)
{
	return libbpf_said;
}

static bool on_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

/* mkdir -p for the part of path below an existing bpffs directory. */
static int make_dirs(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(buf, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

/* The pin dir on a bpffs: /sys/fs/bpf is mounted when it is not one yet, as kg's hosts may not have it. */
static int make_pin_dir(const char *pin_dir, struct kilo_error *err)
{
	int r;

	if (!on_bpffs(BPFFS_ROOT) && strncmp(pin_dir, BPFFS_ROOT "/", strlen(BPFFS_ROOT) + 1) == 0 &&
	    mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700") < 0)
		return kilo_error_set(err, errno, "bpf: mounting bpffs at %s: %s", BPFFS_ROOT, strerror(errno));
	r = make_dirs(pin_dir);
	if (r < 0)
		return kilo_error_set(err, -r, "bpf: pin dir %s: %s", pin_dir, strerror(-r));
	if (!on_bpffs(pin_dir))
		return kilo_error_set(err, ENOTSUP, "bpf: pin dir %s: not on a bpf filesystem", pin_dir);
	return 0;
}

/*
 * A map pinned by programs of another layout (e.g. an older kg's, with
 * fewer counters) cannot be reused, and libbpf would refuse to load: its
 * pin goes, so that a map of the new layout takes its place. The programs
 * still attached keep the old map until they are replaced.
 */
static void unpin_incompatible(struct bpf_object *obj)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj) {
		const char *path = bpf_map__pin_path(map);
		struct bpf_map_info info = { 0 };
		__u32 len = sizeof(info);
		int fd;

		if (!path || (fd = bpf_obj_get(path)) < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
		    (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
		     info.value_size != bpf_map__value_size(map) || info.max_entries != bpf_map__max_entries(map) ||
		     info.map_flags != bpf_map__map_flags(map)))
			unlink(path);
		close(fd);
	}
}

static int load_object(kilo_bpf *bpf, const struct embedded_object *e, struct kilo_error *err)
{
	char object_name[32];
	struct bpf_object *obj;
	const void *bytes;
	size_t size;
	int r;

	snprintf(object_name, sizeof(object_name), "kilo_%s", e->name);
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = object_name, .pin_root_path = bpf->pin_dir);
	bytes = e->bytes(&size);
	obj = bpf_object__open_mem(bytes, size, &opts);
	if (!obj) {
		r = -errno;
		return kilo_error_set(err, -r, "bpf: opening %s.bpf.o: %s%s%s", e->name, strerror(-r),
				      *libbpf_said ? ": " : "", libbpf_said);
	}
	unpin_incompatible(obj);
	r = bpf_object__load(obj);
	if (r < 0) {
		bpf_object__close(obj);
		return kilo_error_set(err, -r, "bpf: loading %s.bpf.o into the kernel: %s%s%s", e->name, strerror(-r),
				      *libbpf_said ? ": " : "", libbpf_said);
	}
	bpf->objects[bpf->n_objects++] = obj;
	return 0;
}

int kilo_bpf_open(const struct kilo_bpf_opts *opts, kilo_bpf **out, struct kilo_error *err)
{
	const char *pin_dir = opts && opts->pin_dir ? opts->pin_dir : KILO_LB_PIN_DIR;
	uint32_t m = opts && opts->maglev_m ? opts->maglev_m : KILO_LB_MAGLEV_DEFAULT;
	libbpf_print_fn_t previous;
	kilo_bpf *bpf;
	int r = 0;

	*out = NULL;
	if (m != KILO_LB_MAGLEV_DEFAULT && m != KILO_LB_MAGLEV_LARGE)
		return kilo_error_set(err, EINVAL, "bpf: Maglev table size %u: not %u or %u", m, KILO_LB_MAGLEV_DEFAULT,
				      KILO_LB_MAGLEV_LARGE);
	if (pin_dir[0] != '/')
		return kilo_error_set(err, EINVAL, "bpf: pin dir \"%s\": not an absolute path", pin_dir);
	bpf = calloc(1, sizeof(*bpf));
	if (!bpf || !(bpf->pin_dir = strdup(pin_dir))) {
		free(bpf);
		return kilo_error_set(err, ENOMEM, "bpf: out of memory");
	}
	bpf->maglev_m = m;
	bpf->all_flow_events = opts && opts->all_flow_events;
	r = make_pin_dir(pin_dir, err);
	previous = kilo__bpf_quiet();
	for (size_t i = 0; r == 0 && i < sizeof(embedded) / sizeof(embedded[0]); i++)
		r = load_object(bpf, &embedded[i], err);
	kilo__bpf_loud(previous);
	if (r < 0) {
		kilo_bpf_close(bpf);
		return r;
	}
	*out = bpf;
	return 0;
}

void kilo_bpf_close(kilo_bpf *bpf)
{
	if (!bpf)
		return;
	for (size_t i = 0; i < bpf->n_objects; i++)
		bpf_object__close(bpf->objects[i]);
	kilo__bpf_last_free(bpf);
	kilo__bpf_policy_last_free(bpf);
	free(bpf->attached);
	free(bpf->pin_dir);
	free(bpf);
}

const char *kilo_bpf_pin_dir(const kilo_bpf *bpf)
{
	return bpf->pin_dir;
}

uint32_t kilo_bpf_maglev_m(const kilo_bpf *bpf)
{
	return bpf->maglev_m;
}

int kilo__bpf_map_fd(const kilo_bpf *bpf, const char *name)
{
	for (size_t i = 0; i < bpf->n_objects; i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(bpf->objects[i], name);

		if (map)
			return bpf_map__fd(map);
	}
	return -1;
}

struct bpf_program *kilo__bpf_program(const kilo_bpf *bpf, const char *name)
{
	for (size_t i = 0; i < bpf->n_objects; i++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(bpf->objects[i], name);

		if (prog)
			return prog;
	}
	return NULL;
}

int kilo_bpf_mode_parse(const char *text, enum kilo_bpf_mode *out, struct kilo_error *err)
{
	static const char *const names[] = {
		[KILO_BPF_OFF] = "off",
		[KILO_BPF_AUTO] = "auto",
		[KILO_BPF_ON] = "on",
	};
	int i = kilo_name_lookup(names, sizeof(names) / sizeof(names[0]), "bpf mode", text, err);

	if (i < 0)
		return i;
	*out = (enum kilo_bpf_mode)i;
	return 0;
}
