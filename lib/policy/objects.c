/* SPDX-License-Identifier: Apache-2.0 */
#include "objects.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "../core/array.h"
#include "../core/error.h"
#include "elements.h"
#include "ids.h"

#define NAME_TEXT_MAX 128 /* an object's name as reported: escaped, cut if longer */

void kilo_lb_report_add(struct kilo_lb_report *report, const char *fmt, ...)
{
	va_list ap;

	if (!report)
		return;
	if (report->n_problems < KILO_LB_REPORT_MAX) {
		va_start(ap, fmt);
		vsnprintf(report->problems[report->n_problems], sizeof(report->problems[0]), fmt, ap);
		va_end(ap);
	}
	report->n_problems++;
}

/* An object's kind, namespace and name as a report names it: escaped, since they are the user's text. */
struct object_name {
	char text[3 * NAME_TEXT_MAX];
};

static const char *text_or(json_t *value, const char *fallback)
{
	return json_is_string(value) ? json_string_value(value) : fallback;
}

static void name_object(struct object_name *out, const char *kind, const char *namespace, const char *name)
{
	char ns[NAME_TEXT_MAX], n[NAME_TEXT_MAX];

	snprintf(out->text, sizeof(out->text), "%s %s/%s", kind, kilo_escape(namespace, ns, sizeof(ns)),
		 kilo_escape(name, n, sizeof(n)));
}

/* A JSON value as a report quotes it: a string escaped and quoted, else its JSON text. */
static const char *quote(json_t *value, char *out, size_t size)
{
	char *dumped;

	if (!value) {
		snprintf(out, size, "missing");
		return out;
	}
	if (json_is_string(value)) {
		char escaped[NAME_TEXT_MAX];

		snprintf(out, size, "\"%s\"", kilo_escape(json_string_value(value), escaped, sizeof(escaped)));
		return out;
	}
	dumped = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
	kilo_escape(dumped ? dumped : "?", out, size);
	free(dumped);
	return out;
}

/* Reads one object into item; *keep false when it is left out. -ENOMEM. */
typedef int (*read_fn)(struct kilo_arena *arena, json_t *object, size_t index, struct kilo_lb_report *report,
		       void *item, bool *keep);

static json_t *member(json_t *object, const char *a, const char *b)
{
	json_t *v = json_object_get(object, a);

	return b ? json_object_get(v, b) : v;
}

/* A port number (1..65535) in value, or 0. */
static uint16_t port_number(json_t *value)
{
	json_int_t n = json_is_integer(value) ? json_integer_value(value) : 0;

	return n >= 1 && n <= 65535 ? (uint16_t)n : 0;
}

/* The protocol of a port: absent is TCP, as Kubernetes defaults it; SCTP and others are not balanced. */
static int port_protocol(json_t *value, uint8_t *out)
{
	const char *text = text_or(value, "TCP");

	if (value && !json_is_string(value))
		return -EINVAL;
	if (strcmp(text, "TCP") == 0)
		*out = IPPROTO_TCP;
	else if (strcmp(text, "UDP") == 0)
		*out = IPPROTO_UDP;
	else
		return -EINVAL;
	return 0;
}

/*
 * The ports of a Service (node_ports: with their nodePort) or of an
 * EndpointSlice, the unusable ones reported and left out.
 */
static int read_ports(struct kilo_arena *arena, json_t *array, bool service, const struct object_name *owner,
		      struct kilo_lb_report *report, struct kilo_lb_port **out, size_t *n_out)
{
	const char *field = service ? "spec.ports" : "ports";
	size_t n = json_array_size(array);
	struct kilo_lb_port *ports;
	char quoted[NAME_TEXT_MAX];
	json_t *p;
	size_t i;

