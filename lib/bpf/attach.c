// SPDX-License-Identifier: Apache-2.0
/*
 * Attaching the programs: tc (clsact) filters on links at one fixed handle
 * and priority, replaced in place by a new kg; cgroup programs through
 * links pinned in the pin dir, updated in place by a new kg.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "../core/error.h"

struct hook_program {
	enum bpf_tc_attach_point point;
	const char *program;
};

static const struct hook_program pod_hooks[] = {
	{ BPF_TC_INGRESS, "kilo_lb_from_pod" },
	{ BPF_TC_EGRESS, "kilo_lb_to_pod" },
};

static const struct hook_program netdev_hooks[] = {
	{ BPF_TC_INGRESS, "kilo_lb_from_netdev" },
};

/* A node interface without an Ethernet header (WireGuard, a TUN): its packets start at the IP header. */
static const struct hook_program l3dev_hooks[] = {
	{ BPF_TC_INGRESS, "kilo_lb_from_l3dev" },
};

static const char *link_name(int ifindex, char name[IF_NAMESIZE])
{
	if (!if_indextoname((unsigned)ifindex, name))
		snprintf(name, IF_NAMESIZE, "#%d", ifindex);
	return name;
}

static ssize_t find_attached(const kilo_bpf *bpf, int ifindex)
{
	for (size_t i = 0; i < bpf->n_attached; i++)
		if (bpf->attached[i].ifindex == ifindex)
			return (ssize_t)i;
	return -1;
}

static int attach_hook(int ifindex, const struct hook_program *h, int prog_fd, struct kilo_error *err)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = h->point);
	LIBBPF_OPTS(bpf_tc_opts, tc, .handle = KILO_BPF_TC_HANDLE, .priority = KILO_BPF_TC_PRIORITY,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	char name[IF_NAMESIZE];
	int r;

	r = bpf_tc_hook_create(&hook);
	if (r < 0 && r != -EEXIST)
		return kilo_error_set(err, -r, "bpf: clsact on %s: %s", link_name(ifindex, name), strerror(-r));
	r = bpf_tc_attach(&hook, &tc);
	if (r < 0)
		return kilo_error_set(err, -r, "bpf: attaching %s to %s: %s", h->program, link_name(ifindex, name),
				      strerror(-r));
	return 0;
}

/* Removes libkilo's filter at point, if one is there; -ENOENT when none is. */
static int detach_hook(int ifindex, enum bpf_tc_attach_point point)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, tc, .handle = KILO_BPF_TC_HANDLE, .priority = KILO_BPF_TC_PRIORITY);

	return bpf_tc_detach(&hook, &tc);
}

/* Whether ifindex's frames start with an Ethernet header (ARPHRD_ETHER), as the link's hardware type says. */
static int ethernet(int ifindex, bool *out)
{
	struct ifreq ifr = { 0 };
	int fd, r = 0;

	if (!if_indextoname((unsigned)ifindex, ifr.ifr_name))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		r = -errno;
	close(fd);
	*out = ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER;
	return r;
}

static int role_hooks(enum kilo_bpf_role role, int ifindex, const struct hook_program **hooks, size_t *n)
{
	bool l2 = true;
	int r = role == KILO_BPF_NETDEV ? ethernet(ifindex, &l2) : 0;

	if (role == KILO_BPF_POD) {
		*hooks = pod_hooks;
		*n = sizeof(pod_hooks) / sizeof(pod_hooks[0]);
	} else if (l2) {
		*hooks = netdev_hooks;
		*n = sizeof(netdev_hooks) / sizeof(netdev_hooks[0]);
	} else {
		*hooks = l3dev_hooks;
		*n = sizeof(l3dev_hooks) / sizeof(l3dev_hooks[0]);
	}
	return r;
}

static int detach(kilo_bpf *bpf, int ifindex, struct kilo_error *err)
{
	ssize_t known = find_attached(bpf, ifindex);
	char name[IF_NAMESIZE];
	int r = 0;

	for (enum bpf_tc_attach_point p = BPF_TC_INGRESS; p <= BPF_TC_EGRESS && r == 0; p <<= 1) {
		r = detach_hook(ifindex, p);
		/* No filter there, or the link is gone and its filters with it. */
		if (r == -ENOENT || r == -ENODEV || r == -EINVAL)
			r = 0;
	}
	if (r < 0)
		return kilo_error_set(err, -r, "bpf: detaching from %s: %s", link_name(ifindex, name), strerror(-r));
	if (known >= 0)
		bpf->attached[known] = bpf->attached[--bpf->n_attached];
	return 0;
}

