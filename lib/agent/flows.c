// SPDX-License-Identifier: Apache-2.0
/*
 * Flow records: an event of the policy programs named and written once as
 * a JSON line, kept in a ring of the most recent ones, which /flows reads
 * by sequence number (a reader that comes back asks for what follows the
 * last it saw, and learns how many it missed), and counted for /metrics.
 */
#include "flows.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/array.h"

const char *kilo_flow_verdict_name(unsigned verdict)
{
	return verdict == KILO_FLOW_FORWARDED ? "forwarded" : verdict == KILO_FLOW_DROPPED ? "dropped" : "unknown";
}

const char *kilo_flow_reason_name(unsigned reason)
{
	static const char *const names[] = {
		[KILO_FLOW_REASON_NONE] = "none",
		[KILO_FLOW_REASON_POLICY_DENIED] = "policy_denied",
		[KILO_FLOW_REASON_NO_BACKEND] = "no_backend",
		[KILO_FLOW_REASON_MALFORMED] = "malformed",
	};

	return reason < sizeof(names) / sizeof(names[0]) ? names[reason] : "unknown";
}

static const char *reserved_identity(uint32_t identity)
{
	switch (identity) {
	case KILO_IDENTITY_HOST:
		return "reserved:host";
	case KILO_IDENTITY_WORLD:
		return "reserved:world";
	case KILO_IDENTITY_REMOTE_NODE:
		return "reserved:remote-node";
	default:
		return NULL;
	}
}

static int set_string(json_t *object, const char *key, const char *value)
{
	return value ? json_object_set_new(object, key, json_string(value)) : 0;
}

