/* SPDX-License-Identifier: Apache-2.0 */
#include "genl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/time_types.h>
#include <netinet/in.h>
#include <string.h>

#include "../core/error.h"
#include "../core/keytext.h"

struct nlmsghdr *kilo_genl_put_header(void *buf, uint16_t family, uint16_t flags, uint32_t seq, uint8_t cmd)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = WG_GENL_VERSION;
	return nlh;
}

size_t kilo_genl_get_request(const char *ifname, uint16_t family, uint32_t seq, void *buf, size_t size)
{
	struct nlmsghdr *nlh;

	if (size < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct genlmsghdr)))
		return 0;
	nlh = kilo_genl_put_header(buf, family, NLM_F_REQUEST | NLM_F_DUMP, seq, WG_CMD_GET_DEVICE);
	if (!mnl_attr_put_strz_check(nlh, size, WGDEVICE_A_IFNAME, ifname))
		return 0;
	return nlh->nlmsg_len;
}

/* The attributes of one nest by type; later duplicates win, unknown types are skipped. */
struct table {
	const struct nlattr **tb;
	unsigned int max;
};

static int table_cb(const struct nlattr *attr, void *data)
{
	const struct table *t = data;
	unsigned int type = mnl_attr_get_type(attr);

	if (type <= t->max)
		t->tb[type] = attr;
	return MNL_CB_OK;
}

static int bad(struct kilo_genl_dump *dump, const char *what, const struct nlattr *attr)
{
	kilo_error_set(dump->err, EBADMSG, "WireGuard dump: %s of %u bytes", what,
		       attr ? (unsigned int)mnl_attr_get_payload_len(attr) : 0u);
	return MNL_CB_ERROR;
}

static bool has_len(const struct nlattr *attr, size_t len)
{
	return mnl_attr_get_payload_len(attr) == len;
}

static int get_key(struct kilo_genl_dump *dump, const struct nlattr *attr, const char *what, struct kilo_key *key)
{
	if (!has_len(attr, KILO_KEY_LEN))
		return bad(dump, what, attr);
	memcpy(key->bytes, mnl_attr_get_payload(attr), KILO_KEY_LEN);
	return MNL_CB_OK;
}

static int get_endpoint(struct kilo_genl_dump *dump, const struct nlattr *attr, struct kilo_endpoint *ep)
{
	const void *payload = mnl_attr_get_payload(attr);
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(ep, 0, sizeof(*ep));
	if (has_len(attr, sizeof(sin))) {
		memcpy(&sin, payload, sizeof(sin));
		if (sin.sin_family != AF_INET)
			return bad(dump, "WGPEER_A_ENDPOINT", attr);
		ep->addr.family = 4;
		memcpy(ep->addr.bytes, &sin.sin_addr, 4);
		ep->port = ntohs(sin.sin_port);
	} else if (has_len(attr, sizeof(sin6))) {
		memcpy(&sin6, payload, sizeof(sin6));
		if (sin6.sin6_family != AF_INET6)
			return bad(dump, "WGPEER_A_ENDPOINT", attr);
		ep->addr.family = 6;
		memcpy(ep->addr.bytes, &sin6.sin6_addr, 16);
		ep->port = ntohs(sin6.sin6_port);
	} else {
		return bad(dump, "WGPEER_A_ENDPOINT", attr);
	}
	return MNL_CB_OK;
}

