/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/net against the running kernel. Every test unshares a fresh network
 * namespace, so nothing of the host is seen or touched, and the namespace
 * dies with the process. Needs root, iproute2 and nft; skips (77) without.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../netns_test.h"

#include <kilo/net.h>

#define LINK "kt-net0"
#define PEER "kt-net1"

struct fixture {
	kilo_net *net;
	int ifindex;
	int peer_ifindex;
};

/* The output of a command, at most 16 KiB. Free with free. */
static char *output(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *output(const char *fmt, ...)
{
	char cmd[512], *buf = calloc(1, 16384);
	size_t n = 0, r;
	va_list ap;
	FILE *p;

	assert_non_null(buf);
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (n < 16383 && (r = fread(buf + n, 1, 16383 - n, p)) > 0)
		n += r;
	pclose(p);
	return buf;
}

static struct kilo_cidr cidr(const char *text)
{
	struct kilo_cidr c;

	assert_int_equal(kilo_cidr_parse(text, &c, NULL), 0);
	return c;
}

static struct kilo_addr addr(const char *text)
{
	struct kilo_addr a;

	assert_int_equal(kilo_addr_parse(text, &a, NULL), 0);
	return a;
}

static int setup(void **state)
{
	struct kilo_error err = { 0 };
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || unshare(CLONE_NEWNET) < 0)
		return -1;
	sh("ip link set lo up");
	sh("ip link add " LINK " type veth peer name " PEER);
	sh("ip link set " LINK " up");
	sh("ip addr add 10.9.0.1/24 dev " LINK);
	sh("ip addr add fd00:9::1/64 dev " LINK " nodad");
	assert_int_equal(kilo_net_open(&f->net, &err), 0);
	assert_int_equal(kilo_net_link_index(f->net, LINK, &f->ifindex, &err), 0);
	assert_int_equal(kilo_net_link_index(f->net, PEER, &f->peer_ifindex, &err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	kilo_net_close(f->net);
	free(f);
	return 0;
}

/* ---- links and addresses --------------------------------------------- */

static void test_link_index_names_a_missing_link(void **state)
{
	struct fixture *f = *state;
	struct kilo_error err = { 0 };
	int ifindex = 0;

	assert_int_equal(kilo_net_link_index(f->net, "kt-missing", &ifindex, &err), -ENODEV);
	assert_non_null(strstr(err.message, "kt-missing"));
}

static void test_link_set_changes_only_what_differs(void **state)
{
	struct fixture *f = *state;
	struct kilo_link_opts opts = { .sz = sizeof(opts), .mtu = 1400 };
	struct kilo_net_changes changes = { 0 };
	struct kilo_error err = { 0 };
	char *text;

	assert_int_equal(kilo_net_link_set(f->net, f->peer_ifindex, &opts, &changes, &err), 0);
	assert_int_equal(changes.replaced, 1);
	text = output("ip link show " PEER);
	assert_non_null(strstr(text, "mtu 1400"));
	assert_non_null(strstr(text, ",UP"));
	free(text);
	changes.replaced = 0;
	assert_int_equal(kilo_net_link_set(f->net, f->peer_ifindex, &opts, &changes, &err), 0);
	assert_int_equal(changes.replaced, 0);
}

static void test_addresses_sync_makes_exactly_the_set(void **state)
{
	struct fixture *f = *state;
	struct kilo_cidr want[] = { cidr("10.4.0.1/16"), cidr("fd00:4::1/64") };
	struct kilo_cidr next[] = { cidr("10.4.0.2/16") };
	struct kilo_net_changes changes = { 0 };
	struct kilo_error err = { 0 };
	char *text;

	sh("ip addr add 192.168.77.1/24 dev " PEER);
	assert_int_equal(kilo_net_addresses_sync(f->net, f->peer_ifindex, want, 2, &changes, &err), 0);
	assert_int_equal(changes.added, 2);
	assert_int_equal(changes.removed, 1);
	memset(&changes, 0, sizeof(changes));
	assert_int_equal(kilo_net_addresses_sync(f->net, f->peer_ifindex, want, 2, &changes, &err), 0);
	assert_int_equal(changes.added + changes.removed + changes.replaced, 0);
	assert_int_equal(kilo_net_addresses_sync(f->net, f->peer_ifindex, next, 1, &changes, &err), 0);
	assert_int_equal(changes.added, 1);
	assert_int_equal(changes.removed, 2);
	text = output("ip -o addr show dev " PEER " scope global");
	assert_non_null(strstr(text, "10.4.0.2/16"));
	assert_null(strstr(text, "10.4.0.1/"));
	assert_null(strstr(text, "fd00:4::1"));
	free(text);
}

/* ---- routes ------------------------------------------------------------ */

static void make_routes(const struct fixture *f, struct kilo_route routes[5])
{
	memset(routes, 0, 5 * sizeof(*routes));
	routes[0] = (struct kilo_route){ .dst = cidr("10.8.0.0/24"), .gw = addr("10.9.0.2"), .ifindex = f->ifindex,
					 .onlink = true };
	routes[1] = (struct kilo_route){ .dst = cidr("10.7.0.0/24"), .gw = addr("10.9.0.2"), .src = addr("10.9.0.1"),
					 .ifindex = f->ifindex, .table = 1107, .onlink = true };
	routes[2] = (struct kilo_route){ .dst = cidr("10.6.0.5/32"), .src = addr("10.9.0.1"), .ifindex = f->ifindex };
	routes[3] = (struct kilo_route){ .dst = cidr("fd00:8::/64"), .gw = addr("fd00:9::2"), .ifindex = f->ifindex,
					 .table = 1107, .onlink = true };
	/* The same destination in another table: a different route here, unlike in Kilo. */
	routes[4] = (struct kilo_route){ .dst = cidr("10.8.0.0/24"), .gw = addr("10.9.0.3"), .ifindex = f->ifindex,
					 .table = 1107 };
}

static bool listed(const struct kilo_route *list, size_t n, const struct kilo_route *r)
{
	for (size_t i = 0; i < n; i++) {
		if (kilo_cidr_equal(&list[i].dst, &r->dst) && kilo_addr_equal(&list[i].gw, &r->gw) &&
		    kilo_addr_equal(&list[i].src, &r->src) && list[i].ifindex == r->ifindex &&
		    list[i].table == r->table && list[i].onlink == r->onlink)
			return true;
	}
	return false;
}

static void test_routes_sync_converges_and_lists_back(void **state)
{
	struct fixture *f = *state;
	struct kilo_net_changes changes = { 0 };
	struct kilo_error err = { 0 };
	struct kilo_route want[5], *live;
	size_t n;

	make_routes(f, want);
	assert_int_equal(kilo_net_routes_sync(f->net, want, 5, &changes, &err), 0);
	assert_int_equal(changes.added, 5);
	assert_int_equal(kilo_net_routes_list(f->net, &live, &n, &err), 0);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < 5; i++)
		assert_true(listed(live, n, &want[i]));
	kilo_free(live);
	memset(&changes, 0, sizeof(changes));
	assert_int_equal(kilo_net_routes_sync(f->net, want, 5, &changes, &err), 0);
	assert_int_equal(changes.added + changes.removed + changes.replaced, 0);
}

static void test_routes_sync_restores_a_deleted_route_and_spares_foreign_ones(void **state)
{
	struct fixture *f = *state;
	struct kilo_net_changes changes = { 0 };
	struct kilo_error err = { 0 };
	struct kilo_route want[5];
	char *text;

	make_routes(f, want);
	sh("ip route add 10.5.0.0/24 via 10.9.0.2 dev " LINK " proto static");
	assert_int_equal(kilo_net_routes_sync(f->net, want, 5, &changes, &err), 0);
	sh("ip route del 10.7.0.0/24 table 1107");
	memset(&changes, 0, sizeof(changes));
	assert_int_equal(kilo_net_routes_sync(f->net, want, 5, &changes, &err), 0);
	assert_int_equal(changes.added, 1);
	assert_int_equal(changes.removed + changes.replaced, 0);
	text = output("ip route show table 1107 10.7.0.0/24");
	assert_non_null(strstr(text, "via 10.9.0.2 dev " LINK " proto 75 src 10.9.0.1 onlink"));
	free(text);
	/* A new gateway replaces the route in place; a route left out is deleted. */
	want[0].gw = addr("10.9.0.4");
	memset(&changes, 0, sizeof(changes));
	assert_int_equal(kilo_net_routes_sync(f->net, want, 4, &changes, &err), 0);
	assert_int_equal(changes.replaced, 1);
	assert_int_equal(changes.removed, 1);
	assert_int_equal(changes.added, 0);
	memset(&changes, 0, sizeof(changes));
	assert_int_equal(kilo_net_routes_sync(f->net, NULL, 0, &changes, &err), 0);
	assert_int_equal(changes.removed, 4);
	text = output("ip route show table all proto 75");
	assert_string_equal(text, "");
	free(text);
	text = output("ip route show 10.5.0.0/24");
	assert_non_null(strstr(text, "proto static"));
	free(text);
}

/* A leader of a big mesh has tens of thousands of routes: each is matched once, repeats are sent once. */
static void test_routes_sync_of_thousands_matches_each_route_once(void **state)
{
	enum { N = 4000 };
	struct fixture *f = *state;
	struct kilo_net_changes changes = { 0 };
	struct kilo_error err = { 0 };
	struct kilo_route *want = calloc(N + 2, sizeof(*want));

	assert_non_null(want);
	for (size_t i = 0; i < N; i++) {
		want[i].dst.addr.family = 4;
		want[i].dst.addr.bytes[0] = 10;
		want[i].dst.addr.bytes[1] = 64;
		want[i].dst.addr.bytes[2] = (uint8_t)(i / 250);
		want[i].dst.addr.bytes[3] = (uint8_t)(i % 250 + 1);
		want[i].dst.prefix = 32;
		want[i].gw = addr(i % 2 ? "10.9.0.2" : "10.9.0.3");
		want[i].ifindex = f->ifindex;
		want[i].onlink = true;
	}
	want[N] = want[7];
	want[N + 1] = want[N - 1];
	assert_int_equal(kilo_net_routes_sync(f->net, want, N + 2, &changes, &err), 0);
	assert_int_equal(changes.added, N);
	memset(&changes, 0, sizeof(changes));
	assert_int_equal(kilo_net_routes_sync(f->net, want, N + 2, &changes, &err), 0);
	assert_int_equal(changes.added + changes.removed + changes.replaced, 0);
	/* Every other route moves to the other gateway, in place; the last 1000 go. */
	for (size_t i = 0; i < N; i += 2)
		want[i].gw = addr("10.9.0.2");
	memset(&changes, 0, sizeof(changes));
	assert_int_equal(kilo_net_routes_sync(f->net, want, N - 1000, &changes, &err), 0);
	assert_int_equal(changes.replaced, (N - 1000) / 2);
	assert_int_equal(changes.added, 0);
	assert_int_equal(changes.removed, 1000);
	assert_int_equal(kilo_net_routes_sync(f->net, NULL, 0, NULL, &err), 0);
	free(want);
}

static void test_routes_sync_names_the_route_the_kernel_rejects(void **state)
{
	struct fixture *f = *state;
	struct kilo_route bad = { .dst = cidr("10.3.0.0/24"), .src = addr("10.99.0.1"), .ifindex = f->ifindex };
	struct kilo_error err = { 0 };

	assert_true(kilo_net_routes_sync(f->net, &bad, 1, NULL, &err) < 0);
	assert_non_null(strstr(err.message, "routes[0]"));
	assert_non_null(strstr(err.message, "10.3.0.0/24"));
}

/* ---- rules ------------------------------------------------------------- */

static void test_rules_sync_converges_restores_and_spares_foreign_ones(void **state)
{
	struct fixture *f = *state;
	struct kilo_rule want[3] = {
		{ .src = cidr("10.2.1.0/24"), .table = 1107 },
		{ .dst = cidr("10.9.0.5/32"), .table = 1107, .iif = PEER },
		{ .src = cidr("fd00:2::/64"), .table = 1107 },
	};
	struct kilo_net_changes changes = { 0 };
	struct kilo_error err = { 0 };
	struct kilo_rule *live;
	size_t n;
	char *text;

	sh("ip rule add from 10.3.0.0/24 table 100");
	assert_int_equal(kilo_net_rules_sync(f->net, want, 3, &changes, &err), 0);
	assert_int_equal(changes.added, 3);
	assert_int_equal(kilo_net_rules_list(f->net, &live, &n, &err), 0);
	assert_int_equal(n, 3);
	kilo_free(live);
	memset(&changes, 0, sizeof(changes));
	assert_int_equal(kilo_net_rules_sync(f->net, want, 3, &changes, &err), 0);
	assert_int_equal(changes.added + changes.removed, 0);
	sh("ip rule del from 10.2.1.0/24 table 1107");
	assert_int_equal(kilo_net_rules_sync(f->net, want, 3, &changes, &err), 0);
	assert_int_equal(changes.added, 1);
	text = output("ip rule show");
	assert_non_null(strstr(text, "from 10.2.1.0/24 lookup 1107 proto 75"));
	assert_non_null(strstr(text, "from all to 10.9.0.5 iif " PEER " lookup 1107 proto 75"));
	free(text);
	memset(&changes, 0, sizeof(changes));
	assert_int_equal(kilo_net_rules_sync(f->net, NULL, 0, &changes, &err), 0);
	assert_int_equal(changes.removed, 3);
	text = output("ip rule show; ip -6 rule show");
	assert_null(strstr(text, "proto 75"));
	assert_non_null(strstr(text, "from 10.3.0.0/24 lookup 100"));
	free(text);
}

/* ---- nftables ---------------------------------------------------------- */

#define RULE(l, fam, tbl, ch, s, d, com, tgt) \
	{ .kind = KILO_NAT_RULE, .list = (l), .family = (fam), .table = (tbl), .chain = (ch), .src = s, .dst = d, \
	  .comment = (com), .target = (tgt) }
#define CHAIN(fam, tbl, ch) { .kind = KILO_NAT_CHAIN, .family = (fam), .table = (tbl), .chain = (ch) }
#define NONE { { 0 }, 0 }

static size_t kilo_rules(struct kilo_nat_rule *out)
{
	struct kilo_nat_rule rules[] = {
		CHAIN(4, "filter", "KILO-IPIP"),
		{ .kind = KILO_NAT_RULE, .family = 4, .table = "filter", .chain = "INPUT", .ipip = true,
		  .comment = "Kilo: jump to IPIP chain", .target = "KILO-IPIP" },
		{ .kind = KILO_NAT_RULE, .family = 4, .table = "filter", .chain = "INPUT", .ipip = true,
		  .comment = "Kilo: reject other IPIP traffic", .target = "DROP" },
		CHAIN(4, "nat", "KILO-NAT"),
		CHAIN(6, "nat", "KILO-NAT"),
		RULE(KILO_NAT_APPEND, 4, "nat", "KILO-NAT", NONE, cidr("10.96.0.0/12"),
		     "Kilo: do not NAT packets destined for service CIDRs", "RETURN"),
		RULE(KILO_NAT_APPEND, 4, "nat", "KILO-NAT", NONE, NONE, "Kilo: NAT remaining packets", "MASQUERADE"),
		RULE(KILO_NAT_APPEND, 6, "nat", "KILO-NAT", NONE, NONE, "Kilo: NAT remaining packets", "MASQUERADE"),
		RULE(KILO_NAT_PREPEND, 4, "filter", "KILO-IPIP", cidr("192.168.0.2/32"), NONE, "Kilo: allow IPIP traffic",
		     "ACCEPT"),
		RULE(KILO_NAT_PREPEND, 4, "nat", "POSTROUTING", cidr("10.2.1.0/24"), NONE, "Kilo: jump to KILO-NAT chain",
		     "KILO-NAT"),
		RULE(KILO_NAT_PREPEND, 4, "filter", "FORWARD", cidr("10.2.1.0/24"), NONE,
		     "Kilo: forward packets from the pod subnet", "ACCEPT"),
		RULE(KILO_NAT_PREPEND, 4, "nat", "KILO-NAT", NONE, cidr("10.4.0.1/32"),
		     "Kilo: do not NAT packets destined for WireGuared IPs", "RETURN"),
		RULE(KILO_NAT_PREPEND, 4, "nat", "KILO-NAT", NONE, cidr("10.2.2.0/24"),
		     "Kilo: do not NAT packets destined for known IPs", "RETURN"),
		RULE(KILO_NAT_PREPEND, 6, "nat", "KILO-NAT", NONE, cidr("fd00:5::/64"),
		     "Kilo: do not NAT packets destined for peers", "RETURN"),
	};

	memcpy(out, rules, sizeof(rules));
	return sizeof(rules) / sizeof(rules[0]);
}

/* Asserts that the needles appear in text in this order. */
static void assert_in_order(const char *text, const char *const *needles, size_t n)
{
	const char *at = text;

	for (size_t i = 0; i < n; i++) {
		const char *found = strstr(at, needles[i]);

		if (!found)
			fail_msg("\"%s\" missing or out of order in:\n%s", needles[i], text);
		at = found + strlen(needles[i]);
	}
}

static void test_nat_apply_writes_kilo_order_with_comments(void **state)
{
	static const char *const nat_order[] = {
		"chain KILO-NAT",
		"ip daddr 10.2.2.0/24 return comment \"Kilo: do not NAT packets destined for known IPs\"",
		"ip daddr 10.4.0.1 return comment \"Kilo: do not NAT packets destined for WireGuared IPs\"",
		"ip daddr 10.96.0.0/12 return comment \"Kilo: do not NAT packets destined for service CIDRs\"",
		"masquerade comment \"Kilo: NAT remaining packets\"",
	};
	static const char *const input_order[] = {
		"chain input",
		"type filter hook input priority filter; policy accept;",
		"jump KILO-IPIP comment \"Kilo: jump to IPIP chain\"",
		"drop comment \"Kilo: reject other IPIP traffic\"",
	};
	struct fixture *f = *state;
	struct kilo_nat_rule rules[32];
	struct kilo_error err = { 0 };
	size_t n = kilo_rules(rules);
	char *text;

	assert_int_equal(kilo_net_nat_apply(f->net, rules, n, &err), 0);
	text = output("nft list table ip " KILO_NFT_TABLE);
	assert_in_order(text, nat_order, 5);
	assert_in_order(text, input_order, 4);
	assert_non_null(strstr(text, "type nat hook postrouting priority srcnat; policy accept;"));
	assert_non_null(strstr(text, "ip saddr 10.2.1.0/24 jump KILO-NAT comment \"Kilo: jump to KILO-NAT chain\""));
	assert_non_null(strstr(text, "ip saddr 192.168.0.2 accept comment \"Kilo: allow IPIP traffic\""));
	assert_non_null(strstr(text, "ip saddr 10.2.1.0/24 accept comment \"Kilo: forward packets from the pod subnet\""));
	free(text);
	text = output("nft list table ip6 " KILO_NFT_TABLE);
	assert_non_null(strstr(text, "ip6 daddr fd00:5::/64 return comment \"Kilo: do not NAT packets destined for peers\""));
	free(text);
}

static void test_nat_apply_replaces_atomically_and_a_rejected_batch_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct kilo_nat_rule rules[32];
	struct kilo_nat_rule bad[] = {
		CHAIN(4, "nat", "KILO-NAT"),
		RULE(KILO_NAT_APPEND, 4, "nat", "KILO-NAT", NONE, NONE, "Kilo: NAT remaining packets", "MASQUERADE"),
		/* nftables masquerades only in nat chains: the kernel refuses the whole batch. */
		RULE(KILO_NAT_APPEND, 4, "filter", "FORWARD", NONE, NONE, "wrong", "MASQUERADE"),
	};
	struct kilo_error err = { 0 };
	size_t n = kilo_rules(rules);
	char *before, *after;

	assert_int_equal(kilo_net_nat_apply(f->net, rules, n, &err), 0);
	/* Re-applying leaves one table with one copy of each rule. */
	assert_int_equal(kilo_net_nat_apply(f->net, rules, n, &err), 0);
	before = output("nft list table ip " KILO_NFT_TABLE "; nft list table ip6 " KILO_NFT_TABLE);
	assert_non_null(strstr(before, "known IPs"));
	assert_null(strstr(strstr(before, "known IPs") + 1, "known IPs"));
	assert_true(kilo_net_nat_apply(f->net, bad, 3, &err) < 0);
	assert_non_null(strstr(err.message, "nftables"));
	after = output("nft list table ip " KILO_NFT_TABLE "; nft list table ip6 " KILO_NFT_TABLE);
	assert_string_equal(before, after);
	free(before);
	free(after);
	/* The socket is usable again after the rejected batch. */
	assert_int_equal(kilo_net_nat_apply(f->net, bad, 2, &err), 0);
	after = output("nft list table ip " KILO_NFT_TABLE);
	assert_null(strstr(after, "known IPs"));
	free(after);
}

