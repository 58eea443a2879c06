/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The eBPF backend, like lib/wg and lib/net: loads the programs of
 * lib/bpf/progs with their maps pinned by name, attaches them to links and
 * cgroups, writes a desired state (lib/policy/lb_desired.h) into the maps
 * changing only what differs, reads the counters, and removes all of it.
 * The agent owns the handle. Functions return 0 or -errno and fill err.
 */
#ifndef KILO_LIB_BPF_LOADER_H
#define KILO_LIB_BPF_LOADER_H

#include <stdbool.h>
#include <stdint.h>

#include <kilo/bpf.h>

#include "../policy/lb_desired.h"
#include "../policy/np_desired.h"

typedef struct kilo_bpf kilo_bpf;

struct kilo_bpf_opts {
	const char *pin_dir; /* where the maps and cgroup links are pinned; NULL: KILO_LB_PIN_DIR */
	uint32_t maglev_m;   /* 0: KILO_LB_MAGLEV_DEFAULT; else it or KILO_LB_MAGLEV_LARGE */
	/* Every new flow of every local pod is a flow event (kg --flow-events all), not only those policy judges. */
	bool all_flow_events;
};

/*
 * Mounts bpffs at /sys/fs/bpf when the pin dir is not on one, makes the pin
 * dir (0700), and loads every program object: maps pinned there already
 * are reused with their entries (a restarted kg keeps its flows), the others
 * created and pinned. A kernel that cannot load them returns its -errno
 * (-EOPNOTSUPP without BPF) with err saying why, libbpf's last complaint
 * included. Nothing stays loaded after a failure.
 */
int kilo_bpf_open(const struct kilo_bpf_opts *opts, kilo_bpf **out, struct kilo_error *err);
/* Closes the handle; what is attached and pinned stays (see kilo_bpf_clean_up). NULL is a no-op. */
void kilo_bpf_close(kilo_bpf *bpf);

const char *kilo_bpf_pin_dir(const kilo_bpf *bpf);
uint32_t kilo_bpf_maglev_m(const kilo_bpf *bpf);

/* ---- attach (attach.c) ---------------------------------------------------- */

enum kilo_bpf_role {
	KILO_BPF_POD,    /* a pod veth's host side: ingress kilo_lb_from_pod, egress kilo_lb_to_pod */
	KILO_BPF_NETDEV, /* a node interface (private IP's link, WireGuard): ingress kilo_lb_from_netdev */
};

struct kilo_bpf_attachment {
	int ifindex;
	enum kilo_bpf_role role;
};

/*
 * Attaches role's programs to ifindex under tc clsact (made when missing),
 * at libkilo's own handle and priority: a filter already there (an earlier
 * kg's) is replaced in place, so packets never pass without one. A program
 * the objects do not hold is left out. Attaching again is a no-op.
 */
int kilo_bpf_attach(kilo_bpf *bpf, int ifindex, enum kilo_bpf_role role, struct kilo_error *err);
/* Removes libkilo's filters from ifindex; a link that is gone (its filters with it) is not an error. */
int kilo_bpf_detach(kilo_bpf *bpf, int ifindex, struct kilo_error *err);
/* The links this handle attached to, in attach order; valid until the next attach or detach. */
const struct kilo_bpf_attachment *kilo_bpf_attachments(const kilo_bpf *bpf, size_t *n);
/*
 * Attaches every cgroup program of the objects (socket-level load
 * balancing) to the cgroup v2 directory path, through links pinned in the
 * pin dir: a link an earlier kg pinned gets the new program in one update.
 * Returns how many programs are attached (0 when the objects hold none).
 */
int kilo_bpf_attach_cgroup(kilo_bpf *bpf, const char *path, struct kilo_error *err);

/* ---- sync (sync.c) -------------------------------------------------------- */

struct kilo_bpf_changes {
	unsigned added, changed, removed;
};

struct kilo_bpf_sync_report {
	struct kilo_bpf_changes services, backends, slots, revnat, maglev;
	struct kilo_bpf_changes backend_frontends; /* how replies find their flows */
};

/*
 * Writes desired into the maps, touching only the entries that differ from
 * them: read from the maps at the first sync after open, after a failed
 * one and when read_maps is set (a resync); else compared with the state
 * the last sync wrote. Every array of desired must be sorted by key and
 * every slot's backend must be in desired's backends (-EINVAL naming the
 * entry, before anything is written). Packets never see a half state:
 * backends go in first, then reverse NAT, the backends' frontends, slots
 * and Maglev tables (each a new map, swapped in whole), then services;
 * removals in the reverse order. A failure names the map and leaves every reference in the maps
 * valid; the next sync reads the maps again.
 */
int kilo_bpf_sync(kilo_bpf *bpf, const struct kilo_lb_desired *desired, bool read_maps,
		  struct kilo_bpf_sync_report *report, struct kilo_error *err);