static json_t *endpoint_json(const struct kilo_flow_event *e, const union kilo_lb_addr *addr, __be16 port,
			     uint32_t identity, const struct kilo_flow_names *names)
{
	struct kilo_addr a = { .family = e->family == AF_INET ? 4 : 6 };
	char ip[KILO_ADDR_STRLEN];
	struct kilo_flow_where where;
	const char *labels = reserved_identity(identity);
	json_t *o = json_object();

	if (!o)
		return NULL;
	memcpy(a.bytes, addr->bytes, e->family == AF_INET ? 4 : 16);
	kilo_addr_format(&a, ip);
	kilo_flow_names_where(names, e->family, addr, &where);
	if (!labels)
		labels = kilo_flow_names_labels(names, identity);
	if (json_object_set_new(o, "ip", json_string(ip)) < 0 ||
	    (port && json_object_set_new(o, "port", json_integer(ntohs(port))) < 0) ||
	    json_object_set_new(o, "identity", json_integer(identity)) < 0 || set_string(o, "labels", labels) < 0 ||
	    set_string(o, "namespace", where.namespace) < 0 || set_string(o, "pod", where.pod) < 0 ||
	    set_string(o, "node", where.node) < 0 || set_string(o, "location", where.location) < 0 ||
	    set_string(o, "peer", where.peer) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static const char *protocol_name(uint8_t proto, char buf[4])
{
	switch (proto) {
	case 1:
		return "ICMP";
	case 6:
		return "TCP";
	case 17:
		return "UDP";
	case 58:
		return "ICMPv6";
	case 132:
		return "SCTP";
	default:
		snprintf(buf, 4, "%u", proto);
		return buf;
	}
}

/* RFC 3339 in UTC with nanoseconds, as Hubble writes it. */
static void format_time(int64_t ns, char out[64])
{
	uint64_t t = ns > 0 ? (uint64_t)ns : 0;
	time_t sec = (time_t)(t / 1000000000);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%09u" "Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(t % 1000000000));
}

/* The rule that decided: the one that allowed, the default deny, or none when no policy applies. */
static json_t *rule_json(const struct kilo_flow_event *e, const struct kilo_flow_names *names)
{
	const char *name = kilo_flow_names_rule(names, e->rule_id);
	json_t *o;

	if (e->rule_id == 0 && !(e->verdict == KILO_FLOW_DROPPED && e->reason == KILO_FLOW_REASON_POLICY_DENIED))
		return NULL;
	if (e->rule_id == 0)
		name = "default deny";
	o = json_object();
	if (o && (json_object_set_new(o, "id", json_integer(e->rule_id)) < 0 || set_string(o, "name", name) < 0)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

static json_t *service_json(const struct kilo_flow_event *e, const struct kilo_flow_names *names)
{
	struct kilo_addr a = { .family = e->family == AF_INET ? 4 : 6 };
	char ip[KILO_ADDR_STRLEN];
	json_t *o;

	if (!e->service_id)
		return NULL;
	memcpy(a.bytes, e->service_addr.bytes, e->family == AF_INET ? 4 : 16);
	kilo_addr_format(&a, ip);
	o = json_object();
	if (o && (json_object_set_new(o, "id", json_integer(e->service_id)) < 0 ||
		  set_string(o, "name", kilo_flow_names_service(names, e->family, &e->service_addr, e->service_port)) <
			  0 ||
		  json_object_set_new(o, "ip", json_string(ip)) < 0 ||
		  json_object_set_new(o, "port", json_integer(ntohs(e->service_port))) < 0)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

int kilo_flow_format(const struct kilo_flow_event *e, uint64_t seq, int64_t realtime_ns, const char *node,
		     const struct kilo_flow_names *names, char **line)
{
	json_t *o = json_object(), *rule = rule_json(e, names), *service = service_json(e, names);
	char time[64], proto[4];
	char *text = NULL;

	format_time(realtime_ns, time);
	if (o && json_object_set_new(o, "seq", json_integer((json_int_t)seq)) == 0 &&
	    json_object_set_new(o, "time", json_string(time)) == 0 && set_string(o, "node", node) == 0 &&
	    json_object_set_new(o, "verdict", json_string(kilo_flow_verdict_name(e->verdict))) == 0 &&
	    json_object_set_new(o, "reason", json_string(kilo_flow_reason_name(e->reason))) == 0 &&
	    json_object_set_new(o, "direction",
				json_string(e->direction == KILO_POLICY_EGRESS ? "egress" : "ingress")) == 0 &&
	    json_object_set_new(o, "protocol", json_string(protocol_name(e->proto, proto))) == 0 &&
	    json_object_set_new(o, "source", endpoint_json(e, &e->saddr, e->sport, e->src_identity, names)) == 0 &&
	    json_object_set_new(o, "destination", endpoint_json(e, &e->daddr, e->dport, e->dst_identity, names)) ==
		    0 &&
	    (!rule || json_object_set(o, "rule", rule) == 0) && (!service || json_object_set(o, "service", service) == 0))
		text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(rule);
	json_decref(service);
	json_decref(o);
	if (!text)
		return -ENOMEM;
	*line = text;
	return 0;
}

/* ---- the ring ------------------------------------------------------------ */

int kilo_flow_ring_init(struct kilo_flow_ring *ring, size_t cap)
{
	*ring = (struct kilo_flow_ring){ .cap = cap ? cap : KILO_FLOW_RING_DEFAULT, .next = 1 };
	ring->records = calloc(ring->cap, sizeof(*ring->records));
	return ring->records ? 0 : -ENOMEM;
}

static void record_clear(struct kilo_flow_record *r)
{
	free(r->line);
	free(r->src);
	free(r->dst);
	*r = (struct kilo_flow_record){ 0 };
}

void kilo_flow_ring_release(struct kilo_flow_ring *ring)
{
	for (size_t i = 0; ring->records && i < ring->cap; i++)
		record_clear(&ring->records[i]);
	free(ring->records);
	free(ring->rules);
	*ring = (struct kilo_flow_ring){ 0 };
}

static char *pod_key(const struct kilo_flow_names *names, uint8_t family, const union kilo_lb_addr *addr)
{
	struct kilo_flow_where w;
	char *key;

	kilo_flow_names_where(names, family, addr, &w);
	if (!w.pod || asprintf(&key, "%s/%s", w.namespace, w.pod) < 0)
		return NULL;
	return key;
}

static int count_rule(struct kilo_flow_ring *ring, uint32_t rule_id, unsigned verdict)
{
	size_t lo = 0, hi = ring->n_rules;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ring->rules[mid].rule_id < rule_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == ring->n_rules || ring->rules[lo].rule_id != rule_id) {
		/* Rule ids are bounded by the datapath's counters; the table cannot outgrow them. */
		if (ring->n_rules >= KILO_POLICY_MAX_RULE_IDS ||
		    kilo_array_reserve((void **)&ring->rules, &ring->cap_rules, ring->n_rules + 1, sizeof(*ring->rules)) < 0)
			return -ENOMEM;
		memmove(&ring->rules[lo + 1], &ring->rules[lo], (ring->n_rules - lo) * sizeof(*ring->rules));
		ring->rules[lo] = (struct kilo_flow_rule_count){ .rule_id = rule_id };
		ring->n_rules++;
	}
	ring->rules[lo].flows[verdict]++;
	return 0;
}

int kilo_flow_ring_add(struct kilo_flow_ring *ring, const struct kilo_flow_event *e, int64_t realtime_ns,
		       const char *node, const struct kilo_flow_names *names)
{
	struct kilo_flow_record *slot = &ring->records[(ring->next - 1) % ring->cap];
	unsigned verdict = e->verdict == KILO_FLOW_DROPPED;
	unsigned reason = e->reason <= KILO_FLOW_REASON_MALFORMED ? e->reason : KILO_FLOW_REASON_MALFORMED;
	struct kilo_flow_record r = { .seq = ring->next, .verdict = (uint8_t)verdict };
	int rc;

	ring->counts[verdict][reason]++;
	if (e->rule_id || (verdict && reason == KILO_FLOW_REASON_POLICY_DENIED))
		count_rule(ring, e->rule_id, verdict);
	rc = kilo_flow_format(e, r.seq, realtime_ns, node, names, &r.line);
	if (rc < 0)
		return rc;
	r.src = pod_key(names, e->family, &e->saddr);
	r.dst = pod_key(names, e->family, &e->daddr);
	record_clear(slot);
	*slot = r;
	ring->next++;
	return 0;
}

static bool record_passes(const struct kilo_flow_record *r, const struct kilo_flow_filter *f)
{
	if (!f)
		return true;
	if ((f->verdict == KILO_FLOW_FILTER_FORWARDED && r->verdict != KILO_FLOW_FORWARDED) ||
	    (f->verdict == KILO_FLOW_FILTER_DROPPED && r->verdict != KILO_FLOW_DROPPED))
		return false;
	return !f->pod || (r->src && !strcmp(r->src, f->pod)) || (r->dst && !strcmp(r->dst, f->pod));
}

size_t kilo_flow_ring_read(const struct kilo_flow_ring *ring, uint64_t after, const struct kilo_flow_filter *filter,
			   size_t max, struct kilo_strbuf *sb, uint64_t *next, uint64_t *lost)
{
	uint64_t oldest = ring->next > ring->cap ? ring->next - ring->cap : 1, seq;
	size_t n = 0;

	/* A cursor from another life of the agent (it restarted): start again from the oldest kept. */
	if (after >= ring->next)
		after = 0;
	*lost = after && after + 1 < oldest ? oldest - after - 1 : 0;
	seq = after + 1 > oldest ? after + 1 : oldest;
	for (; seq < ring->next && n < max; seq++) {
		const struct kilo_flow_record *r = &ring->records[(seq - 1) % ring->cap];

		if (!record_passes(r, filter))
			continue;
		kilo_strbuf_append(sb, r->line);
		kilo_strbuf_append(sb, "\n");
		n++;
	}
	*next = seq - 1;
	return n;
}

void kilo_flow_ring_metrics(const struct kilo_flow_ring *ring, const struct kilo_flow_names *names,
			    struct kilo_strbuf *sb)
{
	kilo_strbuf_append(sb, "# HELP kilo_policy_flows_total Flows network policy judged on this node (new flows "
			       "and drops the programs reported), by verdict and reason.\n"
			       "# TYPE kilo_policy_flows_total counter\n");
	/* A forwarded flow has no reason; a drop always has one. */
	for (unsigned v = 0; v < 2; v++)
		for (unsigned reason = 0; reason <= KILO_FLOW_REASON_MALFORMED; reason++)
			if ((v == KILO_FLOW_DROPPED) == (reason != KILO_FLOW_REASON_NONE))
				kilo_strbuf_printf(sb,
						   "kilo_policy_flows_total{verdict=\"%s\",reason=\"%s\"} %" PRIu64 "\n",
						   kilo_flow_verdict_name(v), kilo_flow_reason_name(reason),
						   ring->counts[v][reason]);
	kilo_strbuf_append(sb, "# HELP kilo_policy_rule_flows_total Flows by the rule that allowed them, or the "
			       "default deny that dropped them (named after the policies that isolate the pod).\n"
			       "# TYPE kilo_policy_rule_flows_total counter\n");
	for (size_t i = 0; i < ring->n_rules; i++) {
		const struct kilo_flow_rule_count *c = &ring->rules[i];

		for (unsigned v = 0; v < 2; v++)
			if (c->flows[v]) {
				kilo_strbuf_append(sb, "kilo_policy_rule_flows_total{");
				kilo_flow_rule_labels(sb, c->rule_id, kilo_flow_names_rule(names, c->rule_id));
				kilo_strbuf_printf(sb, ",verdict=\"%s\"} %" PRIu64 "\n", kilo_flow_verdict_name(v),
						   c->flows[v]);
			}
	}
}

void kilo_flow_rule_labels(struct kilo_strbuf *sb, uint32_t rule_id, const char *name)
{
	json_t *quoted = json_string(rule_id ? (name ? name : "") : "default deny");
	char *label = quoted ? json_dumps(quoted, JSON_ENCODE_ANY) : NULL;

	/* A JSON string is a valid Prometheus label value for every name a rule can have. */
	kilo_strbuf_printf(sb, "rule_id=\"%" PRIu32 "\",rule=%s", rule_id, label ? label : "\"\"");
	free(label);
	json_decref(quoted);
}
