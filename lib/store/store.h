/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a store kind provides: raw objects by kind and name, and a way to
 * be told of changes. Parsing, validation and assembling the mesh are
 * shared by every kind (store.c, load.c), so that a file store and an etcd
 * store accept and refuse exactly the same objects.
 */
#ifndef KILO_LIB_STORE_STORE_H
#define KILO_LIB_STORE_STORE_H

#include <kilo/store.h>

#include "../core/arena.h"
#include "../mesh/model.h"

/* A single stored object is refused beyond this size. */
#define KILO_STORE_OBJECT_MAX (1u << 20)

enum kilo_store_kind {
	KILO_STORE_NODE,
	KILO_STORE_PEER,
	/*
	 * Kubernetes objects (store_objects.c): listed when asked, never by a
	 * load; a store that names their changes keeps their listing between
	 * calls (listing.c). A namespaced object's name is "NS/NAME".
	 */
	KILO_STORE_SERVICE,
	KILO_STORE_ENDPOINTSLICE,
	KILO_STORE_POD,
	KILO_STORE_NAMESPACE,
	KILO_STORE_NETWORKPOLICY,
	/*
	 * Identities (store_identities.c): a record per number, named by it
	 * in decimal, and one per label set, named by a hash of it, both
	 * holding the pair; plus the record "next" of the first kind, the
	 * number after the highest ever handed out.
	 */
	KILO_STORE_IDENTITY,
	KILO_STORE_IDENTITY_LABELS,
	KILO_STORE_KINDS,
};

/* The kinds a load reads, and the store caches: nodes and peers. */
#define KILO_STORE_MESH_KINDS 2
/*
 * The kinds whose changes a store with object_changes names: nodes, peers,
 * the Kubernetes objects and the identities; a store without it names
 * those of nodes, peers and identities.
 */
#define KILO_STORE_CHANGED_KINDS KILO_STORE_KINDS

/* One object as stored: where it came from (for reports), its name and text. */
struct kilo_store_entry {
	char *source;
	char *name;
	char *text;             /* NULL when it could not be read */
	size_t len;
	const char *unreadable; /* why it could not be read (a static string) */
	/* Changes at every write (etcd's mod revision): what a compare-and-swap compares. */
	int64_t version;
	/* The store's watch may miss its next change (a file with another name elsewhere): never kept. */
	bool unwatched;
};

/* A write's if_version when it replaces whatever is there. */
#define KILO_STORE_ANY_VERSION (-1)
/* How often kilo_store_set_node reads again and retries when another writer came first. */
#define KILO_STORE_CAS_TRIES 16

struct kilo_strbuf;

struct kilo_store_cache;

/* One write of write_all: text NULL removes the object. */
struct kilo_store_write {
	enum kilo_store_kind kind;
	const char *name;
	const char *text;
	size_t len;
	int64_t if_version; /* as write's: 0 absent, KILO_STORE_ANY_VERSION: no condition */
};

