/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stores: where the nodes and peers of a mesh live, shared by every agent.
 * One interface, so that other stores (etcd) plug in without touching the
 * agent. The embedded default is the file store: a directory with
 * nodes/NAME.json and peers/NAME.json in the mesh document's node and peer
 * formats, written atomically and watched with inotify.
 */
#ifndef KILO_STORE_H
#define KILO_STORE_H

#include <kilo/core.h>
#include <kilo/mesh.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kilo_store kilo_store;

/*
 * Opens the store named by uri: "file:DIR". Opening and reading write
 * nothing: the first write creates DIR and the folder it needs. The store
 * watches for changes from then on.
 */
KILO_EXPORT int kilo_store_open(const char *uri, kilo_store **out, struct kilo_error *err);

#define KILO_DEFAULT_READY_WINDOW 6 /* seconds: a node silent this long drops out */

/*
 * What a store needs besides its URI: for etcd, the TLS files and the
 * credentials (kg's and kgctl's --etcd-* flags), which override the URI's
 * parameters of the same names. NULL fields: not given.
 */
struct kilo_store_opts {
	size_t sz;
	const char *etcd_cacert;        /* the CA of the cluster's server certificates */
	const char *etcd_cert;          /* this client's certificate ... */
	const char *etcd_key;           /* ... and its key */
	const char *etcd_user;
	const char *etcd_password_file; /* the password, read from this file (never from the URI) */
	/*
	 * Seconds a node's heartbeat keeps it in a mesh the store loads, as
	 * kg's --ready-window; 0: KILO_DEFAULT_READY_WINDOW. The mesh keeps
	 * it with the time of the load (see kilo_mesh_node_ready).
	 */
	uint32_t ready_window;
};

/*
 * kilo_store_open with options (NULL: none). URIs: "file:DIR", or
 * "etcd://HOST:PORT[,HOST:PORT...][/CLUSTER][?PARAMS]" ("etcds://" for
 * TLS) with PARAMS cacert=, cert=, key=, user=, password-file=. The
 * etcd store keeps /kilo/CLUSTER/nodes/NAME and /kilo/CLUSTER/peers/NAME.
 */
KILO_EXPORT int kilo_store_open_opts(const char *uri, const struct kilo_store_opts *opts, kilo_store **out,
				     struct kilo_error *err);
KILO_EXPORT void kilo_store_close(kilo_store *store);

/* What a load left out: files that could not be read as a node or peer. */
struct kilo_store_problem {
	char path[256];
	char message[KILO_ERROR_MESSAGE_MAX];
};

struct kilo_store_report {
	size_t n_problems;
	struct kilo_store_problem problems[16]; /* the first 16 */
};

/*
 * Reads every node and peer into a new mesh with settings (a mesh document
 * that holds only "settings", or NULL for the defaults). A file that is
 * corrupt or half-written is left out and reported in report (which may be
 * NULL); it never fails the load and never removes other nodes. A node
 * whose pod CIDR overlaps, or whose key equals, that of a node kept before
 * it (by name) is left out and reported too. The store keeps what it
 * parsed: a later load reads again only the objects that changed (the
 * file store knows them from its watch). Free *out with kilo_mesh_free.
 */
KILO_EXPORT int kilo_store_load(kilo_store *store, const char *settings, kilo_mesh **out,
				struct kilo_store_report *report, struct kilo_error *err);

/*
 * Writes one node or peer, given as a mesh document node or peer object
 * (JSON), atomically: a temporary file, fsync, rename. The object is
 * validated first; its "name" names the file.
 */
KILO_EXPORT int kilo_store_put_node(kilo_store *store, const char *node_json, struct kilo_error *err);
KILO_EXPORT int kilo_store_put_peer(kilo_store *store, const char *peer_json, struct kilo_error *err);
/* Removes a node or peer; 0 if it was not there. */
KILO_EXPORT int kilo_store_delete_node(kilo_store *store, const char *name, struct kilo_error *err);
KILO_EXPORT int kilo_store_delete_peer(kilo_store *store, const char *name, struct kilo_error *err);
/* The node named name as a mesh document node object (JSON); -ENOENT. Free *out with kilo_free. */
KILO_EXPORT int kilo_store_get_node(kilo_store *store, const char *name, char **out, struct kilo_error *err);

/*
 * Changes settings of the stored node named name, as `kgctl node set` does:
 * each assignment is "KEY=VALUE" with KEY one of location, leader
 * (true/false), force-endpoint, force-internal-ip, persistent-keepalive
 * (seconds), allowed-location-ips (comma separated CIDRs) or pod-cidr; an
 * empty VALUE removes the setting. The edited node is validated whole and
 * written atomically, or nothing is written. -ENOENT if the node is not
 * there; -EINVAL for an unknown key or a bad value, named in err.
 */
KILO_EXPORT int kilo_store_set_node(kilo_store *store, const char *name, const char *const *assignments, size_t n,
				    struct kilo_error *err);

/*
 * Kubernetes objects (see manifest.h): KIND as Kubernetes spells it
 * ("Service", "EndpointSlice", "Pod", "Namespace", "NetworkPolicy"; also
 * "Node" and "Peer", the mesh's nodes and peers, and kubectl's aliases).
 * The file store keeps DIR/services/NS.NAME.json, endpointslices/, pods/,
 * networkpolicies/ and namespaces/NAME.json; etcd keeps
 * /kilo/CLUSTER/services/NS/NAME and so on. kilo_store_fd wakes for them
 * too; kilo_store_load never reads them.
 */
enum kilo_object_change {
	KILO_OBJECT_CREATED = 0,
	KILO_OBJECT_CONFIGURED = 1, /* replaced an object that differed */
	KILO_OBJECT_UNCHANGED = 2,  /* equal to the stored one: nothing written */
};

