// SPDX-License-Identifier: Apache-2.0
/*
 * Pod (v1), Namespace (v1) and NetworkPolicy (networking.k8s.io/v1): what
 * the load balancer and network policy read of them. A Pod keeps of its
 * status only its IPs, which the agent needs to find a backend's pod.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../core/error.h"
#include "../mesh/model.h"
#include "../policy/netpol.h"
#include "manifest_check.h"

static int check_container_ports(const struct kilo_object_check *c, json_t *container, size_t i)
{
	json_t *ports, *port, *name;
	json_int_t value;
	char path[80];
	size_t j;
	int r;

	snprintf(path, sizeof(path), "spec.containers[%zu].ports", i);
	if ((r = kilo_check_member(c, container, "ports", path, JSON_ARRAY, false, &ports)) < 0)
		return r;
	json_array_foreach(ports, j, port) {
		snprintf(path, sizeof(path), "spec.containers[%zu].ports[%zu]", i, j);
		if (!json_is_object(port))
			return kilo_check_bad(c, path, port, "an object");
		snprintf(path, sizeof(path), "spec.containers[%zu].ports[%zu].name", i, j);
		if ((r = kilo_check_member(c, port, "name", path, JSON_STRING, false, &name)) < 0)
			return r;
		if (name && !kilo_port_name_valid(json_string_value(name)))
			return kilo_check_bad(c, path, name, "a port name (an IANA service name)");
		snprintf(path, sizeof(path), "spec.containers[%zu].ports[%zu].containerPort", i, j);
		if ((r = kilo_check_int(c, port, "containerPort", path, 1, 65535, "a port (1-65535)", true, &value)) < 0)
			return r;
		snprintf(path, sizeof(path), "spec.containers[%zu].ports[%zu].protocol", i, j);
		if ((r = kilo_check_protocol(c, port, path)) < 0)
			return r;
	}
	return 0;
}

/* status.podIP and status.podIPs[].ip, the only status the store keeps. */
static int check_pod_ips(const struct kilo_object_check *c, json_t *object)
{
	json_t *status = json_object_get(object, "status"), *ip, *ips, *v, *kept;
	struct kilo_addr addr;
	char path[48];
	size_t i;
	int r;

	if ((r = kilo_check_member(c, object, "status", "status", JSON_OBJECT, false, &status)) < 0 ||
	    (r = kilo_check_member(c, status, "podIP", "status.podIP", JSON_STRING, false, &ip)) < 0 ||
	    (r = kilo_check_member(c, status, "podIPs", "status.podIPs", JSON_ARRAY, false, &ips)) < 0)
		return r;
	if (ip && kilo_addr_parse(json_string_value(ip), &addr, NULL) < 0)
		return kilo_check_bad(c, "status.podIP", ip, "an IP address");
	json_array_foreach(ips, i, v) {
		snprintf(path, sizeof(path), "status.podIPs[%zu].ip", i);
		if (!json_is_string(json_object_get(v, "ip")) ||
		    kilo_addr_parse(json_string_value(json_object_get(v, "ip")), &addr, NULL) < 0)
			return kilo_check_bad(c, path, json_object_get(v, "ip") ?: v, "an IP address");
	}
	if (!status)
		return 0;
	kept = json_object();
	if (!kept || (ip && json_object_set(kept, "podIP", ip) < 0) || (ips && json_object_set(kept, "podIPs", ips) < 0) ||
	    json_object_set_new(object, "status", kept) < 0)
		return kilo_error_set(c->err, ENOMEM, "out of memory");
	return 0;
}

int kilo_check_pod(const struct kilo_object_check *c, json_t *object)
{
	json_t *spec, *containers, *container, *node;
	char path[48];
	size_t i;
	int r;

	if ((r = kilo_check_member(c, object, "spec", "spec", JSON_OBJECT, true, &spec)) < 0 ||
	    (r = kilo_check_member(c, spec, "nodeName", "spec.nodeName", JSON_STRING, false, &node)) < 0 ||
	    (r = kilo_check_member(c, spec, "containers", "spec.containers", JSON_ARRAY, true, &containers)) < 0)
		return r;
	if (node && !kilo_mesh_name_valid(json_string_value(node)))
		return kilo_check_bad(c, "spec.nodeName", node, "a node name (a DNS subdomain)");
	json_array_foreach(containers, i, container) {
		snprintf(path, sizeof(path), "spec.containers[%zu]", i);
		if (!json_is_object(container))
			return kilo_check_bad(c, path, container, "an object");
		if ((r = check_container_ports(c, container, i)) < 0)
			return r;
	}
	return check_pod_ips(c, object);
}

int kilo_check_namespace(const struct kilo_object_check *c, json_t *object)
{
	(void)c;
	(void)object;
	/* Its name and labels, which check_metadata checked, are all a Namespace is to the store. */
	return 0;
}

/* The policy layer's own reader checks it, so that apply accepts exactly what the compile can read. */
int kilo_check_networkpolicy(const struct kilo_object_check *c, json_t *object)
{
	struct kilo_arena arena = { .first_chunk = 4096 };
	struct kilo_error err = { 0 };
	struct kilo_np_policy policy;
	int r = kilo_np_policy_read(&arena, object, &policy, &err);

	kilo_arena_release(&arena);
	if (r == -EINVAL)
		return kilo_check_fail(c, NULL, "%s", err.message);
	return r < 0 ? kilo_error_set(c->err, -r, "%s", err.message) : 0;
}