struct kilo_store_ops {
	void (*close)(kilo_store *store);
	/*
	 * Every object of kind, in any order, into a malloc'ed array; an object
	 * that cannot be read comes without text. Only a store that cannot be
	 * listed at all is an error.
	 */
	int (*list)(kilo_store *store, enum kilo_store_kind kind, struct kilo_store_entry **out, size_t *n_out,
		    struct kilo_store_report *report, struct kilo_error *err);
	/* The object named name as list gives it; -ENOENT when it is not there. */
	int (*get)(kilo_store *store, enum kilo_store_kind kind, const char *name, struct kilo_store_entry *out,
		   struct kilo_error *err);
	/*
	 * The names of the objects of kind that changed since the last call
	 * (malloc'ed, each and the array; a name may repeat), or *all when
	 * the store cannot tell (the first call, lost events): then every
	 * object is read again.
	 */
	int (*changes)(kilo_store *store, enum kilo_store_kind kind, char ***names, size_t *n, bool *all,
		       struct kilo_error *err);
	/*
	 * Replaces one object atomically: readers see the old text or the new
	 * one. Unless if_version is KILO_STORE_ANY_VERSION, only while the
	 * object is at that version (0: absent), else -EAGAIN.
	 */
	int (*write)(kilo_store *store, enum kilo_store_kind kind, const char *name, const char *text, size_t len,
		     int64_t if_version, struct kilo_error *err);
	/* 0 if it was not there. */
	int (*remove)(kilo_store *store, enum kilo_store_kind kind, const char *name, struct kilo_error *err);
	int (*fd)(const kilo_store *store);
	int (*changed)(kilo_store *store, bool *changed, struct kilo_error *err);
	/*
	 * The rest is optional (NULL). Publishes the agent's own node, live
	 * for ttl seconds unless published again (file store: write) or kept
	 * alive (etcd: a lease kept alive in the background, the record put
	 * only when text changed). It may complete later, off the caller's
	 * loop: its failure shows in health.
	 */
	int (*publish_self)(kilo_store *store, const char *name, const char *text, size_t len, uint32_t ttl,
			    struct kilo_error *err);
	void (*health)(kilo_store *store, struct kilo_store_health *out);
	int (*describe)(kilo_store *store, struct kilo_strbuf *out, struct kilo_error *err);
	/*
	 * Every write at once if each one's object is at its if_version, else
	 * none and -EAGAIN (etcd: one transaction). A store without it writes
	 * one object at a time (store_identities.c says in which order).
	 */
	int (*write_all)(kilo_store *store, const struct kilo_store_write *writes, size_t n, struct kilo_error *err);
	/* Without write_all: remove only while the object is at if_version, else -EAGAIN. */
	int (*remove_if)(kilo_store *store, enum kilo_store_kind kind, const char *name, int64_t if_version,
			 struct kilo_error *err);
	/*
	 * Liveness by presence: a node in the store is alive (a load sets its
	 * lastSeen to now) and the agent publishes only changes, no heartbeat.
	 */
	bool presence;
	/*
	 * changes names the changes of every kind below KILO_STORE_CHANGED_KINDS,
	 * not only of nodes, peers and identities: listings of Kubernetes
	 * objects are kept between calls and only what changed is read and
	 * checked again.
	 */
	bool object_changes;
};

/* Every store kind embeds this first. */
struct kilo_store {
	const struct kilo_store_ops *ops;
	/* Per kind, the objects as last loaded, parsed: a load reads only what changed. */
	struct kilo_store_cache *cache[KILO_STORE_MESH_KINDS];
	uint32_t ready_window; /* given to every mesh a load makes */
	/*
	 * Per Kubernetes kind, its objects as last listed, checked (listing.c),
	 * and per identity kind its records (store_identities.c); NULL until
	 * listed.
	 */
	struct kilo_store_kept *kept[KILO_STORE_KINDS];
};

struct kilo_store_kept;

/* What the objects of a kept kind become (cache.c, kept.c's users). */
struct kilo_store_item_ops {
	/* The item of entry, which it may take the strings of; NULL when out of memory. */
	void *(*make)(enum kilo_store_kind kind, struct kilo_store_entry *entry);
	void (*drop)(void *item);
	int (*compare)(const void *a, const void *b); /* qsort's, of two item pointers */
	/* Kept items (kept.c): the sort key of a name (malloc'ed; NULL: out of memory); NULL: the name itself. */
	char *(*key_of)(enum kilo_store_kind kind, const char *name);
	/*
	 * Kept items, optional: told of each item read again, before old is
	 * dropped: old replaced by item, or either NULL when one comes or
	 * goes; both NULL when every one was read again.
	 */
	void (*changed)(struct kilo_store_kept *kept, enum kilo_store_kind kind, void *old, void *item);
};
/* Every object of kind, from the store's list, as items sorted by ops->compare (free each and the array). */
int kilo_store_list_items(kilo_store *store, enum kilo_store_kind kind, const struct kilo_store_item_ops *ops,
			  void ***items, size_t *n, struct kilo_store_report *report, struct kilo_error *err);

/* What every item of a kept kind begins with. */
struct kilo_store_kept_head {
	char *name;  /* as stored */
	char *key;   /* the order (strcmp): ops->key_of's, or the name */
	bool reread; /* unreadable, or its changes may go unseen: read again at every refresh */
};

/* The objects of one kind as last read, sorted by key (kept.c). */
struct kilo_store_kept {
	const struct kilo_store_item_ops *ops; /* compare: kilo_store_kept_compare */
	void **items;                          /* each begins with a struct kilo_store_kept_head */
	size_t n, cap;
	bool listed; /* items are the store's as of the last refresh */
	/* Set at every change of items to a number no kept list of any store had: equal, nothing changed. */
	uint64_t stamp;
	/* listing.c's: which objects the last whole listing put together held, and where (NULL: none). */
	struct kilo_store_layout *layout;
};

/* ops->make's part: takes entry's name into head, with its key. -ENOMEM. */
int kilo_store_kept_head_take(struct kilo_store_kept_head *head, const struct kilo_store_item_ops *ops,
			      enum kilo_store_kind kind, struct kilo_store_entry *entry);
