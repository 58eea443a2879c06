// SPDX-License-Identifier: Apache-2.0
/*
 * kilo_policy_explain: the flow judged as the datapath judges it (see
 * policy_maps.h), in the maps the compile gives the source's node and the
 * destination's, so that the explanation and the enforcement cannot
 * disagree. Identities are numbered here in label-set order: the verdict
 * does not depend on the store's numbers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <kilo/policy.h>

#include "../core/error.h"
#include "../serial/jsonval.h"
#include "netpol.h"

static const char *const direction_names[2] = { "ingress", "egress" };

/* One end of the flow: a pod, or a VPN peer (source only). */
struct end {
	const char *text;
	const struct kilo_np_pod *pod;
	const struct kilo_np_vpn_peer *peer;
	const char *node;
	struct kilo_addr addr;
};

struct judgement {
	int direction;
	bool judged;   /* false: a VPN peer's egress, which no node of the mesh enforces */
	bool endpoint; /* the pod is an endpoint of its node (it has an identity) */
	bool isolated;
	bool allowed;
	uint32_t peer_identity;
	const char *rule;     /* the rule that allowed; NULL: not isolated, or denied */
	const char *isolators[16]; /* the policies that isolate the pod, when denied */
	size_t n_isolators;
	char isolator_text[16][300];
};

