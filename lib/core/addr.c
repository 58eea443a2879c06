/* SPDX-License-Identifier: Apache-2.0 */
/* IP addresses and CIDRs, printed the way Go's net package prints them. */
#include <kilo/core.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "error.h"

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static size_t addr_len(const struct kilo_addr *addr)
{
	return addr->family == 4 ? 4 : addr->family == 6 ? 16 : 0;
}

static uint8_t addr_max_prefix(const struct kilo_addr *addr)
{
	return (uint8_t)(addr_len(addr) * 8);
}

/*
 * Dotted decimal as inet_pton reads it: four parts of one to three digits,
 * none with a leading zero, none over 255. Most addresses of a device dump
 * and of a store are such, and inet_pton costs several times this; any
 * other text is left to inet_pton, which then decides.
 */
static bool parse_v4_quick(const char *p, uint8_t out[4])
{
	for (int part = 0; part < 4; part++) {
		unsigned value = 0, digits = 0;

		if (part > 0 && *p++ != '.')
			return false;
		for (; *p >= '0' && *p <= '9' && digits < 4; p++, digits++)
			value = value * 10 + (unsigned)(*p - '0');
		if (digits == 0 || digits > 3 || value > 255 || (digits > 1 && p[-(int)digits] == '0'))
			return false;
		out[part] = (uint8_t)value;
	}
	return *p == '\0';
}

static int addr_parse(const char *text, struct kilo_addr *out)
{
	struct kilo_addr a = { 0 };

	if (parse_v4_quick(text, a.bytes) || inet_pton(AF_INET, text, a.bytes) == 1)
		a.family = 4;
	else if (strchr(text, ':') && inet_pton(AF_INET6, text, a.bytes) == 1)
		a.family = 6;
	else
		return -EINVAL;
	if (a.family == 6 && memcmp(a.bytes, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0)
		return -EAFNOSUPPORT;
	*out = a;
	return 0;
}

int kilo_addr_parse(const char *text, struct kilo_addr *out, struct kilo_error *err)
{
	int r;

	if (!text)
		return kilo_error_set(err, EINVAL, "address: none given");
	r = addr_parse(text, out);
	if (r < 0)
		return kilo_error_set(err, -r, "address \"%s\": %s", text, kilo_addr_refusal(r, "not an IP address"));
	return 0;
}

const char *kilo_addr_refusal(int r, const char *what_it_is_not)
{
	if (r == -EAFNOSUPPORT)
		return "an IPv4-mapped IPv6 address, which Kilo would print as IPv4: write the IPv4 address";
	return what_it_is_not;
}

static void format_v6(const uint8_t *b, char *out)
{
	int best_start = -1, best_len = 0;
	size_t pos = 0;

	/* The longest run of two or more zero groups becomes "::" (RFC 5952). */
	for (int i = 0; i < 8;) {
		int j = i;

		while (j < 8 && b[2 * j] == 0 && b[2 * j + 1] == 0)
			j++;
		if (j - i > best_len) {
			best_start = i;
			best_len = j - i;
		}
		i = j > i ? j : i + 1;
	}
	if (best_len < 2)
		best_start = -1;

	for (int i = 0; i < 8; i++) {
		if (i == best_start) {
			out[pos++] = ':';
			out[pos++] = ':';
			i += best_len - 1;
			continue;
		}
		if (i > 0 && i != best_start + best_len)
			out[pos++] = ':';
		pos += (size_t)sprintf(out + pos, "%x", (unsigned)(b[2 * i] << 8 | b[2 * i + 1]));
	}
	out[pos] = '\0';
}

/* The decimal text of one byte; the hot path of printing a big mesh. */
static char *put_byte(char *p, unsigned v)
{
	if (v >= 100) {
		*p++ = (char)('0' + v / 100);
		v %= 100;
		*p++ = (char)('0' + v / 10);
	} else if (v >= 10) {
		*p++ = (char)('0' + v / 10);
	}
	*p++ = (char)('0' + v % 10);
	return p;
}

static size_t format_v4(const uint8_t *b, char *out)
{
	char *p = put_byte(out, b[0]);

	for (int i = 1; i < 4; i++) {
		*p++ = '.';
		p = put_byte(p, b[i]);
	}
	*p = '\0';
	return (size_t)(p - out);
}

size_t kilo_put_decimal(char *out, unsigned long v)
{
	char digits[KILO_DECIMAL_MAX];
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = digits[n - 1 - i];
	return n;
}

void kilo_addr_format(const struct kilo_addr *addr, char out[KILO_ADDR_STRLEN])
{
	const uint8_t *b = addr->bytes;

	if (addr->family == 4)
		format_v4(b, out);
	else if (addr->family == 6 && memcmp(b, v4_mapped_prefix, 12) == 0)
		format_v4(b + 12, out);
	else if (addr->family == 6)
		format_v6(b, out);
	else
		memcpy(out, "<nil>", sizeof("<nil>"));
}

bool kilo_addr_equal(const struct kilo_addr *a, const struct kilo_addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, addr_len(a)) == 0;
}

