// SPDX-License-Identifier: Apache-2.0
/*
 * A line of /flows as kgctl observe prints it: filtered on the reader's
 * side too (the same filter kg applies, so that a kg of another version
 * or a saved stream is read alike), and written as one line like Hubble's:
 *
 *   TIME NODE: SRC (ID:N) -> DST (ID:M) PROTO DIRECTION VERDICT [REASON] [rule "NAME"] [service NAME]
 */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include <kilo/agent.h>

#include "../core/error.h"
#include "../core/strbuf.h"

static const char *member_string(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool is_pod(const json_t *end, const char *pod)
{
	const char *ns = member_string(end, "namespace"), *name = member_string(end, "pod");
	size_t n = ns ? strlen(ns) : 0;

	return ns && name && !strncmp(pod, ns, n) && pod[n] == '/' && !strcmp(pod + n + 1, name);
}

static bool passes(const json_t *flow, const struct kilo_flow_filter *f)
{
	const char *verdict = member_string(flow, "verdict");

	if (!f)
		return true;
	if ((f->verdict == KILO_FLOW_FILTER_FORWARDED && (!verdict || strcmp(verdict, "forwarded"))) ||
	    (f->verdict == KILO_FLOW_FILTER_DROPPED && (!verdict || strcmp(verdict, "dropped"))))
		return false;
	return !f->pod || is_pod(json_object_get(flow, "source"), f->pod) ||
	       is_pod(json_object_get(flow, "destination"), f->pod);
}

/* "NS/POD:PORT (ID:N)", a peer's "peer NAME", else the address; a node after the pod when known. */
static void endpoint_text(struct kilo_strbuf *sb, const json_t *end)
{
	const char *ns = member_string(end, "namespace"), *pod = member_string(end, "pod");
	const char *peer = member_string(end, "peer"), *node = member_string(end, "node");
	const char *ip = member_string(end, "ip"), *labels = member_string(end, "labels");
	json_int_t port = json_integer_value(json_object_get(end, "port"));

	if (pod)
		kilo_strbuf_printf(sb, "%s/%s", ns ? ns : "default", pod);
	else if (peer)
		kilo_strbuf_printf(sb, "peer %s", peer);
	else if (node && !pod)
		kilo_strbuf_printf(sb, "node %s", node);
	else
		kilo_strbuf_append(sb, ip && strchr(ip, ':') && port ? "" : (ip ? ip : "?"));
	if (!pod && !peer && !node && ip && strchr(ip, ':') && port)
		kilo_strbuf_printf(sb, "[%s]", ip);
	if (port)
		kilo_strbuf_printf(sb, ":%lld", (long long)port);
	kilo_strbuf_printf(sb, " (ID:%lld", (long long)json_integer_value(json_object_get(end, "identity")));
	/* The reserved identities say what they are; an allocated one's labels are in -o json. */
	if (labels && !strncmp(labels, "reserved:", 9))
		kilo_strbuf_printf(sb, " %s", labels);
	kilo_strbuf_append(sb, ")");
}

static void flow_text(struct kilo_strbuf *sb, const json_t *flow)
{
	const json_t *rule = json_object_get(flow, "rule"), *service = json_object_get(flow, "service");
	const char *node = member_string(flow, "node"), *verdict = member_string(flow, "verdict");
	const char *reason = member_string(flow, "reason"), *direction = member_string(flow, "direction");
	const char *time = member_string(flow, "time"), *proto = member_string(flow, "protocol");

	kilo_strbuf_printf(sb, "%s %s: ", time ? time : "-", node ? node : "-");
	endpoint_text(sb, json_object_get(flow, "source"));
	kilo_strbuf_append(sb, " -> ");
	endpoint_text(sb, json_object_get(flow, "destination"));
	kilo_strbuf_printf(sb, " %s %s %s", proto ? proto : "-", direction ? direction : "-",
			   verdict && !strcmp(verdict, "dropped") ? "DROPPED" : "FORWARDED");
	if (reason && strcmp(reason, "none"))
		kilo_strbuf_printf(sb, " %s", reason);
	if (rule) {
		const char *name = member_string(rule, "name");

		if (name)
			kilo_strbuf_printf(sb, " rule \"%s\"", name);
		else
			kilo_strbuf_printf(sb, " rule %lld", (long long)json_integer_value(json_object_get(rule, "id")));
	}
	if (service) {
		const char *name = member_string(service, "name"), *ip = member_string(service, "ip");

		kilo_strbuf_printf(sb, " service %s", name ? name : ip ? ip : "?");
	}
	kilo_strbuf_append(sb, "\n");
}

int kilo_flow_line(const char *line, const struct kilo_flow_filter *filter, enum kilo_flow_output format, char **out,
		   uint64_t *seq, struct kilo_error *err)
{
	json_error_t jerr;
	json_t *flow = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
	struct kilo_strbuf sb = { 0 };
	json_t *lost;
	int r = 0;

	*out = NULL;
	if (seq)
		*seq = 0;
	if (!json_is_object(flow)) {
		json_decref(flow);
		return kilo_error_set(err, EINVAL, "flow: not a JSON object: %.80s", line);
	}
	lost = json_object_get(flow, "lost");
	if (lost) {
		if (!json_is_integer(lost))
			r = kilo_error_set(err, EINVAL, "flow: \"lost\" is not a number: %.80s", line);
		else if (format == KILO_FLOW_OUTPUT_TEXT)
			kilo_strbuf_printf(&sb, "%lld flows lost (the node's ring of recent flows went round)\n",
					   (long long)json_integer_value(lost));
		else
			kilo_strbuf_printf(&sb, "%s\n", line);
		goto done;
	}
	if (!json_is_integer(json_object_get(flow, "seq")) || !json_is_object(json_object_get(flow, "source")) ||
	    !json_is_object(json_object_get(flow, "destination"))) {
		r = kilo_error_set(err, EINVAL, "flow: no seq, source or destination: %.80s", line);
		goto done;
	}
	if (seq)
		*seq = (uint64_t)json_integer_value(json_object_get(flow, "seq"));
	if (!passes(flow, filter))
		goto done;
	if (format == KILO_FLOW_OUTPUT_TEXT)
		flow_text(&sb, flow);
	else
		kilo_strbuf_printf(&sb, "%s\n", line);
done:
	json_decref(flow);
	if (r == 0 && (sb.len || sb.failed))
		r = kilo_strbuf_finish_named(&sb, out, "flow", err);
	kilo_strbuf_reset(&sb);
	return r;
}