static bool prefix_matches(const __u8 *key, const __u8 *addr, unsigned bits)
{
	for (unsigned i = 0; i < bits; i++)
		if (((key[i / 8] ^ addr[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

static uint32_t ipcache_lookup(const struct kilo_np_desired *d, __u8 family, const union kilo_lb_addr *addr)
{
	uint32_t best_len = 0, identity = KILO_IDENTITY_WORLD;

	for (size_t i = 0; i < d->n_ipcache; i++) {
		const struct kilo_ipcache_key *k = &d->ipcache[i].key;

		if (k->family == family && k->prefixlen >= best_len && prefix_matches(k->addr.bytes, addr->bytes, k->prefixlen - 32)) {
			best_len = k->prefixlen;
			identity = d->ipcache[i].value.identity;
		}
	}
	return identity;
}

/* The rules' longest prefix over (endpoint, identity, direction, proto, port); 0: none. */
static uint32_t rules_lookup(const struct kilo_np_desired *d, uint32_t endpoint, uint32_t identity, int direction,
			     uint8_t proto, uint16_t port)
{
	uint32_t best_len = 0, rule = 0;
	__be16 be = htons(port);

	for (size_t i = 0; i < d->n_rules; i++) {
		const struct kilo_policy_key *k = &d->rules[i].key;
		unsigned extra = k->prefixlen - KILO_POLICY_KEY_FIXED_BITS;

		if (k->endpoint != endpoint || k->identity != identity || k->direction != direction || k->prefixlen < best_len)
			continue;
		if (extra >= 8 && (k->proto != proto || !prefix_matches((const __u8 *)&k->port, (const __u8 *)&be, extra - 8)))
			continue;
		best_len = k->prefixlen;
		rule = d->rules[i].value.rule_id;
	}
	return rule;
}

static uint32_t cidrs_lookup(const struct kilo_np_desired *d, uint32_t endpoint, int direction, __u8 family,
			     const union kilo_lb_addr *addr)
{
	uint32_t best_len = 0, region = 0;

	for (size_t i = 0; i < d->n_cidrs; i++) {
		const struct kilo_policy_cidr_key *k = &d->cidrs[i].key;

		if (k->endpoint == endpoint && k->direction == direction && k->family == family && k->prefixlen >= best_len &&
		    prefix_matches(k->addr.bytes, addr->bytes, k->prefixlen - KILO_POLICY_CIDR_KEY_FIXED_BITS)) {
			best_len = k->prefixlen;
			region = d->cidrs[i].value.region;
		}
	}
	return region;
}

static const char *rule_name(const struct kilo_np_desired *d, uint32_t rule_id)
{
	for (size_t i = 0; i < d->n_rule_names; i++)
		if (d->rule_names[i].rule_id == rule_id)
			return d->rule_names[i].name;
	return "?";
}

static void lb_addr(const struct kilo_addr *addr, union kilo_lb_addr *out, __u8 *family)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->bytes, addr->bytes, addr->family == 4 ? 4 : 16);
	*family = addr->family == 4 ? AF_INET : AF_INET6;
}

/* The steps of policy_maps.h at the endpoint local (on its node, d), the other end being remote. */
static void judge(const struct kilo_np_desired *d, const struct kilo_np_model *model, const struct end *local,
		  const struct end *remote, uint8_t proto, uint16_t port, struct judgement *j)
{
	const struct kilo_np_desired_endpoint *endpoint = NULL;
	union kilo_lb_addr local_addr, remote_addr;
	__u8 family, remote_family;
	uint32_t rule = 0, region;

	j->judged = true;
	lb_addr(&local->addr, &local_addr, &family);
	lb_addr(&remote->addr, &remote_addr, &remote_family);
	for (size_t i = 0; i < d->n_endpoints && !endpoint; i++)
		if (d->endpoints[i].key.family == family && memcmp(&d->endpoints[i].key.addr, &local_addr, sizeof(local_addr)) == 0)
			endpoint = &d->endpoints[i];
	j->endpoint = endpoint != NULL;
	j->peer_identity = ipcache_lookup(d, remote_family, &remote_addr);
	j->isolated = endpoint && (endpoint->value.flags & (j->direction == KILO_POLICY_INGRESS ? KILO_POLICY_ENFORCE_INGRESS
											: KILO_POLICY_ENFORCE_EGRESS));
	if (!j->isolated) {
		j->allowed = true;
		return;
	}
	if (j->direction == KILO_POLICY_INGRESS && j->peer_identity == KILO_IDENTITY_HOST) {
		j->allowed = true;
		j->rule = "the node itself (always allowed in)";
		return;
	}
	rule = rules_lookup(d, endpoint->value.id, j->peer_identity, j->direction, proto, port);
	if (!rule)
		rule = rules_lookup(d, endpoint->value.id, KILO_IDENTITY_ANY, j->direction, proto, port);
	if (!rule && (region = cidrs_lookup(d, endpoint->value.id, j->direction, remote_family, &remote_addr)))
		rule = rules_lookup(d, endpoint->value.id, region | KILO_POLICY_REGION_FLAG, j->direction, proto, port);
	j->allowed = rule != 0;
	if (rule) {
		j->rule = rule_name(d, rule);
		return;
	}
	for (size_t i = 0; i < model->n_policies && j->n_isolators < 16; i++) {
		const struct kilo_np_policy *p = &model->policies[i];

		if (p->types[j->direction] && kilo_np_policy_selects(p, local->pod, model)) {
			snprintf(j->isolator_text[j->n_isolators], sizeof(j->isolator_text[0]), "%s/%s", p->namespace, p->name);
			j->isolators[j->n_isolators] = j->isolator_text[j->n_isolators];
			j->n_isolators++;
		}
	}
}

/* Compiles local's node and judges the flow there; the rule names live as long as *d. */
static int judge_at(const struct kilo_np_model *model, const struct kilo_np_identity_number *ids,
		    const struct end *local, const struct end *remote, uint8_t proto, uint16_t port, int direction,
		    struct kilo_np_desired *d, struct judgement *j, struct kilo_error *err)
{
	struct kilo_np_state *state = kilo_np_state_new();
	int r;

	j->direction = direction;
	if (!state)
		return kilo_error_set(err, ENOMEM, "out of memory");
	r = kilo_np_compile(state, model, local->node, ids, model->n_identities, d, NULL, err);
	kilo_np_state_free(state);
	if (r < 0)
		return r;
	judge(d, model, local, remote, proto, port, j);
	return 0;
}

static int find_end(const struct kilo_np_model *model, const char *text, bool peer_ok, struct end *out,
		    struct kilo_error *err)
{
	const char *slash = strchr(text, '/');
	char ns[254];

	*out = (struct end){ .text = text };
	if (slash) {
		if ((size_t)(slash - text) >= sizeof(ns))
			return kilo_error_set(err, ENOENT, "pod \"%.300s\": no such pod", text);
		memcpy(ns, text, (size_t)(slash - text));
		ns[slash - text] = '\0';
		out->pod = kilo_np_model_find_pod(model, ns, slash + 1);
		if (!out->pod)
			return kilo_error_set(err, ENOENT, "pod \"%.300s\": no such pod", text);
		out->node = out->pod->node;
		return 0;
	}
	for (size_t i = 0; peer_ok && i < model->n_peers; i++)
		if (strcmp(model->peers[i].name, text) == 0)
			out->peer = &model->peers[i];
	if (!out->peer)
		return kilo_error_set(err, ENOENT, "\"%.300s\": %s", text,
				      peer_ok ? "no such VPN peer (a pod is NAMESPACE/NAME)" : "not NAMESPACE/POD");
	return 0;
}

/* Addresses of a common family: the destination's first that the source has too. */
static int pick_addrs(struct end *from, struct end *to, struct kilo_error *err)
{
	for (size_t i = 0; i < to->pod->n_addrs; i++) {
		const struct kilo_addr *want = &to->pod->addrs[i];

		for (size_t k = 0; from->pod && k < from->pod->n_addrs; k++)
			if (from->pod->addrs[k].family == want->family) {
				from->addr = from->pod->addrs[k];
				to->addr = *want;
				return 0;
			}
		for (size_t k = 0; from->peer && k < from->peer->n_allowed_ips; k++)
			if (from->peer->allowed_ips[k].addr.family == want->family) {
				from->addr = from->peer->allowed_ips[k].addr;
				to->addr = *want;
				return 0;
			}
	}
	return kilo_error_set(err, EADDRNOTAVAIL, "\"%.200s\" and \"%.200s\": no addresses of a common family",
			      from->text, to->text);
}

static const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "TCP" : proto == IPPROTO_UDP ? "UDP" : "SCTP";
}

static void describe(const struct judgement *j, const struct end *local, char *out, size_t size)
{
	const char *who = local->text;
	size_t n;

	if (!j->judged) {
		snprintf(out, size, "allowed: %s is a VPN peer; no node enforces its egress", who);
		return;
	}
	if (!j->endpoint) {
		snprintf(out, size, "allowed: %s has no identity yet, so no policy applies", who);
		return;
	}
	if (!j->isolated) {
		snprintf(out, size, "allowed: no policy selects %s for %s", who, direction_names[j->direction]);
		return;
	}
	if (j->allowed) {
		snprintf(out, size, "allowed by %s", j->rule);
		return;
	}
	n = (size_t)snprintf(out, size, "denied: no rule allows it; %s isolated by", who);
	for (size_t i = 0; i < j->n_isolators && n < size; i++)
		n += (size_t)snprintf(out + n, size - n, "%s %s", i ? "," : "", j->isolators[i]);
}

static json_t *judgement_json(const struct judgement *j, const struct end *local)
{
	json_t *object = json_object(), *isolators = json_array();
	const char *verdict = j->allowed || !j->judged || !j->isolated ? "allowed" : "denied";

	for (size_t i = 0; i < j->n_isolators; i++)
		kilo_jsonval_append(isolators, json_string(j->isolators[i]));
	if (!object || kilo_jsonval_set(object, "node", local->node ? json_string(local->node) : json_null()) < 0 ||
	    kilo_jsonval_set(object, "verdict", json_string(verdict)) < 0 ||
	    kilo_jsonval_set(object, "enforced", json_boolean(j->judged && j->isolated)) < 0 ||
	    kilo_jsonval_set(object, "rule", j->rule ? json_string(j->rule) : json_null()) < 0 ||
	    kilo_jsonval_set(object, "isolated_by", isolators) < 0) {
		json_decref(object);
		return NULL;
	}
	return object;
}

/* The verdict, each direction's line, then what the model left out (it may be why). */
static int render_text(const struct kilo_policy_explain_opts *opts, const struct end *from, const struct end *to,
		       bool allowed, char line[2][1200], const struct kilo_lb_report *report, char **out,
		       struct kilo_error *err)
{
	size_t n = report ? report->n_problems : 0, shown = n < KILO_LB_REPORT_MAX ? n : KILO_LB_REPORT_MAX;
	char problems[KILO_LB_REPORT_MAX * (KILO_ERROR_MESSAGE_MAX + 16) + 64] = "";
	size_t used = 0;

	for (size_t i = 0; i < shown; i++)
		used += (size_t)snprintf(problems + used, sizeof(problems) - used, "  left out: %s\n", report->problems[i]);
	if (n > shown)
		snprintf(problems + used, sizeof(problems) - used, "  left out: %zu more\n", n - shown);
	if (asprintf(out, "%s -> %s %u/%s: %s\n  egress at %s: %s\n  ingress at %s: %s\n%s", from->text, to->text,
		     opts->port, proto_name(opts->proto), allowed ? "ALLOWED" : "DENIED",
		     from->node && from->node[0] ? from->node : "(no node)", line[0],
		     to->node && to->node[0] ? to->node : "(no node)", line[1], problems) < 0) {
		*out = NULL;
		return kilo_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

static int render(const struct kilo_policy_explain_opts *opts, const struct end *from, const struct end *to,
		  const struct judgement *egress, const struct judgement *ingress, const struct kilo_lb_report *report,
		  char **out, struct kilo_error *err)
{
	bool allowed = (egress->allowed || !egress->judged || !egress->isolated) && ingress->allowed;
	char line[2][1200], *text = NULL;
	json_t *doc, *problems;

	describe(egress, from, line[0], sizeof(line[0]));
	describe(ingress, to, line[1], sizeof(line[1]));
	if (opts->format == KILO_POLICY_FORMAT_TEXT)
		return render_text(opts, from, to, allowed, line, report, out, err);
	doc = json_object();
	problems = json_array();
	for (size_t i = 0; report && i < report->n_problems && i < KILO_LB_REPORT_MAX; i++)
		kilo_jsonval_append(problems, json_string(report->problems[i]));
	if (!doc || kilo_jsonval_set(doc, "from", json_string(from->text)) < 0 ||
	    kilo_jsonval_set(doc, "to", json_string(to->text)) < 0 ||
	    kilo_jsonval_set(doc, "port", json_integer(opts->port)) < 0 ||
	    kilo_jsonval_set(doc, "protocol", json_string(proto_name(opts->proto))) < 0 ||
	    kilo_jsonval_set(doc, "allowed", json_boolean(allowed)) < 0 ||
	    kilo_jsonval_set(doc, "egress", judgement_json(egress, from)) < 0 ||
	    kilo_jsonval_set(doc, "ingress", judgement_json(ingress, to)) < 0 ||
	    kilo_jsonval_set(doc, "problems", problems) < 0 || !(text = json_dumps(doc, JSON_INDENT(2))) ||
	    asprintf(out, "%s\n", text) < 0) {
		*out = NULL;
		free(text);
		json_decref(doc);
		return kilo_error_set(err, ENOMEM, "out of memory");
	}
	free(text);
	json_decref(doc);
	return 0;
}

static int check_opts(const struct kilo_policy_explain_opts *opts, char **out, struct kilo_error *err)
{
	if (!out)
		return kilo_error_set(err, EINVAL, "out is NULL");
	*out = NULL;
	if (!opts || opts->sz < offsetof(struct kilo_policy_explain_opts, format) + sizeof(opts->format))
		return kilo_error_set(err, EINVAL, "opts is NULL or opts->sz too small");
	if (!opts->from || !opts->to)
		return kilo_error_set(err, EINVAL, "opts->%s is NULL", opts->from ? "to" : "from");
	if (opts->port == 0)
		return kilo_error_set(err, EINVAL, "port 0: not a port (1-65535)");
	if (opts->proto != IPPROTO_TCP && opts->proto != IPPROTO_UDP && opts->proto != IPPROTO_SCTP)
		return kilo_error_set(err, EINVAL, "protocol %u: not TCP, UDP or SCTP", opts->proto);
	if (opts->format != KILO_POLICY_FORMAT_TEXT && opts->format != KILO_POLICY_FORMAT_JSON)
		return kilo_error_set(err, EINVAL, "format %d: not text or json", (int)opts->format);
	return 0;
}

int kilo_policy_explain(const struct kilo_policy_explain_opts *opts, char **out, struct kilo_error *err)
{
	struct kilo_np_desired at_source = { 0 }, at_destination = { 0 };
	struct judgement egress = { .direction = KILO_POLICY_EGRESS }, ingress = { .direction = KILO_POLICY_INGRESS };
	struct kilo_np_identity_number *ids = NULL;
	struct kilo_lb_report report = { 0 };
	struct kilo_np_model model = { 0 };
	struct end from, to;
	int r;

	if ((r = check_opts(opts, out, err)) < 0)
		return r;
	if ((r = kilo_np_model_read(opts->pods, opts->namespaces, opts->policies, opts->peer_objects, opts->mesh, &model,
				    &report, err)) < 0)
		goto out;
	if ((r = find_end(&model, opts->from, true, &from, err)) < 0 || (r = find_end(&model, opts->to, false, &to, err)) < 0 ||
	    (r = pick_addrs(&from, &to, err)) < 0)
		goto out;
	ids = calloc(model.n_identities + 1, sizeof(*ids));
	if (!ids) {
		r = kilo_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < model.n_identities; i++)
		ids[i] = (struct kilo_np_identity_number){ model.identities[i].label_set,
							   KILO_IDENTITY_FIRST_ALLOCATED + (uint32_t)i };
	/* A pod's traffic to itself never leaves it (no veth to judge it at): always allowed. */
	if (from.pod == to.pod) {
		egress.judged = ingress.judged = true;
		egress.allowed = ingress.allowed = true;
		egress.rule = ingress.rule = "the pod itself (its traffic to itself never leaves it)";
		egress.endpoint = ingress.endpoint = egress.isolated = ingress.isolated = true;
		r = render(opts, &from, &to, &egress, &ingress, &report, out, err);
		goto out;
	}
	if (from.pod && (r = judge_at(&model, ids, &from, &to, opts->proto, opts->port, KILO_POLICY_EGRESS, &at_source,
				      &egress, err)) < 0)
		goto out;
	if ((r = judge_at(&model, ids, &to, &from, opts->proto, opts->port, KILO_POLICY_INGRESS, &at_destination,
			  &ingress, err)) < 0)
		goto out;
	r = render(opts, &from, &to, &egress, &ingress, &report, out, err);
out:
	kilo_np_desired_release(&at_source);
	kilo_np_desired_release(&at_destination);
	kilo_np_model_release(&model);
	free(ids);
	return r;
}
