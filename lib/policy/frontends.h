/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The frontends one node serves, each with the endpoints behind it and
 * which of them take new flows: Kubernetes' service semantics (kube-proxy's
 * CategorizeEndpoints: ready endpoints, the terminating fallback, the
 * traffic policies), NodePorts on the node's internal IPs, and Kilo's
 * location preference. Both the desired map contents and `kgctl services`
 * are read from this.
 */
#ifndef KILO_LIB_POLICY_FRONTENDS_H
#define KILO_LIB_POLICY_FRONTENDS_H

#include "../mesh/model.h"
#include "ids.h"
#include "objects.h"

/* "IP:port" or "[IPv6]:port": the name that orders a frontend's backends and seeds their Maglev permutations. */
#define KILO_LB_BACKEND_NAME_MAX (KILO_ADDR_STRLEN + 8)

/* An endpoint as one frontend sees it. */
struct kilo_lb_choice {
	struct kilo_lb_backend_key key;
	char name[KILO_LB_BACKEND_NAME_MAX];
	const struct kilo_lb_endpoint *endpoint;
	const struct kilo_node *node; /* its node in the mesh; NULL when not in it */
	bool local;                   /* its node is the one computing */
	bool slot;                    /* it takes new flows */
};

struct kilo_lb_frontend {
	const struct kilo_lb_svc *svc;
	const struct kilo_lb_port *port;
	struct kilo_lb_service_key key;
	uint16_t flags;                   /* enum kilo_lb_service_flags but KILO_LB_SERVICE_MAGLEV */
	struct kilo_lb_choice *backends;  /* by name */
	size_t n_backends;
	size_t n_slots;                   /* how many have slot set */
};

struct kilo_lb_frontends {
	struct kilo_arena arena;
	struct kilo_lb_frontend *items; /* by service (namespace, name), cluster IP, port; NodePorts after their ClusterIP */
	size_t n;
	struct kilo_lb_node node; /* self's internal IPs */
};

/*
 * The frontends of objects as the node called self sees them (self NULL:
 * a view from outside, without NodePorts or local endpoints; a self that
 * is not in mesh has local endpoints but no NodePorts and no location).
 * mesh may be NULL: no endpoint's node is known. -ENOMEM.
 * Release out with kilo_lb_frontends_release, also after a failure.
 */
int kilo_lb_frontends_build(const struct kilo_lb_objects *objects, const struct kilo_mesh *mesh, const char *self,
			    struct kilo_lb_frontends *out, struct kilo_error *err);
void kilo_lb_frontends_release(struct kilo_lb_frontends *frontends);

/* Writes "IP:port", or "[IPv6]:port". */
void kilo_lb_endpoint_name(char out[KILO_LB_BACKEND_NAME_MAX], const struct kilo_addr *addr, uint16_t port);

/* Writes the frontend as "IP:port/PROTO", e.g. "10.96.0.10:80/TCP". */
#define KILO_LB_FRONTEND_NAME_MAX (KILO_LB_BACKEND_NAME_MAX + 4)
void kilo_lb_frontend_name(const struct kilo_lb_frontend *f, char out[KILO_LB_FRONTEND_NAME_MAX]);

/* True if a and b (either may be NULL: unknown) are in one location, as the topology groups nodes. */
bool kilo_lb_same_location(const struct kilo_node *a, const struct kilo_node *b);

#endif
