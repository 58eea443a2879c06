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

struct kilo_wg_peer {
	struct kilo_key public_key;
	bool has_preshared_key;
	struct kilo_key preshared_key;
	struct kilo_endpoint endpoint; /* none when !kilo_endpoint_is_set */
	uint32_t persistent_keepalive; /* seconds; Kilo prints 0 when unset */
	struct kilo_cidr *allowed_ips;
	size_t n_allowed_ips;
};

struct kilo_wg_config {
	bool has_interface;
	bool has_private_key;
	struct kilo_key private_key;
	bool has_listen_port;
	uint16_t listen_port;
	struct kilo_wg_peer *peers;
	size_t n_peers;
	struct kilo_arena arena; /* owns peers and their allowed IPs */
};

/* A new empty configuration with room for n_peers peers (n_peers set to 0). */
struct kilo_wg_config *kilo_wg_config_new(size_t peer_capacity);

#endif