	*n_out = 0;
	if (n == 0)
		return 0;
	ports = kilo_arena_array(arena, n, sizeof(*ports));
	if (!ports)
		return -ENOMEM;
	json_array_foreach(array, i, p) {
		struct kilo_lb_port *port = &ports[*n_out];
		json_t *name = json_object_get(p, "name"), *node_port = json_object_get(p, "nodePort");

		*port = (struct kilo_lb_port){0};
		if (!json_is_object(p)) {
			kilo_lb_report_add(report, "%s: %s[%zu]: not an object", owner->text, field, i);
			continue;
		}
		if (port_protocol(json_object_get(p, "protocol"), &port->proto) < 0) {
			kilo_lb_report_add(report, "%s: %s[%zu].protocol: %s is not balanced (TCP and UDP are)",
					   owner->text, field, i, quote(json_object_get(p, "protocol"), quoted, sizeof(quoted)));
			continue;
		}
		port->port = port_number(json_object_get(p, "port"));
		if (!port->port) {
			kilo_lb_report_add(report, "%s: %s[%zu].port: %s is not a port", owner->text, field, i,
					   quote(json_object_get(p, "port"), quoted, sizeof(quoted)));
			continue;
		}
		if (service && node_port && !json_is_null(node_port)) {
			port->node_port = port_number(node_port);
			/* Kubernetes writes 0 for "none" in some versions' output. */
			if (!port->node_port && !(json_is_integer(node_port) && json_integer_value(node_port) == 0)) {
				kilo_lb_report_add(report, "%s: %s[%zu].nodePort: %s is not a port", owner->text, field,
						   i, quote(node_port, quoted, sizeof(quoted)));
				continue;
			}
		}
		port->name = kilo_arena_strdup(arena, text_or(name, ""));
		if (!port->name)
			return -ENOMEM;
		(*n_out)++;
	}
	*out = ports;
	return 0;
}

/* The cluster IPs: spec.clusterIPs (dual stack: one per family), else spec.clusterIP. */
static void read_cluster_ips(json_t *spec, const struct object_name *owner, struct kilo_lb_report *report,
			     struct kilo_lb_svc *svc)
{
	json_t *ips = json_object_get(spec, "clusterIPs"), *ip;
	const char *field = "spec.clusterIPs";
	char quoted[NAME_TEXT_MAX];
	size_t i;

	if (json_array_size(ips) == 0) {
		ips = json_pack("[O]", json_object_get(spec, "clusterIP") ? json_object_get(spec, "clusterIP")
									  : json_null());
		field = "spec.clusterIP";
	} else {
		json_incref(ips);
	}
	json_array_foreach(ips, i, ip) {
		struct kilo_addr addr;

		/* Headless ("None") and ClusterIP-less ("" or none) services balance nothing. */
		if (json_is_null(ip) || (json_is_string(ip) && (strcmp(json_string_value(ip), "None") == 0 ||
								 json_string_value(ip)[0] == '\0')))
			continue;
		if (!json_is_string(ip) || kilo_addr_parse(json_string_value(ip), &addr, NULL) < 0) {
			kilo_lb_report_add(report, "%s: %s[%zu]: %s is not an IP address", owner->text, field, i,
					   quote(ip, quoted, sizeof(quoted)));
			continue;
		}
		if (svc->n_cluster_ips == 2 || (svc->n_cluster_ips == 1 && svc->cluster_ips[0].family == addr.family)) {
			kilo_lb_report_add(report, "%s: %s[%zu]: %s is a second address of its family", owner->text,
					   field, i, quote(ip, quoted, sizeof(quoted)));
			continue;
		}
		svc->cluster_ips[svc->n_cluster_ips++] = addr;
	}
	json_decref(ips);
}

/* spec.type, sessionAffinity, the traffic policies and the topology annotation. */
static bool read_service_policy(json_t *object, const struct object_name *owner, struct kilo_lb_report *report,
				struct kilo_lb_svc *svc)
{
	json_t *spec = json_object_get(object, "spec");
	json_t *timeout = json_object_get(member(spec, "sessionAffinityConfig", "clientIP"), "timeoutSeconds");
	json_t *topology = member(member(object, "metadata", "annotations"), KILO_LB_TOPOLOGY_ANNOTATION, NULL);
	const char *type = text_or(json_object_get(spec, "type"), "ClusterIP");
	char quoted[NAME_TEXT_MAX];