static int get_allowed_ip(struct kilo_genl_dump *dump, const struct nlattr *nest, struct kilo_wg_peer *peer)
{
	const struct nlattr *tb[WGALLOWEDIP_A_MAX + 1] = { 0 };
	struct table t = { tb, WGALLOWEDIP_A_MAX };
	struct kilo_cidr cidr = { 0 };
	uint16_t family;

	if (mnl_attr_parse_nested(nest, table_cb, &t) < 0 || !tb[WGALLOWEDIP_A_FAMILY] || !tb[WGALLOWEDIP_A_IPADDR] ||
	    !tb[WGALLOWEDIP_A_CIDR_MASK] || mnl_attr_validate(tb[WGALLOWEDIP_A_FAMILY], MNL_TYPE_U16) < 0 ||
	    mnl_attr_validate(tb[WGALLOWEDIP_A_CIDR_MASK], MNL_TYPE_U8) < 0)
		return bad(dump, "WGPEER_A_ALLOWEDIPS entry", nest);
	family = mnl_attr_get_u16(tb[WGALLOWEDIP_A_FAMILY]);
	cidr.addr.family = family == AF_INET ? 4 : family == AF_INET6 ? 6 : 0;
	cidr.prefix = mnl_attr_get_u8(tb[WGALLOWEDIP_A_CIDR_MASK]);
	if (!cidr.addr.family || !has_len(tb[WGALLOWEDIP_A_IPADDR], cidr.addr.family == 4 ? 4 : 16) ||
	    cidr.prefix > (cidr.addr.family == 4 ? 32 : 128))
		return bad(dump, "WGALLOWEDIP_A_IPADDR", tb[WGALLOWEDIP_A_IPADDR]);
	memcpy(cidr.addr.bytes, mnl_attr_get_payload(tb[WGALLOWEDIP_A_IPADDR]), cidr.addr.family == 4 ? 4 : 16);
	if (kilo_wg_peer_add_allowed_ip(dump->config, peer, &cidr) < 0) {
		kilo_error_set(dump->err, ENOMEM, "WireGuard dump: out of memory");
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static int get_u64(struct kilo_genl_dump *dump, const struct nlattr *attr, const char *what, uint64_t *out)
{
	if (mnl_attr_validate(attr, MNL_TYPE_U64) < 0)
		return bad(dump, what, attr);
	*out = mnl_attr_get_u64(attr);
	return MNL_CB_OK;
}

/* The peer with this key: the last one when the kernel continues it in a new message. */
static struct kilo_wg_peer *peer_for(struct kilo_wg_config *config, const struct kilo_key *key)
{
	struct kilo_wg_peer *peer;

	if (config->n_peers && kilo_key_equal(&config->peers[config->n_peers - 1].public_key, key))
		return &config->peers[config->n_peers - 1];
	peer = kilo_wg_config_add_peer(config);
	if (peer)
		peer->public_key = *key;
	return peer;
}

static int get_peer_fields(struct kilo_genl_dump *dump, const struct nlattr **tb, struct kilo_wg_peer *peer)
{
	const struct nlattr *attr;
	int r = MNL_CB_OK;

	if (tb[WGPEER_A_PRESHARED_KEY]) {
		r = get_key(dump, tb[WGPEER_A_PRESHARED_KEY], "WGPEER_A_PRESHARED_KEY", &peer->preshared_key);
		/* The kernel reports "no preshared key" as zeros. */
		peer->has_preshared_key = !kilo_key_is_zero(&peer->preshared_key);
	}
	if (r == MNL_CB_OK && tb[WGPEER_A_ENDPOINT])
		r = get_endpoint(dump, tb[WGPEER_A_ENDPOINT], &peer->endpoint);
	if (r == MNL_CB_OK && (attr = tb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL])) {
		if (mnl_attr_validate(attr, MNL_TYPE_U16) < 0)
			return bad(dump, "WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL", attr);
		peer->persistent_keepalive = mnl_attr_get_u16(attr);
	}
	if (r == MNL_CB_OK && (attr = tb[WGPEER_A_LAST_HANDSHAKE_TIME])) {
		struct __kernel_timespec ts;

		if (!has_len(attr, sizeof(ts)))
			return bad(dump, "WGPEER_A_LAST_HANDSHAKE_TIME", attr);
		memcpy(&ts, mnl_attr_get_payload(attr), sizeof(ts));
		peer->last_handshake_sec = ts.tv_sec;
		peer->last_handshake_nsec = ts.tv_nsec;
	}
	if (r == MNL_CB_OK && tb[WGPEER_A_RX_BYTES])
		r = get_u64(dump, tb[WGPEER_A_RX_BYTES], "WGPEER_A_RX_BYTES", &peer->rx_bytes);
	if (r == MNL_CB_OK && tb[WGPEER_A_TX_BYTES])
		r = get_u64(dump, tb[WGPEER_A_TX_BYTES], "WGPEER_A_TX_BYTES", &peer->tx_bytes);
	return r;
}

static int get_peer(struct kilo_genl_dump *dump, const struct nlattr *nest)
{
	const struct nlattr *tb[WGPEER_A_MAX + 1] = { 0 };
	struct table t = { tb, WGPEER_A_MAX };
	const struct nlattr *attr;
	struct kilo_wg_peer *peer;
	struct kilo_key key;
	int r;

	if (mnl_attr_parse_nested(nest, table_cb, &t) < 0 || !tb[WGPEER_A_PUBLIC_KEY])
		return bad(dump, "peer without WGPEER_A_PUBLIC_KEY", nest);
	r = get_key(dump, tb[WGPEER_A_PUBLIC_KEY], "WGPEER_A_PUBLIC_KEY", &key);
	if (r != MNL_CB_OK)
		return r;
	peer = peer_for(dump->config, &key);
	if (!peer) {
		kilo_error_set(dump->err, ENOMEM, "WireGuard dump: out of memory");
		return MNL_CB_ERROR;
	}
	r = get_peer_fields(dump, tb, peer);
	if (r != MNL_CB_OK || !tb[WGPEER_A_ALLOWEDIPS])
		return r;
	mnl_attr_for_each_nested(attr, tb[WGPEER_A_ALLOWEDIPS]) {
		r = get_allowed_ip(dump, attr, peer);
		if (r != MNL_CB_OK)
			return r;
	}
	return MNL_CB_OK;
}

static int get_device(struct kilo_genl_dump *dump, const struct nlattr **tb)
{
	struct kilo_wg_config *config = dump->config;
	const struct nlattr *attr;
	int r = MNL_CB_OK;

	if (tb[WGDEVICE_A_PRIVATE_KEY]) {
		r = get_key(dump, tb[WGDEVICE_A_PRIVATE_KEY], "WGDEVICE_A_PRIVATE_KEY", &config->private_key);
		config->has_private_key = r == MNL_CB_OK;
	}
	if (r == MNL_CB_OK && tb[WGDEVICE_A_PUBLIC_KEY]) {
		r = get_key(dump, tb[WGDEVICE_A_PUBLIC_KEY], "WGDEVICE_A_PUBLIC_KEY", &config->public_key);
		config->has_public_key = r == MNL_CB_OK;
	}
	if (r == MNL_CB_OK && (attr = tb[WGDEVICE_A_LISTEN_PORT])) {
		if (mnl_attr_validate(attr, MNL_TYPE_U16) < 0)
			return bad(dump, "WGDEVICE_A_LISTEN_PORT", attr);
		config->has_listen_port = true;
		config->listen_port = mnl_attr_get_u16(attr);
	}
	if (r == MNL_CB_OK && (attr = tb[WGDEVICE_A_FWMARK])) {
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return bad(dump, "WGDEVICE_A_FWMARK", attr);
		/* As over the UAPI socket, a zero mark is no mark. */
		config->fwmark = mnl_attr_get_u32(attr);
		config->has_fwmark = config->fwmark != 0;
	}
	return r;
}

int kilo_genl_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[WGDEVICE_A_MAX + 1] = { 0 };
	struct table t = { tb, WGDEVICE_A_MAX };
	struct kilo_genl_dump *dump = data;
	const struct nlattr *attr;
	int r;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		dump->interrupted = true;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct genlmsghdr)) ||
	    mnl_attr_parse(nlh, sizeof(struct genlmsghdr), table_cb, &t) < 0)
		return bad(dump, "message", NULL);
	dump->config->has_interface = true;
	r = get_device(dump, tb);
	if (r != MNL_CB_OK || !tb[WGDEVICE_A_PEERS])
		return r;
	mnl_attr_for_each_nested(attr, tb[WGDEVICE_A_PEERS]) {
		r = get_peer(dump, attr);
		if (r != MNL_CB_OK)
			return r;
	}
	return MNL_CB_OK;
}