static int attach(kilo_bpf *bpf, int ifindex, enum kilo_bpf_role role, struct kilo_error *err)
{
	const struct hook_program *hooks;
	struct kilo_bpf_attachment *grown;
	ssize_t known = find_attached(bpf, ifindex);
	char name[IF_NAMESIZE];
	size_t n;
	int r;

	if (ifindex <= 0)
		return kilo_error_set(err, EINVAL, "bpf: ifindex %d: not a link", ifindex);
	if (known >= 0 && bpf->attached[known].role == role)
		return 0;
	/* A link that changed role loses the hooks of its old one. */
	if (known >= 0 && (r = detach(bpf, ifindex, err)) < 0)
		return r;
	r = role_hooks(role, ifindex, &hooks, &n);
	if (r < 0)
		return kilo_error_set(err, -r, "bpf: link %s: %s", link_name(ifindex, name), strerror(-r));
	for (size_t i = 0; i < n; i++) {
		struct bpf_program *prog = kilo__bpf_program(bpf, hooks[i].program);

		if (!prog)
			continue;
		r = attach_hook(ifindex, &hooks[i], bpf_program__fd(prog), err);
		if (r < 0) {
			/* All the role's hooks or none. */
			for (size_t j = 0; j < i; j++)
				detach_hook(ifindex, hooks[j].point);
			return r;
		}
	}
	grown = realloc(bpf->attached, (bpf->n_attached + 1) * sizeof(*grown));
	if (!grown)
		return kilo_error_set(err, ENOMEM, "bpf: out of memory");
	bpf->attached = grown;
	bpf->attached[bpf->n_attached++] = (struct kilo_bpf_attachment){ .ifindex = ifindex, .role = role };
	return 0;
}

int kilo_bpf_attach(kilo_bpf *bpf, int ifindex, enum kilo_bpf_role role, struct kilo_error *err)
{
	libbpf_print_fn_t previous = kilo__bpf_quiet();
	int r = attach(bpf, ifindex, role, err);

	kilo__bpf_loud(previous);
	return r;
}

int kilo_bpf_detach(kilo_bpf *bpf, int ifindex, struct kilo_error *err)
{
	libbpf_print_fn_t previous = kilo__bpf_quiet();
	int r = detach(bpf, ifindex, err);

	kilo__bpf_loud(previous);
	return r;
}

const struct kilo_bpf_attachment *kilo_bpf_attachments(const kilo_bpf *bpf, size_t *n)
{
	*n = bpf->n_attached;
	return bpf->attached;
}

static bool cgroup_program(const struct bpf_program *prog)
{
	enum bpf_prog_type type = bpf_program__type(prog);

	return type == BPF_PROG_TYPE_CGROUP_SOCK_ADDR || type == BPF_PROG_TYPE_CGROUP_SOCK;
}

/* Attaches prog to cgroup_fd through the link pinned at path, made and pinned when missing. */
static int attach_cgroup_program(struct bpf_program *prog, int cgroup_fd, const char *path, struct kilo_error *err)
{
	struct bpf_link *link = bpf_link__open(path);
	int r;

	if (link) {
		r = bpf_link__update_program(link, prog);
		bpf_link__disconnect(link);
		bpf_link__destroy(link);
		if (r == 0)
			return 0;
		/* A link of another kind of program (an older kg's): it goes, a new one comes. */
		unlink(path);
	}
	link = bpf_program__attach_cgroup(prog, cgroup_fd);
	if (!link)
		return kilo_error_set(err, errno, "bpf: attaching %s to the cgroup: %s", bpf_program__name(prog),
				      strerror(errno));
	r = bpf_link__pin(link, path);
	/* Pinned, the link outlives this handle; unpinned, it goes with it. */
	bpf_link__disconnect(link);
	bpf_link__destroy(link);
	if (r < 0)
		return kilo_error_set(err, -r, "bpf: pinning %s's link at %s: %s", bpf_program__name(prog), path,
				      strerror(-r));
	return 0;
}

static int attach_cgroup(kilo_bpf *bpf, const char *path, struct kilo_error *err)
{
	char pin[PATH_MAX];
	int cgroup_fd, r = 0, n = 0;

	cgroup_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgroup_fd < 0)
		return kilo_error_set(err, errno, "bpf: cgroup %s: %s", path, strerror(errno));
	for (size_t i = 0; i < bpf->n_objects && r == 0; i++) {
		struct bpf_program *prog;

		bpf_object__for_each_program(prog, bpf->objects[i]) {
			if (!cgroup_program(prog))
				continue;
			snprintf(pin, sizeof(pin), "%s/link_%s", bpf->pin_dir, bpf_program__name(prog));
			r = attach_cgroup_program(prog, cgroup_fd, pin, err);
			if (r < 0)
				break;
			n++;
		}
	}
	close(cgroup_fd);
	return r < 0 ? r : n;
}

int kilo_bpf_attach_cgroup(kilo_bpf *bpf, const char *path, struct kilo_error *err)
{
	libbpf_print_fn_t previous = kilo__bpf_quiet();
	int r = attach_cgroup(bpf, path, err);

	kilo__bpf_loud(previous);
	return r;
}
