/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The load balancer's connection tracking: a flow's tuple, its hash, its
 * entries (SERVICE: client -> frontend, the backend chosen; REPLY: client ->
 * backend, the reverse NAT), TCP state and timeouts, and the ports that a
 * datagram's first fragment leaves for the later ones.
 *
 * Timeouts (refreshed by every packet of the entry's direction):
 *   TCP after a SYN only       60 s
 *   TCP established            6 h
 *   TCP after a FIN or an RST  10 s (from the last packet either way)
 *   UDP                        60 s
 */
#ifndef KILO_CONNTRACK_BPF_H
#define KILO_CONNTRACK_BPF_H

#include "packet.bpf.h"
#include "select.bpf.h"

#define KILO_LB_CT_SYN_TIMEOUT (60ULL * KILO_LB_NS_PER_SEC)
#define KILO_LB_CT_ESTABLISHED_TIMEOUT (6ULL * 3600 * KILO_LB_NS_PER_SEC)
#define KILO_LB_CT_CLOSING_TIMEOUT (10ULL * KILO_LB_NS_PER_SEC)
#define KILO_LB_CT_UDP_TIMEOUT (60ULL * KILO_LB_NS_PER_SEC)
/* An entry's expiry is written only when it moves by more than this: fewer writes to a shared line. */
#define KILO_LB_CT_REFRESH_SLACK KILO_LB_NS_PER_SEC

static __always_inline __u32 kilo_lb_rotl32(__u32 x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static __always_inline __u32 kilo_lb_hash_word(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51;
	k = kilo_lb_rotl32(k, 15);
	k *= 0x1b873593;
	h ^= k;
	h = kilo_lb_rotl32(h, 13);
	return h * 5 + 0xe6546b64;
}

/*
 * MurmurHash3 (x86, 32 bit) of the flow's addresses, ports and protocol,
 * seed 0: the same for every packet of a flow and on every node, so that a
 * test can predict which slot or Maglev entry a flow takes.
 */
static __always_inline __u32 kilo_lb_flow_hash(const struct kilo_lb_ct_key *key)
{
	__u32 h = 0;
	int i;

#pragma unroll
	for (i = 0; i < 4; i++)
		h = kilo_lb_hash_word(h, key->saddr.v6[i]);
#pragma unroll
	for (i = 0; i < 4; i++)
		h = kilo_lb_hash_word(h, key->daddr.v6[i]);
	h = kilo_lb_hash_word(h, ((__u32)key->sport << 16) | key->dport);
	h = kilo_lb_hash_word(h, key->proto);
	h ^= 40;
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/* The key of the packet's own tuple (dir SERVICE), or of its reverse (dir REPLY, for a reply). */
static __always_inline void kilo_lb_ct_key_init(struct kilo_lb_ct_key *key,
						const struct kilo_lb_packet *pkt, __u8 dir)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->proto = pkt->proto;
	key->family = pkt->family;
	key->dir = dir;
	if (dir == KILO_LB_CT_SERVICE) {
		key->saddr = pkt->saddr;
		key->daddr = pkt->daddr;
		key->sport = pkt->sport;
		key->dport = pkt->dport;
	} else {
		key->saddr = pkt->daddr;
		key->daddr = pkt->saddr;
		key->sport = pkt->dport;
		key->dport = pkt->sport;
	}
}

static __always_inline __u8 kilo_lb_tcp_state_after(__u8 state, __u8 tcp_flags)
{
	if (tcp_flags & (KILO_TCP_FIN | KILO_TCP_RST))
		return KILO_LB_TCP_CLOSING;
	if (state == KILO_LB_TCP_CLOSING)
		return state;
	if (tcp_flags & KILO_TCP_SYN)
		return state == KILO_LB_TCP_ESTABLISHED ? state : KILO_LB_TCP_NEW;
	return KILO_LB_TCP_ESTABLISHED;
}

static __always_inline __u64 kilo_lb_ct_timeout(__u8 proto, __u8 state)
{
	if (proto != IPPROTO_TCP)
		return KILO_LB_CT_UDP_TIMEOUT;
	if (state == KILO_LB_TCP_ESTABLISHED)
		return KILO_LB_CT_ESTABLISHED_TIMEOUT;
	if (state == KILO_LB_TCP_CLOSING)
		return KILO_LB_CT_CLOSING_TIMEOUT;
	return KILO_LB_CT_SYN_TIMEOUT;
}

/* A new entry's state and expiry for the packet that opens it. */
static __always_inline void kilo_lb_ct_open(struct kilo_lb_ct *ct, const struct kilo_lb_packet *pkt,
					    __u64 now)
{
	ct->tcp_state = pkt->proto == IPPROTO_TCP
				? kilo_lb_tcp_state_after(KILO_LB_TCP_NEW, pkt->tcp_flags)
				: KILO_LB_TCP_NEW;
	ct->expires_ns = now + kilo_lb_ct_timeout(pkt->proto, ct->tcp_state);
}

/* A packet of the entry's flow went by: its TCP state and expiry follow. */
static __always_inline void kilo_lb_ct_refresh(struct kilo_lb_ct *ct,
					       const struct kilo_lb_packet *pkt, __u64 now)
{
	__u8 state = ct->tcp_state;
	__u64 expires;

	if (pkt->proto == IPPROTO_TCP && kilo_lb_has_l4_ports(pkt))
		state = kilo_lb_tcp_state_after(state, pkt->tcp_flags);
	expires = now + kilo_lb_ct_timeout(pkt->proto, state);
	if (state != ct->tcp_state || expires > ct->expires_ns + KILO_LB_CT_REFRESH_SLACK ||
	    expires < ct->expires_ns) {
		ct->tcp_state = state;
		ct->expires_ns = expires;
	}
}

/* A live entry of this key, or NULL (absent or expired). */
static __always_inline struct kilo_lb_ct *kilo_lb_ct_lookup(const struct kilo_lb_ct_key *key,
							    __u64 now)
{
	struct kilo_lb_ct *ct = bpf_map_lookup_elem(&kilo_lb_conntrack, key);

	if (!ct || ct->expires_ns < now)
		return NULL;
	return ct;
}

/* The flow a backend's packet answers: its conntrack entry and its frontend's reverse NAT. */
struct kilo_lb_flow {
	struct kilo_lb_ct *ct;
	struct kilo_lb_revnat *revnat;
	int reply_entry; /* ct is the flow's REPLY entry, not its SERVICE entry */
};

/* What kilo_lb_find_service_entry returns when the reply's source is no backend: it has no record. */
#define KILO_LB_NOT_A_BACKEND (-2)

/*
 * The client's SERVICE entry, through the frontends that balance to the
 * backend; 0 when found, KILO_LB_NOT_A_BACKEND, else -1. A client port
 * reused for another frontend of the same backend leaves the closed flow's
 * entry alive a while (10 s): a flow not closing wins over it.
 */
static __always_inline int kilo_lb_find_service_entry(const struct kilo_lb_ct_key *reply_key, __u64 now,
						      struct kilo_lb_flow *flow)
{
	struct kilo_lb_backend_frontends *fronts;
	struct kilo_lb_backend_addr backend;
	struct kilo_lb_flow closing = {0};
	struct kilo_lb_ct_key key;
	__u32 i;

	__builtin_memset(&backend, 0, sizeof(backend));
	backend.addr = reply_key->daddr;
	backend.port = reply_key->dport;
	backend.proto = reply_key->proto;
	backend.family = reply_key->family;
	fronts = bpf_map_lookup_elem(&kilo_lb_backend_frontends, &backend);
	if (!fronts)
		return KILO_LB_NOT_A_BACKEND;
	key = *reply_key;
	key.dir = KILO_LB_CT_SERVICE;
	for (i = 0; i < KILO_LB_BACKEND_FRONTENDS && i < fronts->n_services; i++) {
		flow->revnat = bpf_map_lookup_elem(&kilo_lb_revnat, &fronts->service_ids[i]);
		if (!flow->revnat || flow->revnat->family != key.family)
			continue;
		key.daddr = flow->revnat->addr;
		key.dport = flow->revnat->port;
		flow->ct = kilo_lb_ct_lookup(&key, now);
		/* An SNATed flow's SERVICE entry is not the one its replies reverse. */
		if (!flow->ct || flow->ct->backend_id != fronts->backend_id || flow->ct->nat_port)
			continue;
		flow->reply_entry = 0;
		if (flow->ct->tcp_state != KILO_LB_TCP_CLOSING)
			return 0;
		closing = *flow;
	}
	*flow = closing;
	return closing.ct ? 0 : -1;
}

/*
 * The flow of reply_key (client -> backend, dir REPLY: the answer's tuple
 * reversed): its SERVICE entry, or else its REPLY entry. 0 when found.
 * Every backend has a record (kilo_lb_backend_frontends), and REPLY
 * entries name only backends: a source without one, as most packets that
 * are no reply have, costs no conntrack lookup.
 */
static __always_inline int kilo_lb_find_flow(const struct kilo_lb_ct_key *reply_key, __u64 now,
					     struct kilo_lb_flow *flow)
{
	int r = kilo_lb_find_service_entry(reply_key, now, flow);

	if (r == 0 || r == KILO_LB_NOT_A_BACKEND)
		return r;
	flow->ct = kilo_lb_ct_lookup(reply_key, now);
	if (!flow->ct)
		return -1;
	flow->revnat = bpf_map_lookup_elem(&kilo_lb_revnat, &flow->ct->service_id);
	if (!flow->revnat || flow->revnat->family != reply_key->family)
		return -1;
	flow->reply_entry = 1;
	return 0;
}

static __always_inline void kilo_lb_fragment_key_init(struct kilo_lb_fragment_key *key,
						      const struct kilo_lb_packet *pkt)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->saddr = pkt->saddr;
	key->daddr = pkt->daddr;
	key->id = pkt->frag_id;
	key->proto = pkt->proto;
	key->family = pkt->family;
}

/*
 * Fragments: the first one records its ports, a later one takes them.
 * Returns -1 for a later fragment whose first fragment was not seen: its
 * ports are unknown and it passes as it is.
 */
static __always_inline int kilo_lb_fragment_ports(struct kilo_lb_packet *pkt)
{
	struct kilo_lb_fragment_key key;
	struct kilo_lb_fragment ports, *known;

	if (pkt->fragment == KILO_LB_NOT_FRAGMENT ||
	    (pkt->proto != IPPROTO_TCP && pkt->proto != IPPROTO_UDP && pkt->proto != IPPROTO_SCTP))
		return 0;
	kilo_lb_fragment_key_init(&key, pkt);
	if (pkt->fragment == KILO_LB_FIRST_FRAGMENT) {
		ports.sport = pkt->sport;
		ports.dport = pkt->dport;
		bpf_map_update_elem(&kilo_lb_fragments, &key, &ports, BPF_ANY);
		return 0;
	}
	known = bpf_map_lookup_elem(&kilo_lb_fragments, &key);
	if (!known)
		return -1;
	pkt->sport = known->sport;
	pkt->dport = known->dport;
	return 0;
}

#endif
