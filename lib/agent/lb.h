/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's load balancer: the eBPF handle (lib/bpf) that kg's --bpf
 * asks for, the pod veths and node interfaces it is attached to, followed
 * through rtnetlink link events on the agent's loop (lb_links.c), and the
 * map contents it syncs (lb.c).
 */
#ifndef KILO_LIB_AGENT_LB_H
#define KILO_LIB_AGENT_LB_H

#include <libmnl/libmnl.h>
#include <net/if.h>
#include <sodium.h>

#include <kilo/agent.h>

#include "../bpf/loader.h"
#include "../core/log.h"

/* ---- link events (lb_links.c) ------------------------------------------- */

/*
 * Which links get which programs: a veth whose master is the CNI bridge is
 * a pod's (KILO_BPF_POD); the links named in netdevs are the node's
 * (KILO_BPF_NETDEV). The watcher's socket hears every link added, changed
 * and deleted in the namespace, so that a new pod's veth has its programs
 * before its first packet needs them, and a link that goes is forgotten.
 */
struct kilo_lb_links {
	kilo_bpf *bpf;
	struct mnl_socket *events;
	char bridge[IF_NAMESIZE];
	int bridge_ifindex;                  /* 0: no bridge yet */
	char netdevs[2][IF_NAMESIZE];        /* the WireGuard device, the private IP's link; "": none */
};

/* A link as an RTM_NEWLINK or RTM_DELLINK message (a dump's or an event's) describes it. */
struct kilo_lb_link {
	int ifindex;
	int master; /* 0: none */
	bool veth;
	char name[IF_NAMESIZE];
};

/*
 * Reads a link message into out; false for one that is not about a link
 * (too short, the bridge's AF_BRIDGE notices of its ports, no name).
 */
bool kilo__lb_link_parse(const struct nlmsghdr *nlh, struct kilo_lb_link *out);

typedef void (*kilo_lb_link_fn)(uint16_t type, const struct kilo_lb_link *link, void *ctx);
/*
 * Calls fn with every link that the RTM_NEWLINK and RTM_DELLINK messages of
 * one datagram (len bytes at buf, aligned) describe, as the watcher reads
 * its socket; stops at a message whose length does not fit.
 * tests/fuzz/fuzz_link_event feeds it whatever bytes.
 */
void kilo__lb_link_walk(const void *buf, size_t len, kilo_lb_link_fn fn, void *ctx);

/* Subscribes to link events, then attaches to every pod veth and node interface there is. */
int kilo_lb_links_open(struct kilo_lb_links *l, kilo_bpf *bpf, const char *bridge, struct kilo_error *err);
void kilo_lb_links_close(struct kilo_lb_links *l);
/* The event socket's fd, for the agent's epoll; -1 when closed. */
int kilo_lb_links_fd(const struct kilo_lb_links *l);
/* Handles the events that arrived (never waits); after lost events, looks at every link again. */
int kilo_lb_links_read(struct kilo_lb_links *l, struct kilo_error *err);
/* Node interface slot (0: WireGuard, 1: private IP's link) is ifname ("" or NULL: none); attaches when it exists. */
int kilo_lb_links_netdev(struct kilo_lb_links *l, unsigned slot, const char *ifname, struct kilo_error *err);
/* Looks at every link of the namespace: attaches where missing, detaches from links that lost their role. */
int kilo_lb_links_scan(struct kilo_lb_links *l, struct kilo_error *err);

/* ---- the agent's part (lb.c) --------------------------------------------- */

#define KILO_AGENT_LB_DIGEST 32

/* What a sync computes from, into a digest (lb_sync.c, policy_sync.c): text (NULL: ""), then a NUL. */
void kilo_agent_hash_text(crypto_generichash_state *st, const char *text);
/* A CIDR as text ("" for none). */
void kilo_agent_hash_cidr(crypto_generichash_state *st, const struct kilo_cidr *cidr);

struct kilo_lb_report;
/* What the policy layer left out ("N WHAT problems, first: ..."), once per change of it (last: its digest). */
void kilo_agent_log_problems(unsigned char last[KILO_AGENT_LB_DIGEST], const char *what, const struct kilo_logger *log,
			     const struct kilo_lb_report *report);

struct kilo_lb_ids;

struct kilo_agent_lb {
	kilo_bpf *bpf; /* NULL: off */
	struct kilo_lb_links links;
	const char *wireguard;
	struct kilo_lb_ids *ids;                      /* the services' and backends' ids, stable between syncs */
	uint32_t maglev_tables;                       /* kilo_agent_opts.bpf_maglev_tables */
	bool synced;                                  /* the maps hold what inputs computes to */
	unsigned char inputs[KILO_AGENT_LB_DIGEST];   /* the digest of what the last sync computed from */
	unsigned char mesh[KILO_AGENT_LB_DIGEST];     /* of its mesh part */
	uint64_t stamps[2];                           /* the store's of its Services' and EndpointSlices' texts */
	unsigned char problems[KILO_AGENT_LB_DIGEST]; /* of the problems last logged */
};

/*
 * Opens the handle as opts->bpf asks: off leaves lb off; auto turns it on
 * when the kernel loads the programs and logs one line saying which and
 * why; on fails when it cannot. Then attaches to the cgroup, the pod veths
 * and the WireGuard device (wireguard, the agent's interface name).
 */
int kilo_agent_lb_start(struct kilo_agent_lb *lb, const struct kilo_agent_opts *opts, const char *wireguard,
			const struct kilo_logger *log, struct kilo_error *err);
/* The link events' fd for the agent's epoll, -1 when off. */
int kilo_agent_lb_fd(const struct kilo_agent_lb *lb);
/* Handles the link events that arrived. */
int kilo_agent_lb_step(struct kilo_agent_lb *lb, struct kilo_error *err);
/* The node's private IP (family 0: none), whose link gets the NodePort program; at every reconcile. */
int kilo_agent_lb_node(struct kilo_agent_lb *lb, const struct kilo_addr *private_ip, struct kilo_error *err);
/*
 * Writes the store's Services and EndpointSlices, as lib/policy computes
 * them for node self of mesh, into the maps: only when they, self or the
 * nodes' locations and internal IPs changed since the last sync, or at a
 * resync (which also reads the maps back). Logs what changed (debug) and
 * what the policy left out (a warning, once per change of it).
 */
int kilo_agent_lb_sync(struct kilo_agent_lb *lb, kilo_store *store, const struct kilo_mesh *mesh, const char *self,
		       bool resync, const struct kilo_logger *log, struct kilo_error *err);
/* Counters summed by reason, for /metrics; false when off or unreadable. */
bool kilo_agent_lb_counters(struct kilo_agent_lb *lb, struct kilo_bpf_counters *out);
/* Closes the handle; with clean_up also removes the filters, cgroup links, pins and maps. */
void kilo_agent_lb_stop(struct kilo_agent_lb *lb, bool clean_up);

#endif