	if (strcmp(type, "ExternalName") == 0)
		return false;
	if (strcmp(type, "NodePort") == 0 || strcmp(type, "LoadBalancer") == 0) {
		svc->node_ports = true;
	} else if (strcmp(type, "ClusterIP") != 0) {
		kilo_lb_report_add(report, "%s: spec.type: %s is not a type of service", owner->text,
				   quote(json_object_get(spec, "type"), quoted, sizeof(quoted)));
		return false;
	}
	svc->affinity = strcmp(text_or(json_object_get(spec, "sessionAffinity"), "None"), "ClientIP") == 0;
	svc->affinity_timeout = KILO_LB_AFFINITY_DEFAULT_TIMEOUT;
	if (svc->affinity && timeout) {
		/* Kubernetes' bounds: more than 0, at most a day. */
		json_int_t seconds = json_is_integer(timeout) ? json_integer_value(timeout) : 0;

		if (seconds >= 1 && seconds <= 86400)
			svc->affinity_timeout = (uint32_t)seconds;
		else
			kilo_lb_report_add(report,
					   "%s: spec.sessionAffinityConfig.clientIP.timeoutSeconds: %s is not 1..86400; "
					   "%u is used",
					   owner->text, quote(timeout, quoted, sizeof(quoted)),
					   KILO_LB_AFFINITY_DEFAULT_TIMEOUT);
	}
	svc->internal_local = strcmp(text_or(json_object_get(spec, "internalTrafficPolicy"), ""), "Local") == 0;
	svc->external_local = strcmp(text_or(json_object_get(spec, "externalTrafficPolicy"), ""), "Local") == 0;
	svc->prefer_location = topology && strcmp(text_or(topology, ""), "location") == 0;
	if (topology && !svc->prefer_location)
		kilo_lb_report_add(report, "%s: metadata.annotations[\"%s\"]: %s is not \"location\"; ignored",
				   owner->text, KILO_LB_TOPOLOGY_ANNOTATION, quote(topology, quoted, sizeof(quoted)));
	return true;
}

/* Reads one Service into svc; false when it balances nothing (or could not be read: reported). */
static int read_service(struct kilo_arena *arena, json_t *object, size_t index, struct kilo_lb_report *report,
			void *item, bool *keep)
{
	struct kilo_lb_svc *svc = item;
	json_t *metadata = json_object_get(object, "metadata");
	const char *name = text_or(json_object_get(metadata, "name"), NULL);
	const char *namespace = text_or(json_object_get(metadata, "namespace"), "default");
	struct object_name owner;
	int r;

	*keep = false;
	if (!json_is_object(object) || !name) {
		kilo_lb_report_add(report, "services[%zu]: %s", index,
				   json_is_object(object) ? "metadata.name: missing" : "not an object");
		return 0;
	}
	name_object(&owner, "Service", namespace, name);
	if (!read_service_policy(object, &owner, report, svc))
		return 0;
	read_cluster_ips(json_object_get(object, "spec"), &owner, report, svc);
	if (svc->n_cluster_ips == 0)
		return 0;
	r = read_ports(arena, member(object, "spec", "ports"), true, &owner, report, &svc->ports, &svc->n_ports);
	if (r < 0)
		return r;
	svc->namespace = kilo_arena_strdup(arena, namespace);
	svc->name = kilo_arena_strdup(arena, name);
	svc->label = kilo_arena_strdup(arena, owner.text);
	if (!svc->namespace || !svc->name || !svc->label)
		return -ENOMEM;
	*keep = true;
	return 0;
}

/* A condition: absent means ready and serving (the API's "unknown, take it as ready"), not terminating. */
static bool condition(json_t *conditions, const char *name, bool absent)
{
	json_t *v = json_object_get(conditions, name);

	return json_is_boolean(v) ? json_is_true(v) : absent;
}

static int read_endpoints(struct kilo_arena *arena, json_t *array, const struct object_name *owner,
			  struct kilo_lb_report *report, struct kilo_lb_slice *slice)
{
	size_t n = json_array_size(array);
	char quoted[NAME_TEXT_MAX];
	json_t *e;
	size_t i;

