/* SPDX-License-Identifier: Apache-2.0 */
/* Kilo's NAT and forward rule set (kilo-reference.md §2.1-2.2). */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/opts.h"
#include "../core/strbuf.h"

#define NAT_CHAIN "KILO-NAT"
#define IPIP_CHAIN "KILO-IPIP"

struct nat_list {
	struct kilo_nat_rule *rules;
	size_t n, cap;
	int error; /* sticky: the first failure */
};

static uint8_t family_of(const struct kilo_addr *addr)
{
	return addr->family == 6 ? 6 : 4;
}

static struct kilo_nat_rule *push(struct nat_list *l, enum kilo_nat_list which, uint8_t family, const char *table,
				  const char *chain)
{
	struct kilo_nat_rule *r;

	if (l->error || (l->error = kilo_array_reserve((void **)&l->rules, &l->cap, l->n + 1, sizeof(*r))))
		return NULL;
	r = &l->rules[l->n++];
	memset(r, 0, sizeof(*r));
	r->kind = KILO_NAT_RULE;
	r->list = which;
	r->family = family;
	r->table = table;
	r->chain = chain;
	return r;
}

static void push_chain(struct nat_list *l, uint8_t family, const char *table, const char *chain)
{
	struct kilo_nat_rule *r = push(l, KILO_NAT_APPEND, family, table, chain);

	if (r)
		r->kind = KILO_NAT_CHAIN;
}

/* A rule matching no address, in both families. */
static void push_both(struct nat_list *l, const char *table, const char *chain, bool ipip, const char *comment,
		      const char *target)
{
	for (uint8_t family = 4; family <= 6; family += 2) {
		struct kilo_nat_rule *r = push(l, KILO_NAT_APPEND, family, table, chain);

		if (r) {
			r->ipip = ipip;
			r->comment = comment;
			r->target = target;
		}
	}
}

/* A rule on one address; its family picks iptables or ip6tables. */
static struct kilo_nat_rule *push_match(struct nat_list *l, enum kilo_nat_list which, const char *table, const char *chain,
		       const struct kilo_cidr *src, const struct kilo_cidr *dst, const char *comment, const char *target)
{
	const struct kilo_cidr *match = src ? src : dst;
	struct kilo_nat_rule *r = push(l, which, family_of(&match->addr), table, chain);

	if (!r)
		return NULL;
	if (src)
		r->src = *src;
	if (dst)
		r->dst = *dst;
	r->comment = comment;
	r->target = target;
	return r;
}

static void push_forward_pair(struct nat_list *l, const struct kilo_cidr *cidr, const char *from, const char *to)
{
	struct kilo_nat_rule *r = push_match(l, KILO_NAT_PREPEND, "filter", "FORWARD", cidr, NULL, from, "ACCEPT");

	/* Kilo's forward rules name the comment before the address. */
	if (r)
		r->comment_first = true;
	r = push_match(l, KILO_NAT_PREPEND, "filter", "FORWARD", NULL, cidr, to, "ACCEPT");
	if (r)
		r->comment_first = true;
}

static bool in_logical_location(const struct kilo_segment *s, const char *location)
{
	static const char prefix[] = "location:";

	return strncmp(s->node_location, prefix, sizeof(prefix) - 1) == 0 &&
	       strcmp(s->node_location + sizeof(prefix) - 1, location) == 0;
}

/*
 * The encapsulator's rules: IPIP is accepted only from the private IPs of
 * the local logical location and dropped otherwise.
 */
static void ipip_rules(const struct kilo_topology *t, struct nat_list *l, enum kilo_nat_list which)
{
	if (which == KILO_NAT_APPEND) {
		push_chain(l, 4, "filter", IPIP_CHAIN);
		push_chain(l, 6, "filter", IPIP_CHAIN);
		push_both(l, "filter", "INPUT", true, "Kilo: jump to IPIP chain", IPIP_CHAIN);
		push_both(l, "filter", "INPUT", true, "Kilo: reject other IPIP traffic", "DROP");
		return;
	}
	if (!t->local_node)
		return;
	for (size_t k = 0; k < t->n_segments; k++) {
		const struct kilo_segment *s = &t->segments[k];

		if (!in_logical_location(s, t->local_node->location))
			continue;
		for (size_t i = 0; i < s->n_private_ips; i++) {
			struct kilo_cidr host = kilo_cidr_host(&s->private_ips[i]);

			push_match(l, KILO_NAT_PREPEND, "filter", IPIP_CHAIN, &host, NULL, "Kilo: allow IPIP traffic",
				   "ACCEPT");
		}
	}
}