void kilo_store_kept_head_clear(struct kilo_store_kept_head *head);
/* Orders two kept items by key. */
int kilo_store_kept_compare(const void *a, const void *b);
/*
 * Brings kept up to date with the store: when named, only the objects the
 * store names as changed are read again (and those marked reread), else,
 * or when the store cannot tell, every one. An error leaves kept empty,
 * to be read whole the next time.
 */
int kilo_store_kept_refresh(kilo_store *store, enum kilo_store_kind kind, struct kilo_store_kept *kept, bool named,
			    struct kilo_store_report *report, struct kilo_error *err);
/* The item named name; NULL when there is none. */
void *kilo_store_kept_find(const struct kilo_store_kept *kept, enum kilo_store_kind kind, const char *name);
/* Drops every item: the next refresh reads every object. */
void kilo_store_kept_clear(struct kilo_store_kept *kept);

/*
 * kilo_store_identity_list, but when the identities are those of *stamp
 * (as this call last set it; 0: none) nothing is listed and 1 returned:
 * the agent lists them at every change of the store, and the ~3,000
 * records of 10,000 pods rarely change.
 */
int kilo_store_identity_list_since(kilo_store *store, uint64_t *stamp, struct kilo_store_identity **out, size_t *n,
				   struct kilo_error *err);

/* A parsed object of the cache: the object, or why it was left out. */
struct kilo_store_cached {
	struct kilo_store_kept_head head;
	char *source;
	char *problem; /* NULL when parsed */
	char *conflict; /* a parsed node left out for a conflict with another; NULL when kept */
	struct kilo_arena arena;
	union {
		struct kilo_node node;
		struct kilo_peer peer;
	} object;
};

/* The objects of one kind by name. */
struct kilo_store_cache {
	struct kilo_store_kept kept; /* first (cache.c's changed finds the cache from it); items: struct kilo_store_cached */
	/*
	 * Nodes: whether every conflict still holds, and the location order of
	 * the kept nodes (indices among them, n_kept), which hold as long as
	 * no node comes or goes and none changes its key, pod CIDRs or
	 * location: a heartbeat or a new endpoint settles nothing again.
	 */
	bool settled;
	size_t *by_location;
	size_t n_kept;
};

/*
 * Brings store->cache[kind] up to date with the store: every object again
 * when the store cannot say what changed, else only the changed ones.
 * Objects that cannot be listed go to report.
 */
int kilo_store_cache_refresh(kilo_store *store, enum kilo_store_kind kind, struct kilo_store_report *report,
			     struct kilo_error *err);
void kilo_store_cache_free(struct kilo_store_cache *cache);

/* The i-th object of cache, by name. */
static inline struct kilo_store_cached *kilo_store_cached_at(const struct kilo_store_cache *cache, size_t i)
{
	return cache->kept.items[i];
}

/*
 * A listing against the one its caller holds: the agent lists five kinds at
 * every change of the store, which is mostly one object of one of them,
 * and 10,000 pods' text is megabytes, which it then need not compare.
 */
struct kilo_store_since {
	uint64_t stamp; /* in: the stamp of the text the caller holds (0: none); out: the new text's (0: not kept) */
	size_t len;     /* out: the new text's length */
	/*
	 * out: how many bytes the new text surely shares with the caller's,
	 * from its start and from its end; 0 and 0 when not known.
	 */
	size_t prefix, suffix;
};

/*
 * The objects of kind (in namespace ns; NULL: every one) as one JSON array,
 * sorted by namespace then name, into *out (free): the text of
 * kilo_store_list_objects. Kept per object between calls when the store
 * names the kind's changes, else listed whole. With since (else NULL):
 * when the kept objects are those of since->stamp, nothing is listed and 1
 * returned; else since is filled.
 */
int kilo_store_listing_text(kilo_store *store, enum kilo_store_kind kind, const char *ns,
			    struct kilo_store_since *since, char **out, struct kilo_error *err);
/* kilo_store_list_objects, with kilo_store_listing_text's since. */
int kilo_store_list_objects_since(kilo_store *store, const char *kind_name, struct kilo_store_since *since,
				  char **out, struct kilo_error *err);
/* Frees a kept list's layout (listing.c). */
void kilo_store_layout_free(struct kilo_store_layout *layout);
/* store->kept[kind], made empty when there is none yet; NULL when out of memory. */
struct kilo_store_kept *kilo_store_kept_of(kilo_store *store, enum kilo_store_kind kind,
					   const struct kilo_store_item_ops *ops);