	if (n == 0)
		return 0;
	slice->endpoints = kilo_arena_array(arena, n, sizeof(*slice->endpoints));
	if (!slice->endpoints)
		return -ENOMEM;
	json_array_foreach(array, i, e) {
		struct kilo_lb_endpoint *ep = &slice->endpoints[slice->n_endpoints];
		json_t *address = json_array_get(json_object_get(e, "addresses"), 0);
		json_t *conditions = json_object_get(e, "conditions");
		const char *node = text_or(json_object_get(e, "nodeName"), NULL);

		*ep = (struct kilo_lb_endpoint){0};
		if (!json_is_string(address) || kilo_addr_parse(json_string_value(address), &ep->addr, NULL) < 0 ||
		    ep->addr.family != slice->family) {
			kilo_lb_report_add(report, "%s: endpoints[%zu].addresses[0]: %s is not an IPv%u address",
					   owner->text, i, quote(address, quoted, sizeof(quoted)), slice->family);
			continue;
		}
		ep->ready = condition(conditions, "ready", true);
		ep->serving = condition(conditions, "serving", true);
		ep->terminating = condition(conditions, "terminating", false);
		if (node) {
			ep->node = kilo_arena_strdup(arena, node);
			if (!ep->node)
				return -ENOMEM;
		}
		slice->n_endpoints++;
	}
	return 0;
}

/* Reads one EndpointSlice; *keep false for a slice of no service or of addresses that are not IPs. */
static int read_slice(struct kilo_arena *arena, json_t *object, size_t index, struct kilo_lb_report *report,
		      void *item, bool *keep)
{
	struct kilo_lb_slice *slice = item;
	json_t *metadata = json_object_get(object, "metadata");
	const char *name = text_or(json_object_get(metadata, "name"), NULL);
	const char *namespace = text_or(json_object_get(metadata, "namespace"), "default");
	const char *service = text_or(member(metadata, "labels", "kubernetes.io/service-name"), NULL);
	json_t *type = json_object_get(object, "addressType");
	struct object_name owner;
	char quoted[NAME_TEXT_MAX];
	int r;

	*keep = false;
	if (!json_is_object(object) || !name) {
		kilo_lb_report_add(report, "endpointslices[%zu]: %s", index,
				   json_is_object(object) ? "metadata.name: missing" : "not an object");
		return 0;
	}
	/* A slice that no service owns, or of FQDNs, is none of the load balancer's business, as for kube-proxy. */
	if (!service || strcmp(text_or(type, ""), "FQDN") == 0)
		return 0;
	name_object(&owner, "EndpointSlice", namespace, name);
	if (strcmp(text_or(type, ""), "IPv4") == 0) {
		slice->family = 4;
	} else if (strcmp(text_or(type, ""), "IPv6") == 0) {
		slice->family = 6;
	} else {
		kilo_lb_report_add(report, "%s: addressType: %s is not IPv4, IPv6 or FQDN", owner.text,
				   quote(type, quoted, sizeof(quoted)));
		return 0;
	}
	r = read_ports(arena, json_object_get(object, "ports"), false, &owner, report, &slice->ports, &slice->n_ports);
	if (r < 0)
		return r;
	r = read_endpoints(arena, json_object_get(object, "endpoints"), &owner, report, slice);
	if (r < 0)
		return r;
	slice->namespace = kilo_arena_strdup(arena, namespace);
	slice->service = kilo_arena_strdup(arena, service);
	slice->name = kilo_arena_strdup(arena, name);
	if (!slice->namespace || !slice->service || !slice->name)
		return -ENOMEM;
	*keep = true;
	return 0;
}

static int compare_services(const void *a, const void *b)
{
	const struct kilo_lb_svc *x = a, *y = b;
	int c = strcmp(x->namespace, y->namespace);

	return c ? c : strcmp(x->name, y->name);
}

static int compare_slices(const void *a, const void *b)
{
	const struct kilo_lb_slice *x = a, *y = b;
	int c = strcmp(x->namespace, y->namespace);

	if (!c)
		c = strcmp(x->service, y->service);
	return c ? c : strcmp(x->name, y->name);
}

