// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Socket-level service load balancing for the processes of a cgroup (the
 * host's, on a node): a connect() or an unconnected sendmsg() to a ClusterIP
 * is sent to a backend before any packet exists, so the host's flows need no
 * per-packet NAT and no conntrack. recvmsg() and getpeername() show the
 * service's address again, so the application sees the peer it asked for.
 *
 * Backends are chosen by the same rules as a pod's flows (select.bpf.h). A
 * TCP connect() is a new flow: a random hash spreads connections. A UDP
 * socket has no flows, so its hash is its cookie's: every datagram of one
 * socket to one service reaches the same backend while the backends stay.
 * ClientIP affinity keys on the network namespace's cookie: a namespace's
 * processes are one client, as they would be behind the node's address.
 *
 * A NodePort on one of the node's own addresses is balanced the same way.
 * An IPv6 socket reaching an IPv4 service through an IPv4-mapped address
 * (::ffff:a.b.c.d) is balanced as IPv4 and keeps the mapped form.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/errno.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "select.bpf.h"

/* The UAPI headers leave the address families to libc. */
#define AF_UNSPEC 0
#define AF_INET 2
#define AF_INET6 10

/* What a cgroup/sock_addr program returns: 0 fails the system call. */
#define SOCK_REJECT 0
#define SOCK_PROCEED 1

/* A peer address as the load balancer's maps hold it. */
struct sock_peer {
	union kilo_lb_addr addr;
	__be16 port;
	__u8 family;   /* AF_INET also for an IPv4-mapped address */
	__u8 mapped;   /* read from an IPv6 socket as ::ffff:a.b.c.d */
};

/* False for an address of another family, which the kernel refuses after the program. */
static __always_inline bool sock_peer_read(const struct bpf_sock_addr *ctx, __u8 hook_family,
					   struct sock_peer *peer)
{
	if (ctx->user_family != hook_family)
		return false;
	__builtin_memset(peer, 0, sizeof(*peer));
	peer->port = (__be16)ctx->user_port;
	if (hook_family == AF_INET) {
		peer->addr.v4 = ctx->user_ip4;
		peer->family = AF_INET;
		return true;
	}
	peer->addr.v6[0] = ctx->user_ip6[0];
	peer->addr.v6[1] = ctx->user_ip6[1];
	peer->addr.v6[2] = ctx->user_ip6[2];
	peer->addr.v6[3] = ctx->user_ip6[3];
	peer->family = AF_INET6;
	if (peer->addr.v6[0] == 0 && peer->addr.v6[1] == 0 &&
	    peer->addr.v6[2] == bpf_htonl(0xffff)) {
		peer->addr.v4 = peer->addr.v6[3];
		peer->addr.v6[1] = peer->addr.v6[2] = peer->addr.v6[3] = 0;
		peer->family = AF_INET;
		peer->mapped = 1;
	}
	return true;
}

/* The context's address words are written 4 bytes at a time, as the kernel requires. */
static __always_inline void sock_peer_write(struct bpf_sock_addr *ctx, __u8 hook_family,
					    const union kilo_lb_addr *addr, __be16 port, __u8 mapped)
{
	if (hook_family == AF_INET) {
		ctx->user_ip4 = addr->v4;
	} else if (mapped) {
		ctx->user_ip6[0] = 0;
		ctx->user_ip6[1] = 0;
		ctx->user_ip6[2] = bpf_htonl(0xffff);
		ctx->user_ip6[3] = addr->v4;
	} else {
		ctx->user_ip6[0] = addr->v6[0];
		ctx->user_ip6[1] = addr->v6[1];
		ctx->user_ip6[2] = addr->v6[2];
		ctx->user_ip6[3] = addr->v6[3];
	}
	ctx->user_port = port;
}

/* A 64-bit cookie folded into a well-mixed 32-bit hash (murmur3's finaliser). */
static __always_inline __u32 sock_cookie_hash(__u64 cookie, __u32 service_id)
{
	__u64 h = cookie ^ ((__u64)service_id << 32);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (__u32)h;
}

static __always_inline void sock_revnat_key_init(struct kilo_lb_sock_revnat_key *key, __u64 cookie,
						 const union kilo_lb_addr *addr, __be16 port,
						 __u8 family)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->cookie = cookie;
	key->addr = *addr;
	key->port = port;
	key->family = family;
}

/*
 * Remembers what this socket asked for when it reaches the backend, written
 * only when it changes: a UDP socket passes here for every datagram, and an
 * LRU update costs a new element. Negative errno when it could not be stored.
 */
static __always_inline int sock_revnat_store(const struct kilo_lb_sock_revnat_key *key,
					     const struct sock_peer *service)
{
	struct kilo_lb_revnat value = {}, *stored = bpf_map_lookup_elem(&kilo_lb_sock_revnat, key);

	if (stored && stored->family == service->family && stored->port == service->port &&
	    stored->addr.v6[0] == service->addr.v6[0] && stored->addr.v6[1] == service->addr.v6[1] &&
	    stored->addr.v6[2] == service->addr.v6[2] && stored->addr.v6[3] == service->addr.v6[3])
		return 0;
	value.addr = service->addr;
	value.port = service->port;
	value.family = service->family;
	return bpf_map_update_elem(&kilo_lb_sock_revnat, key, &value, BPF_ANY);
}

