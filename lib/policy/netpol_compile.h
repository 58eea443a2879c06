/* SPDX-License-Identifier: Apache-2.0 */
/* The compile's parts (netpol_compile.c: ipcache and order; netpol_rules.c: endpoints, rules, ipBlocks). */
#ifndef KILO_LIB_POLICY_NETPOL_COMPILE_H
#define KILO_LIB_POLICY_NETPOL_COMPILE_H

#include "netpol.h"
#include "netpol_ids.h"
#include "netpol_list.h"
#include "netpol_order.h"

/* The lists kilo_np_model_update reads: pods, namespaces, policies, peers' objects. */
#define KILO_NP_LISTS 4

/* An endpoint's rules or ipBlock bounds, sorted by key: what one computation made of it. */
struct np_rules {
	struct kilo_np_desired_rule *items;
	size_t n, cap;
};

struct np_cidrs {
	struct kilo_np_desired_cidr *items;
	size_t n, cap;
};

/*
 * One endpoint as the last computation left it: its maps' entries, and a
 * fingerprint of all they depend on but the other identities (the pod, its
 * label set's number, and its policies' texts). The same fingerprint next
 * time: only the identities that came and went change its rules.
 */
struct np_endpoint {
	uint32_t id;
	uint64_t fingerprint;
	uint32_t flags;
	uint32_t generation; /* the computation that last asked for it */
	/*
	 * A hash of the fingerprint's inputs (the pod's, and its namespace's
	 * policies' texts), and the policies that select it then, by
	 * direction, as offsets in its namespace's: the same inputs, the same.
	 */
	uint64_t inputs;
	bool has_inputs;
	uint32_t *selected;
	uint32_t n_selected[2];
	bool changed;        /* that computation changed its rules or regions (made them, or brought them up to date) */
	struct np_rules rules;
	struct np_cidrs cidrs;
	/* Per direction, its deny rule's name (NULL: not isolated), made with its entries, and its id. */
	char *deny_names[2];
	uint32_t deny[2];
};

/* An identity as the last computation saw it: its number and its pods' ports (egress's named ports). */
struct np_seen_identity {
	char *label_set;
	uint32_t number;
	uint64_t ports_hash;
};

/*
 * The ipcache as the last computation built it, before its sort: its keys
 * in the order built, and the positions the sort kept, in key order. Built
 * with the same keys at every position (labels changed, no address), the
 * next one is sorted by these positions.
 */
struct np_ipcache_order {
	struct kilo_ipcache_key *keys;
	size_t n_keys;
	size_t *order;
	size_t n_order;
};

struct kilo_np_state {
	struct kilo_np_names endpoints; /* by "NAMESPACE/POD" */
	struct kilo_np_names rules;     /* by rule name */
	struct kilo_np_names locations; /* by location name */
	struct np_endpoint *cache;      /* by id, in key order (memcmp of its bytes) */
	size_t n_cache, cap_cache;
	size_t n_sorted; /* the first n_sorted, in order; this computation's new ones after them */
	struct np_seen_identity *seen;  /* by label set */
	size_t n_seen;
	uint32_t generation;
	/* The last computation's serial (struct kilo_np_desired_changes) while the cache holds what it made; else 0. */
	uint64_t serial;
	struct np_ipcache_order ipcache;
	struct kilo_np_list_memo lists[KILO_NP_LISTS]; /* the lists kilo_np_model_update read, as last read */
	uint64_t epoch;     /* counts the reads' namespaces and locations (struct kilo_np_pod_memo); 0: none yet */
	struct kilo_np_label_order label_order; /* the last model's label sets (netpol_model.c) */
	char *places;       /* the nodes' locations the last read saw (netpol_model.c) */
	size_t places_len;
};

/* The identities a rule's peer (SELECTOR or VPN) matches: indices into the model's identities. */
struct np_peer_match {
	bool done;
	size_t *identities;
	size_t n;
};

struct np_build {
	struct kilo_np_state *state;
	const struct kilo_np_model *model;
	const char *self;
	struct kilo_np_desired *out;
	struct kilo_lb_report *report;
	uint32_t *numbers;   /* by identity index; 0: none */
	uint64_t *ports_hashes; /* by identity index: its pods' container ports */
	size_t cap_ipcache, cap_endpoints, cap_rule_names;
	struct {
		const char *name; /* the last ipcache entry's location; NULL: none yet */
		uint32_t number;  /* its number (0: out of memory) */
	} location;
	/* Where the rules and bounds being made go: an endpoint's own, or the identities' changes. */
	struct np_rules *rules;
	struct np_cidrs *cidrs;
	/* The identities that changed since the last computation: numbers gone (sorted), indices new. */
	uint32_t *removed;
	size_t n_removed;
	size_t *added;
	size_t n_added;
	/* This computation's: each policy's rule ids and its peers' matches, made when first needed. */
	uint32_t **rule_ids;         /* [policy * 2 + direction][rule] */
	struct np_peer_match **matches; /* [policy * 2 + direction][offset of the rule's peers + peer] */
	size_t *pods_of;             /* pods by identity: pods_of[first[i] .. first[i + 1]) */
	size_t *selected[2];         /* the endpoint being made: the policies that select it, by direction */
	struct {
		const char *name; /* the last endpoint's namespace; NULL: none yet */
		size_t lo, hi;    /* its policies, of the model's */
		uint64_t hash;    /* of their texts */
	} ns;
	size_t n_selected[2];
	uint8_t *denies_asked;       /* bits by rule id: the deny rules this computation asked for */
	size_t *first;
};

/* netpol_rules.c: this node's endpoints, each made again or brought up to date from the cache. */
int kilo_np_build_endpoints(struct np_build *b);
void kilo_np_build_release(struct np_build *b);
/* The pods of each identity (b->first, b->pods_of). -ENOMEM. */
int kilo_np_index_pods(struct np_build *b);

/* netpol_cache.c: the state's cache of endpoints and identities. */
/* Each identity's number and ports against the last computation's: b->removed, b->added. -ENOMEM. */
int kilo_np_identity_changes(struct np_build *b);
/* The cached endpoint of id (NULL: none), and a new one. */
struct np_endpoint *kilo_np_cache_find(struct kilo_np_state *state, uint32_t id);
struct np_endpoint *kilo_np_cache_add(struct kilo_np_state *state, uint32_t id);
/* Frees what the endpoint holds, not the endpoint. */
void kilo_np_endpoint_release(struct np_endpoint *e);
/* Sorts rules (cidrs) by key and keeps one entry per key, the lowest rule id's. */
void kilo_np_rules_settle(struct np_rules *rules);
void kilo_np_cidrs_settle(struct np_cidrs *cidrs);
/* rules without the entries of removed identities, merged with changes (settled). 1: changed, 0: not, -ENOMEM. */
int kilo_np_rules_update(struct np_rules *rules, const uint32_t *removed, size_t n_removed, struct np_rules *changes);
/*
 * Ends a computation: drops the endpoints it did not ask for, remembers
 * the identities it saw, and joins every endpoint's entries into out's
 * rules and cidrs, in key order; the endpoints it changed or dropped to
 * out's changes. -ENOMEM.
 */
int kilo_np_cache_commit(struct np_build *b);
/* Forgets the cache, after a failure too: the next computation makes every endpoint again, and sorts the ipcache. */
void kilo_np_cache_release(struct kilo_np_state *state);
void kilo_np_cache_forget_identities(struct kilo_np_state *state);
/* netpol_compile.c: forgets the ipcache's last order. */
void kilo_np_ipcache_order_release(struct np_ipcache_order *o);

#endif
