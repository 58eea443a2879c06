/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ip rules: the ones libkilo owns carry FRA_PROTOCOL KILO_RTPROT_OWNED,
 * which kernels before 4.17 do not know; those are not supported. The
 * priority is left to the kernel, as Kilo leaves it.
 */
#include "internal.h"
#include "saving.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/error.h"

/* An address of prefix 0 matches everything, which the kernel stores as no address at all. */
static struct kilo_cidr rule_match(const struct kilo_cidr *in)
{
	struct kilo_cidr out = { 0 };

	if (in->addr.family && in->prefix)
		out = kilo_cidr_masked(in);
	return out;
}

void kilo__net_rule_normalise(const struct kilo_rule *in, struct net_rule *out)
{
	memset(out, 0, sizeof(*out));
	/* A rule with no address at all is IPv4, as Kilo's netlink library makes it. */
	out->family = in->src.addr.family ? in->src.addr.family : in->dst.addr.family ? in->dst.addr.family : 4;
	out->rule.src = rule_match(&in->src);
	out->rule.dst = rule_match(&in->dst);
	out->rule.table = in->table ? in->table : RT_TABLE_MAIN;
	snprintf(out->rule.iif, sizeof(out->rule.iif), "%s", in->iif);
}

bool kilo__net_rule_same(const struct net_rule *a, const struct net_rule *b)
{
	return a->family == b->family && a->rule.table == b->rule.table && kilo_cidr_equal(&a->rule.src, &b->rule.src) &&
	       kilo_cidr_equal(&a->rule.dst, &b->rule.dst) && strcmp(a->rule.iif, b->rule.iif) == 0;
}

struct nlmsghdr *kilo__net_rule_message(void *buf, uint16_t type, uint16_t flags, const struct net_rule *r)
{
	const struct kilo_rule *k = &r->rule;
	struct nlmsghdr *nlh = kilo__net_request(buf, type, flags, sizeof(struct fib_rule_hdr));
	struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);

	frh->family = kilo__net_af(r->family);
	frh->src_len = k->src.prefix;
	frh->dst_len = k->dst.prefix;
	frh->table = k->table < 256 ? (uint8_t)k->table : RT_TABLE_UNSPEC;
	frh->action = FR_ACT_TO_TBL;
	if (k->src.addr.family)
		kilo__net_put_addr(nlh, FRA_SRC, &k->src.addr);
	if (k->dst.addr.family)
		kilo__net_put_addr(nlh, FRA_DST, &k->dst.addr);
	if (k->iif[0])
		mnl_attr_put_strz(nlh, FRA_IIFNAME, k->iif);
	mnl_attr_put_u32(nlh, FRA_TABLE, k->table);
	if (r->priority)
		mnl_attr_put_u32(nlh, FRA_PRIORITY, r->priority);
	mnl_attr_put_u8(nlh, FRA_PROTOCOL, KILO_RTPROT_OWNED);
	return nlh;
}

static bool rule_attr(const struct nlattr *attr, struct net_rule *out, bool *owned)
{
	struct kilo_rule *k = &out->rule;

	switch (mnl_attr_get_type(attr)) {
	case FRA_SRC:
		return kilo__net_get_addr(attr, out->family, &k->src.addr);
	case FRA_DST:
		return kilo__net_get_addr(attr, out->family, &k->dst.addr);
	case FRA_IIFNAME:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			return false;
		snprintf(k->iif, sizeof(k->iif), "%s", mnl_attr_get_str(attr));
		return true;
	case FRA_TABLE:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return false;
		k->table = mnl_attr_get_u32(attr);
		return true;
	case FRA_PRIORITY:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return false;
		out->priority = mnl_attr_get_u32(attr);
		return true;
	case FRA_PROTOCOL:
		if (mnl_attr_validate(attr, MNL_TYPE_U8) < 0)
			return false;
		*owned = mnl_attr_get_u8(attr) == KILO_RTPROT_OWNED;
		return true;
	default:
		return true;
	}
}

