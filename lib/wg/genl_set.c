/* SPDX-License-Identifier: Apache-2.0 */
#include "genl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <netinet/in.h>
#include <string.h>

#include "../core/error.h"
#include "../core/keytext.h"

static int peer_error(struct kilo_error *err, const struct kilo_wg_peer *peer, const char *what, const char *value)
{
	char key[KILO_KEY_B64_LEN + 1];

	kilo_key_format_public(&peer->public_key, key);
	return kilo_error_set(err, EINVAL, "peer %s: %s %s", key, what, value);
}

/* What the kernel cannot take, refused before any of the peer is written. */
static int check_peer(const struct kilo_wg_peer *peer, struct kilo_error *err)
{
	char text[KILO_ENDPOINT_STRLEN];

	/* A name that was resolved carries its address, which is what the kernel gets. */
	if (!(peer->flags & KILO_WG_PEER_REMOVE) && peer->endpoint.dns[0] && !peer->endpoint.addr.family) {
		kilo_endpoint_format(&peer->endpoint, text);
		return peer_error(err, peer, "endpoint is a DNS name, the kernel takes only an address:", text);
	}
	for (size_t i = 0; i < peer->n_allowed_ips + peer->n_removed_allowed_ips; i++) {
		const struct kilo_cidr *cidr = i < peer->n_allowed_ips ? &peer->allowed_ips[i]
								      : &peer->removed_allowed_ips[i - peer->n_allowed_ips];

		if ((cidr->addr.family != 4 && cidr->addr.family != 6) ||
		    cidr->prefix > (cidr->addr.family == 4 ? 32 : 128)) {
			kilo_cidr_format(cidr, text);
			return peer_error(err, peer, "allowed IP is not a CIDR:", text);
		}
	}
	return 0;
}

static bool put_endpoint(struct nlmsghdr *nlh, size_t size, const struct kilo_endpoint *ep)
{
	if (ep->addr.family == 4) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(ep->port) };

		memcpy(&sin.sin_addr, ep->addr.bytes, 4);
		return mnl_attr_put_check(nlh, size, WGPEER_A_ENDPOINT, sizeof(sin), &sin);
	} else {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(ep->port) };

		memcpy(&sin6.sin6_addr, ep->addr.bytes, 16);
		return mnl_attr_put_check(nlh, size, WGPEER_A_ENDPOINT, sizeof(sin6), &sin6);
	}
}

/*
 * The peer's public key and, in its first fragment only, the rest of it:
 * a continuation must not replace the allowed IPs its first fragment set.
 */
static bool put_peer_head(struct nlmsghdr *nlh, size_t size, const struct kilo_wg_peer *peer, bool first)
{
	uint32_t flags = 0;

	if (!mnl_attr_put_check(nlh, size, WGPEER_A_PUBLIC_KEY, KILO_KEY_LEN, peer->public_key.bytes))
		return false;
	if (peer->flags & KILO_WG_PEER_UPDATE_ONLY)
		flags |= WGPEER_F_UPDATE_ONLY;
	if (first && (peer->flags & KILO_WG_PEER_REMOVE))
		flags |= WGPEER_F_REMOVE_ME;
	if (first && (peer->flags & KILO_WG_PEER_REPLACE_ALLOWED_IPS))
		flags |= WGPEER_F_REPLACE_ALLOWEDIPS;
	if (flags && !mnl_attr_put_u32_check(nlh, size, WGPEER_A_FLAGS, flags))
		return false;
	if (!first || (peer->flags & KILO_WG_PEER_REMOVE))
		return true;
	if (peer->has_preshared_key &&
	    !mnl_attr_put_check(nlh, size, WGPEER_A_PRESHARED_KEY, KILO_KEY_LEN, peer->preshared_key.bytes))
		return false;
	if (kilo_endpoint_is_set(&peer->endpoint) && !put_endpoint(nlh, size, &peer->endpoint))
		return false;
	return mnl_attr_put_u16_check(nlh, size, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL,
				      (uint16_t)peer->persistent_keepalive);
}

static bool put_allowed_ip(struct nlmsghdr *nlh, size_t size, const struct kilo_cidr *cidr, bool remove)
{
	struct nlattr *nest = mnl_attr_nest_start_check(nlh, size, 0);
	bool v6 = cidr->addr.family == 6;

	if (!nest)
		return false;
	if (!mnl_attr_put_u16_check(nlh, size, WGALLOWEDIP_A_FAMILY, v6 ? AF_INET6 : AF_INET) ||
	    !mnl_attr_put_check(nlh, size, WGALLOWEDIP_A_IPADDR, v6 ? 16 : 4, cidr->addr.bytes) ||
	    !mnl_attr_put_u8_check(nlh, size, WGALLOWEDIP_A_CIDR_MASK, cidr->prefix) ||
	    (remove && !mnl_attr_put_u32_check(nlh, size, WGALLOWEDIP_A_FLAGS, WGALLOWEDIP_F_REMOVE_ME))) {
		mnl_attr_nest_cancel(nlh, nest);
		return false;
	}
	mnl_attr_nest_end(nlh, nest);
	return true;
}

