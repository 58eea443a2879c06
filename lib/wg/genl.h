/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The WireGuard generic netlink messages, without I/O: the encoder of
 * WG_CMD_SET_DEVICE requests and the decoder of WG_CMD_GET_DEVICE dump
 * replies. kernel.c sends and receives them; the unit tests check them
 * against hand-made bytes.
 */
#ifndef KILO_LIB_WG_GENL_H
#define KILO_LIB_WG_GENL_H

#include <libmnl/libmnl.h>
#include <linux/wireguard.h>

#include "../core/wgconf.h"

/* Linux 6.16 added the removal of single allowed IPs; older headers lack it. */
#ifndef WGALLOWEDIP_A_FLAGS
#define WGALLOWEDIP_A_FLAGS 4
#define WGALLOWEDIP_F_REMOVE_ME 1u
#endif

/*
 * Where the encoder stands in a change: messages are written one after the
 * other until done. Zero-initialise before the first message.
 */
struct kilo_genl_cursor {
	size_t peer;       /* the peer to write next */
	size_t allowed_ip; /* its next allowed IP; removed ones count after the kept ones */
	bool peer_started; /* the peer's first fragment (flags, key material) went out */
	bool started;      /* the first message (device attributes) went out */
	bool done;
	size_t peers;      /* peers begun so far, each counted once */
};

/*
 * Writes the next WG_CMD_SET_DEVICE message of change for ifname into buf
 * (size bytes: the kernel's limit is a page) with the given family id and
 * sequence number, and advances cursor. The first message carries the
 * device attributes and WGDEVICE_F_REPLACE_PEERS; a peer split over
 * messages repeats its public key, and only its first fragment carries its
 * flags, keys, endpoint and keepalive. *len is the message length.
 * -EINVAL (named in err) for what the kernel cannot take (a DNS endpoint),
 * -E2BIG when size cannot hold a single peer.
 */
int kilo_genl_set_next(const struct kilo_wg_config *change, const char *ifname, uint16_t family, uint32_t seq,
		       struct kilo_genl_cursor *cursor, void *buf, size_t size, size_t *len, struct kilo_error *err);

/* Writes a WG_CMD_GET_DEVICE dump request for ifname; returns its length or 0 when size is too small. */
/* Starts a WireGuard generic netlink request for cmd in buf (room checked by the caller). */
struct nlmsghdr *kilo_genl_put_header(void *buf, uint16_t family, uint16_t flags, uint32_t seq, uint8_t cmd);

size_t kilo_genl_get_request(const char *ifname, uint16_t family, uint32_t seq, void *buf, size_t size);

/* The state of the decoder over one dump. */
struct kilo_genl_dump {
	struct kilo_wg_config *config; /* filled in; merged peers appear once */
	bool interrupted;              /* a message carried NLM_F_DUMP_INTR: retry the whole dump */
	struct kilo_error *err;        /* what was wrong with a bad message */
};

/*
 * An mnl_cb_t for each message of the dump (data: struct kilo_genl_dump):
 * adds the device attributes and peers to dump->config, continuing the last
 * peer when the message starts with the same public key. MNL_CB_ERROR with
 * dump->err naming the attribute for a malformed message.
 */
int kilo_genl_dump_cb(const struct nlmsghdr *nlh, void *data);

#endif