static void test_nat_remove_deletes_the_tables(void **state)
{
	struct fixture *f = *state;
	struct kilo_nat_rule rules[32];
	struct kilo_error err = { 0 };
	size_t n = kilo_rules(rules);
	char *text;

	sh("nft add table ip other");
	assert_int_equal(kilo_net_nat_apply(f->net, rules, n, &err), 0);
	assert_int_equal(kilo_net_nat_remove(f->net, &err), 0);
	text = output("nft list tables");
	assert_null(strstr(text, KILO_NFT_TABLE));
	assert_non_null(strstr(text, "table ip other"));
	free(text);
	assert_int_equal(kilo_net_nat_remove(f->net, &err), 0);
}

/* ---- tunnels and link deletion ---------------------------------------- */

static void test_ipip_create_works_or_says_the_module_is_missing(void **state)
{
	struct fixture *f = *state;
	struct kilo_error err = { 0 };
	int ifindex = 0, again = 0;
	int r = kilo_net_ipip_create(f->net, "kt-tunl", &ifindex, &err);

	if (r == -EOPNOTSUPP) {
		assert_non_null(strstr(err.message, "no ipip support (module ipip)"));
		return;
	}
	assert_int_equal(r, 0);
	assert_true(ifindex > 0);
	assert_int_equal(kilo_net_ipip_create(f->net, "kt-tunl", &again, &err), 0);
	assert_int_equal(again, ifindex);
	assert_int_equal(kilo_net_link_delete(f->net, "kt-tunl", &err), 0);
}