bool kilo_topology_ipip_rules(const kilo_topology *t, const struct kilo_routes_opts *opts_in)
{
	struct kilo_routes_opts opts;

	if (KILO_OPTS_COPY(&opts, opts_in, kilo_routes_opts, NULL) < 0)
		return false;
	return !opts.no_local && opts.encapsulate != KILO_ENCAPSULATE_NEVER &&
	       opts.compatibility != KILO_COMPATIBILITY_FLANNEL && t->private_ip.addr.family != 0;
}

static void append_rules(const struct kilo_topology *t, struct nat_list *l)
{
	const struct kilo_settings *settings = &t->mesh->settings;

	push_chain(l, 4, "nat", NAT_CHAIN);
	push_chain(l, 6, "nat", NAT_CHAIN);
	for (size_t i = 0; i < settings->n_service_cidrs; i++)
		push_match(l, KILO_NAT_APPEND, "nat", NAT_CHAIN, NULL, &settings->service_cidrs[i],
			   "Kilo: do not NAT packets destined for service CIDRs", "RETURN");
	push_both(l, "nat", NAT_CHAIN, false, "Kilo: NAT remaining packets", "MASQUERADE");
}

/* Distros that drop forwarded packets by default still let pod traffic through. */
static void forward_rules(const struct kilo_topology *t, struct nat_list *l)
{
	const struct kilo_segment *s;

	if (!t->leader) {
		if (t->subnet.addr.family)
			push_forward_pair(l, &t->subnet, "Kilo: forward packets from the node's pod subnet",
					  "Kilo: forward packets to the node's pod subnet");
		if (t->secondary_subnet.addr.family)
			push_forward_pair(l, &t->secondary_subnet, "Kilo: forward packets from the node's pod subnet",
					  "Kilo: forward packets to the node's pod subnet");
		return;
	}
	/* A leader forwards for its whole location. */
	s = &t->segments[t->local_segment];
	for (size_t i = 0; i < s->n_nodes; i++) {
		push_forward_pair(l, &s->cidrs[i], "Kilo: forward packets from the pod subnet",
				  "Kilo: forward packets to the pod subnet");
		if (s->secondary_cidrs[i].addr.family)
			push_forward_pair(l, &s->secondary_cidrs[i], "Kilo: forward packets from the pod subnet",
					  "Kilo: forward packets to the pod subnet");
	}
	for (size_t i = 0; i < s->n_allowed_location_ips; i++)
		push_forward_pair(l, &s->allowed_location_ips[i], "Kilo: forward packets from allowed location IPs",
				  "Kilo: forward packets to allowed location IPs");
	for (size_t i = 0; i < s->n_private_ips; i++) {
		struct kilo_cidr host = kilo_cidr_host(&s->private_ips[i]);

		push_forward_pair(l, &host, "Kilo: forward packets from private IPs",
				  "Kilo: forward packets to private IPs");
	}
}

static void prepend_rules(const struct kilo_topology *t, const struct kilo_nat_opts *opts, struct nat_list *l)
{
	if (!opts->no_cni) {
		if (t->subnet.addr.family)
			push_match(l, KILO_NAT_PREPEND, "nat", "POSTROUTING", &t->subnet, NULL,
				   "Kilo: jump to KILO-NAT chain", NAT_CHAIN);
		if (t->secondary_subnet.addr.family)
			push_match(l, KILO_NAT_PREPEND, "nat", "POSTROUTING", &t->secondary_subnet, NULL,
				   "Kilo: jump to KILO-NAT chain", NAT_CHAIN);
		if (opts->forward_rules)
			forward_rules(t, l);
	}
	for (size_t k = 0; k < t->n_segments; k++) {
		const struct kilo_segment *s = &t->segments[k];
		struct kilo_cidr wg = kilo_cidr_host(&s->wireguard_ip);

		/* "WireGuared" is Kilo's spelling; the text identifies the rule. */
		push_match(l, KILO_NAT_PREPEND, "nat", NAT_CHAIN, NULL, &wg,
			   "Kilo: do not NAT packets destined for WireGuared IPs", "RETURN");
		for (size_t i = 0; i < s->n_allowed_ips; i++)
			push_match(l, KILO_NAT_PREPEND, "nat", NAT_CHAIN, NULL, &s->allowed_ips[i],
				   "Kilo: do not NAT packets destined for known IPs", "RETURN");
		/* Replies from allowed-location IPs find their way back only if masqueraded. */
		if (k != t->local_segment)
			continue;
		for (size_t i = 0; i < s->n_allowed_location_ips; i++)
			push_match(l, KILO_NAT_PREPEND, "nat", "POSTROUTING", NULL, &s->allowed_location_ips[i],
				   "Kilo: jump to NAT chain", NAT_CHAIN);
	}
	for (size_t p = 0; p < t->n_peers; p++) {
		for (size_t i = 0; i < t->peers[p].n_allowed_ips; i++) {
			const struct kilo_cidr *aip = &t->peers[p].allowed_ips[i];

			push_match(l, KILO_NAT_PREPEND, "nat", "POSTROUTING", aip, NULL, "Kilo: jump to NAT chain",
				   NAT_CHAIN);
			push_match(l, KILO_NAT_PREPEND, "nat", NAT_CHAIN, NULL, aip,
				   "Kilo: do not NAT packets destined for peers", "RETURN");
		}
	}
}

