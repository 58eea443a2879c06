/* SPDX-License-Identifier: Apache-2.0 */
#include "kernel.h"

#include <errno.h>
#include <linux/genetlink.h>
#include <net/if.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "../core/error.h"
#include "genl.h"

/* A dump that the kernel keeps interrupting (the device changes under it) gives up after this many tries. */
#define GET_ATTEMPTS 8

int kilo_wg_kernel_check_ifname(const char *ifname, struct kilo_error *err)
{
	if (!ifname || !ifname[0] || strlen(ifname) >= IFNAMSIZ || strchr(ifname, '/'))
		return kilo_error_set(err, EINVAL, "interface name \"%s\" is not valid (1 to %d characters, no '/')",
				      ifname ? ifname : "", IFNAMSIZ - 1);
	return 0;
}

int kilo_wg_kernel_pass_error(struct kilo_error *err, const struct kilo_error *scratch, int r)
{
	if (err && !err->code && scratch->code)
		*err = *scratch;
	return r;
}

static int family_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID && mnl_attr_validate(attr, MNL_TYPE_U16) == 0)
		*(uint16_t *)data = mnl_attr_get_u16(attr);
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr_cb, data);
}

static int resolve_family(struct kilo_wg_kernel *k, struct kilo_error *err)
{
	char buf[128];
	struct kilo_error scratch = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;
	int r;

	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = kilo_netlink_next_seq(&k->genl);
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = CTRL_CMD_GETFAMILY;
	genl->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, WG_GENL_NAME);
	r = kilo_netlink_talk(&k->genl, buf, nlh->nlmsg_len, nlh->nlmsg_seq, family_cb, &k->family,
			      "generic netlink family \"" WG_GENL_NAME "\"", &scratch);
	if (r == -ENOENT)
		return kilo_error_set(err, ENOENT,
				      "the kernel has no WireGuard module (no generic netlink family \"%s\")",
				      WG_GENL_NAME);
	if (r == 0 && !k->family)
		return kilo_error_set(err, EBADMSG, "generic netlink family \"%s\": the reply has no id", WG_GENL_NAME);
	return kilo_wg_kernel_pass_error(err, &scratch, r);
}

/* WGALLOWEDIP_F_REMOVE_ME arrived in Linux 6.16; older kernels reject the unknown attribute. */
static bool kernel_removes_allowed_ips(void)
{
	struct utsname u;
	unsigned int major, minor;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 16);
}

int kilo_wg_kernel_open(struct kilo_wg_kernel **out, struct kilo_error *err)
{
	struct kilo_wg_kernel *k = calloc(1, sizeof(*k));
	int r;

	if (!k)
		return kilo_error_set(err, ENOMEM, "WireGuard kernel backend: out of memory");
	r = kilo_netlink_open(&k->genl, NETLINK_GENERIC, err);
	if (r == 0)
		r = resolve_family(k, err);
	if (r == 0)
		r = kilo_netlink_open(&k->route, NETLINK_ROUTE, err);
	if (r < 0) {
		kilo_wg_kernel_close(k);
		return r;
	}
	k->removes_allowed_ips = kernel_removes_allowed_ips();
	*out = k;
	return 0;
}

void kilo_wg_kernel_close(struct kilo_wg_kernel *k)
{
	if (!k)
		return;
	if (k->genl.socket)
		kilo_netlink_close(&k->genl);
	if (k->route.socket)
		kilo_netlink_close(&k->route);
	free(k);
}

