/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's flows (kg's /flows, kgctl observe, /metrics): each event of
 * the policy programs' ring buffer named from what the agent knows (the
 * store's Pods and Services, the mesh's nodes and peers, the identities'
 * label sets, the policy's rule names), formatted once as a JSON line and
 * kept in a bounded ring of recent flows, which readers page through by
 * sequence number.
 */
#ifndef KILO_LIB_AGENT_FLOWS_H
#define KILO_LIB_AGENT_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kilo/agent.h>

#include "../bpf/progs/policy_maps.h"
#include "../core/strbuf.h"
#include "../mesh/model.h"
#include "../policy/np_desired.h"

/* ---- names (flow_names.c) ------------------------------------------------ */

/* An identity's label set, as the store keeps it (np-store's canonical string). */
struct kilo_flow_identity {
	uint32_t identity;
	const char *labels;
};

struct kilo_np_model;

struct kilo_flow_names_inputs {
	const struct kilo_np_model *model; /* the pods as the policy layer read them; NULL: from pods */
	const char *pods;     /* the store's Pods, a JSON array (when no model); NULL: none */
	const char *services; /* the store's Services, a JSON array; NULL: none */
	const struct kilo_mesh *mesh; /* nodes (addresses, pod CIDRs, locations) and peers; NULL: none */
	const struct kilo_np_desired *policy; /* rule names; NULL: none */
	const struct kilo_flow_identity *identities;
	size_t n_identities;
	/* The names built before (NULL: none): their addresses' order is taken when every one is where it was. */
	const struct kilo_flow_names *last;
	/*
	 * The Services are those last was built from (their text unchanged):
	 * their names are taken from it, services not parsed. 10,000 Services
	 * are 4 MB of JSON, ~80 ms to parse and free at every sync.
	 */
	bool services_as_last;
};

struct kilo_flow_names;

/* A snapshot of inputs (copied: the inputs may go). Objects that do not parse are left out. -ENOMEM. */
int kilo_flow_names_build(const struct kilo_flow_names_inputs *in, struct kilo_flow_names **out);
void kilo_flow_names_free(struct kilo_flow_names *names);

/* One end of a flow as names knows it; NULL where it does not. */
struct kilo_flow_where {
	const char *namespace;
	const char *pod;
	const char *node;     /* the pod's node, or the node the address is of */
	const char *location; /* that node's */
	const char *peer;     /* a VPN peer whose allowed IPs hold the address */
};

void kilo_flow_names_where(const struct kilo_flow_names *names, uint8_t family, const union kilo_lb_addr *addr,
			   struct kilo_flow_where *out);
/* NULL when unknown. */
const char *kilo_flow_names_labels(const struct kilo_flow_names *names, uint32_t identity);
const char *kilo_flow_names_rule(const struct kilo_flow_names *names, uint32_t rule_id);
/* How many rules names knows (0 for NULL), and the i-th's id, by id. */
size_t kilo_flow_names_n_rules(const struct kilo_flow_names *names);
uint32_t kilo_flow_names_rule_id(const struct kilo_flow_names *names, size_t i);
/* The Service balanced from addr:port (network order; a ClusterIP, else a NodePort), "NAMESPACE/NAME". */
const char *kilo_flow_names_service(const struct kilo_flow_names *names, uint8_t family,
				    const union kilo_lb_addr *addr, uint16_t port_be);

/* ---- the record ---------------------------------------------------------- */

const char *kilo_flow_verdict_name(unsigned verdict);
const char *kilo_flow_reason_name(unsigned reason);

/*
 * The JSON line (no newline) of event, number seq, judged on node at
 * realtime_ns (Unix ns), named by names (may be NULL). Free with kilo_free.
 */
int kilo_flow_format(const struct kilo_flow_event *event, uint64_t seq, int64_t realtime_ns, const char *node,
		     const struct kilo_flow_names *names, char **line);

/* ---- the ring (flows.c) -------------------------------------------------- */

struct kilo_flow_record {
	uint64_t seq;   /* 0: an empty place */
	uint8_t verdict;
	char *src, *dst; /* "NAMESPACE/POD", or NULL, for --pod */
	char *line;
};

/* Per-rule counts, sorted by rule id. */
struct kilo_flow_rule_count {
	uint32_t rule_id;
	uint64_t flows[2]; /* by enum kilo_flow_verdict */
};

struct kilo_flow_ring {
	struct kilo_flow_record *records;
	size_t cap;
	uint64_t next; /* the seq the next record gets; the first is 1 */
	uint64_t counts[2][KILO_FLOW_REASON_MALFORMED + 1]; /* by verdict and reason */
	struct kilo_flow_rule_count *rules;
	size_t n_rules, cap_rules;
};

/* Recent flows kept per node: enough for a few seconds of a busy node, a few MB at most. */
#define KILO_FLOW_RING_DEFAULT 8192
/* Records one answer of /flows holds at most; the reader asks again from where it stopped. */
#define KILO_FLOW_PAGE_MAX 2048

/* cap records (0: KILO_FLOW_RING_DEFAULT). -ENOMEM. */
int kilo_flow_ring_init(struct kilo_flow_ring *ring, size_t cap);
void kilo_flow_ring_release(struct kilo_flow_ring *ring);
/* Names and keeps event (the oldest record goes when full) and counts it. -ENOMEM: counted, not kept. */
int kilo_flow_ring_add(struct kilo_flow_ring *ring, const struct kilo_flow_event *event, int64_t realtime_ns,
		       const char *node, const struct kilo_flow_names *names);
/*
 * The records after seq after that filter (may be NULL) lets through, at
 * most max, one JSON line each, appended to sb; *next is the seq to ask
 * after next time, *lost how many records after after were overwritten
 * before this read. Returns how many lines.
 */
size_t kilo_flow_ring_read(const struct kilo_flow_ring *ring, uint64_t after, const struct kilo_flow_filter *filter,
			   size_t max, struct kilo_strbuf *sb, uint64_t *next, uint64_t *lost);
/* rule_id="ID",rule="NAME" (name quoted and escaped, "" when unknown) into sb, for a Prometheus sample. */
void kilo_flow_rule_labels(struct kilo_strbuf *sb, uint32_t rule_id, const char *name);
/* kilo_policy_flows_total and kilo_policy_rule_flows_total, with the rules' names from names (may be NULL). */
void kilo_flow_ring_metrics(const struct kilo_flow_ring *ring, const struct kilo_flow_names *names,
			    struct kilo_strbuf *sb);

#endif
