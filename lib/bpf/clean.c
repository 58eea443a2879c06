// SPDX-License-Identifier: Apache-2.0
/*
 * Removing everything libkilo's eBPF put on the host: its filters on every
 * link of the namespace, its cgroup links, its pins and the pin dir.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "../core/error.h"

/* Whether the filter at libkilo's handle and priority on (ifindex, point) runs one of libkilo's programs. */
static bool ours_at(int ifindex, enum bpf_tc_attach_point point)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, tc, .handle = KILO_BPF_TC_HANDLE, .priority = KILO_BPF_TC_PRIORITY);
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd;
	bool ours;

	if (bpf_tc_query(&hook, &tc) < 0)
		return false;
	fd = bpf_prog_get_fd_by_id(tc.prog_id);
	if (fd < 0)
		return false;
	ours = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
	       strncmp(info.name, KILO_BPF_PROG_PREFIX, strlen(KILO_BPF_PROG_PREFIX)) == 0;
	close(fd);
	return ours;
}

/* Every link of the namespace, so that the filters an earlier kg left go too. */
static int detach_everywhere(kilo_bpf *bpf, struct kilo_error *err)
{
	struct if_nameindex *links = if_nameindex();
	int first = 0;

	if (!links)
		return kilo_error_set(err, errno, "bpf: listing links: %s", strerror(errno));
	for (struct if_nameindex *l = links; l->if_index; l++) {
		int ifindex = (int)l->if_index, r;

		if (!ours_at(ifindex, BPF_TC_INGRESS) && !ours_at(ifindex, BPF_TC_EGRESS))
			continue;
		r = kilo_bpf_detach(bpf, ifindex, err);
		if (r < 0 && first == 0)
			first = r;
	}
	if_freenameindex(links);
	/* Links gone meanwhile took their filters with them. */
	bpf->n_attached = 0;
	return first;
}

/* A pinned cgroup link detaches its program before its pin goes: nothing else may hold it alive. */
static void detach_link(const char *path)
{
	struct bpf_link *link = bpf_link__open(path);

	if (!link)
		return;
	bpf_link__detach(link);
	bpf_link__destroy(link);
}

static int remove_pins(const char *pin_dir, struct kilo_error *err)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *dir = opendir(pin_dir);
	int first = 0;

	if (!dir)
		return errno == ENOENT ? 0 : kilo_error_set(err, errno, "bpf: pin dir %s: %s", pin_dir, strerror(errno));
	while ((e = readdir(dir))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, e->d_name);
		if (!strncmp(e->d_name, "link_", 5))
			detach_link(path);
		if (unlink(path) < 0 && errno != ENOENT && first == 0)
			first = kilo_error_set(err, errno, "bpf: removing pin %s: %s", path, strerror(errno));
	}
	closedir(dir);
	if (first == 0 && rmdir(pin_dir) < 0 && errno != ENOENT)
		first = kilo_error_set(err, errno, "bpf: removing pin dir %s: %s", pin_dir, strerror(errno));
	return first;
}

int kilo_bpf_clean_up(kilo_bpf *bpf, struct kilo_error *err)
{
	libbpf_print_fn_t previous = kilo__bpf_quiet();
	int r = detach_everywhere(bpf, err), p = remove_pins(bpf->pin_dir, err);

	kilo__bpf_loud(previous);
	/* The maps are no longer the pinned ones a new handle would find: the next sync starts from a read. */
	kilo__bpf_last_free(bpf);
	kilo__bpf_policy_last_free(bpf);
	return r < 0 ? r : p;
}