static void test_link_delete_is_quiet_about_a_missing_link(void **state)
{
	struct fixture *f = *state;
	struct kilo_error err = { 0 };
	int ifindex;

	assert_int_equal(kilo_net_link_delete(f->net, PEER, &err), 0);
	assert_int_equal(kilo_net_link_index(f->net, PEER, &ifindex, NULL), -ENODEV);
	assert_int_equal(kilo_net_link_delete(f->net, PEER, &err), 0);
	assert_int_equal(err.code, 0);
}

#define NS_TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		NS_TEST(test_link_index_names_a_missing_link),
		NS_TEST(test_link_set_changes_only_what_differs),
		NS_TEST(test_addresses_sync_makes_exactly_the_set),
		NS_TEST(test_routes_sync_converges_and_lists_back),
		NS_TEST(test_routes_sync_restores_a_deleted_route_and_spares_foreign_ones),
		NS_TEST(test_routes_sync_of_thousands_matches_each_route_once),
		NS_TEST(test_routes_sync_names_the_route_the_kernel_rejects),
		NS_TEST(test_rules_sync_converges_restores_and_spares_foreign_ones),
		NS_TEST(test_nat_apply_writes_kilo_order_with_comments),
		NS_TEST(test_nat_apply_replaces_atomically_and_a_rejected_batch_changes_nothing),
		NS_TEST(test_nat_remove_deletes_the_tables),
		NS_TEST(test_ipip_create_works_or_says_the_module_is_missing),
		NS_TEST(test_link_delete_is_quiet_about_a_missing_link),
	};

	static const char *const programs[] = { "ip", "nft", NULL };
	int skip = netns_test_enter(programs);

	if (skip)
		return skip;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