/* At most: the fixed rules, two per local pod CIDR (two each for dual stack), location IP and private IP, and every address. */
static size_t rule_bound(const struct kilo_topology *t, const struct kilo_nat_opts *opts)
{
	size_t n = 20 + t->mesh->settings.n_service_cidrs;

	for (size_t k = 0; k < t->n_segments; k++) {
		const struct kilo_segment *s = &t->segments[k];

		n += 1 + s->n_allowed_ips + s->n_allowed_location_ips + (opts->ipip_rules ? s->n_private_ips : 0);
		if (k == t->local_segment)
			n += 2 * (2 * s->n_nodes + s->n_allowed_location_ips + s->n_private_ips);
	}
	for (size_t p = 0; p < t->n_peers; p++)
		n += 2 * t->peers[p].n_allowed_ips;
	return n;
}

int kilo_topology_nat_rules(const kilo_topology *t, const struct kilo_nat_opts *opts_in,
			    struct kilo_nat_rule **rules, size_t *n_rules, struct kilo_error *err)
{
	struct kilo_nat_opts opts;
	struct nat_list l = { 0 };
	int r;

	*rules = NULL;
	*n_rules = 0;
	r = KILO_OPTS_COPY(&opts, opts_in, kilo_nat_opts, err);
	if (r < 0)
		return r;
	l.error = kilo_array_reserve((void **)&l.rules, &l.cap, rule_bound(t, &opts), sizeof(*l.rules));
	/* The encapsulator's lists go in front of the topology's, as kg joins them. */
	if (opts.ipip_rules)
		ipip_rules(t, &l, KILO_NAT_APPEND);
	append_rules(t, &l);
	if (opts.ipip_rules)
		ipip_rules(t, &l, KILO_NAT_PREPEND);
	prepend_rules(t, &opts, &l);
	if (l.error) {
		free(l.rules);
		return kilo_error_set(err, -l.error, "NAT rules of node \"%s\": %s", t->hostname, strerror(-l.error));
	}
	*rules = l.rules;
	*n_rules = l.n;
	return 0;
}

static void append_address(struct kilo_strbuf *sb, const char *flag, const struct kilo_cidr *cidr)
{
	char text[KILO_CIDR_STRLEN];

	if (cidr->addr.family == 0)
		return;
	kilo_cidr_format(cidr, text);
	kilo_strbuf_printf(sb, " %s %s", flag, text);
}

int kilo_nat_rule_format(const struct kilo_nat_rule *rule, char **out, struct kilo_error *err)
{
	struct kilo_strbuf sb = { 0 };

	*out = NULL;
	if (!rule->table || !rule->chain)
		return kilo_error_set(err, EINVAL, "NAT rule: no %s", rule->table ? "chain" : "table");
	if (rule->kind == KILO_NAT_CHAIN) {
		kilo_strbuf_printf(&sb, "%s -N %s", rule->table, rule->chain);
		goto finish;
	}
	kilo_strbuf_printf(&sb, "%s -A %s", rule->table, rule->chain);
	if (rule->ipip)
		kilo_strbuf_append(&sb, " -p ipencap");
	if (rule->comment && rule->comment_first)
		kilo_strbuf_printf(&sb, " -m comment --comment \"%s\"", rule->comment);
	append_address(&sb, "-s", &rule->src);
	append_address(&sb, "-d", &rule->dst);
	if (rule->comment && !rule->comment_first)
		kilo_strbuf_printf(&sb, " -m comment --comment \"%s\"", rule->comment);
	if (rule->target)
		kilo_strbuf_printf(&sb, " -j %s", rule->target);
finish:
	return kilo_strbuf_finish_named(&sb, out, "NAT rule", err);
}
