/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stable ids for the load balancer's frontends and backends, kept by the
 * caller from one computation to the next: a frontend key, or a backend's
 * (address, port, protocol), keeps its id as long as it is in every
 * computation. Conntrack entries name backends and reverse NAT by id, so
 * an id that is freed is handed out again only after the 32-bit counter
 * went round (some 4 billion other ids), never to the next newcomer.
 * Each entry may also keep what the computation made of it (a Maglev
 * table, a parsed object), so that the next computation does not make it
 * again; it goes with the id.
 */
#ifndef KILO_LIB_POLICY_IDS_H
#define KILO_LIB_POLICY_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../bpf/progs/lb_maps.h"

/* What names a backend, whichever services it serves. */
struct kilo_lb_backend_key {
	union kilo_lb_addr addr;
	__be16 port;
	__u8 proto;
	__u8 family;
};

#define KILO_LB_ID_KEY_MAX sizeof(struct kilo_lb_service_key)

/* One kind of id (frontends or backends): an open-addressing table keyed by fixed-size keys. */
struct kilo_lb_id_entry {
	uint8_t key[KILO_LB_ID_KEY_MAX];
	uint32_t id;         /* 0: a free place */
	uint32_t generation; /* the computation that last asked for it */
	size_t out;          /* the computation's own use: an index into its output */
	void *cache;         /* the computation's, kept with the id between computations; freed by drop */
};

struct kilo_lb_id_table {
	struct kilo_lb_id_entry *entries;
	size_t cap; /* a power of two, or 0 */
	size_t n;
	size_t key_size;
	uint32_t next;     /* the next id to hand out; 0 is never one */
	bool wrapped;      /* next went round: skip the ids in use */
	uint32_t *in_use;  /* when wrapped: the ids kept from the last computation, sorted */
	size_t n_in_use;
	void (*drop)(void *cache); /* frees an entry's cache when its id is freed */
};

struct kilo_lb_ids {
	struct kilo_lb_id_table frontends; /* by struct kilo_lb_service_key */
	struct kilo_lb_id_table backends;  /* by address, port, protocol and family */
	struct kilo_lb_id_table objects;   /* Services and EndpointSlices as read, by their text's hash (objects.c) */
	uint32_t generation;
};

/* A new allocator with no ids; NULL when out of memory. Free with kilo_lb_ids_free (NULL-safe). */
struct kilo_lb_ids *kilo_lb_ids_new(void);
void kilo_lb_ids_free(struct kilo_lb_ids *ids);

/* Starts a computation: ids asked for from now on are the ones it keeps. -ENOMEM. */
int kilo_lb_ids_begin(struct kilo_lb_ids *ids);
/*
 * The entry of key (table->key_size bytes) in this computation, with its
 * id (a new one if key had none). *first is true the first time this
 * computation asks for key. The pointer is valid until the next call.
 * -ENOMEM.
 */
int kilo_lb_ids_get(struct kilo_lb_ids *ids, struct kilo_lb_id_table *table, const void *key,
		    struct kilo_lb_id_entry **entry, bool *first);
/*
 * Gives key (table->key_size bytes) the id it had before, as read from the
 * maps an earlier process (a kg before a restart) wrote: conntrack entries
 * name backends and reverse NAT by these ids, so flows keep their backend.
 * New ids are handed out after the largest adopted. Call before the first
 * computation; an id is kept only if that computation asks for its key.
 * A key that has an id already keeps it. -ENOMEM.
 */
int kilo_lb_ids_adopt(struct kilo_lb_ids *ids, struct kilo_lb_id_table *table, const void *key, uint32_t id);
/*
 * Ends a successful computation: the ids it did not ask for are freed.
 * -ENOMEM: some may stay taken until the next commit, which is harmless.
 */
int kilo_lb_ids_commit(struct kilo_lb_ids *ids);

#endif