/*
 * Hands ids (a new allocator, before its first computation) the ids of the
 * frontends and backends in the maps, as an earlier kg wrote them, so that
 * its flows keep their backends (adopt.c).
 */
struct kilo_lb_ids;
int kilo_bpf_adopt_ids(const kilo_bpf *bpf, struct kilo_lb_ids *ids, struct kilo_error *err);

/* ---- network policy (policy_sync.c, events.c, stats.c) -------------------- */

struct kilo_bpf_policy_sync_report {
	struct kilo_bpf_changes ipcache, endpoints, rules, cidrs;
};

/*
 * Writes network policy's desired state into its maps by difference, as
 * kilo_bpf_sync does (read_maps: compare with the maps read back, not with
 * what the last policy sync wrote). Every array sorted by key; LPM keys with
 * a prefixlen in their range and no bit set past it; endpoint ids and rule
 * ids not 0, rule ids and endpoints' deny rules below
 * KILO_POLICY_MAX_RULE_IDS: else -EINVAL naming the entry, before anything
 * is written. Packets never see an endpoint policed without its rules:
 * identities, regions and rules go in before the endpoints, and out after
 * them.
 */
int kilo_bpf_policy_sync(kilo_bpf *bpf, const struct kilo_np_desired *desired, bool read_maps,
			 struct kilo_bpf_policy_sync_report *report, struct kilo_error *err);
/*
 * The same, and once written desired's rules and cidrs (malloc'ed, as the
 * compile's) are kept for the next sync to compare with, not copied (5.6
 * MB for 10,000 pods): desired has none after it. After an error, desired
 * is as it was.
 */
int kilo_bpf_policy_sync_taking(kilo_bpf *bpf, struct kilo_np_desired *desired, bool read_maps,
				struct kilo_bpf_policy_sync_report *report, struct kilo_error *err);

/* Per-rule counters summed over the CPUs: out[i] for rule_ids[i] (rule 0: the default denials). */
int kilo_bpf_policy_rule_counters(kilo_bpf *bpf, const uint32_t *rule_ids, size_t n,
				  struct kilo_lb_counter_value *out, struct kilo_error *err);

/*
 * Flow events (struct kilo_flow_event) from the programs' ring buffer, one
 * reader at a time (the buffer has one consumer position). fn is called for
 * each event consume finds, in order; it returns 0, or -errno to stop
 * consume, which then returns that.
 */
typedef struct kilo_bpf_events kilo_bpf_events;
typedef int (*kilo_bpf_event_fn)(void *ctx, const struct kilo_flow_event *event);

int kilo_bpf_events_open(kilo_bpf *bpf, kilo_bpf_event_fn fn, void *ctx, kilo_bpf_events **out,
			 struct kilo_error *err);
/* The same on the pinned ring buffer of pin_dir (NULL: KILO_LB_PIN_DIR), without a handle: kgctl. */
int kilo_bpf_events_open_pinned(const char *pin_dir, kilo_bpf_event_fn fn, void *ctx, kilo_bpf_events **out,
				struct kilo_error *err);
/* An fd that polls readable (EPOLLIN) when events wait: for the agent's event loop. */
int kilo_bpf_events_fd(const kilo_bpf_events *events);
/* Hands every waiting event to fn without blocking: how many, or -errno (fn's, or reading's). */
int kilo_bpf_events_consume(kilo_bpf_events *events, struct kilo_error *err);
/* NULL is a no-op. */
void kilo_bpf_events_close(kilo_bpf_events *events);

/* ---- clean-up and counters (clean.c, stats.c) ------------------------------ */

/*
 * Removes libkilo's filters from every link of this network namespace
 * (those this handle attached and those an earlier kg left), the cgroup
 * links, and every pin and the pin dir. The handle stays open, attached
 * to nothing, its maps no longer pinned.
 */
int kilo_bpf_clean_up(kilo_bpf *bpf, struct kilo_error *err);

/* Per-CPU counters summed, by reason (enum kilo_lb_counter). */
struct kilo_bpf_counters {
	uint64_t packets[KILO_LB_COUNTER_MAX];
	uint64_t bytes[KILO_LB_COUNTER_MAX];
};

int kilo_bpf_counters_read(int map_fd, struct kilo_bpf_counters *out, struct kilo_error *err);
int kilo_bpf_counters(kilo_bpf *bpf, struct kilo_bpf_counters *out, struct kilo_error *err);
/* The Prometheus name of a reason ("forward_new", ...); "unknown" past the known ones. */
const char *kilo_bpf_counter_name(unsigned reason);

/* ---- shared by the files of lib/bpf --------------------------------------- */

/* The map named name (e.g. "kilo_lb_services") of the first object that has it, or -1. */
int kilo__bpf_map_fd(const kilo_bpf *bpf, const char *name);

#endif
