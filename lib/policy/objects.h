/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Services and EndpointSlices as the load balancer reads them: the fields
 * of Kubernetes' v1 Service and discovery.k8s.io/v1 EndpointSlice that
 * decide where a flow goes, with Kubernetes' defaults filled in. What
 * cannot be used is left out and reported, never fatal: the objects were
 * checked when they were stored, and one odd object must not take every
 * other service down.
 */
#ifndef KILO_LIB_POLICY_OBJECTS_H
#define KILO_LIB_POLICY_OBJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kilo/core.h>

#include "../core/arena.h"

/* What a computation left out, and why: the count and the first messages. */
#define KILO_LB_REPORT_MAX 16
struct kilo_lb_report {
	size_t n_problems;
	char problems[KILO_LB_REPORT_MAX][KILO_ERROR_MESSAGE_MAX];
};

/* Records a problem (printf-style) in report, which may be NULL. */
void kilo_lb_report_add(struct kilo_lb_report *report, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A Service's port, or an EndpointSlice's. */
struct kilo_lb_port {
	const char *name;   /* "" when unnamed: a service port matches the slice port of the same name */
	uint8_t proto;      /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port;
	uint16_t node_port; /* a Service's NodePort; 0: none */
};

struct kilo_lb_endpoint {
	struct kilo_addr addr; /* addresses[0], as kube-proxy takes it */
	const char *node;      /* nodeName; NULL when none */
	bool ready, serving, terminating;
};

struct kilo_lb_slice {
	const char *namespace, *service, *name;
	uint8_t family; /* 4 or 6 (addressType) */
	struct kilo_lb_port *ports;
	size_t n_ports;
	struct kilo_lb_endpoint *endpoints;
	size_t n_endpoints;
};

struct kilo_lb_svc {
	const char *namespace, *name;
	struct kilo_addr cluster_ips[2]; /* at most one per family */
	size_t n_cluster_ips;
	struct kilo_lb_port *ports;
	size_t n_ports;
	bool node_ports;             /* type NodePort or LoadBalancer */
	bool affinity;               /* sessionAffinity: ClientIP */
	uint32_t affinity_timeout;   /* seconds */
	bool internal_local;         /* internalTrafficPolicy: Local */
	bool external_local;         /* externalTrafficPolicy: Local */
	bool prefer_location;        /* kilo.squat.ai/topology: location */
	const struct kilo_lb_slice *slices; /* those of this service, in name order */
	size_t n_slices;
	const char *label; /* "Service NAMESPACE/NAME", escaped, for reports */
};

struct kilo_lb_objects {
	struct kilo_arena arena;
	struct kilo_lb_svc *services; /* by namespace, then name */
	size_t n_services;
	struct kilo_lb_slice *slices; /* by namespace, service, then name */
	size_t n_slices;
};

#define KILO_LB_AFFINITY_DEFAULT_TIMEOUT 10800 /* Kubernetes' default for sessionAffinity: ClientIP */
#define KILO_LB_TOPOLOGY_ANNOTATION "kilo.squat.ai/topology"

/*
 * Reads services and slices, JSON arrays of Service and EndpointSlice
 * objects (NULL: none), into out, each service with its slices. Services
 * that balance nothing (headless, ExternalName, without a ClusterIP) are
 * left out silently; anything unusable is left out and reported in
 * report (not NULL). With ids (may be NULL), an object whose text was read
 * by an earlier computation is not parsed again (call between
 * kilo_lb_ids_begin and kilo_lb_ids_commit). -EINVAL when a text is not a JSON array, -ENOMEM; err names
 * which. Release out with kilo_lb_objects_release, also after a failure.
 */
struct kilo_lb_ids;
int kilo_lb_objects_read(const char *services, const char *slices, struct kilo_lb_ids *ids,
			 struct kilo_lb_objects *out, struct kilo_lb_report *report, struct kilo_error *err);
void kilo_lb_objects_release(struct kilo_lb_objects *objects);

#endif
