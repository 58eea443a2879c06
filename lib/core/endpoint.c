/* SPDX-License-Identifier: Apache-2.0 */
/* WireGuard endpoints: "ip:port", "[ipv6]:port" or "dns-name:port". */
#include <kilo/core.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "dnsname.h"
#include "error.h"

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

int kilo_endpoint_parse(const char *text, struct kilo_endpoint *out, struct kilo_error *err)
{
	struct kilo_endpoint ep = { 0 };
	char host[KILO_DNS_NAME_MAX + 2];
	const char *port_text;
	unsigned long port;
	char *end;
	int r;

	if (!text || !*text)
		return kilo_error_set(err, EINVAL, "endpoint: none given");
	if (split_host_port(text, host, sizeof(host), &port_text) < 0)
		return kilo_error_set(err, EINVAL, "endpoint \"%s\": not host:port (ip:port, [ipv6]:port or name:port)",
				      text);
	port = strtoul(port_text, &end, 10);
	if (*port_text < '0' || *port_text > '9' || strlen(port_text) > 5 || *end != '\0' || port == 0 || port > 65535)
		return kilo_error_set(err, EINVAL, "endpoint \"%s\": port \"%s\" is not a number from 1 to 65535", text,
				      port_text);
	ep.port = (uint16_t)port;
	r = kilo_addr_parse(host, &ep.addr, NULL);
	if (r == -EAFNOSUPPORT)
		return kilo_error_set(err, -r, "endpoint \"%s\": \"%s\" is %s", text, host, kilo_addr_refusal(r, ""));
	if (r < 0) {
		if (!kilo_dns_subdomain_valid(host, strlen(host)))
			return kilo_error_set(err, EINVAL, "endpoint \"%s\": \"%s\" is neither an IP address nor a DNS name",
					      text, host);
		memcpy(ep.dns, host, strlen(host) + 1);
	}
	*out = ep;
	return 0;
}

void kilo_endpoint_format(const struct kilo_endpoint *ep, char out[KILO_ENDPOINT_STRLEN])
{
	size_t len;

	if (ep->dns[0]) {
		len = strlen(ep->dns);
		memcpy(out, ep->dns, len);
	} else if (ep->addr.family != 0) {
		kilo_addr_format(&ep->addr, out + 1);
		len = strlen(out + 1);
		/* An IPv6 address needs brackets; a v4-mapped one (from the kernel) prints as IPv4 and does not. */
		if (memchr(out + 1, ':', len)) {
			out[0] = '[';
			out[++len] = ']';
			len++;
		} else {
			memmove(out, out + 1, len);
		}
	} else {
		out[0] = '\0';
		return;
	}
	out[len++] = ':';
	out[len + kilo_put_decimal(out + len, ep->port)] = '\0';
}

bool kilo_endpoint_is_set(const struct kilo_endpoint *ep)
{
	return ep->addr.family != 0 || ep->dns[0] != '\0' || ep->port != 0;
}

bool kilo_endpoint_ready(const struct kilo_endpoint *ep)
{
	return (ep->addr.family != 0 && ep->port > 0) || ep->dns[0] != '\0';
}

/* What Kilo's Endpoint.StringOpt prints: the name, the resolved address, a bare port, or nothing. */
enum endpoint_text { TEXT_NONE, TEXT_PORT, TEXT_ADDRESS, TEXT_NAME };

static enum endpoint_text text_kind(const struct kilo_endpoint *ep, bool dns_first)
{
	if (ep->dns[0] && (dns_first || ep->addr.family == 0))
		return TEXT_NAME;
	if (ep->addr.family != 0)
		return TEXT_ADDRESS;
	return ep->port ? TEXT_PORT : TEXT_NONE;
}

bool kilo_endpoint_equal_opt(const struct kilo_endpoint *a, const struct kilo_endpoint *b, bool dns_first)
{
	enum endpoint_text kind = text_kind(a, dns_first);

	/* Kilo compares the texts; a name never reads as an address, so the kinds must agree. */
	if (kind != text_kind(b, dns_first) || a->port != b->port)
		return false;
	if (kind == TEXT_NAME)
		return strcmp(a->dns, b->dns) == 0;
	return kind != TEXT_ADDRESS || kilo_addr_equal(&a->addr, &b->addr);
}

bool kilo_endpoint_equal(const struct kilo_endpoint *a, const struct kilo_endpoint *b)
{
	return kilo_endpoint_equal_opt(a, b, false);
}
