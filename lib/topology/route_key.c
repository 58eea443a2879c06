/* SPDX-License-Identifier: Apache-2.0 */
/* Kilo's identity strings of routes and rules (routeToString and ruleToString of its reconciler). */
#include <kilo/topology.h>

#include <stdio.h>

/* Go's net.IP.String() of a field that may be nil: Kilo writes "-" for nil. */
static const char *addr_or_dash(const struct kilo_addr *addr, char out[KILO_ADDR_STRLEN])
{
	if (!addr->family)
		return "-";
	kilo_addr_format(addr, out);
	return out;
}

static const char *cidr_or_dash(const struct kilo_cidr *cidr, char out[KILO_CIDR_STRLEN])
{
	if (!cidr->addr.family)
		return "-";
	kilo_cidr_format(cidr, out);
	return out;
}

void kilo_route_key(const struct kilo_route *route, char out[KILO_ROUTE_KEY_STRLEN])
{
	char dst[KILO_CIDR_STRLEN], gw[KILO_ADDR_STRLEN], src[KILO_ADDR_STRLEN];

	out[0] = '\0';
	if (!route->dst.addr.family)
		return;
	kilo_cidr_format(&route->dst, dst);
	snprintf(out, KILO_ROUTE_KEY_STRLEN, "dst: %s, via: %s, src: %s, dev: %d", dst, addr_or_dash(&route->gw, gw),
		 addr_or_dash(&route->src, src), route->ifindex);
}

void kilo_rule_key(const struct kilo_rule *rule, char out[KILO_ROUTE_KEY_STRLEN])
{
	char src[KILO_CIDR_STRLEN], dst[KILO_CIDR_STRLEN];

	out[0] = '\0';
	if (!rule->src.addr.family && !rule->dst.addr.family)
		return;
	snprintf(out, KILO_ROUTE_KEY_STRLEN, "src: %s, dst: %s, table: %u, input: %s", cidr_or_dash(&rule->src, src),
		 cidr_or_dash(&rule->dst, dst), rule->table, rule->iif);
}
