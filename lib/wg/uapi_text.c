/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The UAPI key=value text: requests written straight into one buffer of a
 * bound computed beforehand (it never moves, so no secret is left behind in
 * a freed copy), replies parsed line by line without trusting them.
 */
#include <errno.h>
#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../core/keytext.h"
#include "peer_index.h"
#include "uapi.h"

#define HEX_KEY_LEN (2 * KILO_KEY_LEN)
#define LINE_MAX_KEY 32 /* the longest key, "=" and newline */
#define VALUE_MAX 128   /* longer than any value a device sends */

/* ---- encoding -------------------------------------------------------- */

static bool removed(const struct kilo_wg_peer *peer, const struct kilo_cidr *ip)
{
	struct kilo_cidr m = kilo_cidr_masked(ip);

	for (size_t i = 0; i < peer->n_removed_allowed_ips; i++) {
		struct kilo_cidr r = kilo_cidr_masked(&peer->removed_allowed_ips[i]);

		if (kilo_cidr_equal(&m, &r))
			return true;
	}
	return false;
}

/* The live twin whose allowed IPs a REMOVE_ALLOWED_IPS peer starts from, or NULL. */
static const struct kilo_wg_peer *base_of(const struct kilo_wg_peer *peer, const struct kilo_wg_peer_index *live)
{
	if (!(peer->flags & KILO_WG_PEER_REMOVE_ALLOWED_IPS) || (peer->flags & KILO_WG_PEER_REPLACE_ALLOWED_IPS))
		return NULL;
	return kilo_wg_peer_index_find(live, &peer->public_key);
}

static size_t peer_bound(const struct kilo_wg_peer *peer, const struct kilo_wg_peer *base)
{
	size_t ips = peer->n_allowed_ips + (base ? base->n_allowed_ips : 0);

	if (ips > SIZE_MAX / 4 / (LINE_MAX_KEY + KILO_CIDR_STRLEN))
		return SIZE_MAX / 4;
	return 8 * (LINE_MAX_KEY + HEX_KEY_LEN) + KILO_ENDPOINT_STRLEN + ips * (LINE_MAX_KEY + KILO_CIDR_STRLEN);
}

static char *put(char *p, const char *s)
{
	size_t len = strlen(s);

	memcpy(p, s, len);
	return p + len;
}

static char *put_hex_key(char *p, const char *key, const struct kilo_key *value)
{
	p = put(p, key);
	sodium_bin2hex(p, HEX_KEY_LEN + 1, value->bytes, KILO_KEY_LEN);
	p += HEX_KEY_LEN;
	*p++ = '\n';
	return p;
}

static char *put_number(char *p, const char *key, unsigned long v)
{
	char digits[24];
	int n = snprintf(digits, sizeof(digits), "%lu", v);

	p = put(p, key);
	memcpy(p, digits, (size_t)n);
	p += n;
	*p++ = '\n';
	return p;
}

static char *put_allowed_ip(char *p, const struct kilo_cidr *ip)
{
	p = put(p, "allowed_ip=");
	kilo_cidr_format(ip, p);
	p += strlen(p);
	*p++ = '\n';
	return p;
}

static char *put_allowed_ips(char *p, const struct kilo_wg_peer *peer, const struct kilo_wg_peer *base)
{
	bool emulate = peer->flags & KILO_WG_PEER_REMOVE_ALLOWED_IPS;

	if (emulate || (peer->flags & KILO_WG_PEER_REPLACE_ALLOWED_IPS))
		p = put(p, "replace_allowed_ips=true\n");
	for (size_t i = 0; base && i < base->n_allowed_ips; i++)
		if (!removed(peer, &base->allowed_ips[i]))
			p = put_allowed_ip(p, &base->allowed_ips[i]);
	for (size_t i = 0; i < peer->n_allowed_ips; i++)
		if (!emulate || !removed(peer, &peer->allowed_ips[i]))
			p = put_allowed_ip(p, &peer->allowed_ips[i]);
	return p;
}

static int put_peer(char **pp, const struct kilo_wg_peer *peer, const struct kilo_wg_peer *base,
		    struct kilo_error *err)
{
	char *p = put_hex_key(*pp, "public_key=", &peer->public_key);