/*
 * Checks one object (JSON) as its kind requires and writes its canonical
 * form atomically: apiVersion, kind, metadata (name, namespace, labels,
 * annotations, uid), the kind's fields with Kubernetes' defaults, no
 * status (a Pod keeps its IPs). A Node goes in as kilo_node_from_kubernetes
 * reads it, a Peer as kilo_peer_from_kubernetes does. Errors name the
 * object, the field and the value: `Service default/web:
 * spec.ports[1].port: 70000 is not a port (1-65535)`; nothing is written.
 */
KILO_EXPORT int kilo_store_put_object(kilo_store *store, const char *object_json, struct kilo_error *err);
/* kilo_store_put_object that writes only a changed object, and says in *change (may be NULL) what it did. */
KILO_EXPORT int kilo_store_apply_object(kilo_store *store, const char *object_json, enum kilo_object_change *change,
					struct kilo_error *err);
/* Removes an object (ns NULL or "": "default" for a namespaced kind); -ENOENT when it is not there. */
KILO_EXPORT int kilo_store_delete_object(kilo_store *store, const char *kind, const char *ns, const char *name,
					 struct kilo_error *err);
/* The stored object as canonical JSON; -ENOENT. Free *out with kilo_free. */
KILO_EXPORT int kilo_store_get_object(kilo_store *store, const char *kind, const char *ns, const char *name,
				      char **out, struct kilo_error *err);
/*
 * Every stored object of kind as a JSON array sorted by namespace, then
 * name. Objects that no longer pass their kind's checks (a file edited by
 * hand) are left out. Free *out with kilo_free.
 */
KILO_EXPORT int kilo_store_list_objects(kilo_store *store, const char *kind, char **out, struct kilo_error *err);
/* kilo_store_list_objects of one namespace (NULL: every namespace). */
KILO_EXPORT int kilo_store_list_objects_in(kilo_store *store, const char *kind, const char *ns, char **out,
					   struct kilo_error *err);

/*
 * Identities: a number for each distinct label set (an opaque string, the
 * policy layer's canonical form), handed out once per cluster by the store
 * and the same on every node. The file store keeps DIR/identities/ID.json
 * and DIR/identity-labels/HASH.json, etcd /kilo/CLUSTER/identities/ID and
 * /kilo/CLUSTER/identity-labels/HASH (HASH: a BLAKE2b of the labels), each
 * holding the pair. kilo_store_fd wakes and kilo_store_changed says true
 * when another process allocates or releases one.
 */
#define KILO_IDENTITY_LABELS_MAX 4096 /* bytes of a label set */

struct kilo_store_identity {
	uint32_t id;     /* >= KILO_IDENTITY_FIRST_ALLOCATED (256) */
	char *labels;
	int64_t created; /* unix seconds, by the clock of the node that allocated it */
};

/*
 * The number of the label set labels: the one it has, or a new one. Two
 * processes (or nodes) that ask for the same label set at once get the
 * same number; two label sets never share one. A number released is not
 * handed out again until every number after it has been. -EINVAL for
 * labels that are empty, longer than KILO_IDENTITY_LABELS_MAX, not UTF-8
 * or with a control character; -EBUSY when other writers won every try.
 */
KILO_EXPORT int kilo_store_identity_allocate(kilo_store *store, const char *labels, uint32_t *id,
					     struct kilo_error *err);
/*
 * Every identity, sorted by number, into *out (*n of them; free with
 * kilo_store_identities_free). On etcd, as of the last kilo_store_changed (the
 * store's watch); a file store reads its files.
 */
KILO_EXPORT int kilo_store_identity_list(kilo_store *store, struct kilo_store_identity **out, size_t *n,
					 struct kilo_error *err);
KILO_EXPORT void kilo_store_identities_free(struct kilo_store_identity *identities, size_t n);
/*
 * Frees the identities whose label set is none of in_use (the label sets
 * of every pod and peer of the cluster) and that were allocated at least
 * min_age_s seconds ago, so that a label set another node allocated a
 * moment ago, for a pod this node has not seen yet, keeps its number.
 * *released (may be NULL): how many were freed.
 */
KILO_EXPORT int kilo_store_identities_release_unused(kilo_store *store, const char *const *in_use, size_t n_in_use,
						     uint32_t min_age_s, size_t *released, struct kilo_error *err);

/*
 * A file descriptor that becomes readable when the store changes, for
 * poll(). After it does, kilo_store_changed consumes the events and says
 * whether anything relevant changed (true), so the caller loads again.
 * A store whose directory disappears reports it as an error and keeps
 * watching for it to come back. A file store begins watching at the first
 * call (a negative errno when it cannot); a store that is only read never
 * does.
 */
KILO_EXPORT int kilo_store_fd(const kilo_store *store);
KILO_EXPORT int kilo_store_changed(kilo_store *store, bool *changed, struct kilo_error *err);

/*
 * Whether the store answered its last request (a file store: whether its
 * directory is there), why not, and the revision of what a load sees
 * (etcd's; 0 for a file store). why is "" when up.
 */
struct kilo_store_health {
	bool up;
	int64_t revision;
	char why[KILO_ERROR_MESSAGE_MAX];
};
KILO_EXPORT void kilo_store_health(kilo_store *store, struct kilo_store_health *out);

/*
 * The store as `kgctl status` shows it, lines of text: a file store's
 * directory; for etcd each endpoint, whether it answers, the leader, the
 * revision and the DB size, asked now. Free *out with kilo_free.
 */
KILO_EXPORT int kilo_store_describe(kilo_store *store, char **out, struct kilo_error *err);

#ifdef __cplusplus
}
#endif

#endif