bool kilo_addr_is_public(const struct kilo_addr *addr)
{
	const uint8_t *b = addr->bytes;

	if (addr->family == 6 && memcmp(b, v4_mapped_prefix, 12) == 0)
		b += 12;
	else if (addr->family == 6)
		return !(b[0] == 0xfd && b[1] == 0x00);
	else if (addr->family != 4)
		return false;
	if (b[0] == 10)
		return false;
	if (b[0] == 172 && (b[1] & 0xf0) == 16)
		return false;
	if (b[0] == 192 && b[1] == 168)
		return false;
	return true;
}

int kilo_cidr_parse(const char *text, struct kilo_cidr *out, struct kilo_error *err)
{
	char ip[KILO_ADDR_STRLEN];
	const char *slash;
	struct kilo_cidr c = { 0 };
	unsigned long prefix;
	char *end;
	size_t n;
	int r;

	if (!text)
		return kilo_error_set(err, EINVAL, "cidr: none given");
	if (!(slash = strchr(text, '/')))
		return kilo_error_set(err, EINVAL, "cidr \"%s\": no /prefix length", text);
	n = (size_t)(slash - text);
	if (n == 0 || n >= sizeof(ip))
		return kilo_error_set(err, EINVAL, "cidr \"%s\": \"%.*s\" is not an IP address", text,
				      n < sizeof(ip) ? (int)n : (int)sizeof(ip) - 1, text);
	memcpy(ip, text, n);
	ip[n] = '\0';
	/* Go accepts only plain decimal digits, at most three of them. */
	if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3)
		return kilo_error_set(err, EINVAL, "cidr \"%s\": prefix \"%s\" is not a number of at most 3 digits",
				      text, slash + 1);
	r = addr_parse(ip, &c.addr);
	if (r < 0)
		return kilo_error_set(err, -r, "cidr \"%s\": \"%s\" is %s", text, ip,
				      kilo_addr_refusal(r, "not an IP address"));
	errno = 0;
	prefix = strtoul(slash + 1, &end, 10);
	if (errno || *end != '\0')
		return kilo_error_set(err, EINVAL, "cidr \"%s\": prefix \"%s\" is not a number", text, slash + 1);
	if (prefix > addr_max_prefix(&c.addr))
		return kilo_error_set(err, EINVAL, "cidr \"%s\": prefix %lu is longer than %u", text, prefix,
				      (unsigned)addr_max_prefix(&c.addr));
	c.prefix = (uint8_t)prefix;
	*out = c;
	return 0;
}

void kilo_cidr_format(const struct kilo_cidr *cidr, char out[KILO_CIDR_STRLEN])
{
	size_t len;

	if (cidr->addr.family != 4)
		kilo_addr_format(&cidr->addr, out);
	if (cidr->addr.family == 0)
		return;
	len = cidr->addr.family == 4 ? format_v4(cidr->addr.bytes, out) : strlen(out);
	out[len++] = '/';
	*put_byte(out + len, cidr->prefix) = '\0';
}

static void mask_bytes(uint8_t *bytes, size_t len, unsigned prefix)
{
	for (size_t i = 0; i < len; i++) {
		unsigned bits = prefix > i * 8 ? prefix - (unsigned)i * 8 : 0;

		if (bits < 8)
			bytes[i] &= (uint8_t)(0xff00u >> bits);
	}
}

struct kilo_cidr kilo_cidr_masked(const struct kilo_cidr *cidr)
{
	struct kilo_cidr m = *cidr;

	mask_bytes(m.addr.bytes, addr_len(&m.addr), m.prefix);
	return m;
}

bool kilo_cidr_contains(const struct kilo_cidr *cidr, const struct kilo_addr *addr)
{
	struct kilo_addr a;
	struct kilo_cidr net;

	if (cidr->addr.family == 0 || cidr->addr.family != addr->family)
		return false;
	a = *addr;
	net = kilo_cidr_masked(cidr);
	mask_bytes(a.bytes, addr_len(&a), cidr->prefix);
	return memcmp(a.bytes, net.addr.bytes, addr_len(&a)) == 0;
}

bool kilo_cidr_intersects(const struct kilo_cidr *a, const struct kilo_cidr *b)
{
	return kilo_cidr_contains(a, &b->addr) || kilo_cidr_contains(b, &a->addr);
}

bool kilo_cidr_equal(const struct kilo_cidr *a, const struct kilo_cidr *b)
{
	return a->prefix == b->prefix && kilo_addr_equal(&a->addr, &b->addr);
}

struct kilo_cidr kilo_cidr_host(const struct kilo_addr *addr)
{
	struct kilo_cidr c = { .addr = *addr, .prefix = addr_max_prefix(addr) };

	return c;
}
