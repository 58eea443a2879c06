/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NAT rule set in nftables: the plan of nat_plan.c written as one
 * batch, which the kernel commits whole or not at all. The old tables are
 * deleted in the same batch, so an apply never leaves a moment without
 * rules, and a rejected one leaves the old rules in place.
 */
#include "internal.h"

#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/error.h"

/* Offsets of the source address in the IPv4 and IPv6 headers; the destination follows it. */
#define IPV4_SADDR_OFFSET 12
#define IPV6_SADDR_OFFSET 8
#define IPPROTO_IPIP_NUMBER 4

/* ---- rule expressions ------------------------------------------------ */

static bool add_expr(struct nftnl_rule *rule, struct nftnl_expr *expr)
{
	if (!expr)
		return false;
	nftnl_rule_add_expr(rule, expr);
	return true;
}

static bool add_cmp_eq(struct nftnl_rule *rule, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return add_expr(rule, e);
}

/* Network-header address match: load, mask to the prefix (unless whole), compare. */
static bool add_address_match(struct nftnl_rule *rule, const struct kilo_cidr *cidr, bool source)
{
	uint32_t len = (uint32_t)kilo__net_addr_len(cidr->addr.family);
	uint32_t offset = cidr->addr.family == 6 ? IPV6_SADDR_OFFSET : IPV4_SADDR_OFFSET;
	struct kilo_cidr net = kilo_cidr_masked(cidr);
	struct kilo_cidr full = { .addr = { .family = cidr->addr.family }, .prefix = cidr->prefix };
	uint8_t zero[16] = { 0 };
	struct nftnl_expr *e;

	/* Every packet matches a /0, as with iptables -s 0.0.0.0/0. */
	if (cidr->prefix == 0)
		return true;
	e = nftnl_expr_alloc("payload");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, source ? offset : offset + len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	}
	if (!add_expr(rule, e))
		return false;
	if (cidr->prefix < len * 8) {
		/* The mask is the all-ones address masked to the prefix. */
		memset(full.addr.bytes, 0xff, len);
		full = kilo_cidr_masked(&full);
		e = nftnl_expr_alloc("bitwise");
		if (e) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
			nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
			nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
			nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, full.addr.bytes, len);
			nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
		}
		if (!add_expr(rule, e))
			return false;
	}
	return add_cmp_eq(rule, net.addr.bytes, len);
}

/* iptables' -p ipencap: the transport protocol is IPIP, in either family. */
static bool add_ipip_match(struct nftnl_rule *rule)
{
	uint8_t proto = IPPROTO_IPIP_NUMBER;
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	return add_expr(rule, e) && add_cmp_eq(rule, &proto, sizeof(proto));
}

static bool add_verdict(struct nftnl_rule *rule, const struct nat_plan_rule *planned)
{
	static const int codes[] = {
		[NAT_ACCEPT] = NF_ACCEPT,
		[NAT_DROP] = NF_DROP,
		[NAT_RETURN] = NFT_RETURN,
		[NAT_JUMP] = NFT_JUMP,
	};
	struct nftnl_expr *e;

	if (planned->verdict == NAT_MASQUERADE)
		return add_expr(rule, nftnl_expr_alloc("masq"));
	e = nftnl_expr_alloc("immediate");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)codes[planned->verdict]);
		if (planned->verdict == NAT_JUMP)
			nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, planned->jump);
	}
	return add_expr(rule, e);
}

/* The comment as `nft list` shows it: rule userdata holding a NUL-terminated string. */
static bool add_comment(struct nftnl_rule *rule, const char *comment)
{
	struct nftnl_udata_buf *udata;
	bool ok;

	if (!comment)
		return true;
	udata = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	if (!udata)
		return false;
	ok = nftnl_udata_put_strz(udata, NFTNL_UDATA_RULE_COMMENT, comment) &&
	     nftnl_rule_set_data(rule, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(udata),
				 nftnl_udata_buf_len(udata)) == 0;
	nftnl_udata_buf_free(udata);
	return ok;
}

struct nftnl_rule *kilo__nat_rule_build(uint8_t family, const char *chain, const struct nat_plan_rule *planned)
{
	const struct kilo_nat_rule *source = planned->source;
	struct nftnl_rule *rule = nftnl_rule_alloc();
	bool ok;

