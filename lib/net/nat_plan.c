/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kilo's iptables rule lists as nftables chains, without touching the
 * kernel. Each family gets one table; the built-in chains Kilo uses become
 * base chains at the iptables priorities, its own chains regular chains of
 * the same name.
 */
#include "internal.h"

#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"

struct builtin {
	const char *table, *chain; /* iptables names */
	const char *name, *type;   /* nftables names */
	uint32_t hook;
	int32_t priority;
};

/* The priorities are iptables' own (srcnat 100, filter 0), so the rules run where Kilo's ran. */
static const struct builtin builtins[] = {
	{ "nat", "POSTROUTING", "postrouting", "nat", NF_INET_POST_ROUTING, 100 },
	{ "filter", "FORWARD", "forward", "filter", NF_INET_FORWARD, 0 },
	{ "filter", "INPUT", "input", "filter", NF_INET_LOCAL_IN, 0 },
};

static const struct builtin *find_builtin(const char *table, const char *chain)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
		if (strcmp(builtins[i].table, table) == 0 && strcmp(builtins[i].chain, chain) == 0)
			return &builtins[i];
	}
	return NULL;
}

static bool is_builtin_name(const char *chain)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
		if (strcmp(builtins[i].chain, chain) == 0)
			return true;
	}
	return false;
}

static struct nat_plan_chain *find_chain(struct nat_plan_table *t, const char *name)
{
	for (size_t i = 0; i < t->n_chains; i++) {
		if (strcmp(t->chains[i].name, name) == 0)
			return &t->chains[i];
	}
	return NULL;
}

static int add_chain(struct nat_plan_table *t, const char *table, const char *name, const struct builtin *b,
		     struct nat_plan_chain **out)
{
	struct nat_plan_chain *c;

	if (kilo_array_reserve((void **)&t->chains, &t->cap_chains, t->n_chains + 1, sizeof(*c)) < 0)
		return -ENOMEM;
	c = &t->chains[t->n_chains++];
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->table = table;
	if (b) {
		c->type = b->type;
		c->hook = b->hook;
		c->priority = b->priority;
	}
	*out = c;
	return 0;
}

/* The chain a rule (or chain entry) i names, created on first sight for a chain entry or a built-in chain. */
static int rule_chain(struct nat_plan *plan, const struct kilo_nat_rule *rule, size_t i, bool create,
		      struct nat_plan_chain **out, struct kilo_error *err)
{
	struct nat_plan_table *t = &plan->tables[rule->family == 6];
	const struct builtin *b = find_builtin(rule->table, rule->chain);
	const char *name = b ? b->name : rule->chain;
	struct nat_plan_chain *c = find_chain(t, name);

	if (c && strcmp(c->table, rule->table) != 0)
		return kilo_error_set(err, EINVAL, "rules[%zu]: chain %s is in table %s and %s; one table holds both here",
				      i, rule->chain, c->table, rule->table);
	if (!c && !b && is_builtin_name(rule->chain))
		return kilo_error_set(err, EINVAL, "rules[%zu]: chain %s of table %s has no nftables translation", i,
				      rule->chain, rule->table);
	if (!c && !b && !create)
		return kilo_error_set(err, EINVAL, "rules[%zu]: chain %s of table %s is never created", i, rule->chain,
				      rule->table);
	if (!c && add_chain(t, rule->table, name, b, &c) < 0)
		return kilo_error_set(err, ENOMEM, "NAT rules: out of memory");
	*out = c;
	return 0;
}

static int rule_verdict(struct nat_plan *plan, const struct kilo_nat_rule *rule, size_t i, struct nat_plan_rule *out,
			struct kilo_error *err)
{
	static const struct {
		const char *target;
		enum nat_verdict verdict;
	} verdicts[] = {
		{ "ACCEPT", NAT_ACCEPT },
		{ "DROP", NAT_DROP },
		{ "RETURN", NAT_RETURN },
		{ "MASQUERADE", NAT_MASQUERADE },
	};
	const struct nat_plan_chain *target;