	if (peer->flags & KILO_WG_PEER_REMOVE) {
		*pp = put(p, "remove=true\n");
		return 0;
	}
	/* update_only must follow public_key: it undoes the creation that public_key did. */
	if (peer->flags & KILO_WG_PEER_UPDATE_ONLY)
		p = put(p, "update_only=true\n");
	if (peer->has_preshared_key)
		p = put_hex_key(p, "preshared_key=", &peer->preshared_key);
	if (kilo_endpoint_is_set(&peer->endpoint)) {
		char key[KILO_KEY_B64_LEN + 1];

		if (peer->endpoint.addr.family == 0) {
			kilo_key_format_public(&peer->public_key, key);
			return kilo_error_set(err, EINVAL, "peer %s: endpoint %s:%u is a name; UAPI takes an address", key,
					      peer->endpoint.dns, peer->endpoint.port);
		}
		p = put(p, "endpoint=");
		kilo_endpoint_format(&(struct kilo_endpoint){ .addr = peer->endpoint.addr, .port = peer->endpoint.port },
				     p);
		p += strlen(p);
		*p++ = '\n';
	}
	p = put_number(p, "persistent_keepalive_interval=", peer->persistent_keepalive);
	*pp = put_allowed_ips(p, peer, base);
	return 0;
}

void kilo_uapi_text_free(char *text, size_t len)
{
	if (!text)
		return;
	sodium_memzero(text, len);
	free(text);
}

int kilo_uapi_encode_set(const struct kilo_wg_config *change, const struct kilo_wg_config *live, char **out,
			 size_t *len, struct kilo_error *err)
{
	struct kilo_wg_peer_index index = { 0 };
	size_t bound = 16 + 4 * (LINE_MAX_KEY + HEX_KEY_LEN) + 1;
	char *text = NULL, *p;
	int r = -ENOMEM;

	*out = NULL;
	*len = 0;
	if (kilo_wg_peer_index_init(&index, live) < 0)
		return kilo_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < change->n_peers; i++) {
		size_t b = peer_bound(&change->peers[i], base_of(&change->peers[i], &index));

		if (b > SIZE_MAX / 2 - bound)
			goto out;
		bound += b;
	}
	if (!(text = malloc(bound)))
		goto out;
	p = put(text, "set=1\n");
	if (change->has_private_key)
		p = put_hex_key(p, "private_key=", &change->private_key);
	if (change->has_listen_port)
		p = put_number(p, "listen_port=", change->listen_port);
	if (change->has_fwmark)
		p = put_number(p, "fwmark=", change->fwmark);
	if (change->replace_peers)
		p = put(p, "replace_peers=true\n");
	r = 0;
	for (size_t i = 0; r == 0 && i < change->n_peers; i++)
		r = put_peer(&p, &change->peers[i], base_of(&change->peers[i], &index), err);
	if (r < 0)
		goto out;
	*p++ = '\n';
	*p = '\0';
	*len = (size_t)(p - text);
	*out = text;
	text = NULL;
out:
	if (r == -ENOMEM)
		kilo_error_set(err, ENOMEM, "out of memory for a UAPI request of %zu peers", change->n_peers);
	kilo_uapi_text_free(text, bound);
	kilo_wg_peer_index_free(&index);
	return r;
}

/* ---- decoding -------------------------------------------------------- */

struct line {
	size_t number;
	const char *key;
	size_t key_len;
	char value[VALUE_MAX + 1];
};

static bool key_is(const struct line *l, const char *key)
{
	return strlen(key) == l->key_len && memcmp(l->key, key, l->key_len) == 0;
}

static bool secret(const struct line *l)
{
	return key_is(l, "private_key") || key_is(l, "preshared_key");
}

static int bad_value(const struct line *l, const char *what, struct kilo_error *err)
{
	return kilo_error_set(err, EPROTO, "UAPI line %zu: %.*s=%s: %s", l->number, (int)l->key_len, l->key,
			      secret(l) ? "(secret)" : l->value, what);
}

