/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Applying a node's plan to the host: its WireGuard device, the device's
 * address and state, routes, ip rules and NAT rules, changing only what
 * differs from what is there.
 */
#ifndef KILO_AGENT_H
#define KILO_AGENT_H

#include <kilo/bpf.h>
#include <kilo/core.h>
#include <kilo/net.h>
#include <kilo/plan.h>
#include <kilo/store.h>
#include <kilo/topology.h>
#include <kilo/wg.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILO_DEFAULT_TUNNEL "tunl0"
#define KILO_DEFAULT_MTU 1420

struct kilo_apply_opts {
	size_t sz;
	const char *interface;        /* the WireGuard link; NULL: KILO_DEFAULT_INTERFACE */
	/* Which WireGuard implementation to use; NULL: the defaults. */
	const struct kilo_wg_opts *wg;
	bool no_local;                /* kg's --local=false: leave the routes inside the location alone */
	enum kilo_encapsulate encapsulate;
	enum kilo_compatibility compatibility;
	const char *tunnel_interface; /* NULL: KILO_DEFAULT_TUNNEL */
	bool no_cni;                  /* kg's --cni=false: leave the local pods' traffic un-NATed */
	bool forward_rules;           /* kg's --iptables-forward-rules */
	uint32_t mtu;                 /* of the WireGuard link; 0: KILO_DEFAULT_MTU */
	/*
	 * kg's --create-interface=false: use the device that exists and
	 * fail, naming it, when there is none (e.g. a userspace WireGuard
	 * started by someone else). By default a missing device is created.
	 */
	bool no_create_interface;
	/*
	 * kg's --clean-up-interface: kilo_apply_clean_up deletes the device
	 * too; by default, as Kilo's, the device stays as it is.
	 */
	bool clean_up_interface;
};

/*
 * What kilo_apply changed; all zero when the host already matched the plan.
 * The NAT rule set is replaced whole in one transaction on every apply, so
 * it has no count of its own.
 */
struct kilo_apply_report {
	bool device_created;
	unsigned wg_peers_changed;    /* peers in the change sent to the device */
	bool wg_interface_changed;    /* private key, listen port */
	struct kilo_net_changes link; /* up/down, MTU */
	struct kilo_net_changes addresses;
	struct kilo_net_changes routes;
	struct kilo_net_changes rules;
	/* wg_peers_changed, split up. */
	unsigned wg_peers_added;
	unsigned wg_peers_removed;
	unsigned wg_peers_updated;
};

/*
 * Applies the plan of topology (solved with the node's private key) to the
 * host, as Kilo's agent does: the device (and the tunnel) where missing;
 * on a leader the WireGuard configuration, the device's address and state
 * up; on any other node the device down; routes, rules, and last the NAT
 * rules in one transaction. A peer whose endpoint is still a DNS name is
 * configured without endpoint (a device takes only addresses).
 *
 * All or nothing: the plan, the links it names (the one that holds the
 * private IP), the private key and the NAT rules are checked before the
 * host changes. A failure after the first change undoes this call: a
 * device or tunnel it created is deleted (with the userspace program it
 * started), a device that existed gets its configuration back, and the
 * routes and rules libkilo owns are put back as they were; only the
 * address and up/down state of a link that existed before stay as the
 * call left them. Returns the first error, named in err (with the undo's
 * own failure, if any); report is all zero after a failure.
 */
KILO_EXPORT int kilo_apply(const kilo_topology *topology, const struct kilo_apply_opts *opts,
			   struct kilo_apply_report *report, struct kilo_error *err);

/*
 * Removes what kilo_apply made: NAT tables, owned routes and rules; with
 * clean_up_interface, the WireGuard device. Every part is tried, also after
 * one failed; returns the first failure, named in err.
 */
KILO_EXPORT int kilo_apply_clean_up(const struct kilo_apply_opts *opts, struct kilo_error *err);

/*
 * An applier applies plan after plan to this host, as kg does: kilo_apply
 * opens its handles for one call and leaves a userspace WireGuard it
 * started to the caller's exit, which suits a command that applies once.
 * An applier keeps a WireGuard handle (which owns and reaps the userspace
 * programs it starts; see kilo_wg_open), a netlink handle, and what it
 * sent last: a part of the next plan that equals it is neither read back
 * nor sent (at 10,000 nodes, reading back the routes and the device cost
 * far more than the solve). What someone else changed on the host in
 * between is put right at the first apply after kilo_applier_recheck, and
 * after any failed apply. One thread at a time.
 */
typedef struct kilo_applier kilo_applier;