	if (!rule)
		return NULL;
	nftnl_rule_set_u32(rule, NFTNL_RULE_FAMILY, kilo__net_af(family));
	nftnl_rule_set_str(rule, NFTNL_RULE_TABLE, KILO_NFT_TABLE);
	nftnl_rule_set_str(rule, NFTNL_RULE_CHAIN, chain);
	ok = (!source->ipip || add_ipip_match(rule)) &&
	     (!source->src.addr.family || add_address_match(rule, &source->src, true)) &&
	     (!source->dst.addr.family || add_address_match(rule, &source->dst, false)) &&
	     add_verdict(rule, planned) && add_comment(rule, source->comment);
	if (!ok) {
		nftnl_rule_free(rule);
		return NULL;
	}
	return rule;
}

/* ---- the batch ------------------------------------------------------- */

struct batch {
	char *buf;
	size_t len, cap;
	uint32_t seq;        /* one for every message, so the replies are all the request's */
	size_t last;         /* offset of the last command, which asks for the ack */
	bool failed;
};

/* Room for the next message at the end of the batch; NULL once out of memory. */
static char *batch_room(struct batch *b)
{
	if (b->failed || kilo_array_reserve((void **)&b->buf, &b->cap, b->len + MNL_SOCKET_BUFFER_SIZE, 1) < 0) {
		b->failed = true;
		return NULL;
	}
	return b->buf + b->len;
}

