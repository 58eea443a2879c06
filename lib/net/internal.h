/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the files of lib/net: the handle, rtnetlink plumbing, and the
 * pure encoders, decoders and the nftables plan that the unit tests check
 * without a kernel.
 */
#ifndef KILO_LIB_NET_INTERNAL_H
#define KILO_LIB_NET_INTERNAL_H

#include <kilo/net.h>

#include "../core/array.h"
#include "../core/netlink.h"

struct kilo_net {
	struct kilo_netlink rt;
	struct kilo_netlink nf; /* nf.socket is NULL until nftables is first needed */
};

/* Room for any one rtnetlink request libkilo builds. */
#define NET_REQUEST_SIZE 1024

/* ---- plumbing (net.c) ------------------------------------------------ */

/*
 * Clears buf (NET_REQUEST_SIZE bytes) and starts a request of type with
 * flags (NLM_F_REQUEST added) and an extra header of hdrlen bytes.
 */
struct nlmsghdr *net_request(void *buf, uint16_t type, uint16_t flags, size_t hdrlen);
/* Sends one request (not a dump) on rtnetlink and waits for its ack, running cb on replies. */
int net_talk(kilo_net *net, struct nlmsghdr *nlh, mnl_cb_t cb, void *data, const char *what,
	     struct kilo_error *err);
/*
 * Dumps type for family (AF_UNSPEC: all), with an extra header of hdrlen
 * bytes. An interrupted dump is retried from scratch a few times, calling
 * reset(data) before each retry.
 */
int net_dump(kilo_net *net, uint16_t type, uint8_t family, size_t hdrlen, mnl_cb_t cb, void (*reset)(void *),
	     void *data, const char *what, struct kilo_error *err);
/* Records the error in local into err, unless err already holds one (kilo_error_set's rule). */
void net_error_pass(struct kilo_error *err, const struct kilo_error *local);

/* AF_INET or AF_INET6 for a kilo family (4, 6); 0 for none. */
uint8_t net_af(uint8_t family);
/* 4 or 6 for AF_INET or AF_INET6; 0 otherwise. */
uint8_t net_family(uint8_t af);
size_t net_addr_len(uint8_t family);
void net_put_addr(struct nlmsghdr *nlh, uint16_t type, const struct kilo_addr *addr);
/* Reads an address of family from attr; false if the length is wrong. */
bool net_get_addr(const struct nlattr *attr, uint8_t family, struct kilo_addr *out);

/* ---- routes (route.c) ------------------------------------------------ */

/* A route as the kernel holds it: table 0 normalised to main, dst masked, and its metric. */
struct net_route {
	struct kilo_route route;
	uint32_t metric;
};

void net_route_normalise(const struct kilo_route *in, struct net_route *out);
/* Same (family, table, dst, gw, src, oif, onlink): nothing to change. */
bool net_route_same(const struct net_route *a, const struct net_route *b);
/* Same (family, table, dst): the kernel would replace one by the other. */
bool net_route_same_slot(const struct net_route *a, const struct net_route *b);
/* Builds RTM_NEWROUTE or RTM_DELROUTE for r, written as owned. */
struct nlmsghdr *net_route_message(void *buf, uint16_t type, uint16_t flags, const struct net_route *r);
/* Decodes a route message; 1 if it is an owned unicast IPv4/IPv6 route, 0 to skip it. */
int net_route_parse(const struct nlmsghdr *nlh, struct net_route *out);
/* "10.1.0.0/24 via 10.9.0.2 dev 3 table 1107" for error messages. */
void net_route_describe(const struct kilo_route *r, char *out, size_t size);

/* ---- rules (rule.c) -------------------------------------------------- */

struct net_rule {
	struct kilo_rule rule;
	uint8_t family;    /* 4 or 6 */
	uint32_t priority; /* the kernel's choice, used to delete exactly this rule */
};

void net_rule_normalise(const struct kilo_rule *in, struct net_rule *out);
bool net_rule_same(const struct net_rule *a, const struct net_rule *b);
struct nlmsghdr *net_rule_message(void *buf, uint16_t type, uint16_t flags, const struct net_rule *r);
int net_rule_parse(const struct nlmsghdr *nlh, struct net_rule *out);

/* ---- addresses (addr.c) ---------------------------------------------- */

struct nlmsghdr *net_address_message(void *buf, uint16_t type, uint16_t flags, int ifindex,
				     const struct kilo_cidr *addr);

/* ---- nftables plan (nat_plan.c) -------------------------------------- */

enum nat_verdict {
	NAT_ACCEPT,
	NAT_DROP,
	NAT_RETURN,
	NAT_MASQUERADE,
	NAT_JUMP,
};

struct nat_plan_rule {
	const struct kilo_nat_rule *source; /* matches, comment */
	enum nat_verdict verdict;
	const char *jump; /* nftables name of the target chain, for NAT_JUMP */
};

struct nat_plan_chain {
	const char *name;  /* the nftables chain name */
	const char *table; /* the iptables table it stands for: "nat" or "filter" */
	const char *type;  /* base chains: "nat" or "filter"; NULL for a regular chain */
	uint32_t hook;     /* NF_INET_* of a base chain */
	int32_t priority;
	struct nat_plan_rule *rules;
	size_t n_rules, cap_rules;
};

/* One nftables table (family 4 or 6): its chains in creation order, each with its effective rule order. */
struct nat_plan_table {
	uint8_t family;
	struct nat_plan_chain *chains;
	size_t n_chains, cap_chains;
};

struct nat_plan {
	struct nat_plan_table tables[2]; /* ip, then ip6 */
};

/*
 * Translates Kilo's rule lists into the chains of one table per family:
 * in every chain the prepend rules, the last inserted first as Kilo's
 * insertion at position 1 leaves them, then the append rules in order.
 * Rejects (naming the rule) chains and targets it cannot translate.
 */
int nat_plan_build(const struct kilo_nat_rule *rules, size_t n, struct nat_plan *plan, struct kilo_error *err);
void nat_plan_free(struct nat_plan *plan);

/* ---- nftables messages (nat.c) --------------------------------------- */

struct nftnl_rule;
/* The nftables rule for one planned rule of chain in the table of family. */
struct nftnl_rule *nat_rule_build(uint8_t family, const char *chain, const struct nat_plan_rule *rule);

#endif