/* Gives every service its slices: both arrays are sorted by namespace and service name. */
static void join_slices(struct kilo_lb_objects *o)
{
	size_t s = 0;

	for (size_t i = 0; i < o->n_services; i++) {
		struct kilo_lb_svc *svc = &o->services[i];

		while (s < o->n_slices) {
			int c = strcmp(o->slices[s].namespace, svc->namespace);

			if (!c)
				c = strcmp(o->slices[s].service, svc->name);
			if (c >= 0)
				break;
			s++;
		}
		svc->slices = &o->slices[s];
		while (s + svc->n_slices < o->n_slices && strcmp(o->slices[s + svc->n_slices].namespace, svc->namespace) == 0 &&
		       strcmp(o->slices[s + svc->n_slices].service, svc->name) == 0)
			svc->n_slices++;
	}
}

/*
 * A Service or EndpointSlice as read before, kept in ids between
 * computations by its text: a node that computes again after one changed
 * EndpointSlice parses that one alone. Its strings live in its own arena;
 * what it reported is reported again each time it is used.
 */
struct parsed {
	struct kilo_arena arena;
	char *text;
	size_t len;
	bool keep;
	size_t n_problems; /* all it reported; the first KILO_LB_REPORT_MAX of them in problems */
	char **problems;
	union {
		struct kilo_lb_svc svc;
		struct kilo_lb_slice slice;
	} item;
};

/* The key of an element's text in ids->objects. */
struct parsed_key {
	uint64_t hash;
	uint64_t len;
	uint8_t kind; /* 0: Service, 1: EndpointSlice */
	uint8_t pad[7];
};

_Static_assert(sizeof(struct parsed_key) <= KILO_LB_ID_KEY_MAX, "a parsed object's key fits the ids' keys");

/* A fixed key: the cache is this process's own, but its hash must not depend on anything but the text. */
static const unsigned char text_key[crypto_shorthash_KEYBYTES] = "kilo-lb-objects.";

static void parsed_drop(void *cache)
{
	struct parsed *p = cache;

	kilo_arena_release(&p->arena);
	free(p->text);
	free(p);
}

/* Records what p reported, from report's first problem `from` on, to report again. -ENOMEM. */
static int keep_problems(struct parsed *p, const struct kilo_lb_report *report, size_t from)
{
	p->n_problems = report->n_problems - from;
	if (!p->n_problems)
		return 0;
	p->problems = kilo_arena_array(&p->arena, p->n_problems, sizeof(*p->problems));
	if (!p->problems)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_problems; i++) {
		p->problems[i] = kilo_arena_strdup(&p->arena, from + i < KILO_LB_REPORT_MAX ? report->problems[from + i] : "");
		if (!p->problems[i])
			return -ENOMEM;
	}
	return 0;
}

static void replay_problems(const struct parsed *p, struct kilo_lb_report *report)
{
	for (size_t i = 0; i < p->n_problems; i++)
		kilo_lb_report_add(report, "%s", p->problems[i]);
}

/* Parses the element text (len bytes) and reads it into item with read, with memory from arena. */
static int parse_element(struct kilo_arena *arena, const char *text, size_t len, size_t index, const char *what,
			 read_fn read, struct kilo_lb_report *report, void *item, bool *keep, struct kilo_error *err)
{
	json_error_t jerr;
	json_t *object = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
	int r;

	if (!object)
		return kilo_error_set(err, EINVAL, "%s[%zu]: not JSON: %s", what, index, jerr.text);
	r = read(arena, object, index, report, item, keep);
	json_decref(object);
	return r;
}

/*
 * Reads the element text into item: from the cache in ids when it read
 * the same text before, else parsed, and then kept there. Without ids,
 * parsed into arena.
 */
