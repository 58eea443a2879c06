// SPDX-License-Identifier: Apache-2.0
/* The programs' per-CPU counters, summed by reason: kg's /metrics and kgctl bpf stats. */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "../core/error.h"
#include "../core/strbuf.h"

#define COUNTERS_MAP "kilo_lb_counters"

const char *kilo_bpf_counter_name(unsigned reason)
{
	static const char *const names[] = {
		[KILO_LB_FORWARD_NEW] = "forward_new",
		[KILO_LB_FORWARD_ESTABLISHED] = "forward_established",
		[KILO_LB_REVERSE_NAT] = "reverse_nat",
		[KILO_LB_DROP_NO_BACKEND] = "drop_no_backend",
		[KILO_LB_REJECT_NO_BACKEND] = "reject_no_backend",
		[KILO_LB_DROP_BACKEND_GONE] = "drop_backend_gone",
		[KILO_LB_DROP_MALFORMED] = "drop_malformed",
		[KILO_LB_DROP_FRAGMENT] = "drop_fragment",
		[KILO_LB_ICMP_ERROR_NAT] = "icmp_error_nat",
		[KILO_LB_PASS] = "pass",
		[KILO_LB_DROP_NAT_PORTS] = "drop_nat_ports",
		[KILO_LB_SOCK_FORWARD] = "sock_forward",
		[KILO_LB_SOCK_REVERSE] = "sock_reverse",
		[KILO_LB_SOCK_REJECT_NO_BACKEND] = "sock_reject_no_backend",
		[KILO_LB_SOCK_REVERSE_LOST] = "sock_reverse_lost",
		[KILO_LB_POLICY_FORWARD_NEW] = "policy_forward_new",
		[KILO_LB_POLICY_DENY_INGRESS] = "policy_deny_ingress",
		[KILO_LB_POLICY_DENY_EGRESS] = "policy_deny_egress",
		[KILO_LB_FLOW_EVENTS_LOST] = "flow_events_lost",
	};

	/* A reason the programs gained after this list: named, never dropped. */
	return reason < sizeof(names) / sizeof(names[0]) && names[reason] ? names[reason] : "unknown";
}

int kilo_bpf_counters_read(int fd, struct kilo_bpf_counters *out, struct kilo_error *err)
{
	int cpus = libbpf_num_possible_cpus();
	struct kilo_lb_counter_value *per_cpu;

	*out = (struct kilo_bpf_counters){ 0 };
	if (cpus <= 0)
		return kilo_error_set(err, cpus < 0 ? -cpus : EINVAL, "bpf: counting the possible CPUs failed");
	/* A per-CPU value is one slot per possible CPU, each rounded up to 8 bytes (as this one is). */
	per_cpu = calloc((size_t)cpus, sizeof(*per_cpu));
	if (!per_cpu)
		return kilo_error_set(err, ENOMEM, "bpf: out of memory");
	for (__u32 reason = 0; reason < KILO_LB_COUNTER_MAX; reason++) {
		int r = bpf_map_lookup_elem(fd, &reason, per_cpu);

		if (r < 0) {
			free(per_cpu);
			return kilo_error_set(err, -r, "bpf: reading map %s, reason %s: %s", COUNTERS_MAP,
					      kilo_bpf_counter_name(reason), strerror(-r));
		}
		for (int c = 0; c < cpus; c++) {
			out->packets[reason] += per_cpu[c].packets;
			out->bytes[reason] += per_cpu[c].bytes;
		}
	}
	free(per_cpu);
	return 0;
}

int kilo_bpf_counters(kilo_bpf *bpf, struct kilo_bpf_counters *out, struct kilo_error *err)
{
	int fd = kilo__bpf_map_fd(bpf, COUNTERS_MAP);

	if (fd < 0)
		return kilo_error_set(err, ENOENT, "bpf: no map %s in the programs", COUNTERS_MAP);
	return kilo_bpf_counters_read(fd, out, err);
}

int kilo_bpf_stats_format(const char *pin_dir, char **out, struct kilo_error *err)
{
	struct kilo_bpf_counters c;
	struct kilo_strbuf text = { 0 };
	char path[PATH_MAX];
	int fd, r;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/%s", pin_dir ? pin_dir : KILO_BPF_DEFAULT_PIN_DIR, COUNTERS_MAP);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return kilo_error_set(err, -fd, "bpf stats: %s: %s%s", path, strerror(-fd),
				      fd == -ENOENT ? " (is kg running with --bpf?)" : "");
	r = kilo_bpf_counters_read(fd, &c, err);
	close(fd);
	if (r < 0)
		return r;
	kilo_strbuf_printf(&text, "%-20s %20s %20s\n", "REASON", "PACKETS", "BYTES");
	for (unsigned i = 0; i < KILO_LB_COUNTER_MAX; i++)
		kilo_strbuf_printf(&text, "%-20s %20" PRIu64 " %20" PRIu64 "\n", kilo_bpf_counter_name(i), c.packets[i],
				   c.bytes[i]);
	return kilo_strbuf_finish_named(&text, out, "bpf stats", err);
}
