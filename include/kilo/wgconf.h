/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A WireGuard configuration: an optional interface (private key, listen
 * port) and a list of peers. The solver produces one for a node or a peer;
 * it can be printed in Kilo's format and parsed from the `wg setconf` /
 * wg-quick format.
 */
#ifndef KILO_WGCONF_H
#define KILO_WGCONF_H

#include <kilo/core.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kilo_wg_config kilo_wg_config;

/* Frees the configuration, wiping its keys. NULL is a no-op. */
KILO_EXPORT void kilo_wg_config_free(kilo_wg_config *config);

/*
 * Prints the configuration exactly as Kilo does: [Interface] only when it
 * has one, a zero private key omitted, peer keys in the order AllowedIPs,
 * Endpoint, PersistentKeepalive (always), PresharedKey, PublicKey, and a
 * blank line between sections. The text holds the private key when the
 * configuration has one. Free *out with kilo_free.
 */
KILO_EXPORT int kilo_wg_config_format(const kilo_wg_config *config, char **out, struct kilo_error *err);

/*
 * Parses the `wg setconf` format, also accepting wg-quick's extra
 * interface keys (Address, DNS, MTU, Table, Pre/PostUp/Down, SaveConfig),
 * which are ignored. Errors name the line, the key and the value.
 */
KILO_EXPORT int kilo_wg_config_parse(const char *text, size_t len, kilo_wg_config **out, struct kilo_error *err);

/* The configuration as JSON; private and preshared keys only if with_secrets. */
KILO_EXPORT int kilo_wg_config_to_json(const kilo_wg_config *config, bool with_secrets, char **out,
				       struct kilo_error *err);

/*
 * The configuration in the format of `wg show IF dump`: one tab-separated
 * line for the interface (private key, public key, listen port, fwmark or
 * "off"), then one per peer (public key, preshared key or "(none)",
 * endpoint or "(none)", allowed IPs or "(none)", latest handshake, rx, tx,
 * keepalive or "off"). It holds secrets. Free *out with kilo_free.
 */
KILO_EXPORT int kilo_wg_config_format_dump(const kilo_wg_config *config, char **out, struct kilo_error *err);

/*
 * The device for people, in the shape of `wg show IF`: public keys,
 * endpoints, allowed IPs, the latest handshake (relative to now, Unix
 * seconds), transfer and keepalive; secrets only as "(hidden)".
 */
KILO_EXPORT int kilo_wg_config_format_show(const kilo_wg_config *config, const char *ifname, int64_t now,
					   char **out, struct kilo_error *err);

/*
 * The smallest change that turns the device live into desired: peers to
 * remove, peers to add, and changed peers (with their allowed IPs replaced
 * only when they differ), plus the private key, listen port and fwmark when
 * they differ. Allowed IPs compare as sets, peers by public key. *change is
 * NULL when the device already matches, so a reconcile with nothing to do
 * sends nothing. Free *change with kilo_wg_config_free.
 */
KILO_EXPORT int kilo_wg_config_diff(const kilo_wg_config *live, const kilo_wg_config *desired,
				    kilo_wg_config **change, struct kilo_error *err);

KILO_EXPORT size_t kilo_wg_config_peer_count(const kilo_wg_config *config);
/* Public key of peer i; -ERANGE when out of range. */
KILO_EXPORT int kilo_wg_config_peer_key(const kilo_wg_config *config, size_t i, struct kilo_key *out,
					struct kilo_error *err);

#ifdef __cplusplus
}
#endif

#endif