static int get_once(struct kilo_wg_kernel *k, const char *ifname, struct kilo_wg_config **out, struct kilo_error *err)
{
	char request[64], what[IFNAMSIZ + 32];
	struct kilo_error scratch = { 0 };
	struct kilo_genl_dump dump = { .err = &scratch };
	uint32_t seq = kilo_netlink_next_seq(&k->genl);
	size_t len = kilo_genl_get_request(ifname, k->family, seq, request, sizeof(request));
	int r;

	dump.config = kilo_wg_config_new(0);
	if (!dump.config)
		return kilo_error_set(err, ENOMEM, "WireGuard device %s: out of memory", ifname);
	snprintf(what, sizeof(what), "WireGuard device %s", ifname);
	r = kilo_netlink_talk(&k->genl, request, len, seq, kilo_genl_dump_cb, &dump, what, &scratch);
	/* The replies held the private and preshared keys. */
	sodium_memzero(k->genl.buf, KILO_NETLINK_BUFFER_SIZE);
	if (r == 0 && dump.interrupted)
		r = -EINTR;
	if (r < 0) {
		kilo_wg_config_free(dump.config);
		if (r == -ENODEV || r == -EOPNOTSUPP)
			return kilo_error_set(err, ENODEV, "WireGuard device %s: %s", ifname,
					      r == -ENODEV ? "no such interface" : "the interface is not WireGuard");
		return r == -EINTR ? r : kilo_wg_kernel_pass_error(err, &scratch, r);
	}
	*out = dump.config;
	return 0;
}

int kilo_wg_kernel_get(struct kilo_wg_kernel *k, const char *ifname, struct kilo_wg_config **out,
		       struct kilo_error *err)
{
	int r = kilo_wg_kernel_check_ifname(ifname, err);

	for (int attempt = 0; r == 0 && attempt < GET_ATTEMPTS; attempt++) {
		r = get_once(k, ifname, out, err);
		if (r != -EINTR)
			return r;
		r = 0;
	}
	if (r < 0)
		return r;
	return kilo_error_set(err, EAGAIN, "WireGuard device %s: the dump was interrupted %d times in a row",
			      ifname, GET_ATTEMPTS);
}

static const struct kilo_wg_peer *find_peer(const struct kilo_wg_config *config, const struct kilo_key *key)
{
	for (size_t i = 0; i < config->n_peers; i++)
		if (kilo_key_equal(&config->peers[i].public_key, key))
			return &config->peers[i];
	return NULL;
}

static bool contains(const struct kilo_cidr *cidrs, size_t n, const struct kilo_cidr *cidr)
{
	for (size_t i = 0; i < n; i++)
		if (kilo_cidr_equal(&cidrs[i], cidr))
			return true;
	return false;
}

/* The allowed IPs that peer p (of change) leaves to a live peer: the kept live ones, then p's. */
static int remaining_allowed_ips(struct kilo_wg_config *copy, struct kilo_wg_peer *np, const struct kilo_wg_peer *p,
				 const struct kilo_wg_peer *live)
{
	int r = 0;

	np->allowed_ips = NULL;
	np->n_allowed_ips = 0;
	np->allowed_ip_capacity = 0;
	for (size_t i = 0; live && r == 0 && i < live->n_allowed_ips; i++)
		if (!contains(p->removed_allowed_ips, p->n_removed_allowed_ips, &live->allowed_ips[i]))
			r = kilo_wg_peer_add_allowed_ip(copy, np, &live->allowed_ips[i]);
	for (size_t i = 0; r == 0 && i < p->n_allowed_ips; i++)
		r = kilo_wg_peer_add_allowed_ip(copy, np, &p->allowed_ips[i]);
	return r;
}

/*
 * For a kernel without WGALLOWEDIP_F_REMOVE_ME: a copy of change in which
 * each peer that removes allowed IPs instead replaces them with what the
 * live device leaves it. The copy shares the other peers' allowed IPs.
 */
static int without_removals(struct kilo_wg_kernel *k, const char *ifname, const struct kilo_wg_config *change,
			    struct kilo_wg_config **out, struct kilo_error *err)
{
	struct kilo_wg_config *live = NULL, *copy = kilo_wg_config_new(change->n_peers);
	int r = copy ? kilo_wg_kernel_get(k, ifname, &live, err) : -ENOMEM;

