// SPDX-License-Identifier: Apache-2.0
/*
 * kg's --bpf: the eBPF handle, opened as the mode asks, attached to the
 * socket cgroup, the pod veths and the node's interfaces, and closed (with
 * everything it put on the host, under --clean-up) when the agent stops.
 */
#include "internal.h"
#include "lb.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/error.h"
#include "../policy/ids.h"

/* Where cgroup v2 is mounted (the socket programs' default cgroup is its root); NULL when it is not. */
static char *cgroup2_root(void)
{
	FILE *mounts = fopen("/proc/self/mounts", "re");
	char line[4096], dir[4096], type[64];
	char *found = NULL;

	if (!mounts)
		return NULL;
	while (!found && fgets(line, sizeof(line), mounts))
		if (sscanf(line, "%*s %4095s %63s", dir, type) == 2 && strcmp(type, "cgroup2") == 0)
			found = strdup(dir);
	fclose(mounts);
	return found;
}

/*
 * The programs rewrite a packet's source to one of this node's addresses
 * before the kernel routes it (the SNAT of a NodePort or of a VPN peer's
 * ClusterIP flow, and the reverse NAT of its replies); without accept_local
 * the kernel drops such a packet as a martian. It must hold for every link
 * such a packet may enter through, a pod veth's bridge too: all of them.
 */
static int accept_local(struct kilo_error *err)
{
	static const char path[] = "/proc/sys/net/ipv4/conf/all/accept_local";
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1", 1) != 1)
		r = -errno;
	if (fd >= 0)
		close(fd);
	return r < 0 ? kilo_error_set(err, -r, "bpf: setting %s: %s", path, strerror(-r)) : 0;
}

static int attach_cgroup(struct kilo_agent_lb *lb, const char *cgroup, const struct kilo_logger *log,
			 struct kilo_error *err)
{
	char *root = NULL;
	int r;

	/* "": host processes are left to reach services some other way. */
	if (cgroup && !*cgroup)
		return 0;
	if (!cgroup) {
		cgroup = root = cgroup2_root();
		if (!root) {
			kilo_log(log, KILO_LOG_WARNING, "bpf: no cgroup v2 mounted: host processes do not reach services");
			return 0;
		}
	}
	r = kilo_bpf_attach_cgroup(lb->bpf, cgroup, err);
	free(root);
	return r < 0 ? r : 0;
}

int kilo_agent_lb_start(struct kilo_agent_lb *lb, const struct kilo_agent_opts *o, const char *wireguard,
			const struct kilo_logger *log, struct kilo_error *err)
{
	struct kilo_bpf_opts opts = {
		.pin_dir = o->bpf_pin_dir, .maglev_m = o->bpf_maglev_size, .all_flow_events = o->bpf_all_flow_events
	};
	struct kilo_error why = { 0 };
	int r;

	*lb = (struct kilo_agent_lb){ .wireguard = wireguard, .maglev_tables = o->bpf_maglev_tables };
	if (o->bpf == KILO_BPF_OFF)
		return 0;
	r = kilo_bpf_open(&opts, &lb->bpf, &why);
	if (r < 0 && o->bpf == KILO_BPF_AUTO) {
		kilo_log(log, KILO_LOG_INFO, "bpf: off (auto): %s", why.message);
		return 0;
	}
	if (r == 0)
		r = accept_local(&why);
	if (r == 0)
		r = attach_cgroup(lb, o->bpf_cgroup, log, &why);
	if (r == 0)
		r = kilo_lb_links_open(&lb->links, lb->bpf, KILO_AGENT_CNI_BRIDGE, &why);
	if (r == 0)
		r = kilo_lb_links_netdev(&lb->links, 0, wireguard, &why);
	if (r < 0) {
		if (err)
			*err = why;
		kilo_agent_lb_stop(lb, true);
		return r;
	}
	kilo_log(log, KILO_LOG_INFO, "bpf: on%s: programs loaded, maps pinned under %s (Maglev M = %u)",
		 o->bpf == KILO_BPF_AUTO ? " (auto: this kernel loads them)" : "", kilo_bpf_pin_dir(lb->bpf),
		 kilo_bpf_maglev_m(lb->bpf));
	return 0;
}

int kilo_agent_lb_fd(const struct kilo_agent_lb *lb)
{
	return lb->bpf ? kilo_lb_links_fd(&lb->links) : -1;
}

int kilo_agent_lb_step(struct kilo_agent_lb *lb, struct kilo_error *err)
{
	return lb->bpf ? kilo_lb_links_read(&lb->links, err) : 0;
}

int kilo_agent_lb_node(struct kilo_agent_lb *lb, const struct kilo_addr *private_ip, struct kilo_error *err)
{
	char name[IF_NAMESIZE] = "";
	int ifindex = 0;

	if (!lb->bpf)
		return 0;
	/* NodePort arrives on the private IP's link; no private IP, no such link. */
	if (private_ip->family && kilo_net_address_link(private_ip, &ifindex, NULL) == 0 &&
	    !if_indextoname((unsigned)ifindex, name))
		name[0] = '\0';
	return kilo_lb_links_netdev(&lb->links, 1, name, err);
}

bool kilo_agent_lb_counters(struct kilo_agent_lb *lb, struct kilo_bpf_counters *out)
{
	return lb->bpf && kilo_bpf_counters(lb->bpf, out, NULL) == 0;
}

void kilo_agent_lb_stop(struct kilo_agent_lb *lb, bool clean_up)
{
	kilo_lb_links_close(&lb->links);
	if (lb->bpf && clean_up)
		kilo_bpf_clean_up(lb->bpf, NULL);
	kilo_bpf_close(lb->bpf);
	lb->bpf = NULL;
	kilo_lb_ids_free(lb->ids);
	lb->ids = NULL;
}