/* Frees every kind's kept items. */
void kilo_store_kept_free_all(kilo_store *store);
/*
 * The checked, canonical text of one listed object of kind, as
 * kilo_store_get_object gives it, into *text (free); NULL when it does not
 * pass the checks any more. -ENOMEM.
 */
int kilo_store_listed_text(enum kilo_store_kind kind, const struct kilo_store_entry *entry, char **text);

/*
 * The kind's folder (file store) or key segment (etcd): "nodes" or "peers",
 * as the mesh document names its lists, "services", "endpointslices" ...
 */
const char *kilo_store_kind_name(enum kilo_store_kind kind);
/* Whether objects of kind are namespaced: their names are "NS/NAME". */
bool kilo_store_kind_namespaced(enum kilo_store_kind kind);

/* Adds a problem about source to report (NULL: nothing); the count goes on past the first 16. */
void kilo_store_report_add(struct kilo_store_report *report, const char *source, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Frees entries, wiping their text (a peer may hold a preshared key). */
void kilo_store_entries_free(struct kilo_store_entry *entries, size_t n);

/*
 * Parses the text of one stored node or peer named name (NULL: any valid
 * name) into *out, with memory from arena: the mesh document's rules, and
 * the object's "name" must equal the name it is stored under. Errors are named by the field, e.g.
 * `podCIDR: "10.2.1.0/33" is not a CIDR`.
 */
int kilo_store_parse_node(const char *text, size_t len, const char *name, struct kilo_arena *arena,
			  struct kilo_node *out, struct kilo_error *err);
int kilo_store_parse_peer(const char *text, size_t len, const char *name, struct kilo_arena *arena,
			  struct kilo_peer *out, struct kilo_error *err);

/*
 * The agent's own node, validated as kilo_store_put_node validates it,
 * published with ops->publish_self (write without it).
 */
int kilo_store_publish_self(kilo_store *store, const char *node_json, uint32_t ttl, struct kilo_error *err);

struct json_t;
/*
 * The fields the agent owns in its node (its key, heartbeat, WireGuard IP
 * and discovered endpoints, as Kilo's handleLocal): base takes mine's
 * (dropping those mine lacks) and keeps every other field, an operator's.
 * -ENOMEM.
 */
int kilo_store_node_take_agent_fields(struct json_t *base, const struct json_t *mine);
/*
 * The agent's node after it lost a race for it: stored (what the store
 * holds now) with the agent's fields of mine, canonical, into *out
 * (kilo_free). A stored text that is not a valid node gives mine.
 */
int kilo_store_node_merge_self(const char *stored, size_t stored_len, const char *mine, size_t mine_len, char **out,
			       struct kilo_error *err);
/*
 * kilo_store_get_node with the version it read, and kilo_store_put_node or
 * _peer only while the object is still at if_version (0: absent; -EAGAIN
 * otherwise): the compare-and-swap of `kgctl node set`, and kgctl
 * connect's creation of a peer that two may race to create.
 */
int kilo_store_get_node_version(kilo_store *store, const char *name, char **out, int64_t *version,
				struct kilo_error *err);
int kilo_store_put_if(kilo_store *store, enum kilo_store_kind kind, const char *json, int64_t if_version,
		      struct kilo_error *err);
/*
 * kilo_store_put_node or _peer that writes only what differs from the
 * stored object, and says which it was (kilo_store_apply_object).
 */
int kilo_store_put_changed(kilo_store *store, enum kilo_store_kind kind, const char *json,
			   enum kilo_object_change *change, struct kilo_error *err);
/* A node or peer as the store holds it, canonical (a peer without its preshared key); -ENOENT. */
int kilo_store_get_mesh_object(kilo_store *store, enum kilo_store_kind kind, const char *name, char **out,
			       struct kilo_error *err);
/* The same of a node's or peer's stored text, named name. */
int kilo_store_mesh_object_text(enum kilo_store_kind kind, const char *text, size_t len, const char *name, char **out,
				struct kilo_error *err);
/* Whether the agent should leave liveness to the store (ops->presence). */
bool kilo_store_liveness_by_presence(const kilo_store *store);

/* The file store: "file:DIR". */
int kilo_file_store_open(const char *dir, kilo_store **out, struct kilo_error *err);
/* The etcd store: "etcd://..." or "etcds://..." whole. */
int kilo_etcd_store_open(const char *uri, const struct kilo_store_opts *opts, kilo_store **out,
			 struct kilo_error *err);

#endif
