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
#define RULE_COUNTERS_MAP "kilo_policy_rule_counters"

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

/* A buffer for one key's per-CPU values: one slot per possible CPU, each rounded up to 8 bytes (as this one is). */
static int per_cpu_buffer(struct kilo_lb_counter_value **out, int *cpus, struct kilo_error *err)
{
	*cpus = libbpf_num_possible_cpus();
	if (*cpus <= 0)
		return kilo_error_set(err, *cpus < 0 ? -*cpus : EINVAL, "bpf: counting the possible CPUs failed");
	*out = calloc((size_t)*cpus, sizeof(**out));
	if (!*out)
		return kilo_error_set(err, ENOMEM, "bpf: out of memory");
	return 0;
}

/* The counter at key of the per-CPU array fd, summed into *sum. */
static int sum_cpus(int fd, __u32 key, struct kilo_lb_counter_value *per_cpu, int cpus,
		    struct kilo_lb_counter_value *sum)
{
	int r = bpf_map_lookup_elem(fd, &key, per_cpu);

	*sum = (struct kilo_lb_counter_value){ 0 };
	if (r < 0)
		return r;
	for (int c = 0; c < cpus; c++) {
		sum->packets += per_cpu[c].packets;
		sum->bytes += per_cpu[c].bytes;
	}
	return 0;
}

int kilo_bpf_counters_read(int fd, struct kilo_bpf_counters *out, struct kilo_error *err)
{
	struct kilo_lb_counter_value *per_cpu, sum;
	int cpus, r;

	*out = (struct kilo_bpf_counters){ 0 };
	r = per_cpu_buffer(&per_cpu, &cpus, err);
	if (r < 0)
		return r;
	for (__u32 reason = 0; reason < KILO_LB_COUNTER_MAX; reason++) {
		r = sum_cpus(fd, reason, per_cpu, cpus, &sum);
		if (r < 0) {
			free(per_cpu);
			return kilo_error_set(err, -r, "bpf: reading map %s, reason %s: %s", COUNTERS_MAP,
					      kilo_bpf_counter_name(reason), strerror(-r));
		}
		out->packets[reason] = sum.packets;
		out->bytes[reason] = sum.bytes;
	}
	free(per_cpu);
	return 0;
}

int kilo_bpf_policy_rule_counters(kilo_bpf *bpf, const uint32_t *rule_ids, size_t n,
				  struct kilo_lb_counter_value *out, struct kilo_error *err)
{
	int fd = kilo__bpf_map_fd(bpf, RULE_COUNTERS_MAP), cpus, r = 0;
	struct kilo_lb_counter_value *per_cpu;

	if (fd < 0)
		return kilo_error_set(err, ENOENT, "bpf: no map %s in the programs", RULE_COUNTERS_MAP);
	for (size_t i = 0; i < n; i++)
		if (rule_ids[i] >= KILO_POLICY_MAX_RULE_IDS)
			return kilo_error_set(err, EINVAL, "bpf: rule id %u: not below %u", rule_ids[i],
					      KILO_POLICY_MAX_RULE_IDS);
	r = per_cpu_buffer(&per_cpu, &cpus, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r == 0; i++) {
		r = sum_cpus(fd, rule_ids[i], per_cpu, cpus, &out[i]);
		if (r < 0)
			kilo_error_set(err, -r, "bpf: reading map %s, rule %u: %s", RULE_COUNTERS_MAP, rule_ids[i],
				       strerror(-r));
	}
	free(per_cpu);
	return r;
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