/* Copies opts (NULL: the defaults) and opens the handles. */
KILO_EXPORT int kilo_applier_new(const struct kilo_apply_opts *opts, kilo_applier **out, struct kilo_error *err);
/* kilo_apply, with the applier's handles and its memory of what it sent: the plan of topology for the applier's options, applied. */
KILO_EXPORT int kilo_applier_apply(kilo_applier *applier, const kilo_topology *topology,
				   struct kilo_apply_report *report, struct kilo_error *err);
/*
 * The same for a plan (plan.h), which says how to route; the applier's
 * options say which device and tunnel to make. -EINVAL, naming both, for a
 * plan made for another WireGuard interface than the applier's.
 */
KILO_EXPORT int kilo_applier_apply_plan(kilo_applier *applier, const kilo_plan *plan,
					struct kilo_apply_report *report, struct kilo_error *err);
/* The next apply compares everything with the host again (kg does at every resync). */
KILO_EXPORT void kilo_applier_recheck(kilo_applier *applier);
/* kilo_apply_clean_up with the applier's options and handles; a device it deletes stops its program. */
KILO_EXPORT int kilo_applier_clean_up(kilo_applier *applier, struct kilo_error *err);
/* The applier's WireGuard handle, to read the device with; valid until kilo_applier_free. */
KILO_EXPORT kilo_wg *kilo_applier_wg(kilo_applier *applier);
/* Closes the handles; the host keeps what was applied, and a userspace device its program. NULL is a no-op. */
KILO_EXPORT void kilo_applier_free(kilo_applier *applier);

/* ---- the agent: kg's reconcile loop ------------------------------------ */

typedef struct kilo_agent kilo_agent;

#define KILO_DEFAULT_CHECK_IN_PERIOD 2 /* seconds between heartbeats */
#define KILO_DEFAULT_RESYNC_PERIOD 30

struct kilo_agent_opts {
	size_t sz;
	const char *store;           /* "file:DIR" */
	const char *hostname;        /* this node's name */
	const char *key_path;        /* the private key; created (0600) if missing */
	/* How to apply; NULL: the defaults. The agent keeps an applier made from them. */
	const struct kilo_apply_opts *apply;
	/* The mesh settings every agent must agree on (kg's --mesh-granularity, --subnet, --port). */
	enum kilo_granularity granularity;
	const char *subnet;          /* NULL: 10.4.0.0/16 */
	uint16_t port;               /* 0: 51820 */
	/* This node's own settings, which Kilo reads from annotations and the pod CIDR. */
	const char *location;
	const char *pod_cidr;
	bool leader;
	const char *force_endpoint;    /* ip:port or name:port */
	const char *force_internal_ip; /* a CIDR, or "" for none */
	uint32_t persistent_keepalive;
	const char *allowed_location_ips; /* comma separated CIDRs */
	/* Discovery of this node's private and public IPs (Kilo's getIP). */
	const char *const *internal_cidrs; /* only private IPs in these count; NULL: any */
	size_t n_internal_cidrs;
	bool prioritise_private_addresses;
	/* Timing, in seconds; 0: the defaults above. */
	uint32_t check_in_period;
	uint32_t ready_window;
	uint32_t resync_period;
	const char *cni_path;        /* write the CNI configuration here; NULL: none */
	/* kg's --clean-up=false: kilo_agent_free leaves this node and what apply made; by default both go. */
	bool no_clean_up;
	/* Kilo's --service-cidr: traffic to these CIDRs is not masqueraded. */
	const char *const *service_cidrs;
	size_t n_service_cidrs;
	/* Where the agent reports what it changed and left out; NULL: nowhere. */
	kilo_log_fn log;
	void *log_ctx;
	/* The store's TLS files and credentials (kg's --etcd-* flags); NULL: none. */
	const struct kilo_store_opts *store_opts;
	/*
	 * kg's --bpf: service load balancing in eBPF (kilo/bpf.h), the
	 * programs on the pod veths, the WireGuard device, the private IP's
	 * link and the socket cgroup. KILO_BPF_OFF (0): none.
	 */
	enum kilo_bpf_mode bpf;
	const char *bpf_pin_dir;      /* where its maps and links are pinned; NULL: KILO_BPF_DEFAULT_PIN_DIR */
	uint32_t bpf_maglev_size;     /* Maglev's M; 0: 16381, else 16381 or 65521 */
	/* The cgroup v2 directory whose processes reach services through the socket programs; NULL: cgroup v2's root; "": none. */
	const char *bpf_cgroup;
	/*
	 * At most this many service frontends get a Maglev table (4 * M bytes
	 * of kernel memory each: 64 KiB at M 16381); the others pick a backend
	 * slot by flow hash. 0: 1024.
	 */
	uint32_t bpf_maglev_tables;
	/*
	 * kg's --flow-events all: every new flow of every pod of this node is
	 * a flow event (kilo_agent_flows), forwarded with rule 0 where no
	 * policy selects the pod; false: only the flows policy judges, and
	 * drops (a pod no policy selects then pays one lookup a packet).
	 */
	bool bpf_all_flow_events;
};

