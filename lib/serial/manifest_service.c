// SPDX-License-Identifier: Apache-2.0
/*
 * Service (v1) and EndpointSlice (discovery.k8s.io/v1): checked as the
 * API server validates them where the load balancer relies on a field,
 * with its defaults filled in (type, protocol, targetPort, session
 * affinity and its timeout, traffic policies, clusterIPs, ipFamilies), so
 * that the policy layer reads objects as Kubernetes would hand them out.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../core/error.h"
#include "../mesh/model.h"
#include "manifest_check.h"

#define TOPOLOGY_ANNOTATION "kilo.squat.ai/topology"
#define SERVICE_NAME_LABEL "kubernetes.io/service-name"
#define AFFINITY_TIMEOUT_DEFAULT 10800
#define AFFINITY_TIMEOUT_MAX 86400
#define SLICE_ADDRESSES_MAX 100

enum service_type { CLUSTER_IP, NODE_PORT, LOAD_BALANCER, EXTERNAL_NAME };

static const char *const families[] = { "IPv4", "IPv6" };

static int family_index(const struct kilo_addr *addr)
{
	return addr->family == 6;
}

static int nomem(const struct kilo_object_check *c)
{
	return kilo_error_set(c->err, ENOMEM, "out of memory");
}

/* An IP address at path; *family its index in families. */
static int check_ip(const struct kilo_object_check *c, json_t *value, const char *path, int *family)
{
	struct kilo_addr addr;

	if (!json_is_string(value) || kilo_addr_parse(json_string_value(value), &addr, NULL) < 0)
		return kilo_check_bad(c, path, value, "an IP address");
	*family = family_index(&addr);
	return 0;
}

/*
 * clusterIP and clusterIPs agree (either fills the other); "None" makes a
 * headless service. *n families in family[], in order.
 */
static int check_cluster_ips(const struct kilo_object_check *c, json_t *spec, bool *headless, int family[2], size_t *n)
{
	json_t *ip, *ips, *v;
	char path[48];
	size_t i;
	int r;

	*headless = false;
	*n = 0;
	if ((r = kilo_check_member(c, spec, "clusterIP", "spec.clusterIP", JSON_STRING, false, &ip)) < 0 ||
	    (r = kilo_check_member(c, spec, "clusterIPs", "spec.clusterIPs", JSON_ARRAY, false, &ips)) < 0)
		return r;
	/* "" is an address the API server has not allocated yet: none. */
	if (ip && !json_string_length(ip)) {
		json_object_del(spec, "clusterIP");
		ip = NULL;
	}
	if (ips && json_array_size(ips) > 2)
		return kilo_check_fail(c, "spec.clusterIPs", "%zu addresses; at most 2, one of each family",
				       json_array_size(ips));
	if (ip && ips && json_array_size(ips) && !json_equal(ip, json_array_get(ips, 0)))
		return kilo_check_fail(c, "spec.clusterIPs[0]", "must equal spec.clusterIP (\"%.60s\")", json_string_value(ip));
	if (ip && (!ips || !json_array_size(ips))) {
		if (json_object_set_new(spec, "clusterIPs", json_pack("[O]", ip)) < 0)
			return nomem(c);
		ips = json_object_get(spec, "clusterIPs");
	}
	json_array_foreach(ips, i, v) {
		snprintf(path, sizeof(path), "spec.clusterIPs[%zu]", i);
		if (json_is_string(v) && !strcmp(json_string_value(v), "None")) {
			if (json_array_size(ips) != 1)
				return kilo_check_fail(c, path, "\"None\" (headless) must be the only address");
			*headless = true;
			continue;
		}
		if ((r = check_ip(c, v, path, &family[i])) < 0)
			return r;
		if (i == 1 && family[1] == family[0])
			return kilo_check_fail(c, path, "a second address of the same family as the first");
		*n = i + 1;
	}
	if (ips && json_array_size(ips) && !ip && json_object_set(spec, "clusterIP", json_array_get(ips, 0)) < 0)
		return nomem(c);
	return 0;
}

