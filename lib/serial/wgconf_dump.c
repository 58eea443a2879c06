/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The configuration as `wg show IF dump` prints it, so that a device read
 * through libkilo can be compared byte for byte with the wg tool's view.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/decimal.h"
#include "../core/error.h"
#include "../core/keytext.h"
#include "../core/wgconf.h"

#define FIELD_MAX 24 /* a number or "off"/"(none)" and its separator */

/* Enough for the whole text: keys are encoded in place and never copied. */
static size_t dump_bound(const kilo_wg_config *config)
{
	size_t bound = 2 * KILO_KEY_B64_LEN + 3 * FIELD_MAX;

	for (size_t i = 0; i < config->n_peers; i++) {
		size_t ips = config->peers[i].n_allowed_ips;

		if (ips > (SIZE_MAX / 2 - bound) / (KILO_CIDR_STRLEN + 1))
			return SIZE_MAX;
		bound += 2 * KILO_KEY_B64_LEN + KILO_ENDPOINT_STRLEN + 8 * FIELD_MAX + ips * (KILO_CIDR_STRLEN + 1);
	}
	return bound;
}

static char *put(char *p, const char *s)
{
	size_t len = strlen(s);

	memcpy(p, s, len);
	return p + len;
}

static char *put_key(char *p, const struct kilo_key *key, bool present, bool secret)
{
	if (!present || kilo_key_is_zero(key))
		return put(p, "(none)");
	if (secret)
		kilo_key_format(key, p);
	else
		kilo_key_format_public(key, p);
	return p + KILO_KEY_B64_LEN;
}

static char *put_uint(char *p, uint64_t v)
{
	return p + kilo_put_decimal(p, (unsigned long)v);
}

static char *put_peer(char *p, const struct kilo_wg_peer *peer)
{
	p = put_key(p, &peer->public_key, true, false);
	*p++ = '\t';
	p = put_key(p, &peer->preshared_key, peer->has_preshared_key, true);
	*p++ = '\t';
	if (kilo_endpoint_is_set(&peer->endpoint)) {
		kilo_endpoint_format(&peer->endpoint, p);
		p += strlen(p);
	} else {
		p = put(p, "(none)");
	}
	*p++ = '\t';
	for (size_t i = 0; i < peer->n_allowed_ips; i++) {
		if (i)
			*p++ = ',';
		kilo_cidr_format(&peer->allowed_ips[i], p);
		p += strlen(p);
	}
	if (!peer->n_allowed_ips)
		p = put(p, "(none)");
	*p++ = '\t';
	/* wg prints the handshake time as an unsigned number of seconds. */
	p = put_uint(p, (uint64_t)peer->last_handshake_sec);
	*p++ = '\t';
	p = put_uint(p, peer->rx_bytes);
	*p++ = '\t';
	p = put_uint(p, peer->tx_bytes);
	*p++ = '\t';
	if (peer->persistent_keepalive)
		p = put_uint(p, peer->persistent_keepalive);
	else
		p = put(p, "off");
	*p++ = '\n';
	return p;
}

int kilo_wg_config_format_dump(const kilo_wg_config *config, char **out, struct kilo_error *err)
{
	size_t bound;
	char *text, *p;

	if (!config || !out)
		return kilo_error_set(err, EINVAL, "dump: %s is NULL", config ? "out" : "config");
	bound = dump_bound(config);
	*out = NULL;
	if (bound == SIZE_MAX || !(text = malloc(bound)))
		return kilo_error_set(err, ENOMEM, "dump of %zu peers: out of memory", config->n_peers);
	p = put_key(text, &config->private_key, config->has_private_key, true);
	*p++ = '\t';
	p = put_key(p, &config->public_key, config->has_public_key, false);
	*p++ = '\t';
	p = put_uint(p, config->has_listen_port ? config->listen_port : 0);
	*p++ = '\t';
	if (config->has_fwmark && config->fwmark)
		p += sprintf(p, "0x%" PRIx32, config->fwmark);
	else
		p = put(p, "off");
	*p++ = '\n';
	for (size_t i = 0; i < config->n_peers; i++)
		p = put_peer(p, &config->peers[i]);
	*p = '\0';
	*out = text;
	return 0;
}
