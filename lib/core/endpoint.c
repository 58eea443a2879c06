/* SPDX-License-Identifier: Apache-2.0 */
/* WireGuard endpoints: "ip:port", "[ipv6]:port" or "dns-name:port". */
#include <kilo/core.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 1123 subdomain, as Kubernetes validates it: lower case labels. */
static bool is_dns_subdomain(const char *name, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > KILO_DNS_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (c == '.') {
			if (label == 0 || name[i - 1] == '-')
				return false;
			label = 0;
		} else if (alnum || (c == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
	}
	return name[len - 1] != '-' && name[len - 1] != '.';
}

/* Splits like Go's net.SplitHostPort: brackets are required around a host with colons. */
static int split_host_port(const char *text, char *host, size_t host_size, const char **port)
{
	const char *colon = strrchr(text, ':');
	const char *start = text, *end;

	if (!colon)
		return -EINVAL;
	end = colon;
	if (text[0] == '[') {
		end = strchr(text, ']');
		if (!end || end + 1 != colon)
			return -EINVAL;
		start = text + 1;
	} else if (memchr(text, ':', (size_t)(colon - text)) || memchr(text, '[', (size_t)(colon - text)) ||
		   memchr(text, ']', (size_t)(colon - text))) {
		return -EINVAL;
	}
	if ((size_t)(end - start) >= host_size)
		return -EINVAL;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	*port = colon + 1;
	return 0;
}

int kilo_endpoint_parse(const char *text, struct kilo_endpoint *out)
{
	struct kilo_endpoint ep = { 0 };
	char host[KILO_DNS_NAME_MAX + 2];
	const char *port_text;
	unsigned long port;
	char *end;

	if (!text || !*text || split_host_port(text, host, sizeof(host), &port_text) < 0)
		return -EINVAL;
	if (*port_text < '0' || *port_text > '9' || strlen(port_text) > 5)
		return -EINVAL;
	port = strtoul(port_text, &end, 10);
	if (*end != '\0' || port == 0 || port > 65535)
		return -EINVAL;
	ep.port = (uint16_t)port;
	if (kilo_addr_parse(host, &ep.addr) < 0) {
		if (!is_dns_subdomain(host, strlen(host)))
			return -EINVAL;
		memcpy(ep.dns, host, strlen(host) + 1);
	}
	*out = ep;
	return 0;
}

void kilo_endpoint_format(const struct kilo_endpoint *ep, char out[KILO_ENDPOINT_STRLEN])
{
	char ip[KILO_ADDR_STRLEN];

	if (ep->dns[0]) {
		snprintf(out, KILO_ENDPOINT_STRLEN, "%s:%u", ep->dns, ep->port);
	} else if (ep->addr.family == 6) {
		kilo_addr_format(&ep->addr, ip);
		/* A v4-mapped address prints as IPv4 and needs no brackets. */
		snprintf(out, KILO_ENDPOINT_STRLEN, strchr(ip, ':') ? "[%s]:%u" : "%s:%u", ip, ep->port);
	} else if (ep->addr.family == 4) {
		kilo_addr_format(&ep->addr, ip);
		snprintf(out, KILO_ENDPOINT_STRLEN, "%s:%u", ip, ep->port);
	} else {
		out[0] = '\0';
	}
}

bool kilo_endpoint_is_set(const struct kilo_endpoint *ep)
{
	return ep->addr.family != 0 || ep->dns[0] != '\0' || ep->port != 0;
}

bool kilo_endpoint_ready(const struct kilo_endpoint *ep)
{
	return (ep->addr.family != 0 && ep->port > 0) || ep->dns[0] != '\0';
}

bool kilo_endpoint_equal(const struct kilo_endpoint *a, const struct kilo_endpoint *b)
{
	/* Kilo compares resolved endpoints by address: a resolved DNS name equals its IP. */
	if (a->addr.family != 0 || b->addr.family != 0)
		return a->port == b->port && kilo_addr_equal(&a->addr, &b->addr);
	return a->port == b->port && strcmp(a->dns, b->dns) == 0;
}
