/* SPDX-License-Identifier: Apache-2.0 */
/*
 * WireGuard configuration text: printed exactly as Kilo prints it, and
 * parsed from the `wg setconf` format (plus wg-quick's interface keys,
 * which are ignored). Secrets never stay behind in freed memory.
 */
#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/decimal.h"
#include "../core/error.h"
#include "../core/keytext.h"
#include "../core/wgconf.h"

#define KEEPALIVE_MAX 65535
#define LINE_OVERHEAD 64 /* key, " = " and newline of any line */

/* ---- printing -------------------------------------------------------- */

/* Enough for the whole text, so the buffer never moves and leaves no key behind. */
static size_t format_bound(const kilo_wg_config *config)
{
	size_t bound = 3 * (LINE_OVERHEAD + KILO_KEY_B64_LEN);

	for (size_t i = 0; i < config->n_peers; i++) {
		size_t ips = config->peers[i].n_allowed_ips;

		if (ips > (SIZE_MAX / 2 - bound) / (KILO_CIDR_STRLEN + 2))
			return SIZE_MAX;
		bound += 6 * LINE_OVERHEAD + 2 * KILO_KEY_B64_LEN + KILO_ENDPOINT_STRLEN + ips * (KILO_CIDR_STRLEN + 2);
	}
	return bound;
}

/*
 * The text is written straight into one buffer of format_bound() bytes:
 * every piece fits, so there are no checks per piece, and keys are encoded
 * in place, leaving no copy behind.
 */
static char *put(char *p, const char *s, size_t len)
{
	memcpy(p, s, len);
	return p + len;
}

#define PUT_LITERAL(p, s) put(p, s, sizeof(s) - 1)

static char *put_key(char *p, const char *line_start, size_t len, const struct kilo_key *key, bool secret)
{
	p = put(p, line_start, len);
	if (secret)
		kilo_key_format(key, p);
	else
		kilo_key_format_public(key, p);
	p += KILO_KEY_B64_LEN;
	*p++ = '\n';
	return p;
}

static char *put_peer(char *p, const struct kilo_wg_peer *peer)
{
	p = PUT_LITERAL(p, "[Peer]\n");
	if (peer->n_allowed_ips) {
		p = PUT_LITERAL(p, "AllowedIPs = ");
		for (size_t i = 0; i < peer->n_allowed_ips; i++) {
			if (i)
				p = PUT_LITERAL(p, ", ");
			kilo_cidr_format(&peer->allowed_ips[i], p);
			p += strlen(p);
		}
		*p++ = '\n';
	}
	if (kilo_endpoint_is_set(&peer->endpoint)) {
		p = PUT_LITERAL(p, "Endpoint = ");
		kilo_endpoint_format(&peer->endpoint, p);
		p += strlen(p);
		*p++ = '\n';
	}
	/* Kilo prints the keepalive even when it is off. */
	p = PUT_LITERAL(p, "PersistentKeepalive = ");
	p += kilo_put_decimal(p, peer->persistent_keepalive);
	*p++ = '\n';
	if (peer->has_preshared_key && !kilo_key_is_zero(&peer->preshared_key))
		p = put_key(p, "PresharedKey = ", 15, &peer->preshared_key, true);
	if (!kilo_key_is_zero(&peer->public_key))
		p = put_key(p, "PublicKey = ", 12, &peer->public_key, false);
	return p;
}

int kilo_wg_config_format(const kilo_wg_config *config, char **out, struct kilo_error *err)
{
	size_t bound;
	char *text, *p;

	if (!config || !out)
		return kilo_error_set(err, EINVAL, "configuration text: %s is NULL", config ? "out" : "config");
	bound = format_bound(config);
	*out = NULL;
	if (bound == SIZE_MAX || !(text = malloc(bound)))
		return kilo_error_set(err, ENOMEM, "configuration text of %zu peers: out of memory", config->n_peers);
	p = text;
	if (config->has_interface) {
		p = PUT_LITERAL(p, "[Interface]\n");
		if (config->has_private_key && !kilo_key_is_zero(&config->private_key))
			p = put_key(p, "PrivateKey = ", 13, &config->private_key, true);
		if (config->has_listen_port) {
			p = PUT_LITERAL(p, "ListenPort = ");
			p += kilo_put_decimal(p, config->listen_port);
			*p++ = '\n';
		}
	}
	for (size_t i = 0; i < config->n_peers; i++) {
		if (i > 0 || config->has_interface)
			*p++ = '\n';
		p = put_peer(p, &config->peers[i]);
	}
	*p = '\0';
	*out = text;
	return 0;
}

/* ---- parsing --------------------------------------------------------- */