int kilo__net_rule_parse(const struct nlmsghdr *nlh, struct net_rule *out)
{
	const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	bool owned = false;

	if (nlh->nlmsg_type != RTM_NEWRULE || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*frh)))
		return -EBADMSG;
	memset(out, 0, sizeof(*out));
	out->family = kilo__net_family(frh->family);
	if (!out->family || frh->action != FR_ACT_TO_TBL)
		return 0;
	out->rule.src.prefix = frh->src_len;
	out->rule.dst.prefix = frh->dst_len;
	out->rule.table = frh->table;
	mnl_attr_for_each(attr, nlh, sizeof(*frh)) {
		if (!rule_attr(attr, out, &owned))
			return -EBADMSG;
	}
	return owned ? 1 : 0;
}

static void rule_describe(const struct net_rule *r, char *out, size_t size)
{
	char src[KILO_CIDR_STRLEN] = "all", dst[KILO_CIDR_STRLEN] = "";

	if (r->rule.src.addr.family)
		kilo_cidr_format(&r->rule.src, src);
	if (r->rule.dst.addr.family)
		kilo_cidr_format(&r->rule.dst, dst);
	snprintf(out, size, "rule from %s%s%s%s%s lookup %u", src, dst[0] ? " to " : "", dst,
		 r->rule.iif[0] ? " iif " : "", r->rule.iif, r->rule.table);
}

/* ---- the live set ---------------------------------------------------- */

struct rule_list {
	struct net_rule *items;
	size_t n, cap;
};

static int rule_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rule_list *list = data;
	struct net_rule rule;
	int r = kilo__net_rule_parse(nlh, &rule);

	if (r <= 0)
		return r < 0 ? MNL_CB_ERROR : MNL_CB_OK;
	if (kilo_array_reserve((void **)&list->items, &list->cap, list->n + 1, sizeof(rule)) < 0)
		return MNL_CB_ERROR;
	list->items[list->n++] = rule;
	return MNL_CB_OK;
}

static void rule_list_reset(void *data)
{
	((struct rule_list *)data)->n = 0;
}

static int rules_dump(kilo_net *net, struct rule_list *list, struct kilo_error *err)
{
	return kilo__net_dump(net, RTM_GETRULE, AF_UNSPEC, sizeof(struct fib_rule_hdr), rule_list_cb, rule_list_reset, list,
			"listing ip rules", err);
}

/* The rules of list as the caller writes them, in the kernel's order. */
static int rules_export(const struct rule_list *list, struct kilo_rule **rules, size_t *n, struct kilo_error *err)
{
	struct kilo_rule *out = calloc(list->n ? list->n : 1, sizeof(*out));

	if (!out)
		return kilo_error_set(err, ENOMEM, "listing ip rules: out of memory");
	for (size_t i = 0; i < list->n; i++) {
		out[i] = list->items[i].rule;
		if (out[i].table == RT_TABLE_MAIN)
			out[i].table = 0;
	}
	*rules = out;
	*n = list->n;
	return 0;
}

int kilo_net_rules_list(kilo_net *net, struct kilo_rule **rules, size_t *n, struct kilo_error *err)
{
	struct rule_list list = { 0 };
	int r;

	*rules = NULL;
	*n = 0;
	r = rules_dump(net, &list, err);
	if (r == 0)
		r = rules_export(&list, rules, n, err);
	free(list.items);
	return r;
}

/* ---- sync ------------------------------------------------------------ */

