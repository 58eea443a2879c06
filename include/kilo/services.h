/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service load balancing as one node sees it: which frontends it serves
 * (ClusterIPs, and NodePorts on its internal IPs) and, behind each, every
 * endpoint with its node, location and state, and whether it takes new
 * flows. What `kgctl services` prints; the same choice as the node's BPF
 * maps hold.
 */
#ifndef KILO_SERVICES_H
#define KILO_SERVICES_H

#include <kilo/core.h>
#include <kilo/mesh.h>

#ifdef __cplusplus
extern "C" {
#endif

enum kilo_services_format {
	KILO_SERVICES_FORMAT_TEXT = 0, /* a table, one row per endpoint of each frontend */
	KILO_SERVICES_FORMAT_JSON = 1, /* {"frontends": [...], "problems": [...]} */
};

/*
 * Renders the frontends of services and slices (JSON arrays of v1
 * Services and discovery.k8s.io/v1 EndpointSlices, as Kubernetes writes
 * them; NULL: none) as the node called self sees them, with the locations
 * of mesh's nodes (mesh may be NULL). self NULL is a view from outside
 * the mesh: no NodePorts, no local endpoints, no location preferred.
 * Objects that cannot be used are listed as problems, not errors.
 * -EINVAL when a text is not a JSON array or format is unknown; free *out
 * with kilo_free.
 */
KILO_EXPORT int kilo_lb_services_format(const char *services, const char *slices, const kilo_mesh *mesh,
					const char *self, enum kilo_services_format format, char **out,
					struct kilo_error *err);

#ifdef __cplusplus
}
#endif

#endif