/* ipFamilies: one per clusterIP, in their order (filled from them when absent). */
static int check_ip_families(const struct kilo_object_check *c, json_t *spec, const int family[2], size_t n)
{
	static const char *const policies[] = { "SingleStack", "PreferDualStack", "RequireDualStack" };
	json_t *list, *v;
	char path[48];
	size_t i;
	int r, index;

	r = kilo_check_enum(c, spec, "ipFamilyPolicy", "spec.ipFamilyPolicy", policies, 3, NULL, &index);
	if (r == 0)
		r = kilo_check_member(c, spec, "ipFamilies", "spec.ipFamilies", JSON_ARRAY, false, &list);
	if (r < 0)
		return r;
	if (!list && n) {
		list = json_array();
		for (i = 0; list && i < n; i++)
			if (json_array_append_new(list, json_string(families[family[i]])) < 0)
				break;
		if (!list || i < n || json_object_set_new(spec, "ipFamilies", list) < 0)
			return nomem(c);
		return 0;
	}
	if (json_array_size(list) > 2)
		return kilo_check_fail(c, "spec.ipFamilies", "%zu families; at most 2", json_array_size(list));
	json_array_foreach(list, i, v) {
		snprintf(path, sizeof(path), "spec.ipFamilies[%zu]", i);
		if (!json_is_string(v) || (strcmp(json_string_value(v), "IPv4") && strcmp(json_string_value(v), "IPv6")))
			return kilo_check_bad(c, path, v, "IPv4 or IPv6");
		if (i == 1 && json_equal(v, json_array_get(list, 0)))
			return kilo_check_fail(c, path, "the same family twice");
		if (i < n && strcmp(json_string_value(v), families[family[i]]))
			return kilo_check_fail(c, path, "\"%s\" does not match spec.clusterIPs[%zu], an %s address",
					       json_string_value(v), i, families[family[i]]);
	}
	return 0;
}

static int check_target_port(const struct kilo_object_check *c, json_t *port, json_t *number, const char *path)
{
	json_t *target = json_object_get(port, "targetPort");

	if (!target || json_is_null(target))
		return json_object_set(port, "targetPort", number) < 0 ? nomem(c) : 0;
	if (json_is_integer(target) && json_integer_value(target) >= 1 && json_integer_value(target) <= 65535)
		return 0;
	if (json_is_string(target) && kilo_port_name_valid(json_string_value(target)))
		return 0;
	return kilo_check_bad(c, path, target, "a port (1-65535) or a port name (an IANA service name)");
}

/* The ports: each checked, names unique (required with more than one), each port and protocol once. */
static int check_service_ports(const struct kilo_object_check *c, json_t *spec, enum service_type type, bool required)
{
	json_t *ports, *port, *name, *number;
	char path[64];
	size_t i, j;
	json_int_t value;
	int r;

	r = kilo_check_member(c, spec, "ports", "spec.ports", JSON_ARRAY, false, &ports);
	if (r < 0)
		return r;
	if (required && !json_array_size(ports))
		return kilo_check_fail(c, "spec.ports", "required (at least one port) unless the service is headless");
	json_array_foreach(ports, i, port) {
		snprintf(path, sizeof(path), "spec.ports[%zu]", i);
		if (!json_is_object(port))
			return kilo_check_bad(c, path, port, "an object");
		snprintf(path, sizeof(path), "spec.ports[%zu].name", i);
		if ((r = kilo_check_member(c, port, "name", path, JSON_STRING, json_array_size(ports) > 1, &name)) < 0)
			return r;
		if (name && json_string_length(name) && !kilo_dns_label_valid(json_string_value(name)))
			return kilo_check_bad(c, path, name, "a DNS label");
		snprintf(path, sizeof(path), "spec.ports[%zu].protocol", i);
		if ((r = kilo_check_protocol(c, port, path)) < 0)
			return r;
		snprintf(path, sizeof(path), "spec.ports[%zu].port", i);
		if ((r = kilo_check_int(c, port, "port", path, 1, 65535, "a port (1-65535)", true, &value)) < 0)
			return r;
		number = json_object_get(port, "port");
		snprintf(path, sizeof(path), "spec.ports[%zu].targetPort", i);
		if ((r = check_target_port(c, port, number, path)) < 0)
			return r;
		snprintf(path, sizeof(path), "spec.ports[%zu].nodePort", i);
		if (json_object_get(port, "nodePort") && !json_is_null(json_object_get(port, "nodePort")) &&
		    type != NODE_PORT && type != LOAD_BALANCER)
			return kilo_check_fail(c, path, "only with spec.type NodePort or LoadBalancer");
		if ((r = kilo_check_int(c, port, "nodePort", path, 1, 65535, "a port (1-65535)", false, &value)) < 0)
			return r;
		for (j = 0; j < i; j++) {
			json_t *other = json_array_get(ports, j);

			snprintf(path, sizeof(path), "spec.ports[%zu]", i);
			if (name && json_equal(name, json_object_get(other, "name")))
				return kilo_check_fail(c, path, "name \"%.63s\" repeats spec.ports[%zu]", json_string_value(name), j);
			if (json_equal(number, json_object_get(other, "port")) &&
			    json_equal(json_object_get(port, "protocol"), json_object_get(other, "protocol")))
				return kilo_check_fail(c, path, "port %lld/%s repeats spec.ports[%zu]",
						       (long long)json_integer_value(number),
						       json_string_value(json_object_get(port, "protocol")), j);
		}
	}
	return 0;
}