	if (!rule->target)
		return kilo_error_set(err, EINVAL, "rules[%zu]: no target", i);
	for (size_t k = 0; k < sizeof(verdicts) / sizeof(verdicts[0]); k++) {
		if (strcmp(rule->target, verdicts[k].target) == 0) {
			out->verdict = verdicts[k].verdict;
			return 0;
		}
	}
	target = find_chain(&plan->tables[rule->family == 6], rule->target);
	if (!target || target->type || strcmp(target->table, rule->table) != 0)
		return kilo_error_set(err, EINVAL, "rules[%zu]: target %s is not a chain of table %s", i, rule->target,
				      rule->table);
	out->verdict = NAT_JUMP;
	out->jump = target->name;
	return 0;
}

static int check_rule(const struct kilo_nat_rule *rule, size_t i, struct kilo_error *err)
{
	if (rule->family != 4 && rule->family != 6)
		return kilo_error_set(err, EINVAL, "rules[%zu]: family %u is not 4 or 6", i, rule->family);
	if (!rule->table || (strcmp(rule->table, "nat") != 0 && strcmp(rule->table, "filter") != 0))
		return kilo_error_set(err, EINVAL, "rules[%zu]: table %s is not nat or filter", i,
				      rule->table ? rule->table : "(none)");
	if (!rule->chain || !rule->chain[0])
		return kilo_error_set(err, EINVAL, "rules[%zu]: no chain", i);
	if ((rule->src.addr.family && rule->src.addr.family != rule->family) ||
	    (rule->dst.addr.family && rule->dst.addr.family != rule->family))
		return kilo_error_set(err, EINVAL, "rules[%zu]: an address is not of family %u", i, rule->family);
	/* nftables keeps a comment in the rule's user data, with a type, a length and the NUL. */
	if (rule->comment && strlen(rule->comment) > NFT_USERDATA_MAXLEN - 3)
		return kilo_error_set(err, EINVAL, "rules[%zu]: comment \"%.40s...\" is longer than %d bytes", i,
				      rule->comment, NFT_USERDATA_MAXLEN - 3);
	return 0;
}

static int place_rule(struct nat_plan *plan, const struct kilo_nat_rule *rules, size_t i, struct kilo_error *err)
{
	struct nat_plan_rule planned = { .source = &rules[i] };
	struct nat_plan_chain *c;
	int r = rule_chain(plan, &rules[i], i, false, &c, err);

	if (r < 0)
		return r;
	r = rule_verdict(plan, &rules[i], i, &planned, err);
	if (r < 0)
		return r;
	if (kilo_array_reserve((void **)&c->rules, &c->cap_rules, c->n_rules + 1, sizeof(planned)) < 0)
		return kilo_error_set(err, ENOMEM, "NAT rules: out of memory");
	c->rules[c->n_rules++] = planned;
	return 0;
}

int kilo__nat_plan_build(const struct kilo_nat_rule *rules, size_t n, struct nat_plan *plan, struct kilo_error *err)
{
	struct nat_plan_chain *c;
	int r = 0;

	memset(plan, 0, sizeof(*plan));
	plan->tables[0].family = 4;
	plan->tables[1].family = 6;
	/* Chains first, so that a rule may jump to a chain created after it in the lists. */
	for (size_t i = 0; i < n && r == 0; i++) {
		r = check_rule(&rules[i], i, err);
		if (r == 0 && rules[i].kind == KILO_NAT_CHAIN)
			r = rule_chain(plan, &rules[i], i, true, &c, err);
	}
	/* Kilo inserts every prepend rule at the head, so the last one ends up first. */
	for (size_t i = n; i-- > 0 && r == 0;) {
		if (rules[i].kind == KILO_NAT_RULE && rules[i].list == KILO_NAT_PREPEND)
			r = place_rule(plan, rules, i, err);
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		if (rules[i].kind == KILO_NAT_RULE && rules[i].list == KILO_NAT_APPEND)
			r = place_rule(plan, rules, i, err);
	}
	if (r < 0)
		kilo__nat_plan_free(plan);
	return r;
}

void kilo__nat_plan_free(struct nat_plan *plan)
{
	for (size_t t = 0; t < 2; t++) {
		for (size_t i = 0; i < plan->tables[t].n_chains; i++)
			free(plan->tables[t].chains[i].rules);
		free(plan->tables[t].chains);
		plan->tables[t].chains = NULL;
		plan->tables[t].n_chains = 0;
	}
}
