/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network policy, explained: whether a flow from a pod (or a VPN peer) to
 * a pod on a port would be allowed, and by which rule, or which policies
 * isolate the pod, computed with no traffic. The answer comes from the
 * very maps the nodes would hold: the source's node's egress and the
 * destination's node's ingress are compiled as the agent compiles them
 * and the packet is looked up in them as the datapath looks it up.
 */
#ifndef KILO_POLICY_H
#define KILO_POLICY_H

#include <stdint.h>

#include <kilo/core.h>
#include <kilo/mesh.h>

#ifdef __cplusplus
extern "C" {
#endif

enum kilo_policy_format {
	KILO_POLICY_FORMAT_TEXT = 0, /* "ALLOWED ..." / "DENIED ...", one line per direction */
	KILO_POLICY_FORMAT_JSON = 1, /* {"allowed": bool, "egress": {...}, "ingress": {...}, "problems": [...]} */
};

struct kilo_policy_explain_opts {
	size_t sz; /* sizeof(struct kilo_policy_explain_opts) */
	/* JSON arrays of v1 Pods, v1 Namespaces, networking.k8s.io/v1 NetworkPolicies as the store lists them; NULL: none. */
	const char *pods, *namespaces, *policies;
	const char *peer_objects; /* Peer objects whose labels a VPN peer's identity takes; NULL: none */
	const kilo_mesh *mesh;    /* nodes (locations) and VPN peers; may be NULL */
	const char *from;         /* "NAMESPACE/POD", or a VPN peer's name */
	const char *to;           /* "NAMESPACE/POD" */
	uint16_t port;
	uint8_t proto;            /* IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP */
	enum kilo_policy_format format;
};

/*
 * Explains the flow opts describes into *out (free with kilo_free): egress
 * at the source's node, then ingress at the destination's, each allowed
 * (by which rule, or because no policy isolates the pod) or denied (and
 * which policies isolate it). -ENOENT when from or to names nothing,
 * -EADDRNOTAVAIL when they have no addresses of a common family, -EINVAL
 * for a bad option or a text that is not a JSON array; err says which.
 */
KILO_EXPORT int kilo_policy_explain(const struct kilo_policy_explain_opts *opts, char **out, struct kilo_error *err);

#ifdef __cplusplus
}
#endif

#endif