	if (r < 0)
		goto out;
	kilo_wg_config_copy_device_settings(copy, change);
	for (size_t i = 0; r == 0 && i < change->n_peers; i++) {
		const struct kilo_wg_peer *p = &change->peers[i];
		struct kilo_wg_peer *np = kilo_wg_config_add_peer(copy);

		*np = *p;
		np->allowed_ip_capacity = 0;
		if (!(p->flags & KILO_WG_PEER_REMOVE_ALLOWED_IPS) || (p->flags & KILO_WG_PEER_REMOVE))
			continue;
		np->flags = (p->flags & ~KILO_WG_PEER_REMOVE_ALLOWED_IPS) | KILO_WG_PEER_REPLACE_ALLOWED_IPS;
		np->removed_allowed_ips = NULL;
		np->n_removed_allowed_ips = 0;
		if (!(p->flags & KILO_WG_PEER_REPLACE_ALLOWED_IPS))
			r = remaining_allowed_ips(copy, np, p, find_peer(live, &p->public_key));
	}
out:
	kilo_wg_config_free(live);
	if (r < 0) {
		kilo_wg_config_free(copy);
		return r == -ENOMEM ? kilo_error_set(err, ENOMEM, "WireGuard device %s: out of memory", ifname) : r;
	}
	*out = copy;
	return 0;
}

static bool removes_allowed_ips(const struct kilo_wg_config *change)
{
	for (size_t i = 0; i < change->n_peers; i++)
		if ((change->peers[i].flags & KILO_WG_PEER_REMOVE_ALLOWED_IPS) && change->peers[i].n_removed_allowed_ips)
			return true;
	return false;
}

static int send_messages(struct kilo_wg_kernel *k, const char *ifname, const struct kilo_wg_config *change,
			 struct kilo_wg_counters *counters, struct kilo_error *err)
{
	struct kilo_genl_cursor cursor = { 0 };
	size_t size = MNL_SOCKET_BUFFER_SIZE, len = 0, peers_sent = 0;
	char what[IFNAMSIZ + 32];
	void *buf = malloc(size);
	uint64_t sent = 0;
	int r = 0;

	if (!buf)
		return kilo_error_set(err, ENOMEM, "WireGuard device %s: out of memory", ifname);
	snprintf(what, sizeof(what), "WireGuard device %s", ifname);
	while (r == 0 && !cursor.done) {
		uint32_t seq = kilo_netlink_next_seq(&k->genl);

		r = kilo_genl_set_next(change, ifname, k->family, seq, &cursor, buf, size, &len, err);
		if (r < 0)
			break;
		r = kilo_netlink_talk(&k->genl, buf, len, seq, NULL, NULL, what, err);
		sodium_memzero(buf, len);
		if (r == 0) {
			sent++;
			peers_sent = cursor.peers;
		}
	}
	free(buf);
	counters->messages += sent;
	counters->peers += peers_sent;
	/* Earlier messages took effect: say so, the device is now part way. */
	if (r < 0 && sent)
		kilo_error_prefix(err, "after %llu message(s) applied (%zu peers)", (unsigned long long)sent, peers_sent);
	return r;
}

int kilo_wg_kernel_set(struct kilo_wg_kernel *k, const char *ifname, const struct kilo_wg_config *change,
		       struct kilo_wg_counters *counters, struct kilo_error *err)
{
	struct kilo_wg_config *rewritten = NULL;
	int r = kilo_wg_kernel_check_ifname(ifname, err);

	if (r < 0)
		return r;
	if (!k->removes_allowed_ips && removes_allowed_ips(change)) {
		r = without_removals(k, ifname, change, &rewritten, err);
		if (r < 0)
			return r;
		change = rewritten;
	}
	r = send_messages(k, ifname, change, counters, err);
	kilo_wg_config_free(rewritten);
	return r;
}