static int parse_uint(const struct line *l, uint64_t max, uint64_t *out, struct kilo_error *err)
{
	uint64_t v = 0;
	const char *s = l->value;

	if (!*s)
		return bad_value(l, "not a number", err);
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return bad_value(l, "not a number", err);
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return bad_value(l, "out of range", err);
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

static int parse_hex_key(const struct line *l, struct kilo_key *out, struct kilo_error *err)
{
	size_t n = 0;

	if (strlen(l->value) != HEX_KEY_LEN ||
	    sodium_hex2bin(out->bytes, KILO_KEY_LEN, l->value, HEX_KEY_LEN, NULL, &n, NULL) != 0 || n != KILO_KEY_LEN)
		return bad_value(l, "not a key of 64 hex digits", err);
	return 0;
}

/* errno=N: wireguard-go sends it negative, the protocol documents it positive. */
static int parse_errno(const struct line *l, int *out, struct kilo_error *err)
{
	struct line unsigned_part = *l;
	uint64_t v = 0;
	int r;

	if (l->value[0] == '-')
		memmove(unsigned_part.value, l->value + 1, strlen(l->value));
	r = parse_uint(&unsigned_part, 4095, &v, err);
	if (r == 0)
		*out = (int)v;
	return r;
}

/* Reads the next line of text at *pos into l; 1 at the blank line that ends a reply. */
static int next_line(const char *text, size_t len, size_t *pos, struct line *l, struct kilo_error *err)
{
	const char *start = text + *pos, *nl = memchr(start, '\n', len - *pos), *eq;
	size_t value_len;

	l->number++;
	if (!nl)
		return kilo_error_set(err, EPROTO, "UAPI line %zu: reply ends without a blank line", l->number);
	*pos += (size_t)(nl - start) + 1;
	if (nl == start)
		return 1;
	eq = memchr(start, '=', (size_t)(nl - start));
	if (!eq || eq == start)
		return kilo_error_set(err, EPROTO, "UAPI line %zu: \"%.*s\" is not key=value", l->number,
				      (int)((nl - start) > 64 ? 64 : nl - start), start);
	l->key = start;
	l->key_len = (size_t)(eq - start);
	value_len = (size_t)(nl - eq - 1);
	if (value_len > VALUE_MAX)
		return kilo_error_set(err, EPROTO, "UAPI line %zu: value of %.*s is longer than %d characters", l->number,
				      (int)(l->key_len > 64 ? 64 : l->key_len), l->key, VALUE_MAX);
	memcpy(l->value, eq + 1, value_len);
	l->value[value_len] = '\0';
	return 0;
}

static int errno_reply(const struct line *l, int code, struct kilo_error *err)
{
	if (code == 0)
		return 0;
	return kilo_error_set(err, code, "the userspace WireGuard answered errno=%s (%s)", l->value, strerror(code));
}

static int interface_line(struct kilo_wg_config *c, const struct line *l, struct kilo_error *err)
{
	uint64_t v = 0;
	int r;

	if (key_is(l, "private_key")) {
		r = parse_hex_key(l, &c->private_key, err);
		c->has_private_key = r == 0;
		return r;
	}
	if (key_is(l, "listen_port")) {
		r = parse_uint(l, UINT16_MAX, &v, err);
		c->listen_port = (uint16_t)v;
		c->has_listen_port = r == 0;
		return r;
	}
	if (key_is(l, "fwmark")) {
		r = parse_uint(l, UINT32_MAX, &v, err);
		c->fwmark = (uint32_t)v;
		c->has_fwmark = r == 0 && v != 0;
		return r;
	}
	return 1;
}

static int peer_line(struct kilo_wg_config *c, struct kilo_wg_peer *p, const struct line *l, struct kilo_error *err)
{
	struct kilo_cidr cidr;
	uint64_t v = 0;
	int r;

	if (key_is(l, "preshared_key")) {
		r = parse_hex_key(l, &p->preshared_key, err);
		p->has_preshared_key = r == 0 && !kilo_key_is_zero(&p->preshared_key);
		return r;
	}
	if (key_is(l, "endpoint")) {
		if (kilo_endpoint_parse(l->value, &p->endpoint, NULL) < 0 || p->endpoint.addr.family == 0)
			return bad_value(l, "not an ip:port endpoint", err);
		return 0;
	}
	if (key_is(l, "persistent_keepalive_interval")) {
		r = parse_uint(l, UINT16_MAX, &v, err);
		p->persistent_keepalive = (uint32_t)v;
		return r;
	}
	if (key_is(l, "allowed_ip")) {
		if (kilo_cidr_parse(l->value, &cidr, NULL) < 0)
			return bad_value(l, "not a CIDR", err);
		return kilo_wg_peer_add_allowed_ip(c, p, &cidr) < 0 ? kilo_error_set(err, ENOMEM, "out of memory") : 0;
	}
	if (key_is(l, "last_handshake_time_sec") || key_is(l, "last_handshake_time_nsec")) {
		r = parse_uint(l, INT64_MAX, &v, err);
		*(key_is(l, "last_handshake_time_sec") ? &p->last_handshake_sec : &p->last_handshake_nsec) = (int64_t)v;
		return r;
	}
	if (key_is(l, "rx_bytes"))
		return parse_uint(l, UINT64_MAX, &p->rx_bytes, err);
	if (key_is(l, "tx_bytes"))
		return parse_uint(l, UINT64_MAX, &p->tx_bytes, err);
	if (key_is(l, "protocol_version")) {
		r = parse_uint(l, UINT64_MAX, &v, err);
		return r < 0 ? r : v != 1 ? bad_value(l, "unsupported protocol version", err) : 0;
	}
	return 1;
}

static int decode_lines(const char *text, size_t len, struct kilo_wg_config *c, struct line *l, struct kilo_error *err)
{
	size_t pos = 0, peer = SIZE_MAX;
	int code = -1, r;

	while ((r = next_line(text, len, &pos, l, err)) == 0) {
		if (key_is(l, "errno")) {
			r = parse_errno(l, &code, err);
			if (r < 0)
				return r;
			continue;
		}
		if (code >= 0)
			return bad_value(l, "after errno", err);
		if (key_is(l, "public_key")) {
			struct kilo_wg_peer *p = kilo_wg_config_add_peer(c);

			if (!p)
				return kilo_error_set(err, ENOMEM, "out of memory");
			peer = c->n_peers - 1;
			r = parse_hex_key(l, &p->public_key, err);
		} else if (peer == SIZE_MAX) {
			r = interface_line(c, l, err);
		} else {
			r = peer_line(c, &c->peers[peer], l, err);
		}
		/* 1: a key this parser does not know; newer implementations may add keys. */
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	if (code < 0)
		return kilo_error_set(err, EPROTO, "UAPI reply without errno");
	return errno_reply(l, code, err);
}

int kilo_uapi_decode_get(const char *text, size_t len, struct kilo_wg_config **out, struct kilo_error *err)
{
	struct kilo_wg_config *c = kilo_wg_config_new(0);
	struct line l = { 0 };
	int r;

	*out = NULL;
	if (!c)
		return kilo_error_set(err, ENOMEM, "out of memory");
	c->has_interface = true;
	r = decode_lines(text, len, c, &l, err);
	sodium_memzero(l.value, sizeof(l.value));
	if (r == 0 && c->has_private_key && !kilo_key_is_zero(&c->private_key)) {
		r = kilo_key_public(&c->private_key, &c->public_key, NULL);
		c->has_public_key = r == 0;
	}
	if (r < 0) {
		kilo_wg_config_free(c);
		return r;
	}
	*out = c;
	return 0;
}

int kilo_uapi_decode_errno(const char *text, size_t len, struct kilo_error *err)
{
	struct line l = { 0 };
	size_t pos = 0;
	int code = 0, r = next_line(text, len, &pos, &l, err);

	if (r < 0)
		return r;
	if (r == 1 || !key_is(&l, "errno"))
		return kilo_error_set(err, EPROTO, "UAPI reply \"%.*s\" is not errno=N", (int)(len > 64 ? 64 : len), text);
	r = parse_errno(&l, &code, err);
	if (r < 0)
		return r;
	r = next_line(text, len, &pos, &l, err);
	if (r != 1)
		return r < 0 ? r : kilo_error_set(err, EPROTO, "UAPI reply: line after errno");
	return errno_reply(&l, code, err);
}