static int check_affinity(const struct kilo_object_check *c, json_t *spec)
{
	static const char *const affinities[] = { "None", "ClientIP" };
	json_t *config, *client_ip;
	json_int_t timeout = AFFINITY_TIMEOUT_DEFAULT;
	int r, index;

	if ((r = kilo_check_enum(c, spec, "sessionAffinity", "spec.sessionAffinity", affinities, 2, "None", &index)) < 0 ||
	    (r = kilo_check_member(c, spec, "sessionAffinityConfig", "spec.sessionAffinityConfig", JSON_OBJECT, false,
				   &config)) < 0 ||
	    (r = kilo_check_member(c, config, "clientIP", "spec.sessionAffinityConfig.clientIP", JSON_OBJECT, false,
				   &client_ip)) < 0 ||
	    (r = kilo_check_int(c, client_ip, "timeoutSeconds", "spec.sessionAffinityConfig.clientIP.timeoutSeconds", 1,
				AFFINITY_TIMEOUT_MAX, "a timeout (1-86400 seconds)", false, &timeout)) < 0)
		return r;
	if (index == 0) {
		if (config && json_object_size(config))
			return kilo_check_fail(c, "spec.sessionAffinityConfig", "only with spec.sessionAffinity ClientIP");
		return 0;
	}
	if (json_object_set_new(spec, "sessionAffinityConfig",
				json_pack("{s:{s:I}}", "clientIP", "timeoutSeconds", (json_int_t)timeout)) < 0)
		return nomem(c);
	return 0;
}

static int check_traffic_policies(const struct kilo_object_check *c, json_t *spec, enum service_type type)
{
	static const char *const policies[] = { "Cluster", "Local" };
	bool external = type == NODE_PORT || type == LOAD_BALANCER;
	json_t *v = json_object_get(spec, "externalTrafficPolicy");
	int r, index;

	r = kilo_check_enum(c, spec, "internalTrafficPolicy", "spec.internalTrafficPolicy", policies, 2,
			    type == EXTERNAL_NAME ? NULL : "Cluster", &index);
	if (r < 0)
		return r;
	if (!external && v && !json_is_null(v))
		return kilo_check_fail(c, "spec.externalTrafficPolicy", "only with spec.type NodePort or LoadBalancer");
	return kilo_check_enum(c, spec, "externalTrafficPolicy", "spec.externalTrafficPolicy", policies, 2,
			       external ? "Cluster" : NULL, &index);
}

int kilo_check_service(const struct kilo_object_check *c, json_t *object)
{
	static const char *const types[] = { "ClusterIP", "NodePort", "LoadBalancer", "ExternalName" };
	json_t *spec, *annotations = json_object_get(json_object_get(object, "metadata"), "annotations");
	json_t *topology = json_object_get(annotations, TOPOLOGY_ANNOTATION);
	int family[2], type, r;
	bool headless;
	size_t n;

	if (topology && strcmp(json_string_value(topology), "location"))
		return kilo_check_bad(c, "metadata.annotations[\"" TOPOLOGY_ANNOTATION "\"]", topology, "location");
	if ((r = kilo_check_member(c, object, "spec", "spec", JSON_OBJECT, true, &spec)) < 0 ||
	    (r = kilo_check_enum(c, spec, "type", "spec.type", types, 4, "ClusterIP", &type)) < 0 ||
	    (r = check_cluster_ips(c, spec, &headless, family, &n)) < 0 ||
	    (r = check_ip_families(c, spec, family, n)) < 0 ||
	    (r = kilo_check_string_map(c, spec, "selector", "spec.selector")) < 0 ||
	    (r = check_service_ports(c, spec, (enum service_type)type, !headless && type != EXTERNAL_NAME)) < 0 ||
	    (r = check_affinity(c, spec)) < 0)
		return r;
	if (headless && type != CLUSTER_IP)
		return kilo_check_fail(c, "spec.clusterIP", "\"None\" (headless) only with spec.type ClusterIP");
	return check_traffic_policies(c, spec, (enum service_type)type);
}

/* ---- EndpointSlice ---------------------------------------------------------- */

