/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host networking: links, addresses, routes and ip rules over rtnetlink,
 * and the NAT rule set in nftables. Each sync function makes the part of
 * the host that libkilo owns equal to what is asked and touches nothing
 * else: routes and rules libkilo adds carry the protocol KILO_RTPROT_OWNED.
 */
#ifndef KILO_NET_H
#define KILO_NET_H

#include <kilo/core.h>
#include <kilo/topology.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kilo_net kilo_net;

/* The route and rule protocol that marks what libkilo owns ("kilo" in /etc/iproute2/rt_protos.d). */
#define KILO_RTPROT_OWNED 75

/* The nftables table that holds the NAT rule set, one per family. */
#define KILO_NFT_TABLE "kilo"

/* Opens rtnetlink (and, when first needed, nftables) sockets in the caller's network namespace. */
KILO_EXPORT int kilo_net_open(kilo_net **out, struct kilo_error *err);
KILO_EXPORT void kilo_net_close(kilo_net *net);

/* What a sync changed; a sync with nothing to do leaves every count 0. */
struct kilo_net_changes {
	unsigned added;
	unsigned removed;
	unsigned replaced;
};

/* The index of the link ifname; -ENODEV (named in err) if there is none. */
KILO_EXPORT int kilo_net_link_index(kilo_net *net, const char *ifname, int *ifindex, struct kilo_error *err);

/* The index of the link that holds the address addr; -ENOENT (named in err) if none does. */
KILO_EXPORT int kilo_net_address_link(const struct kilo_addr *addr, int *ifindex, struct kilo_error *err);

/* What WireGuard adds to a packet at most: an IPv6 header (40), UDP (8) and its own (32), as wg-quick counts. */
#define KILO_WG_OVERHEAD 80

/*
 * The MTU that "--mtu auto" gives a WireGuard link, as Kilo's kg does: the
 * MTU of the link the default route leaves by (IPv4's, else IPv6's; of
 * several, the lowest metric) less KILO_WG_OVERHEAD. Without a default
 * route, the link that holds private_ip (may be NULL) is measured instead.
 * -ENETUNREACH (said in err) when there is neither.
 */
KILO_EXPORT int kilo_net_mtu_auto(const struct kilo_addr *private_ip, uint32_t *mtu, struct kilo_error *err);

struct kilo_link_opts {
	size_t sz;
	bool down;    /* set the link down; by default it is set up */
	uint32_t mtu; /* 0: leave it */
};
/* Sets a link up or down and its MTU, only where they differ. opts NULL: up, MTU left. */
KILO_EXPORT int kilo_net_link_set(kilo_net *net, int ifindex, const struct kilo_link_opts *opts,
				  struct kilo_net_changes *changes, struct kilo_error *err);

/* Makes the addresses of ifindex exactly addrs (host bits are the address, prefix the network). */
KILO_EXPORT int kilo_net_addresses_sync(kilo_net *net, int ifindex, const struct kilo_cidr *addrs, size_t n,
					struct kilo_net_changes *changes, struct kilo_error *err);

/*
 * Makes the routes libkilo owns (protocol KILO_RTPROT_OWNED, any table)
 * exactly routes: adds the missing, replaces the changed, deletes the
 * stale, and so restores an owned route that someone deleted. The
 * protocol field of routes is ignored; every route is written as owned.
 */
KILO_EXPORT int kilo_net_routes_sync(kilo_net *net, const struct kilo_route *routes, size_t n,
				     struct kilo_net_changes *changes, struct kilo_error *err);
/* Whether kilo_net_routes_sync would send routes, without touching the host: 0, or -EINVAL naming the route. */
KILO_EXPORT int kilo_net_routes_check(const struct kilo_route *routes, size_t n, struct kilo_error *err);
/* The routes libkilo owns now, in the kernel's order. Free *routes with kilo_free. */
KILO_EXPORT int kilo_net_routes_list(kilo_net *net, struct kilo_route **routes, size_t *n, struct kilo_error *err);

/* The same for ip rules (IPv4 and IPv6 by the family of their addresses). */
KILO_EXPORT int kilo_net_rules_sync(kilo_net *net, const struct kilo_rule *rules, size_t n,
				    struct kilo_net_changes *changes, struct kilo_error *err);
KILO_EXPORT int kilo_net_rules_check(const struct kilo_rule *rules, size_t n, struct kilo_error *err);
KILO_EXPORT int kilo_net_rules_list(kilo_net *net, struct kilo_rule **rules, size_t *n, struct kilo_error *err);

/*
 * Replaces the nftables tables KILO_NFT_TABLE (ip and ip6) with the
 * equivalent of Kilo's rule set in one atomic transaction: all of it
 * applies, or nothing does. Filter rules (forward, IPIP) go in chains of
 * the same tables hooked at forward and input.
 */
KILO_EXPORT int kilo_net_nat_apply(kilo_net *net, const struct kilo_nat_rule *rules, size_t n,
				   struct kilo_error *err);
/*
 * Whether kilo_net_nat_apply could translate rules into nftables, without
 * touching the host: 0, or -EINVAL with err naming the rule it cannot.
 */
KILO_EXPORT int kilo_net_nat_check(const struct kilo_nat_rule *rules, size_t n, struct kilo_error *err);
/* Deletes the KILO_NFT_TABLE tables; 0 if there were none. */
KILO_EXPORT int kilo_net_nat_remove(kilo_net *net, struct kilo_error *err);

/*
 * Creates the IPIP tunnel link name (like `ip tunnel add NAME mode ipip`)
 * if it does not exist and sets *ifindex. -EOPNOTSUPP, with an error that
 * says the kernel has no ipip module, where the kernel cannot make one.
 */
KILO_EXPORT int kilo_net_ipip_create(kilo_net *net, const char *name, int *ifindex, struct kilo_error *err);
/* Deletes a link libkilo made (the WireGuard or IPIP link); 0 if it is gone. */
KILO_EXPORT int kilo_net_link_delete(kilo_net *net, const char *ifname, struct kilo_error *err);

#ifdef __cplusplus
}
#endif

#endif