enum section {
	SECTION_NONE,
	SECTION_INTERFACE,
	SECTION_PEER,
};

struct parser {
	struct kilo_wg_config *config;
	struct kilo_error *err;
	size_t line;
	enum section section;
	size_t section_line;  /* where the current [Peer] starts */
	bool has_public_key;  /* of the current peer */
};

/* wg-quick's interface keys, which `wg setconf` does not take and we ignore. */
static const char *const quick_keys[] = {
	"Address", "DNS", "MTU", "Table", "PreUp", "PostUp", "PreDown", "PostDown", "SaveConfig",
};

static int fail(struct parser *p, const char *key, const char *value, const char *what)
{
	return kilo_error_set(p->err, EINVAL, "line %zu: %.40s: \"%.100s\" is %s", p->line, key, value, what);
}

/* The values of secret keys are not repeated in messages, which end up in logs. */
static int fail_secret(struct parser *p, const char *key)
{
	return kilo_error_set(p->err, EINVAL, "line %zu: %.40s: the value (not shown) is not a WireGuard key", p->line,
			      key);
}

/* A decimal number in [0, max]. */
static bool parse_number(const char *text, unsigned long max, unsigned long *out)
{
	char *end;

	if (!isdigit((unsigned char)text[0]) || strlen(text) > 10)
		return false;
	errno = 0;
	*out = strtoul(text, &end, 10);
	return errno == 0 && *end == '\0' && *out <= max;
}

/* wg takes a fwmark in any base strtoul knows, or "off". */
static bool parse_fwmark(const char *text)
{
	unsigned long long mark;
	char *end;

	if (!strcasecmp(text, "off"))
		return true;
	if (!isdigit((unsigned char)text[0]))
		return false;
	errno = 0;
	mark = strtoull(text, &end, 0);
	return errno == 0 && *end == '\0' && mark <= UINT32_MAX;
}

/* An address alone means a single host, as wg reads it. */
static int parse_allowed_ip(const char *text, struct kilo_cidr *out)
{
	char cidr[KILO_CIDR_STRLEN];

	if (strchr(text, '/'))
		return kilo_cidr_parse(text, out, NULL);
	if (strlen(text) >= KILO_ADDR_STRLEN)
		return -EINVAL;
	snprintf(cidr, sizeof(cidr), "%s/%d", text, strchr(text, ':') ? 128 : 32);
	return kilo_cidr_parse(cidr, out, NULL);
}

static struct kilo_wg_peer *current_peer(struct parser *p)
{
	return &p->config->peers[p->config->n_peers - 1];
}