static int read_element(struct kilo_arena *arena, struct kilo_lb_ids *ids, uint8_t kind, const char *text,
			size_t len, size_t index, const char *what, read_fn read, size_t size,
			struct kilo_lb_report *report, void *item, bool *keep, struct kilo_error *err)
{
	struct parsed_key key = {.len = len, .kind = kind};
	unsigned char hash[crypto_shorthash_BYTES];
	struct kilo_lb_id_entry *entry;
	struct parsed *p;
	size_t from = report->n_problems;
	bool first;
	int r;

	if (!ids)
		return parse_element(arena, text, len, index, what, read, report, item, keep, err);
	crypto_shorthash(hash, (const unsigned char *)text, len, text_key);
	memcpy(&key.hash, hash, sizeof(key.hash));
	r = kilo_lb_ids_get(ids, &ids->objects, &key, &entry, &first);
	if (r < 0)
		return r;
	p = entry->cache;
	if (p && p->len == len && memcmp(p->text, text, len) == 0) {
		memcpy(item, &p->item, size);
		*keep = p->keep;
		replay_problems(p, report);
		return 0;
	}
	/* Another text of the same hash, already used by this computation: leave the cache alone. */
	if (p && !first)
		return parse_element(arena, text, len, index, what, read, report, item, keep, err);
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->arena.first_chunk = 1024;
	p->text = malloc(len ? len : 1);
	r = p->text ? parse_element(&p->arena, text, len, index, what, read, report, &p->item, &p->keep, err)
		    : -ENOMEM;
	if (r == 0)
		r = keep_problems(p, report, from);
	if (r < 0) {
		parsed_drop(p);
		return r;
	}
	memcpy(p->text, text, len);
	p->len = len;
	if (entry->cache)
		parsed_drop(entry->cache);
	entry->cache = p;
	memcpy(item, &p->item, size);
	*keep = p->keep;
	return 0;
}

/* Reads every element of text with read, keeping those it keeps in *items (n of them). */
static int read_all(struct kilo_arena *arena, struct kilo_lb_ids *ids, uint8_t kind, const char *text,
		    const char *what, read_fn read, size_t size, void **items, size_t *n,
		    struct kilo_lb_report *report, struct kilo_error *err)
{
	struct kilo_json_elements r;
	const char *element;
	size_t cap = 0, len;
	int next;
	int ret = kilo_json_elements_open(&r, text, text ? strlen(text) : 0, what, err);

	if (ret < 0)
		return ret;
	while ((next = kilo_json_elements_next(&r, &element, &len, err)) > 0) {
		bool keep;

		if (kilo_array_reserve(items, &cap, *n + 1, size) < 0)
			return -ENOMEM;
		memset((char *)*items + *n * size, 0, size);
		ret = read_element(arena, ids, kind, element, len, r.index - 1, what, read, size, report,
				   (char *)*items + *n * size, &keep, err);
		if (ret < 0)
			return ret;
		*n += keep;
	}
	return next;
}

int kilo_lb_objects_read(const char *services, const char *slices, struct kilo_lb_ids *ids,
			 struct kilo_lb_objects *out, struct kilo_lb_report *report, struct kilo_error *err)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (ids)
		ids->objects.drop = parsed_drop;
	r = read_all(&out->arena, ids, 0, services, "services", read_service, sizeof(*out->services),
		     (void **)&out->services, &out->n_services, report, err);
	if (r < 0)
		goto out;
	r = read_all(&out->arena, ids, 1, slices, "endpointslices", read_slice, sizeof(*out->slices),
		     (void **)&out->slices, &out->n_slices, report, err);
	if (r < 0)
		goto out;
	/* qsort's array may not be NULL, even when empty. */
	if (out->n_services)
		qsort(out->services, out->n_services, sizeof(*out->services), compare_services);
	if (out->n_slices)
		qsort(out->slices, out->n_slices, sizeof(*out->slices), compare_slices);
	join_slices(out);
out:
	if (r == -ENOMEM)
		kilo_error_set(err, ENOMEM, "services: out of memory");
	return r;
}

void kilo_lb_objects_release(struct kilo_lb_objects *objects)
{
	free(objects->services);
	free(objects->slices);
	kilo_arena_release(&objects->arena);
	memset(objects, 0, sizeof(*objects));
}