/* Writes allowed IPs from *next on (the kept ones, then the removed ones); true when all are out. */
static bool put_allowed_ips(struct nlmsghdr *nlh, size_t size, const struct kilo_wg_peer *peer, size_t *next)
{
	size_t kept = peer->n_allowed_ips, n = kept, start = *next;
	struct nlattr *nest;

	if (peer->flags & KILO_WG_PEER_REMOVE)
		return true;
	if (peer->flags & KILO_WG_PEER_REMOVE_ALLOWED_IPS)
		n += peer->n_removed_allowed_ips;
	if (start == n)
		return true;
	nest = mnl_attr_nest_start_check(nlh, size, WGPEER_A_ALLOWEDIPS);
	if (!nest)
		return false;
	for (; *next < n; (*next)++) {
		bool remove = *next >= kept;

		if (!put_allowed_ip(nlh, size, remove ? &peer->removed_allowed_ips[*next - kept] : &peer->allowed_ips[*next],
				    remove))
			break;
	}
	if (*next == start)
		mnl_attr_nest_cancel(nlh, nest);
	else
		mnl_attr_nest_end(nlh, nest);
	return *next == n;
}

/* The device attributes, which only the first message carries. */
static bool put_device(struct nlmsghdr *nlh, size_t size, const struct kilo_wg_config *change)
{
	if (change->has_private_key &&
	    !mnl_attr_put_check(nlh, size, WGDEVICE_A_PRIVATE_KEY, KILO_KEY_LEN, change->private_key.bytes))
		return false;
	if (change->has_listen_port && !mnl_attr_put_u16_check(nlh, size, WGDEVICE_A_LISTEN_PORT, change->listen_port))
		return false;
	if (change->has_fwmark && !mnl_attr_put_u32_check(nlh, size, WGDEVICE_A_FWMARK, change->fwmark))
		return false;
	return !change->replace_peers ||
	       mnl_attr_put_u32_check(nlh, size, WGDEVICE_A_FLAGS, WGDEVICE_F_REPLACE_PEERS);
}

/* Writes what fits of the peers from the cursor on; false when nothing did. */
static bool put_peers(struct nlmsghdr *nlh, size_t size, const struct kilo_wg_config *change,
		      struct kilo_genl_cursor *cursor)
{
	struct nlattr *peers = mnl_attr_nest_start_check(nlh, size, WGDEVICE_A_PEERS);
	bool wrote = false;

	if (!peers)
		return false;
	while (cursor->peer < change->n_peers) {
		const struct kilo_wg_peer *peer = &change->peers[cursor->peer];
		struct nlattr *nest = mnl_attr_nest_start_check(nlh, size, 0);
		size_t before = cursor->allowed_ip;
		bool complete;

		if (!nest)
			break;
		if (!put_peer_head(nlh, size, peer, !cursor->peer_started)) {
			mnl_attr_nest_cancel(nlh, nest);
			break;
		}
		complete = put_allowed_ips(nlh, size, peer, &cursor->allowed_ip);
		/* A continuation that carries no allowed IP would only repeat the key. */
		if (cursor->peer_started && cursor->allowed_ip == before && !complete) {
			mnl_attr_nest_cancel(nlh, nest);
			break;
		}
		mnl_attr_nest_end(nlh, nest);
		wrote = true;
		if (!cursor->peer_started) {
			cursor->peer_started = true;
			cursor->peers++;
		}
		if (!complete)
			break;
		cursor->peer++;
		cursor->allowed_ip = 0;
		cursor->peer_started = false;
	}
	if (wrote)
		mnl_attr_nest_end(nlh, peers);
	else
		mnl_attr_nest_cancel(nlh, peers);
	return wrote;
}

int kilo_genl_set_next(const struct kilo_wg_config *change, const char *ifname, uint16_t family, uint32_t seq,
		       struct kilo_genl_cursor *cursor, void *buf, size_t size, size_t *len, struct kilo_error *err)
{
	struct nlmsghdr *nlh;
	bool first = !cursor->started;
	int r;

	if (size < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct genlmsghdr)))
		return kilo_error_set(err, E2BIG, "WireGuard message buffer of %zu bytes is too small", size);
	if (first) {
		for (size_t i = 0; i < change->n_peers; i++) {
			r = check_peer(&change->peers[i], err);
			if (r < 0)
				return r;
		}
	}
	nlh = kilo_genl_put_header(buf, family, NLM_F_REQUEST | NLM_F_ACK, seq, WG_CMD_SET_DEVICE);
	if (!mnl_attr_put_strz_check(nlh, size, WGDEVICE_A_IFNAME, ifname) || (first && !put_device(nlh, size, change)))
		return kilo_error_set(err, E2BIG, "WireGuard message buffer of %zu bytes is too small", size);
	cursor->started = true;
	if (!put_peers(nlh, size, change, cursor) && !first && cursor->peer < change->n_peers)
		return kilo_error_set(err, E2BIG, "WireGuard message buffer of %zu bytes cannot hold one peer", size);
	cursor->done = cursor->peer == change->n_peers;
	*len = nlh->nlmsg_len;
	return 0;
}