static int add_allowed_ips(struct parser *p, const char *key, char *value)
{
	struct kilo_wg_peer *peer = current_peer(p);
	char *item, *save = NULL;

	for (item = strtok_r(value, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		struct kilo_cidr cidr;
		int r;

		r = parse_allowed_ip(item, &cidr);
		if (r < 0)
			return fail(p, key, item, kilo_addr_refusal(r, "not an address or CIDR"));
		r = kilo_wg_peer_add_allowed_ip(p->config, peer, &cidr);
		if (r < 0)
			return r;
	}
	return 0;
}

static int end_section(struct parser *p)
{
	if (p->section == SECTION_PEER && !p->has_public_key)
		return kilo_error_set(p->err, EINVAL, "line %zu: [Peer] has no PublicKey", p->section_line);
	return 0;
}

static int begin_peer(struct parser *p)
{
	if (!kilo_wg_config_add_peer(p->config))
		return -ENOMEM;
	p->has_public_key = false;
	p->section_line = p->line;
	return 0;
}

static int parse_section(struct parser *p, const char *line)
{
	int r = end_section(p);

	if (r < 0)
		return r;
	if (!strcasecmp(line, "[Interface]")) {
		p->section = SECTION_INTERFACE;
		p->config->has_interface = true;
		return 0;
	}
	if (!strcasecmp(line, "[Peer]")) {
		p->section = SECTION_PEER;
		return begin_peer(p);
	}
	return kilo_error_set(p->err, EINVAL, "line %zu: \"%.100s\" is not a section ([Interface] or [Peer])", p->line,
			      line);
}

static int parse_interface_key(struct parser *p, const char *key, const char *value)
{
	struct kilo_wg_config *c = p->config;
	unsigned long n;

	if (!strcasecmp(key, "PrivateKey")) {
		if (kilo_key_parse(value, &c->private_key, NULL) < 0)
			return fail_secret(p, key);
		c->has_private_key = true;
	} else if (!strcasecmp(key, "ListenPort")) {
		if (!parse_number(value, 65535, &n))
			return fail(p, key, value, "not a port (0..65535)");
		c->listen_port = (uint16_t)n;
		c->has_listen_port = true;
	} else if (!strcasecmp(key, "FwMark")) {
		/* Checked, but Kilo's configuration has no mark to keep it in. */
		if (!parse_fwmark(value))
			return fail(p, key, value, "not a firewall mark (a 32-bit number or off)");
	} else {
		for (size_t i = 0; i < sizeof(quick_keys) / sizeof(quick_keys[0]); i++) {
			if (!strcasecmp(key, quick_keys[i]))
				return 0;
		}
		return kilo_error_set(p->err, EINVAL, "line %zu: %.40s: unknown key in [Interface]", p->line, key);
	}
	return 0;
}

static int parse_peer_key(struct parser *p, const char *key, char *value)
{
	struct kilo_wg_peer *peer = current_peer(p);
	unsigned long n;
	int r;

	if (!strcasecmp(key, "PublicKey")) {
		/* Kilo never prints a zero key, so one could not be read back. */
		if (kilo_key_parse(value, &peer->public_key, NULL) < 0 || kilo_key_is_zero(&peer->public_key))
			return fail(p, key, value, "not a non-zero WireGuard key");
		p->has_public_key = true;
	} else if (!strcasecmp(key, "PresharedKey")) {
		if (kilo_key_parse(value, &peer->preshared_key, NULL) < 0)
			return fail_secret(p, key);
		peer->has_preshared_key = true;
	} else if (!strcasecmp(key, "AllowedIPs")) {
		return add_allowed_ips(p, key, value);
	} else if (!strcasecmp(key, "Endpoint")) {
		r = kilo_endpoint_parse(value, &peer->endpoint, NULL);
		if (r < 0)
			return fail(p, key, value,
				    kilo_addr_refusal(r, "not an endpoint (ip:port, [ipv6]:port or dns-name:port)"));
	} else if (!strcasecmp(key, "PersistentKeepalive")) {
		if (!strcasecmp(value, "off"))
			n = 0;
		else if (!parse_number(value, KEEPALIVE_MAX, &n))
			return fail(p, key, value, "not a keepalive in seconds (0..65535 or off)");
		peer->persistent_keepalive = (uint32_t)n;
	} else {
		return kilo_error_set(p->err, EINVAL, "line %zu: %.40s: unknown key in [Peer]", p->line, key);
	}
	return 0;
}

/* Like wg: a comment runs from '#' to the end of the line, and all white space goes. */
static size_t strip_line(const char *text, size_t len, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len && text[i] != '#'; i++) {
		if (!isspace((unsigned char)text[i]))
			out[n++] = text[i];
	}
	out[n] = '\0';
	return n;
}

static int parse_line(struct parser *p, char *line, size_t len)
{
	char *eq;

	if (len == 0)
		return 0;
	if (memchr(line, '\0', len))
		return kilo_error_set(p->err, EINVAL, "line %zu: contains a NUL byte", p->line);
	if (line[0] == '[')
		return parse_section(p, line);
	eq = strchr(line, '=');
	if (!eq)
		return kilo_error_set(p->err, EINVAL, "line %zu: \"%.100s\" is not a \"Key = value\" line", p->line, line);
	*eq = '\0';
	switch (p->section) {
	case SECTION_INTERFACE:
		return parse_interface_key(p, line, eq + 1);
	case SECTION_PEER:
		return parse_peer_key(p, line, eq + 1);
	default:
		return kilo_error_set(p->err, EINVAL, "line %zu: %.40s: key outside of a section", p->line, line);
	}
}

int kilo_wg_config_parse(const char *text, size_t len, kilo_wg_config **out, struct kilo_error *err)
{
	struct parser p = { .err = err };
	const char *line = text, *end = text + len, *nl;
	char *buf;
	int r = 0;

	*out = NULL;
	if (len == SIZE_MAX)
		return -EINVAL;
	buf = malloc(len + 1);
	p.config = kilo_wg_config_new(0);
	if (!buf || !p.config) {
		r = -ENOMEM;
		goto out;
	}
	while (line < end) {
		size_t n;

		nl = memchr(line, '\n', (size_t)(end - line));
		n = (size_t)((nl ? nl : end) - line);
		p.line++;
		r = parse_line(&p, buf, strip_line(line, n, buf));
		if (r < 0)
			goto out;
		line += n + (nl != NULL);
	}
	r = end_section(&p);
	if (r < 0)
		goto out;
	*out = p.config;
	p.config = NULL;
out:
	if (buf)
		sodium_memzero(buf, len + 1);
	free(buf);
	kilo_wg_config_free(p.config);
	return r;
}