static void batch_commit(struct batch *b, const struct nlmsghdr *nlh, bool command)
{
	if (command)
		b->last = b->len;
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static struct nlmsghdr *batch_command(struct batch *b, uint16_t type, uint8_t family, uint16_t flags)
{
	char *room = batch_room(b);

	return room ? nftnl_nlmsg_build_hdr(room, type, kilo__net_af(family), flags, b->seq) : NULL;
}

static void batch_table(struct batch *b, uint16_t type, uint8_t family, uint16_t flags)
{
	struct nftnl_table *table = nftnl_table_alloc();
	struct nlmsghdr *nlh = table ? batch_command(b, type, family, flags) : NULL;

	if (!nlh) {
		b->failed = true;
	} else {
		nftnl_table_set_str(table, NFTNL_TABLE_NAME, KILO_NFT_TABLE);
		nftnl_table_nlmsg_build_payload(nlh, table);
		batch_commit(b, nlh, true);
	}
	if (table)
		nftnl_table_free(table);
}

/* Deletes the table if it exists: creating it first makes the delete never fail. */
static void batch_drop_table(struct batch *b, uint8_t family)
{
	batch_table(b, NFT_MSG_NEWTABLE, family, NLM_F_CREATE);
	batch_table(b, NFT_MSG_DELTABLE, family, 0);
}

static void batch_chain(struct batch *b, uint8_t family, const struct nat_plan_chain *c)
{
	struct nftnl_chain *chain = nftnl_chain_alloc();
	struct nlmsghdr *nlh = chain ? batch_command(b, NFT_MSG_NEWCHAIN, family, NLM_F_CREATE) : NULL;

	if (!nlh) {
		b->failed = true;
	} else {
		nftnl_chain_set_str(chain, NFTNL_CHAIN_TABLE, KILO_NFT_TABLE);
		nftnl_chain_set_str(chain, NFTNL_CHAIN_NAME, c->name);
		if (c->type) {
			nftnl_chain_set_str(chain, NFTNL_CHAIN_TYPE, c->type);
			nftnl_chain_set_u32(chain, NFTNL_CHAIN_HOOKNUM, c->hook);
			nftnl_chain_set_s32(chain, NFTNL_CHAIN_PRIO, c->priority);
			nftnl_chain_set_u32(chain, NFTNL_CHAIN_POLICY, NF_ACCEPT);
		}
		nftnl_chain_nlmsg_build_payload(nlh, chain);
		batch_commit(b, nlh, true);
	}
	if (chain)
		nftnl_chain_free(chain);
}

static void batch_rule(struct batch *b, uint8_t family, const struct nat_plan_chain *c, const struct nat_plan_rule *r)
{
	struct nftnl_rule *rule = kilo__nat_rule_build(family, c->name, r);
	struct nlmsghdr *nlh = rule ? batch_command(b, NFT_MSG_NEWRULE, family, NLM_F_CREATE | NLM_F_APPEND) : NULL;

	if (!nlh) {
		b->failed = true;
	} else {
		nftnl_rule_nlmsg_build_payload(nlh, rule);
		batch_commit(b, nlh, true);
	}
	if (rule)
		nftnl_rule_free(rule);
}

static void batch_plan_table(struct batch *b, const struct nat_plan_table *t)
{
	if (t->n_chains == 0)
		return;
	batch_table(b, NFT_MSG_NEWTABLE, t->family, NLM_F_CREATE);
	/* Every chain before any rule, so that jumps find their target. */
	for (size_t i = 0; i < t->n_chains; i++)
		batch_chain(b, t->family, &t->chains[i]);
	for (size_t i = 0; i < t->n_chains; i++) {
		for (size_t k = 0; k < t->chains[i].n_rules; k++)
			batch_rule(b, t->family, &t->chains[i], &t->chains[i].rules[k]);
	}
}

static int nf_socket(kilo_net *net, struct kilo_error *err)
{
	if (net->nf.socket)
		return 0;
	return kilo_netlink_open(&net->nf, NETLINK_NETFILTER, err);
}

/* Runs a batch built by fill (between begin and end) as one transaction. */
static int batch_run(kilo_net *net, void (*fill)(struct batch *, const void *), const void *data, const char *what,
		     struct kilo_error *err)
{
	struct batch b = { 0 };
	char *room;
	int size, r = nf_socket(net, err);

	if (r < 0)
		return r;
	b.seq = kilo_netlink_next_seq(&net->nf);
	room = batch_room(&b);
	if (room)
		batch_commit(&b, nftnl_batch_begin(room, b.seq), false);
	fill(&b, data);
	room = batch_room(&b);
	if (room)
		batch_commit(&b, nftnl_batch_end(room, b.seq), false);
	if (b.failed) {
		r = kilo_error_set(err, ENOMEM, "%s: out of memory", what);
		goto out;
	}
	((struct nlmsghdr *)(b.buf + b.last))->nlmsg_flags |= NLM_F_ACK;
	/* The whole batch is one datagram, which must fit in the send buffer. */
	size = (int)b.len + MNL_SOCKET_BUFFER_SIZE;
	if (setsockopt(mnl_socket_get_fd(net->nf.socket), SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(mnl_socket_get_fd(net->nf.socket), SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	r = kilo_netlink_talk(&net->nf, b.buf, b.len, b.seq, NULL, NULL, what, err);
	/* A rejected batch may leave more error replies queued: start the next one on a clean socket. */
	if (r < 0)
		kilo_netlink_close(&net->nf);
out:
	free(b.buf);
	return r;
}

static void fill_apply(struct batch *b, const void *data)
{
	const struct nat_plan *plan = data;

	batch_drop_table(b, 4);
	batch_drop_table(b, 6);
	batch_plan_table(b, &plan->tables[0]);
	batch_plan_table(b, &plan->tables[1]);
}

static void fill_remove(struct batch *b, const void *data)
{
	(void)data;
	batch_drop_table(b, 4);
	batch_drop_table(b, 6);
}

int kilo_net_nat_check(const struct kilo_nat_rule *rules, size_t n, struct kilo_error *err)
{
	struct nat_plan plan;
	int r = kilo__nat_plan_build(rules, n, &plan, err);

	if (r == 0)
		kilo__nat_plan_free(&plan);
	return r;
}

int kilo_net_nat_apply(kilo_net *net, const struct kilo_nat_rule *rules, size_t n, struct kilo_error *err)
{
	struct nat_plan plan;
	int r = kilo__nat_plan_build(rules, n, &plan, err);

	if (r < 0)
		return r;
	r = batch_run(net, fill_apply, &plan, "nftables: replacing the tables " KILO_NFT_TABLE, err);
	kilo__nat_plan_free(&plan);
	return r;
}

int kilo_net_nat_remove(kilo_net *net, struct kilo_error *err)
{
	return batch_run(net, fill_remove, NULL, "nftables: deleting the tables " KILO_NFT_TABLE, err);
}
