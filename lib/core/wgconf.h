/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The neutral WireGuard configuration model, shared by the solver (which
 * produces it), the serialisers (which print and parse it) and, later, the
 * device backends (which apply it).
 */
#ifndef KILO_LIB_CORE_WGCONF_H
#define KILO_LIB_CORE_WGCONF_H

#include <kilo/wgconf.h>

#include "arena.h"

/* What a peer in a change asks of the device (kilo_wg_peer.flags). */
#define KILO_WG_PEER_REMOVE 0x1u             /* remove the peer */
#define KILO_WG_PEER_REPLACE_ALLOWED_IPS 0x2u /* its allowed IPs replace the device's */
#define KILO_WG_PEER_UPDATE_ONLY 0x4u        /* change the peer only if it exists */
#define KILO_WG_PEER_REMOVE_ALLOWED_IPS 0x8u /* take removed_allowed_ips away */

/*
 * A peer. As a set operation (a change sent to a device) flags say what to
 * do; as a device read back, the statistics are filled in.
 */
struct kilo_wg_peer {
	struct kilo_key public_key;
	bool has_preshared_key;        /* in a change: a zero key clears it */
	struct kilo_key preshared_key;
	struct kilo_endpoint endpoint; /* none when !kilo_endpoint_is_set */
	uint32_t persistent_keepalive; /* seconds; Kilo prints 0 when unset */
	struct kilo_cidr *allowed_ips;
	size_t n_allowed_ips;
	size_t allowed_ip_capacity;    /* 0: allowed_ips is not growable */
	uint32_t flags;                /* KILO_WG_PEER_* */
	/* Allowed IPs to take away without replacing the rest (KILO_WG_PEER_REMOVE_ALLOWED_IPS). */
	struct kilo_cidr *removed_allowed_ips;
	size_t n_removed_allowed_ips;
	/* Read back from a device only. */
	int64_t last_handshake_sec;
	int64_t last_handshake_nsec;
	uint64_t rx_bytes, tx_bytes;
};

struct kilo_wg_config {
	bool has_interface;
	bool has_private_key;
	struct kilo_key private_key;
	bool has_public_key;           /* read back from a device */
	struct kilo_key public_key;
	bool has_listen_port;
	uint16_t listen_port;
	bool has_fwmark;
	uint32_t fwmark;
	bool replace_peers;            /* in a change: peers not listed are removed */
	struct kilo_wg_peer *peers;
	size_t n_peers;
	size_t peer_capacity;
	struct kilo_arena arena; /* owns peers and their allowed IPs */
};

/*
 * A new zeroed peer at the end of config, for parsers that do not know
 * the count in advance; NULL when out of memory. Earlier peers may move.
 */
struct kilo_wg_peer *kilo_wg_config_add_peer(struct kilo_wg_config *config);
/* Appends cidr to the allowed IPs of peer (a peer of config); -ENOMEM. */
int kilo_wg_peer_add_allowed_ip(struct kilo_wg_config *config, struct kilo_wg_peer *peer, const struct kilo_cidr *cidr);

/* A new empty configuration with room for n_peers peers (n_peers set to 0). */
struct kilo_wg_config *kilo_wg_config_new(size_t peer_capacity);

/* A deep copy of a configuration, in an arena of its own; NULL when out of memory. */
struct kilo_wg_config *kilo_wg_config_copy(const struct kilo_wg_config *from);
/* The settings a change sends for the device itself: private key, listen port, fwmark, replace_peers. */
void kilo_wg_config_copy_device_settings(struct kilo_wg_config *to, const struct kilo_wg_config *from);

#endif
