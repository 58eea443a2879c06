/* SPDX-License-Identifier: Apache-2.0 */
/* A device for people, in the shape of `wg show IF`; secrets are never shown. */
#include <errno.h>
#include <inttypes.h>

#include "../core/error.h"
#include "../core/keytext.h"
#include "../core/strbuf.h"
#include "../core/wgconf.h"

/* "1 minute, 5 seconds" for a span of seconds. */
static void append_span(struct kilo_strbuf *sb, int64_t seconds)
{
	static const struct {
		const char *unit;
		int64_t seconds;
	} units[] = { { "day", 86400 }, { "hour", 3600 }, { "minute", 60 }, { "second", 1 } };
	bool first = true;

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		int64_t n = seconds / units[i].seconds;

		seconds %= units[i].seconds;
		if (n == 0 && !(first && i + 1 == sizeof(units) / sizeof(units[0])))
			continue;
		kilo_strbuf_printf(sb, "%s%" PRId64 " %s%s", first ? "" : ", ", n, units[i].unit, n == 1 ? "" : "s");
		first = false;
	}
}

static void append_peer(struct kilo_strbuf *sb, const struct kilo_wg_peer *peer, int64_t now)
{
	char text[KILO_ENDPOINT_STRLEN > KILO_CIDR_STRLEN ? KILO_ENDPOINT_STRLEN : KILO_CIDR_STRLEN];

	kilo_key_format_public(&peer->public_key, text);
	kilo_strbuf_printf(sb, "\npeer: %s\n", text);
	if (peer->has_preshared_key && !kilo_key_is_zero(&peer->preshared_key))
		kilo_strbuf_append(sb, "  preshared key: (hidden)\n");
	if (kilo_endpoint_is_set(&peer->endpoint)) {
		kilo_endpoint_format(&peer->endpoint, text);
		kilo_strbuf_printf(sb, "  endpoint: %s\n", text);
	}
	kilo_strbuf_append(sb, "  allowed ips: ");
	for (size_t i = 0; i < peer->n_allowed_ips; i++) {
		kilo_cidr_format(&peer->allowed_ips[i], text);
		kilo_strbuf_printf(sb, "%s%s", i ? ", " : "", text);
	}
	kilo_strbuf_append(sb, peer->n_allowed_ips ? "\n" : "(none)\n");
	if (peer->last_handshake_sec) {
		kilo_strbuf_append(sb, "  latest handshake: ");
		append_span(sb, now > peer->last_handshake_sec ? now - peer->last_handshake_sec : 0);
		kilo_strbuf_append(sb, " ago\n");
	}
	if (peer->rx_bytes || peer->tx_bytes)
		kilo_strbuf_printf(sb, "  transfer: %" PRIu64 " B received, %" PRIu64 " B sent\n", peer->rx_bytes,
				   peer->tx_bytes);
	if (peer->persistent_keepalive)
		kilo_strbuf_printf(sb, "  persistent keepalive: every %" PRIu32 " seconds\n", peer->persistent_keepalive);
}

int kilo_wg_config_format_show(const kilo_wg_config *config, const char *ifname, int64_t now, char **out,
			       struct kilo_error *err)
{
	struct kilo_strbuf sb = { 0 };
	char key[KILO_KEY_B64_LEN + 1];

	if (!config || !ifname || !out)
		return kilo_error_set(err, EINVAL, "device text: %s is NULL",
				      !config ? "config" : !ifname ? "ifname" : "out");
	kilo_strbuf_printf(&sb, "interface: %s\n", ifname);
	if (config->has_public_key) {
		kilo_key_format_public(&config->public_key, key);
		kilo_strbuf_printf(&sb, "  public key: %s\n", key);
	}
	if (config->has_private_key && !kilo_key_is_zero(&config->private_key))
		kilo_strbuf_append(&sb, "  private key: (hidden)\n");
	if (config->has_listen_port)
		kilo_strbuf_printf(&sb, "  listening port: %u\n", config->listen_port);
	if (config->has_fwmark && config->fwmark)
		kilo_strbuf_printf(&sb, "  fwmark: 0x%x\n", config->fwmark);
	for (size_t i = 0; i < config->n_peers; i++)
		append_peer(&sb, &config->peers[i], now);
	return kilo_strbuf_finish_named(&sb, out, ifname, err);
}
