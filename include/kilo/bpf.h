/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service load balancing in eBPF: kg's --bpf mode and the counters the
 * programs keep in their pinned maps (kgctl bpf stats).
 */
#ifndef KILO_BPF_H
#define KILO_BPF_H

#include <kilo/core.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where kg pins the load balancer's maps and links by default. */
#define KILO_BPF_DEFAULT_PIN_DIR "/sys/fs/bpf/kilo"

enum kilo_bpf_mode {
	KILO_BPF_OFF = 0, /* no eBPF: services are left to kube-proxy or whatever else the host runs */
	KILO_BPF_AUTO,    /* on when this kernel loads the programs, else off (one log line says which and why) */
	KILO_BPF_ON,      /* on; a kernel that cannot load them is an error */
};

/* Parses "off", "auto" or "on". */
KILO_EXPORT int kilo_bpf_mode_parse(const char *text, enum kilo_bpf_mode *out, struct kilo_error *err);

/*
 * The load balancer's counters pinned under pin_dir (NULL:
 * KILO_BPF_DEFAULT_PIN_DIR), summed over CPUs, one line per reason:
 * "REASON PACKETS BYTES\n" after a header line, in *out (free with
 * kilo_free). -ENOENT, naming the path, when nothing is pinned there.
 */
KILO_EXPORT int kilo_bpf_stats_format(const char *pin_dir, char **out, struct kilo_error *err);

#ifdef __cplusplus
}
#endif

#endif