/* Loads or creates the key, discovers this node's IPs, publishes it, and applies the mesh once. */
KILO_EXPORT int kilo_agent_new(const struct kilo_agent_opts *opts, kilo_agent **out, struct kilo_error *err);
/*
 * The agent runs in the caller's loop: poll kilo_agent_fd for reading with a
 * timeout of kilo_agent_timeout_ms, then call kilo_agent_step, which handles
 * store changes, endpoint names looked up, heartbeats and resyncs, and
 * reconciles where needed. The fd is an epoll fd over the store's and the
 * agent's resolver thread's; it is the same for the agent's life.
 * A step's error is counted and reported; the agent keeps going.
 */
KILO_EXPORT int kilo_agent_fd(const kilo_agent *agent);
KILO_EXPORT int kilo_agent_timeout_ms(const kilo_agent *agent);
KILO_EXPORT int kilo_agent_step(kilo_agent *agent, struct kilo_error *err);
/* Stops the agent; unless no_clean_up, removes this node from the store and what apply made. */
KILO_EXPORT void kilo_agent_free(kilo_agent *agent);

/*
 * Prometheus text: nodes, peers, leader, reconciles, errors, endpoint names
 * that do not resolve, per-peer bytes and handshake age.
 */
KILO_EXPORT int kilo_agent_metrics(kilo_agent *agent, char **out, struct kilo_error *err);
/* The mesh as the agent sees it now, as GraphViz DOT, written under the caller's lock. */
KILO_EXPORT int kilo_agent_graph(kilo_agent *agent, char **out, struct kilo_error *err);
/*
 * The topology the agent solved last, for work that must not hold the
 * caller's lock (kilo_topology_dot of a large mesh): it stays valid, even
 * after later steps replace it, until kilo_agent_topology_release. Both
 * are called under the caller's lock like every other call on the agent;
 * only the use in between is not, and every hold is released before
 * kilo_agent_free. -ENODATA before the first solve.
 */
KILO_EXPORT int kilo_agent_topology_hold(kilo_agent *agent, const kilo_topology **out, struct kilo_error *err);
KILO_EXPORT void kilo_agent_topology_release(kilo_agent *agent);
/* true once the agent has applied the mesh without error since its last change. */
KILO_EXPORT bool kilo_agent_healthy(const kilo_agent *agent);
/*
 * The store's part of /health: "" while the store answers, else
 * "store: unreachable: WHY\n" in *out (free with kilo_free). The agent
 * keeps its last mesh and plan meanwhile and tries again; a node that
 * forwards must not be restarted for it, so it does not make the agent
 * unhealthy. Returns 0 or -ENOMEM.
 */
KILO_EXPORT int kilo_agent_store_problem(kilo_agent *agent, char **out, struct kilo_error *err);

/*
 * The nodes and peers whose endpoint name does not resolve now (they have
 * no endpoint until it does), one line each, e.g. "peer office: endpoint
 * vpn.office.example.com:51820 does not resolve (Name or service not
 * known)\n", in *out ("" when none; free with kilo_free). The agent looks
 * names up on a thread of its own, again every resync period, so that no
 * reconcile waits on DNS. Returns how many, or -ENOMEM.
 */
KILO_EXPORT int kilo_agent_unresolved(kilo_agent *agent, char **out, struct kilo_error *err);

/*
 * Resolves the DNS names of the endpoints of mesh's nodes and peers now,
 * as Kilo does (the first IPv4 address, else the first IPv6 one): such an
 * endpoint keeps its name and gets the address, which a device configured
 * from the mesh then gets. A name that does not resolve leaves its
 * endpoint without address (the device gets no endpoint for it) and is
 * named in a warning through log (may be NULL). Returns how many nodes and
 * peers were left without address, or -ENOMEM.
 */
KILO_EXPORT int kilo_mesh_resolve(kilo_mesh *mesh, kilo_log_fn log, void *log_ctx, struct kilo_error *err);

/* ---- flows: what network policy forwarded and dropped (kg's /flows) ---- */

enum kilo_flow_verdict_filter {
	KILO_FLOW_FILTER_ANY = 0,
	KILO_FLOW_FILTER_FORWARDED,
	KILO_FLOW_FILTER_DROPPED,
};