/*
 * A ClusterIP; else a NodePort on one of this node's addresses, which a host
 * process reaches through lo, where no tc program sees it.
 */
static __always_inline struct kilo_lb_service *sock_lookup_service(struct kilo_lb_service_key *key)
{
	struct kilo_lb_service *svc;

	key->scope = KILO_LB_SCOPE_CLUSTER;
	svc = kilo_lb_lookup_service(key);
	if (svc)
		return svc;
	key->scope = KILO_LB_SCOPE_NODEPORT;
	return kilo_lb_lookup_service(key);
}

/* connect() and sendmsg(): a service's address becomes one of its backends'. */
static __always_inline int sock_forward(struct bpf_sock_addr *ctx, __u8 hook_family)
{
	struct kilo_lb_service_key service_key;
	struct kilo_lb_sock_revnat_key revnat_key;
	union kilo_lb_addr client = {};
	struct kilo_lb_backend *backend;
	struct kilo_lb_service *svc;
	struct sock_peer dst;
	__u32 protocol = ctx->protocol;
	__u64 cookie, netns_cookie;
	__u32 backend_id, hash;

	if ((protocol != IPPROTO_TCP && protocol != IPPROTO_UDP) ||
	    !sock_peer_read(ctx, hook_family, &dst))
		return SOCK_PROCEED;
	__builtin_memset(&service_key, 0, sizeof(service_key));
	service_key.addr = dst.addr;
	service_key.port = dst.port;
	service_key.proto = protocol;
	service_key.family = dst.family;
	svc = sock_lookup_service(&service_key);
	if (!svc)
		return SOCK_PROCEED;

	cookie = bpf_get_socket_cookie(ctx);
	hash = protocol == IPPROTO_TCP ? bpf_get_prandom_u32() : sock_cookie_hash(cookie, svc->id);
	netns_cookie = bpf_get_netns_cookie(ctx);
	__builtin_memcpy(client.bytes, &netns_cookie, sizeof(netns_cookie));
	backend = kilo_lb_select_backend(svc, hash, &client, AF_UNSPEC, &backend_id);
	/* A backend of the other family cannot be written into this address. */
	if (!backend || backend->family != dst.family) {
		kilo_lb_count(KILO_LB_SOCK_REJECT_NO_BACKEND, 0);
		bpf_set_retval(-ECONNREFUSED);
		return SOCK_REJECT;
	}

	sock_revnat_key_init(&revnat_key, cookie, &backend->addr, backend->port, dst.family);
	/* Without its entry the flow still works; only the peer it reports is the backend. */
	if (sock_revnat_store(&revnat_key, &dst) < 0)
		kilo_lb_count(KILO_LB_SOCK_REVERSE_LOST, 0);
	sock_peer_write(ctx, hook_family, &backend->addr, backend->port, dst.mapped);
	kilo_lb_count(KILO_LB_SOCK_FORWARD, 0);
	return SOCK_PROCEED;
}

/* recvmsg() and getpeername(): a backend this socket was sent to shows as its service. */
static __always_inline int sock_reverse(struct bpf_sock_addr *ctx, __u8 hook_family)
{
	struct kilo_lb_sock_revnat_key key;
	struct kilo_lb_revnat *revnat;
	struct sock_peer src;

	if (!sock_peer_read(ctx, hook_family, &src))
		return SOCK_PROCEED;
	sock_revnat_key_init(&key, bpf_get_socket_cookie(ctx), &src.addr, src.port, src.family);
	revnat = bpf_map_lookup_elem(&kilo_lb_sock_revnat, &key);
	if (!revnat)
		return SOCK_PROCEED;
	sock_peer_write(ctx, hook_family, &revnat->addr, revnat->port, src.mapped);
	kilo_lb_count(KILO_LB_SOCK_REVERSE, 0);
	return SOCK_PROCEED;
}

SEC("cgroup/connect4")
int kilo_sock_connect4(struct bpf_sock_addr *ctx)
{
	return sock_forward(ctx, AF_INET);
}

SEC("cgroup/connect6")
int kilo_sock_connect6(struct bpf_sock_addr *ctx)
{
	return sock_forward(ctx, AF_INET6);
}

SEC("cgroup/sendmsg4")
int kilo_sock_sendmsg4(struct bpf_sock_addr *ctx)
{
	return sock_forward(ctx, AF_INET);
}

SEC("cgroup/sendmsg6")
int kilo_sock_sendmsg6(struct bpf_sock_addr *ctx)
{
	return sock_forward(ctx, AF_INET6);
}

SEC("cgroup/recvmsg4")
int kilo_sock_recvmsg4(struct bpf_sock_addr *ctx)
{
	return sock_reverse(ctx, AF_INET);
}

SEC("cgroup/recvmsg6")
int kilo_sock_recvmsg6(struct bpf_sock_addr *ctx)
{
	return sock_reverse(ctx, AF_INET6);
}

SEC("cgroup/getpeername4")
int kilo_sock_getpeername4(struct bpf_sock_addr *ctx)
{
	return sock_reverse(ctx, AF_INET);
}

SEC("cgroup/getpeername6")
int kilo_sock_getpeername6(struct bpf_sock_addr *ctx)
{
	return sock_reverse(ctx, AF_INET6);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
