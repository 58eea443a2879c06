/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's network policy under --bpf: the maps kept equal to what the
 * store's objects compile to for this node (policy_sync.c), the flows the
 * programs report (named and kept for /flows and /metrics, flows.h), and
 * the names they are given, rebuilt from the store at every change.
 */
#ifndef KILO_LIB_AGENT_POLICY_H
#define KILO_LIB_AGENT_POLICY_H

#include "../core/log.h"
#include "../policy/netpol.h"
#include "flows.h"
#include "lb.h"

struct kilo_np_state;
struct kilo_np_model;

/*
 * The store's identities as the last sync listed them, and in label set
 * order for numbering: kept while the store lists the same, so that an
 * unchanged list is compared, not hashed, and not sorted again.
 */
struct kilo_agent_policy_identities {
	struct kilo_store_identity *items; /* by number */
	size_t n;
	const struct kilo_store_identity **by_labels;
	uint64_t stamp; /* the store's, of items (kilo_store_identity_list_since); 0: none */
};

/*
 * Takes listed (n records, by number, as kilo_store_identity_list gives
 * them) into kept, or frees it when kept holds the same; *changed says
 * which. -ENOMEM: listed freed, kept emptied.
 */
int kilo_agent_policy_identities_take(struct kilo_agent_policy_identities *kept, struct kilo_store_identity *listed,
				      size_t n, bool *changed);
void kilo_agent_policy_identities_release(struct kilo_agent_policy_identities *kept);

struct kilo_agent_policy {
	bool on;                       /* --bpf is on */
	kilo_bpf *bpf;                 /* the load balancer's handle, which has policy's maps too */
	kilo_bpf_events *events;       /* the programs' ring buffer; NULL: no flows */
	struct kilo_np_state *state;   /* the policy layer's, for stable endpoint and rule ids */
	bool synced;                   /* the maps hold what inputs computes to */
	unsigned char inputs[KILO_AGENT_LB_DIGEST];   /* of what the last sync computed from, but texts and identities */
	struct kilo_agent_policy_identities identities; /* as last listed: what the last sync computed from */
	/*
	 * The store's listings the last sync computed from (pods, namespaces,
	 * policies, peers, services): compared rather than hashed, as memcmp
	 * goes through 10,000 pods' text many times faster than a digest; not
	 * listed again while the store's stamp of the kind is the same.
	 */
	struct kilo_agent_policy_text {
		char *text; /* NULL: none kept */
		size_t len;
		uint64_t stamp; /* kilo_store_list_objects_since's; 0: none */
	} texts[5];
	unsigned char problems[KILO_AGENT_LB_DIGEST]; /* of the problems last logged */
	const char *node;              /* this node's name, in every flow */
	struct kilo_flow_ring flows;
	struct kilo_flow_names *names; /* as of the last sync; NULL before */
	uint64_t names_services;       /* the stamp of the Services' text names was built from; 0: none known */
	int64_t mono_to_real_ns;       /* CLOCK_REALTIME - CLOCK_MONOTONIC, for the events' times */
};

/*
 * On when lb is (its handle is the programs'); node is the agent's
 * hostname, kept. A ring buffer that cannot be read leaves flows off, with
 * a warning. -ENOMEM.
 */
int kilo_agent_policy_start(struct kilo_agent_policy *p, const struct kilo_agent_lb *lb, const char *node,
			    const struct kilo_logger *log, struct kilo_error *err);
/* The ring buffer's fd for the agent's epoll, -1 when none. */
int kilo_agent_policy_fd(const struct kilo_agent_policy *p);
/* Names and keeps the events that wait (never waits itself). */
int kilo_agent_policy_step(struct kilo_agent_policy *p, struct kilo_error *err);
/* Names and keeps one event of the programs. */
void kilo_agent_policy_event(struct kilo_agent_policy *p, const struct kilo_flow_event *event);
/*
 * After a store change, a reload or a resync: the maps (as
 * kilo_agent_policy_enforce) and the names flows get, from the store's
 * objects and identities and mesh; only when they changed since the last
 * sync, or at a resync. Errors leave the maps and names as they were.
 */
int kilo_agent_policy_sync(struct kilo_agent_policy *p, kilo_store *store, const struct kilo_mesh *mesh, bool resync,
			   const struct kilo_logger *log, struct kilo_error *err);

/* What enforcing reads: the store's objects as JSON arrays (NULL: none) and identities. */
struct kilo_agent_policy_inputs {
	kilo_store *store;
	const struct kilo_mesh *mesh;
	struct kilo_np_texts texts; /* the store's listings: pods, namespaces, policies, peers' objects */
	const struct kilo_agent_policy_identities *identities;
	bool resync;
};

/*
 * Compiles in for this node, the label sets numbered by the store (new
 * ones allocated), and writes the maps by difference; at a resync also
 * reads the maps back and frees unused identities. Logs the changes
 * (debug) and what policy left out (a warning, once per change). *model
 * gets what was read, *out the desired state, without its rules and
 * regions once written (the loader keeps them: kilo_bpf_policy_sync_taking);
 * release them with kilo_np_model_release and kilo_np_desired_release,
 * also after an error.
 */
int kilo_agent_policy_enforce(struct kilo_agent_policy *p, const struct kilo_agent_policy_inputs *in,
			      const struct kilo_logger *log, struct kilo_np_model *model, struct kilo_np_desired *out,
			      struct kilo_error *err);
/*
 * The agent's eBPF parts together: the load balancer's sync (for node
 * policy->node) then policy's, and their events; the first error is
 * returned, the second part runs also after it.
 */
int kilo_agent_bpf_sync(struct kilo_agent_lb *lb, struct kilo_agent_policy *p, kilo_store *store,
			const struct kilo_mesh *mesh, bool resync, const struct kilo_logger *log, struct kilo_error *err);
int kilo_agent_bpf_step(struct kilo_agent_lb *lb, struct kilo_agent_policy *p, struct kilo_error *err);
/* kilo_agent_flows' work (one page of records). */
int kilo_agent_policy_flows(const struct kilo_agent_policy *p, uint64_t after, const struct kilo_flow_filter *filter,
			    char **out, uint64_t *next, struct kilo_error *err);
/* The flows' samples for /metrics; nothing when off. */
void kilo_agent_policy_metrics(const struct kilo_agent_policy *p, struct kilo_strbuf *sb);
void kilo_agent_policy_stop(struct kilo_agent_policy *p);

#endif
