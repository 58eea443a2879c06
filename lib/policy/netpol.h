/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubernetes NetworkPolicy (networking.k8s.io/v1) as the policy layer reads
 * it: the store's Pods, Namespaces and NetworkPolicies and the mesh (nodes,
 * locations, VPN peers), with every pod's and peer's identity label set.
 * Pure: no I/O. What cannot be used is left out and reported, never fatal,
 * as the load balancer's objects are (objects.h): the objects were checked
 * when they were stored.
 *
 * An identity label set is a canonical string, the same on every node:
 * its labels, each "SOURCE:KEY=VALUE", sorted by SOURCE then KEY (byte-wise)
 * and joined by ','; SOURCE is
 *   pod   a pod's own label; kilo.squat.ai/location=<its node's location>
 *         is one of them (it replaces a label of that key the pod has);
 *   ns    a label of the pod's namespace as seen for that pod:
 *         kubernetes.io/metadata.name=<namespace> and
 *         kilo.squat.ai/location=<the pod's node's location> among them;
 *   peer  a VPN peer's: kilo.squat.ai/peer=<name> and its Peer's labels.
 * e.g. "ns:kilo.squat.ai/location=eu,ns:kubernetes.io/metadata.name=prod,
 * pod:app=web,pod:kilo.squat.ai/location=eu". Label keys and values hold
 * no ',' or '=' (Kubernetes' syntax, checked at apply), so the string
 * parses back. A pod without a location has no location labels.
 */
#ifndef KILO_LIB_POLICY_NETPOL_H
#define KILO_LIB_POLICY_NETPOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <kilo/core.h>
#include <kilo/mesh.h>

#include "../core/arena.h"
#include "netpol_list.h"
#include "np_desired.h"
#include "objects.h"

#define KILO_NP_LOCATION_LABEL "kilo.squat.ai/location"
#define KILO_NP_PEER_LABEL "kilo.squat.ai/peer"
#define KILO_NP_NAMESPACE_LABEL "kubernetes.io/metadata.name"
#define KILO_NP_INGRESS_PEERS_ANNOTATION "kilo.squat.ai/ingress-peers"
#define KILO_NP_EGRESS_PEERS_ANNOTATION "kilo.squat.ai/egress-peers"
#define KILO_NP_PATH_MAX 256 /* a field path in messages: "spec.ingress[0].from[1].ipBlock.except[2]" */

/* FNV-1a, continued from h over size bytes (start from KILO_NP_HASH_INIT): the caches' fingerprints. */
#define KILO_NP_HASH_INIT 0xcbf29ce484222325u
uint64_t kilo_np_hash(uint64_t h, const void *data, size_t size);

/* Labels sorted by key (strcmp), keys unique. */
struct kilo_np_label {
	const char *key, *value;
};

struct kilo_np_labels {
	const struct kilo_np_label *items;
	size_t n;
};

/* The value of key in labels; NULL when absent. */
const char *kilo_np_labels_get(const struct kilo_np_labels *labels, const char *key);

enum kilo_np_operator {
	KILO_NP_IN = 0,
	KILO_NP_NOT_IN = 1,
	KILO_NP_EXISTS = 2,
	KILO_NP_DOES_NOT_EXIST = 3,
};

struct kilo_np_requirement {
	const char *key;
	enum kilo_np_operator op;
	const char *const *values;
	size_t n_values;
};

/* A label selector: matchLabels as requirements (key In [value]) and matchExpressions; none: everything. */
struct kilo_np_selector {
	const struct kilo_np_requirement *requirements;
	size_t n_requirements;
};

/* "PATH: VALUE is not WHAT" in err (value NULL: null); -EINVAL. */
int kilo_np_field_bad(struct kilo_error *err, const char *path, json_t *value, const char *what);

bool kilo_np_selector_matches(const struct kilo_np_selector *selector, const struct kilo_np_labels *labels);

/*
 * Reads a selector ({"matchLabels":{...},"matchExpressions":[...]}) into out
 * with memory from arena; -EINVAL with err naming path and the value when
 * it is not one (an unknown operator, In without values ...), -ENOMEM.
 * The same check serves apply (lib/serial) and the reader.
 */
int kilo_np_selector_read(struct kilo_arena *arena, json_t *value, const char *path, struct kilo_np_selector *out,
			  struct kilo_error *err);

struct kilo_np_container_port {
	const char *name; /* "" when unnamed */
	uint8_t proto;
	uint16_t port;
};

/* An identity: a distinct label set, with its labels split by source for selectors. */
struct kilo_np_identity {
	const char *label_set;   /* the canonical string */
	struct kilo_np_labels pod, ns; /* a pod's (ns: its namespace's as seen for it) */
	struct kilo_np_labels peer;    /* a VPN peer's */
	bool is_peer;
	uint64_t hash; /* kilo_np_hash of label_set: set in the model's identities */
};

#define KILO_NP_NO_IDENTITY ((size_t)-1)

struct kilo_np_pod {
	const char *namespace, *name;
	const char *node;     /* "" when not scheduled */
	const char *location; /* its node's; "" when none */
	struct kilo_addr addrs[2];
	size_t n_addrs;
	const struct kilo_np_container_port *ports;
	size_t n_ports;
	uint64_t ports_hash; /* of ports, in order */
	struct kilo_np_labels labels; /* its own, as written */
	size_t identity; /* index into the model's identities; KILO_NP_NO_IDENTITY without addresses */
	struct kilo_np_pod_memo *memo; /* its identity as a read with a state last made it (netpol_identity.h) */
};

enum kilo_np_peer_kind {
	KILO_NP_PEER_SELECTOR = 0, /* podSelector and/or namespaceSelector */
	KILO_NP_PEER_IPBLOCK = 1,
	KILO_NP_PEER_VPN = 2,      /* the peers annotation: VPN peers by their labels */
};

struct kilo_np_peer {
	enum kilo_np_peer_kind kind;
	/* SELECTOR: a NULL selector is absent (podSelector alone: the policy's namespace). */
	const struct kilo_np_selector *pod_selector, *namespace_selector;
	const struct kilo_np_selector *vpn_selector; /* VPN */
	struct kilo_cidr cidr;                        /* IPBLOCK, masked */
	const struct kilo_cidr *except;               /* masked, each inside cidr */
	size_t n_except;
};

struct kilo_np_port {
	uint8_t proto;          /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP */
	uint16_t port, end_port; /* 0, 0: every port; end_port == port when no endPort */
	const char *name;       /* a named port, resolved at compile; NULL when numeric */
};

struct kilo_np_rule {
	const char *name;             /* "NAMESPACE/NAME ingress[i]" */
	const struct kilo_np_peer *peers;
	size_t n_peers;               /* 0: every source (destination) */
	const struct kilo_np_port *ports;
	size_t n_ports;               /* 0: every protocol and port */
};

struct kilo_np_policy {
	const char *namespace, *name;
	struct kilo_np_selector pod_selector;
	bool types[2]; /* [KILO_POLICY_INGRESS], [KILO_POLICY_EGRESS]: policyTypes, defaults filled in */
	const struct kilo_np_rule *rules[2];
	size_t n_rules[2]; /* the peers annotation's rule last */
	uint64_t hash;     /* of its text as listed: the same text, the same policy */
};

/*
 * Reads a NetworkPolicy object into out with memory from arena, checking
 * it whole (apply's check is this one): -EINVAL with err saying "PATH:
 * VALUE is not WHAT" for the first bad field, -ENOMEM.
 */
int kilo_np_policy_read(struct kilo_arena *arena, json_t *object, struct kilo_np_policy *out, struct kilo_error *err);

struct kilo_np_namespace {
	const char *name;
	struct kilo_np_labels labels; /* kubernetes.io/metadata.name included */
};

/*
 * A mesh node's addresses, identified as REMOTE_NODE (HOST on the node
 * itself): internal IPs, WireGuard IP, and its bridge's (the first of each
 * pod CIDR), from which kubelet's probes reach the node's pods.
 */
#define KILO_NP_NODE_ADDRS_MAX 6
struct kilo_np_node {
	const char *name, *location;
	struct kilo_addr addrs[KILO_NP_NODE_ADDRS_MAX];
	size_t n_addrs;
};

struct kilo_np_vpn_peer {
	const char *name;
	const struct kilo_cidr *allowed_ips;
	size_t n_allowed_ips;
	size_t identity; /* index into the model's identities */
};

struct kilo_np_model {
	struct kilo_arena arena;
	struct kilo_np_pod *pods; /* by namespace, then name */
	size_t n_pods;
	struct kilo_np_namespace *namespaces; /* by name */
	size_t n_namespaces;
	struct kilo_np_policy *policies; /* by namespace, then name */
	size_t n_policies;
	struct kilo_np_node *nodes; /* by name */
	size_t n_nodes;
	struct kilo_np_vpn_peer *peers; /* by name */
	size_t n_peers;
	struct kilo_np_identity *identities; /* by label set (strcmp), distinct */
	size_t n_identities;
	const char **locations; /* the mesh's, sorted; a location's number is its index + 1 */
	size_t n_locations;
};

/*
 * Reads pods, namespaces and policies (JSON arrays of v1 Pods, v1
 * Namespaces and networking.k8s.io/v1 NetworkPolicies as the store lists
 * them; NULL: none) and mesh (may be NULL) into out. peer_objects (NULL:
 * none) is a JSON array of Peer objects whose metadata.labels add to a
 * VPN peer's label set (the mesh keeps no labels). A namespace a pod or
 * policy names but no Namespace object describes has only
 * kubernetes.io/metadata.name. Unusable objects are left out and reported.
 * -EINVAL when a text is not a JSON array, -ENOMEM. out points into
 * mesh's names: keep mesh until out is released. Release out with
 * kilo_np_model_release, also after a failure.
 */
int kilo_np_model_read(const char *pods, const char *namespaces, const char *policies, const char *peer_objects,
		       const kilo_mesh *mesh, struct kilo_np_model *out, struct kilo_lb_report *report,
		       struct kilo_error *err);
/*
 * kilo_np_model_read with state's memo of the lists it read last time: an
 * object in the part of a list before or after what changed is not parsed
 * again, and a pod's identity is taken as made then while the namespaces
 * and the nodes' locations are the same. out points into the state:
 * release it before the next update with state.
 */
struct kilo_np_state;
int kilo_np_model_update(struct kilo_np_state *state, const char *pods, const char *namespaces,
			 const char *policies, const char *peer_objects, const kilo_mesh *mesh,
			 struct kilo_np_model *out, struct kilo_lb_report *report, struct kilo_error *err);

/* The lists kilo_np_model_update reads, with their lengths. */
struct kilo_np_texts {
	struct kilo_np_text pods, namespaces, policies, peer_objects;
};

/* kilo_np_model_update of texts whose lengths the caller has: none is counted again. */
int kilo_np_model_update_texts(struct kilo_np_state *state, const struct kilo_np_texts *texts, const kilo_mesh *mesh,
			       struct kilo_np_model *out, struct kilo_lb_report *report, struct kilo_error *err);
void kilo_np_model_release(struct kilo_np_model *model);

/* The label sets that need identities: model->identities[i].label_set, sorted, distinct. */

/* The pod called namespace/name, or NULL. */
const struct kilo_np_pod *kilo_np_model_find_pod(const struct kilo_np_model *model, const char *namespace,
						 const char *name);
/* Whether policy selects pod (its namespace, then its pod selector). */
bool kilo_np_policy_selects(const struct kilo_np_policy *policy, const struct kilo_np_pod *pod,
			    const struct kilo_np_model *model);
/* Whether peer (a SELECTOR or VPN one) of a rule of policy matches identity. */
bool kilo_np_peer_matches(const struct kilo_np_peer *peer, const struct kilo_np_policy *policy,
			  const struct kilo_np_identity *identity);

/* The store's numbers for label sets: sorted by label_set (strcmp). */
struct kilo_np_identity_number {
	const char *label_set;
	uint32_t identity; /* >= KILO_IDENTITY_FIRST_ALLOCATED */
};

/*
 * What one node keeps from one computation to the next: the objects read
 * and the pods' identities (kilo_np_model_update), stable endpoint ids (by
 * pod), rule ids (by rule name), location numbers, each endpoint's
 * entries, updated by the identities that came and went when nothing else
 * of theirs changed, and the ipcache's order. NULL when out of memory.
 * Free with kilo_np_state_free.
 */
struct kilo_np_state *kilo_np_state_new(void);
void kilo_np_state_free(struct kilo_np_state *state);

/*
 * Fills out (sorted as np_desired.h says) for the node called self from
 * model and the identities' numbers (ids, n_ids sorted): the ipcache of
 * every pod, VPN peer and node, this node's pods as endpoints, their rules
 * and ipBlock regions, and the rule names. A label set without a number is
 * reported and its pods left out of the ipcache and rules. state (not
 * NULL) keeps ids stable between calls. -ENOMEM; out is then empty.
 * Release out with kilo_np_desired_release.
 */
int kilo_np_compile(struct kilo_np_state *state, const struct kilo_np_model *model, const char *self,
		    const struct kilo_np_identity_number *ids, size_t n_ids, struct kilo_np_desired *out,
		    struct kilo_lb_report *report, struct kilo_error *err);
void kilo_np_desired_release(struct kilo_np_desired *desired);

#endif