static int check_endpoint(const struct kilo_object_check *c, json_t *endpoint, size_t i, int address_type)
{
	static const char *const conditions[] = { "ready", "serving", "terminating" };
	json_t *addresses, *v, *node, *cond;
	char path[80];
	size_t j;
	int r, family;

	snprintf(path, sizeof(path), "endpoints[%zu]", i);
	if (!json_is_object(endpoint))
		return kilo_check_bad(c, path, endpoint, "an object");
	snprintf(path, sizeof(path), "endpoints[%zu].addresses", i);
	if ((r = kilo_check_member(c, endpoint, "addresses", path, JSON_ARRAY, true, &addresses)) < 0)
		return r;
	if (!json_array_size(addresses) || json_array_size(addresses) > SLICE_ADDRESSES_MAX)
		return kilo_check_fail(c, path, "%zu addresses; 1 to %d", json_array_size(addresses), SLICE_ADDRESSES_MAX);
	json_array_foreach(addresses, j, v) {
		snprintf(path, sizeof(path), "endpoints[%zu].addresses[%zu]", i, j);
		if ((r = check_ip(c, v, path, &family)) < 0)
			return r;
		if (family != address_type)
			return kilo_check_fail(c, path, "%s is not an %s address (the slice's addressType)",
					       json_string_value(v), families[address_type]);
	}
	snprintf(path, sizeof(path), "endpoints[%zu].conditions", i);
	if ((r = kilo_check_member(c, endpoint, "conditions", path, JSON_OBJECT, false, &cond)) < 0)
		return r;
	for (j = 0; j < 3; j++) {
		snprintf(path, sizeof(path), "endpoints[%zu].conditions.%s", i, conditions[j]);
		if ((r = kilo_check_bool(c, cond, conditions[j], path)) < 0)
			return r;
	}
	snprintf(path, sizeof(path), "endpoints[%zu].nodeName", i);
	if ((r = kilo_check_member(c, endpoint, "nodeName", path, JSON_STRING, false, &node)) < 0)
		return r;
	if (node && !kilo_mesh_name_valid(json_string_value(node)))
		return kilo_check_bad(c, path, node, "a node name (a DNS subdomain)");
	return 0;
}

static int check_slice_ports(const struct kilo_object_check *c, json_t *object)
{
	json_t *ports, *port, *name;
	char path[48];
	json_int_t value;
	size_t i, j;
	int r;

	r = kilo_check_member(c, object, "ports", "ports", JSON_ARRAY, false, &ports);
	if (r < 0)
		return r;
	json_array_foreach(ports, i, port) {
		snprintf(path, sizeof(path), "ports[%zu]", i);
		if (!json_is_object(port))
			return kilo_check_bad(c, path, port, "an object");
		snprintf(path, sizeof(path), "ports[%zu].name", i);
		if ((r = kilo_check_member(c, port, "name", path, JSON_STRING, false, &name)) < 0)
			return r;
		if (name && json_string_length(name) && !kilo_dns_label_valid(json_string_value(name)))
			return kilo_check_bad(c, path, name, "a DNS label");
		/* An unnamed port is named "": one of them at most. */
		for (j = 0; j < i; j++) {
			const char *other = json_string_value(json_object_get(json_array_get(ports, j), "name"));

			if (!strcmp(name ? json_string_value(name) : "", other ? other : ""))
				return kilo_check_fail(c, path, "\"%.63s\" repeats ports[%zu]",
						       name ? json_string_value(name) : "", j);
		}
		snprintf(path, sizeof(path), "ports[%zu].protocol", i);
		if ((r = kilo_check_protocol(c, port, path)) < 0)
			return r;
		snprintf(path, sizeof(path), "ports[%zu].port", i);
		if ((r = kilo_check_int(c, port, "port", path, 1, 65535, "a port (1-65535)", true, &value)) < 0)
			return r;
	}
	return 0;
}

int kilo_check_endpointslice(const struct kilo_object_check *c, json_t *object)
{
	static const char *const address_types[] = { "IPv4", "IPv6" };
	json_t *labels = json_object_get(json_object_get(object, "metadata"), "labels");
	json_t *service = json_object_get(labels, SERVICE_NAME_LABEL), *endpoints, *v = json_object_get(object, "addressType");
	int address_type, r;
	size_t i;

	if (!service)
		return kilo_check_fail(c, "metadata.labels", "\"" SERVICE_NAME_LABEL "\" is required (the Service's name)");
	if (!kilo_dns_label_valid(json_string_value(service)))
		return kilo_check_bad(c, "metadata.labels[\"" SERVICE_NAME_LABEL "\"]", service, "a Service name");
	if (json_is_string(v) && !strcmp(json_string_value(v), "FQDN"))
		return kilo_check_fail(c, "addressType", "\"FQDN\" is not supported (IPv4 or IPv6)");
	if (!v || json_is_null(v))
		return kilo_check_fail(c, "addressType", "required (IPv4 or IPv6)");
	if ((r = kilo_check_enum(c, object, "addressType", "addressType", address_types, 2, NULL, &address_type)) < 0 ||
	    (r = kilo_check_member(c, object, "endpoints", "endpoints", JSON_ARRAY, false, &endpoints)) < 0)
		return r;
	if (!endpoints) {
		if (json_object_set_new(object, "endpoints", json_array()) < 0)
			return nomem(c);
		endpoints = json_object_get(object, "endpoints");
	}
	json_array_foreach(endpoints, i, v) {
		if ((r = check_endpoint(c, v, i, address_type)) < 0)
			return r;
	}
	return check_slice_ports(c, object);
}