static int rule_check(const struct kilo_rule *r, size_t i, struct kilo_error *err)
{
	uint8_t s = r->src.addr.family, d = r->dst.addr.family;
	char src[KILO_CIDR_STRLEN], dst[KILO_CIDR_STRLEN];

	if (!memchr(r->iif, '\0', sizeof(r->iif)))
		return kilo_error_set(err, EINVAL, "rules[%zu]: iif is not a terminated interface name", i);
	if ((s == 0 || s == 4 || s == 6) && (d == 0 || d == 4 || d == 6) && (!s || !d || s == d))
		return 0;
	kilo_cidr_format(&r->src, src);
	kilo_cidr_format(&r->dst, dst);
	return kilo_error_set(err, EINVAL, "rules[%zu]: source %s and destination %s must be one family", i,
			      s == 4 || s == 6 ? src : "of no family", d == 4 || d == 6 ? dst : "of no family");
}

int kilo_net_rules_check(const struct kilo_rule *rules, size_t n, struct kilo_error *err)
{
	for (size_t i = 0; i < n; i++) {
		int r = rule_check(&rules[i], i, err);

		if (r < 0)
			return r;
	}
	return 0;
}

static int rule_send(kilo_net *net, uint16_t type, uint16_t flags, const struct net_rule *rule, const char *verb,
		     struct kilo_error *err)
{
	char buf[NET_REQUEST_SIZE], text[160], what[192];

	rule_describe(rule, text, sizeof(text));
	snprintf(what, sizeof(what), "%s %s", verb, text);
	return kilo__net_talk(net, kilo__net_rule_message(buf, type, flags, rule), NULL, NULL, what, err);
}

static ssize_t find_rule(const struct net_rule *items, size_t n, const bool *used, const struct net_rule *want)
{
	for (size_t j = 0; j < n; j++) {
		if ((!used || !used[j]) && kilo__net_rule_same(&items[j], want))
			return (ssize_t)j;
	}
	return -1;
}

int kilo_net_rules_sync_saving(kilo_net *net, const struct kilo_rule *rules, size_t n,
			       struct kilo_net_changes *changes, struct kilo_rule **before, size_t *n_before,
			       struct kilo_error *err)
{
	struct kilo_net_changes count = { 0 };
	struct kilo_error local = { 0 };
	struct rule_list live = { 0 };
	struct net_rule *want = NULL;
	bool *used = NULL;
	ssize_t j;
	int r;

	r = kilo_net_rules_check(rules, n, err);
	if (r < 0)
		return r;
	want = calloc(n ? n : 1, sizeof(*want));
	r = want ? rules_dump(net, &live, err) : kilo_error_set(err, ENOMEM, "ip rules: out of memory");
	if (r == 0 && before)
		r = rules_export(&live, before, n_before, err);
	if (r < 0)
		goto out;
	used = calloc(live.n ? live.n : 1, sizeof(*used));
	if (!used) {
		r = kilo_error_set(err, ENOMEM, "ip rules: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		kilo__net_rule_normalise(&rules[i], &want[i]);
		if (find_rule(want, i, NULL, &want[i]) >= 0)
			continue;
		j = find_rule(live.items, live.n, used, &want[i]);
		if (j >= 0) {
			used[j] = true;
			continue;
		}
		r = rule_send(net, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, &want[i], "adding", err);
		if (r < 0) {
			kilo_error_prefix(err, "rules[%zu]", i);
			goto out;
		}
		count.added++;
	}
	for (size_t k = 0; k < live.n; k++) {
		if (used[k])
			continue;
		r = rule_send(net, RTM_DELRULE, 0, &live.items[k], "deleting", &local);
		if (r == -ENOENT)
			continue;
		if (r < 0) {
			kilo__net_error_pass(err, &local);
			goto out;
		}
		count.removed++;
	}
	r = 0;
out:
	if (changes) {
		changes->added += count.added;
		changes->removed += count.removed;
	}
	free(used);
	free(live.items);
	free(want);
	return r;
}

int kilo_net_rules_sync(kilo_net *net, const struct kilo_rule *rules, size_t n, struct kilo_net_changes *changes,
			struct kilo_error *err)
{
	return kilo_net_rules_sync_saving(net, rules, n, changes, NULL, NULL, err);
}
