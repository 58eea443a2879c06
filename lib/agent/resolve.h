/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DNS names of endpoints: looked up as Kilo looks them up, on a thread of
 * the agent's own so that no reconcile waits on DNS, and kept in a table
 * from which every solve takes the addresses.
 */
#ifndef KILO_LIB_AGENT_RESOLVE_H
#define KILO_LIB_AGENT_RESOLVE_H

#include <netdb.h>

#include <kilo/core.h>

#include "../core/log.h"
#include "../core/strbuf.h"
#include "../mesh/model.h"

#define KILO_RESOLVE_REASON_MAX 96

/* ---- one lookup ------------------------------------------------------ */

/*
 * The address Kilo's resolver (Go's ResolveUDPAddr for "udp") takes of
 * the answers in list: the first IPv4 one, else the first IPv6 one; an
 * IPv4-mapped IPv6 address is IPv4. -ENOENT when list has neither.
 */
int kilo_resolve_pick(const struct addrinfo *list, struct kilo_addr *out);

/*
 * Looks name up now, through the system's resolver (nsswitch: /etc/hosts,
 * DNS). -EADDRNOTAVAIL when it does not resolve, why in reason.
 */
int kilo_resolve_name(const char *name, struct kilo_addr *out, char reason[KILO_RESOLVE_REASON_MAX]);

/* ---- the lookup thread ------------------------------------------------ */

struct kilo_resolver;

struct kilo_resolve_answer {
	char name[KILO_DNS_NAME_MAX + 1];
	int r; /* 0, or kilo_resolve_name's error */
	struct kilo_addr addr;
	char reason[KILO_RESOLVE_REASON_MAX];
};

/* Starts the thread. */
int kilo_resolver_new(struct kilo_resolver **out);
/* Readable (an eventfd) while answers wait to be taken. */
int kilo_resolver_fd(const struct kilo_resolver *r);
/* Queues a lookup of name. -ENOMEM. */
int kilo_resolver_ask(struct kilo_resolver *r, const char *name);
/* Hands over the answers that arrived (*out malloc'ed, free with free). */
void kilo_resolver_take(struct kilo_resolver *r, struct kilo_resolve_answer **out, size_t *n);
/*
 * Stops the thread without waiting for a lookup under way: the thread
 * finishes it and frees what is left. NULL is a no-op.
 */
void kilo_resolver_free(struct kilo_resolver *r);

/* ---- the names of a mesh ---------------------------------------------- */

enum kilo_name_state {
	KILO_NAME_PENDING,  /* asked, never answered */
	KILO_NAME_RESOLVED,
	KILO_NAME_FAILED,
};

struct kilo_name {
	char *name;
	enum kilo_name_state state;
	struct kilo_addr addr; /* RESOLVED */
	char reason[KILO_RESOLVE_REASON_MAX]; /* FAILED */
	bool asked;            /* handed to the resolver since the last answer */
	bool used;             /* by the mesh last tracked */
};

/* The names the endpoints of a mesh use, sorted by name. */
struct kilo_names {
	struct kilo_name *items;
	size_t n, cap;
};

/* What an answer changed of its name. */
enum kilo_name_change {
	KILO_NAME_SAME,
	KILO_NAME_FIRST,     /* resolved for the first time */
	KILO_NAME_MOVED,     /* resolves to another address */
	KILO_NAME_BROKE,     /* does not resolve any more, or never did */
	KILO_NAME_RECOVERED, /* resolves again */
};

/*
 * Makes the table hold exactly the names that the endpoints of the nodes
 * and peers of mesh use: new ones are PENDING and not asked, unused ones go.
 */
int kilo_names_track(struct kilo_names *t, const struct kilo_mesh *mesh);
/* Records an answer; a name no longer tracked changes nothing. */
enum kilo_name_change kilo_names_answer(struct kilo_names *t, const struct kilo_resolve_answer *answer);
/*
 * Gives every endpoint name of mesh the address it resolves to, or none
 * while it does not: WireGuard gets no endpoint for it then, and keeps the
 * one it has.
 */
void kilo_names_fill(const struct kilo_names *t, struct kilo_mesh *mesh);
/*
 * The nodes and peers of mesh whose endpoint name does not resolve: their
 * number, and one line each appended to text (may be NULL).
 */
size_t kilo_names_unresolved(const struct kilo_names *t, const struct kilo_mesh *mesh, struct kilo_strbuf *text);
/*
 * Logs what change did to name (whose address was before): a warning when
 * it starts failing, one line when it moves or resolves again, naming the
 * nodes and peers of mesh that use it; nothing when it stays the same.
 */
void kilo_names_log(const struct kilo_logger *log, const struct kilo_mesh *mesh, const struct kilo_name *name,
		    enum kilo_name_change change, const struct kilo_addr *before);
void kilo_names_free(struct kilo_names *t);

/* ---- the agent's use of both ------------------------------------------- */

/* Asks the resolver for every name (all), or those not asked yet. */
int kilo_names_ask(struct kilo_names *t, struct kilo_resolver *r, bool all);
/*
 * Takes the resolver's answers into the table and logs their changes.
 * True when an address changed, so that the mesh must be solved again.
 */
bool kilo_names_collect(struct kilo_names *t, struct kilo_resolver *r, const struct kilo_mesh *mesh,
			const struct kilo_logger *log);

#endif
