/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's building blocks, each pure where it can be so that the unit
 * tests reach it without a host: IP discovery, the CNI configuration, NAT
 * endpoint discovery and the metrics text.
 */
#ifndef KILO_LIB_AGENT_INTERNAL_H
#define KILO_LIB_AGENT_INTERNAL_H

#include <jansson.h>

#include <kilo/agent.h>
#include <kilo/store.h>

#include "../bpf/loader.h"
#include "../core/wgconf.h"
#include "../mesh/model.h"

/* ---- change detection --------------------------------------------------- */

/*
 * Whether the solver sees old and mesh alike apart from heartbeats. Both
 * come from loads with the same settings, nodes and peers in name order;
 * hostname's own discovered endpoints are left aside.
 */
bool kilo_agent_mesh_same(const struct kilo_mesh *old, const struct kilo_mesh *mesh, const char *hostname);

/* ---- IP discovery (Kilo's getIP) --------------------------------------- */

/*
 * The candidates of this host's IPs, in Kilo's three sources, each with
 * the prefix of the interface that holds it.
 */
struct kilo_ip_candidates {
	const struct kilo_cidr *hostname; /* what the hostname resolves to, if a local interface holds it */
	size_t n_hostname;
	const struct kilo_cidr *default_route; /* on the default route's interface */
	size_t n_default_route;
	const struct kilo_cidr *all; /* on every interface */
	size_t n_all;
};

/* This host's IPs as Kilo chooses them; family 0 where there is none. */
struct kilo_host_ips {
	struct kilo_cidr private_ip;
	struct kilo_cidr public_ip;
	/* Dual stack: the first private IP of the other family than private_ip. */
	struct kilo_cidr secondary_private_ip;
};

/*
 * Kilo's choice among candidates: loopback and link-local dropped, each
 * source split into private and public and sorted, the sources taken in
 * order. The private IP is the first private IP inside one of
 * internal_cidrs (n_internal 0: any); the public IP the first public one,
 * else the private one. -EADDRNOTAVAIL when there is neither.
 */
int kilo_agent_select_ips(const struct kilo_ip_candidates *candidates, const struct kilo_cidr *internal_cidrs,
			  size_t n_internal, struct kilo_host_ips *out);

/*
 * Discovers this host's private and public IPs: the candidates read from
 * the host (the interfaces named in ignore, NULL-terminated, are left out)
 * chosen by kilo_agent_select_ips. Errors are named in err.
 */
int kilo_agent_discover_ips(const char *hostname, const char *const *ignore, const struct kilo_cidr *internal_cidrs,
			    size_t n_internal, struct kilo_host_ips *out, struct kilo_error *err);

/* ---- CNI ---------------------------------------------------------------- */

/* The pods' bridge in Kilo's CNI configuration, which IP discovery skips. */
#define KILO_AGENT_CNI_BRIDGE "kube-bridge"

/*
 * Kilo's CNI configuration list for a node with pod_cidr: a bridge
 * network with host-local IPAM over the pod CIDR, and over the secondary
 * one too for dual stack (family 0: none). Free *out with kilo_free.
 */
int kilo_agent_cni_config(const struct kilo_cidr *pod_cidr, const struct kilo_cidr *secondary_pod_cidr, uint32_t mtu,
			  char **out);
/* Writes it to path atomically (a temporary file, fsync, rename). */
int kilo_agent_cni_write(const char *path, const struct kilo_cidr *pod_cidr, const struct kilo_cidr *secondary_pod_cidr,
			 uint32_t mtu, struct kilo_error *err);

/* ---- NAT endpoint discovery (kilo-reference.md §1.8) ------------------- */

/*
 * Whether mesh has a node (ready at now within window, with a keepalive) or
 * a peer whose endpoint kilo_agent_nat_endpoints would look for: without
 * one, the device need not be read.
 */
bool kilo_agent_nat_watched(const struct kilo_mesh *mesh, int64_t now, uint32_t window);
/*
 * The endpoints at which the device really sees the nodes of mesh (those
 * ready at now within window, with a keepalive) and its peers: every one
 * the device knows with a handshake. *out (n_out entries) is malloc'ed,
 * sorted by key; free it with free.
 */
int kilo_agent_nat_endpoints(const struct kilo_mesh *mesh, int64_t now, uint32_t window,
			     const struct kilo_wg_config *device, struct kilo_discovered_endpoint **out,
			     size_t *n_out);

/*
 * Whether the others may have dropped this node: its last heartbeat,
 * written at published_ms (0: none yet), is a ready window old at now_ms.
 * Behind NAT only the node itself can shake hands again (agent.c).
 */
bool kilo_agent_heartbeat_lapsed(int64_t published_ms, int64_t now_ms, uint32_t window);

/* ---- this node in the store -------------------------------------------- */

/*
 * This node as a mesh document node object, from the options (the
 * "annotations" of kg) and the discovered IPs, last seen at now.
 */
int kilo_agent_node_build(const struct kilo_agent_opts *opts, const struct kilo_key *public_key, int64_t now,
			  json_t **out, struct kilo_error *err);

/* What the agent itself decides about its node; everything else is the operator's. */
struct kilo_agent_owned {
	const struct kilo_key *public_key;
	int64_t last_seen;
	uint32_t ttl;                  /* seconds the record lives without a heartbeat or keep-alive */
	struct kilo_cidr wireguard_ip; /* family 0: not a leader */
	const struct kilo_discovered_endpoint *discovered;
	size_t n_discovered;
};

/*
 * Publishes this node: the stored copy (from_store; when there is none,
 * or not from_store, initial) with the owned fields replaced.
 */
int kilo_agent_node_publish(kilo_store *store, const json_t *initial, bool from_store,
			    const struct kilo_agent_owned *owned, struct kilo_error *err);

/* ---- the log ------------------------------------------------------------ */

struct kilo_logger;

/*
 * One debug line per kind of change in report (peers, addresses, links,
 * routes, rules), none for the kinds that did not change. The NAT rule
 * set is replaced whole on every apply and is not counted.
 */
void kilo_agent_log_changes(const struct kilo_logger *log, const char *ifname, const struct kilo_apply_report *report);

/* ---- metrics ------------------------------------------------------------ */

struct kilo_agent_policy;

struct kilo_agent_counts {
	size_t nodes; /* ready nodes in the topology */
	size_t peers;
	bool leader;
	uint64_t reconciles;
	uint64_t errors;
	size_t unresolved; /* nodes and peers whose endpoint name does not resolve */
	bool store_up;
	int64_t store_revision;
	const struct kilo_bpf_counters *lb; /* --bpf's counters; NULL: off */
	const struct kilo_agent_policy *policy; /* --bpf's flows; NULL: none */
};

/*
 * The Prometheus text of counts and, per peer of device (NULL: none),
 * bytes and seconds since the last handshake at now. Free *out with kilo_free.
 */
int kilo_agent_metrics_format(const struct kilo_agent_counts *counts, const struct kilo_wg_config *device,
			      int64_t now, char **out);

/* The private key at path; made (0600, in a 0700 folder) when there is none yet (key.c). */
int kilo_agent_key_load(const char *path, struct kilo_key *key, struct kilo_error *err);

/*
 * The settings document of every load: granularity, subnet, port and
 * service CIDRs from the options, as JSON in *out (settings.c).
 */
int kilo_agent_settings_document(const struct kilo_agent_opts *o, char **out, struct kilo_error *err);

#endif