struct kilo_flow_filter {
	size_t sz;
	enum kilo_flow_verdict_filter verdict;
	const char *pod; /* "NAMESPACE/NAME": flows from or to this pod; NULL: any */
};

/*
 * The flows this node's policy programs reported after sequence number
 * after (0: every one kept), that filter (NULL: any) lets through, as JSON
 * lines in *out (free with kilo_free), at most a page of them; *next is
 * the after of the next call. When records after after were overwritten
 * before this call (the agent keeps a bounded ring of recent flows), the
 * first line is {"lost":N}. "" when --bpf is off or nothing came.
 */
KILO_EXPORT int kilo_agent_flows(kilo_agent *agent, uint64_t after, const struct kilo_flow_filter *filter,
				 char **out, uint64_t *next, struct kilo_error *err);

enum kilo_flow_output {
	KILO_FLOW_OUTPUT_TEXT = 0, /* one line like Hubble's */
	KILO_FLOW_OUTPUT_JSON,     /* the line as it came */
};

/*
 * One line of kilo_agent_flows (kgctl observe's reading of /flows) as
 * format asks, with its newline, in *out (free with kilo_free); *out NULL
 * when filter (NULL: any) leaves it out. *seq (may be NULL) gets the
 * flow's sequence number, 0 for a {"lost":N} line, whose text says how
 * many were lost. -EINVAL (naming what is wrong) for a line that is not a
 * flow.
 */
KILO_EXPORT int kilo_flow_line(const char *line, const struct kilo_flow_filter *filter, enum kilo_flow_output format,
			       char **out, uint64_t *seq, struct kilo_error *err);

/* ---- kgctl connect: this machine as a VPN peer of the mesh ------------- */

typedef struct kilo_connect kilo_connect;

#define KILO_CONNECT_DEFAULT_ALLOWED_IP "10.10.10.10/32"
#define KILO_CONNECT_DEFAULT_KEEPALIVE 10

struct kilo_connect_opts {
	size_t sz;
	const char *store;         /* "file:DIR" */
	const char *peer_name;     /* the peer's name in the store */
	const char *key_path;      /* the private key; created (0600) if missing */
	const char *interface;     /* NULL: KILO_DEFAULT_INTERFACE */
	const struct kilo_wg_opts *wg; /* NULL: the defaults */
	/* The peer's address and only allowed IP; NULL: KILO_CONNECT_DEFAULT_ALLOWED_IP. */
	const char *allowed_ip;
	/* Cluster networks (e.g. services) routed through the first segment. */
	const struct kilo_cidr *allowed_ips;
	size_t n_allowed_ips;
	/* Of the peer when it is created; 0: KILO_CONNECT_DEFAULT_KEEPALIVE, unless no_keepalive. */
	uint32_t persistent_keepalive;
	uint16_t port;             /* listen port; 0: KILO_DEFAULT_PORT */
	uint32_t mtu;              /* 0: KILO_DEFAULT_MTU */
	uint32_t resync_period;    /* seconds; 0: KILO_DEFAULT_RESYNC_PERIOD */
	uint32_t ready_window;     /* seconds; 0: KILO_DEFAULT_READY_WINDOW */
	/* kgctl's --clean-up=false: kilo_connect_free leaves the peer, device and routes; by default they go. */
	bool no_clean_up;
	/* The store's TLS files and credentials (kgctl's --etcd-* flags); NULL: none. */
	const struct kilo_store_opts *store_opts;
	/* A peer this creates gets no keepalive (kgctl's --persistent-keepalive 0). */
	bool no_keepalive;
};

/*
 * Loads or creates the key, adds the peer to the store if it is not there,
 * and creates the WireGuard device with the peer's address, up.
 */
KILO_EXPORT int kilo_connect_new(const struct kilo_connect_opts *opts, kilo_connect **out, struct kilo_error *err);
/*
 * Runs in the caller's loop like the agent: poll kilo_connect_fd with a
 * timeout of kilo_connect_timeout_ms, then kilo_connect_step, which syncs
 * the device and routes with the mesh on a store change, at the first
 * step and every resync period.
 */
KILO_EXPORT int kilo_connect_fd(const kilo_connect *c);
KILO_EXPORT int kilo_connect_timeout_ms(const kilo_connect *c);
KILO_EXPORT int kilo_connect_step(kilo_connect *c, struct kilo_error *err);
/* Stops; unless no_clean_up, removes the peer from the store, the device and the routes. */
KILO_EXPORT void kilo_connect_free(kilo_connect *c);

#ifdef __cplusplus
}
#endif

#endif
