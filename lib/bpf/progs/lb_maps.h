/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The load balancer's maps: every key and value, in fixed-width types, shared
 * by the BPF programs (lib/bpf/progs) and libkilo, which fills the maps. A
 * field is never reordered or resized: maps pinned by an older kg must stay
 * readable by a newer one. Ports are in network byte order, as on the wire;
 * IPv4 addresses sit in the first 4 bytes of kilo_lb_addr, the rest zero.
 */
#ifndef KILO_LB_MAPS_H
#define KILO_LB_MAPS_H

#include <linux/types.h>

#define KILO_LB_PIN_DIR "/sys/fs/bpf/kilo"

/* Sizes of the maps, as created (the programs and libkilo agree on them). */
#define KILO_LB_MAX_SERVICES 131072  /* frontends: VIP/node address, port, protocol */
#define KILO_LB_MAX_BACKENDS 262144
#define KILO_LB_MAX_SLOTS 1048576    /* (service, slot) -> backend, over all services */
#define KILO_LB_MAX_CONNTRACK 262144 /* LRU */
#define KILO_LB_MAX_AFFINITY 65536   /* LRU */
#define KILO_LB_MAGLEV_DEFAULT 16381 /* Maglev table size M (prime) */
#define KILO_LB_MAGLEV_LARGE 65521
#define KILO_LB_MAX_FRAGMENTS 8192   /* LRU: datagrams being fragmented */

union kilo_lb_addr {
	__u32 v4;     /* network byte order */
	__u32 v6[4];  /* network byte order */
	__u8 bytes[16];
};

enum kilo_lb_scope {
	KILO_LB_SCOPE_CLUSTER = 0,  /* a ClusterIP, reached from pods and host processes */
	KILO_LB_SCOPE_NODEPORT = 1, /* a node address and a NodePort, reached from outside */
};

struct kilo_lb_service_key {
	union kilo_lb_addr addr; /* the ClusterIP, or the node's address for a NodePort */
	__be16 port;
	__u8 proto;  /* IPPROTO_TCP, IPPROTO_UDP */
	__u8 family; /* AF_INET (2), AF_INET6 (10) */
	__u8 scope;  /* enum kilo_lb_scope */
	__u8 pad[3];
};

enum kilo_lb_service_flags {
	KILO_LB_SERVICE_AFFINITY = 1 << 0,      /* sessionAffinity: ClientIP */
	KILO_LB_SERVICE_MAGLEV = 1 << 1,        /* pick new flows from the service's Maglev table */
	KILO_LB_SERVICE_ICMP_REJECT = 1 << 2,   /* no backend: answer ICMP unreachable instead of dropping */
	KILO_LB_SERVICE_SNAT = 1 << 3,          /* NodePort to a backend on another node: SNAT to the node's address */
	KILO_LB_SERVICE_MAGLEV_LARGE = 1 << 4,  /* its Maglev table has KILO_LB_MAGLEV_LARGE entries, else the default */
};

struct kilo_lb_service {
	__u32 id;               /* the frontend's number: key of its slots, Maglev table and reverse NAT */
	__u16 backend_count;    /* slots 1..backend_count; 0: no backend takes new flows */
	__u16 flags;            /* enum kilo_lb_service_flags */
	__u32 affinity_timeout; /* seconds, with KILO_LB_SERVICE_AFFINITY */
	__u32 pad;
};

struct kilo_lb_slot_key {
	__u32 service_id;
	__u32 slot; /* 1..backend_count */
};

struct kilo_lb_backend {
	union kilo_lb_addr addr;
	__be16 port;
	__u8 proto;
	__u8 family;
	__u32 flags; /* enum kilo_lb_backend_flags */
};

enum kilo_lb_backend_flags {
	KILO_LB_BACKEND_NO_NEW_FLOWS = 1 << 0, /* in no frontend's slots: keeps its flows, takes no new ones */
	/* More frontends than kilo_lb_backend_frontends holds: its flows keep a REPLY entry each. */
	KILO_LB_BACKEND_REPLY_ENTRIES = 1 << 1,
};

/*
 * The frontends that balance to a backend, keyed by the backend's address,
 * port, protocol and family: how a reply finds its flow's SERVICE entry
 * (client -> frontend) without a REPLY entry of its own, so that a new flow
 * costs one conntrack entry, not two. Every backend has one, so that a
 * packet from an address and port without one is no backend's reply and
 * needs no conntrack lookup. A backend with more frontends than
 * KILO_LB_BACKEND_FRONTENDS lists none and has
 * KILO_LB_BACKEND_REPLY_ENTRIES.
 */
#define KILO_LB_BACKEND_FRONTENDS 4

struct kilo_lb_backend_addr {
	union kilo_lb_addr addr;
	__be16 port;
	__u8 proto;
	__u8 family;
};

struct kilo_lb_backend_frontends {
	__u32 backend_id;
	__u32 n_services; /* listed in service_ids, at most KILO_LB_BACKEND_FRONTENDS */
	__u32 service_ids[KILO_LB_BACKEND_FRONTENDS];
};

/* Reverse NAT, keyed by the service id: what a reply's source becomes. */
struct kilo_lb_revnat {
	union kilo_lb_addr addr;
	__be16 port;
	__u8 family;
	__u8 pad;
	__u32 pad2;
};

/* Maglev: a HASH_OF_MAPS from the service id to an ARRAY of M backend ids. */

struct kilo_lb_ct_key {
	union kilo_lb_addr saddr;
	union kilo_lb_addr daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u8 dir; /* enum kilo_lb_ct_dir */
	__u8 pad;
};

enum kilo_lb_ct_dir {
	KILO_LB_CT_SERVICE = 0, /* client -> VIP: the flow's backend */
	KILO_LB_CT_REPLY = 1,   /* client -> backend, as the reply's tuple reversed: its reverse NAT, when
				 * the SERVICE entry cannot be found from the reply (SNAT, or
				 * KILO_LB_BACKEND_REPLY_ENTRIES) */
	KILO_LB_CT_POLICY = 2,  /* a flow network policy allowed (not balanced here): its tuple, lower side first */
};

/*
 * A conntrack entry's policy byte: the directions in which network policy
 * judged the flow and allowed it; in a POLICY entry (keyed by the lower
 * (address, port) side first, so that both directions find it), which
 * side opened the flow.
 */
enum kilo_lb_ct_policy {
	KILO_LB_CT_ALLOWED_INGRESS = 1 << 0, /* 1 << KILO_POLICY_INGRESS */
	KILO_LB_CT_ALLOWED_EGRESS = 1 << 1,  /* 1 << KILO_POLICY_EGRESS */
	KILO_LB_CT_OPENED_BY_DADDR = 1 << 2, /* the key's daddr side sent the first packet */
};

enum kilo_lb_tcp_state {
	KILO_LB_TCP_NEW = 0,
	KILO_LB_TCP_ESTABLISHED = 1,
	KILO_LB_TCP_CLOSING = 2, /* a FIN or RST seen */
};

struct kilo_lb_ct {
	__u64 expires_ns;  /* CLOCK_MONOTONIC(_COARSE) after which the entry is stale: bpf_ktime_get_coarse_ns() */
	__u32 backend_id;
	__u32 service_id;  /* the reverse NAT's key */
	__u8 tcp_state;    /* enum kilo_lb_tcp_state */
	__u8 policy;       /* enum kilo_lb_ct_policy (was padding) */
	__u8 pad[2];
	/*
	 * NodePort SNAT, network byte order; nat_port 0: none. A SERVICE entry:
	 * the source address and port its packets get. A REPLY entry: the
	 * client's, which the replies go back to.
	 */
	__u32 nat_port;
	union kilo_lb_addr nat_addr;
};

struct kilo_lb_affinity_key {
	union kilo_lb_addr client;
	__u32 service_id;
	__u8 family;
	__u8 pad[3];
};

struct kilo_lb_affinity {
	__u64 last_used_ns;
	__u32 backend_id;
	__u32 pad;
};

/*
 * Fragments: only a datagram's first fragment carries its ports. The programs
 * remember them, keyed by the datagram, so that the later fragments are
 * balanced (or reversed) with the first.
 */
struct kilo_lb_fragment_key {
	union kilo_lb_addr saddr;
	union kilo_lb_addr daddr;
	__u32 id; /* IPv4: the 16-bit identification; IPv6: the fragment header's */
	__u8 proto;
	__u8 family;
	__u8 pad[2];
};

struct kilo_lb_fragment {
	__be16 sport;
	__be16 dport;
};

/* Per-CPU counters, an ARRAY indexed by reason. */
enum kilo_lb_counter {
	KILO_LB_FORWARD_NEW = 0,       /* a new flow balanced to a backend */
	KILO_LB_FORWARD_ESTABLISHED,   /* a packet of a known flow */
	KILO_LB_REVERSE_NAT,           /* a reply rewritten back to the service */
	KILO_LB_DROP_NO_BACKEND,
	KILO_LB_REJECT_NO_BACKEND,     /* answered with ICMP unreachable */
	KILO_LB_DROP_BACKEND_GONE,     /* a flow whose backend left the maps */
	KILO_LB_DROP_MALFORMED,
	KILO_LB_DROP_FRAGMENT,         /* a non-first fragment of a balanced flow without its state */
	KILO_LB_ICMP_ERROR_NAT,        /* an ICMP error about a balanced flow, rewritten */
	KILO_LB_PASS,                  /* not for a service */
	KILO_LB_DROP_NAT_PORTS,        /* NodePort SNAT found no free source port */
	/* The socket programs (sock.bpf.c) count system calls, not packets; bytes stay 0. */
	KILO_LB_SOCK_FORWARD,          /* a connect() or sendmsg() to a service sent to a backend */
	KILO_LB_SOCK_REVERSE,          /* a backend's address shown as its service's (recvmsg, getpeername) */
	KILO_LB_SOCK_REJECT_NO_BACKEND, /* a connect() or sendmsg() refused with ECONNREFUSED */
	KILO_LB_SOCK_REVERSE_LOST,     /* forwarded, but its reverse entry could not be stored */
	/* Network policy (policy.bpf.h): new flows judged at a policed endpoint, and flow events. */
	KILO_LB_POLICY_FORWARD_NEW,    /* a new flow a rule (or the node, in) allowed */
	KILO_LB_POLICY_DENY_INGRESS,   /* dropped: no rule lets it in to its endpoint */
	KILO_LB_POLICY_DENY_EGRESS,    /* dropped: no rule lets it out of its endpoint */
	KILO_LB_FLOW_EVENTS_LOST,      /* flow events not written: over the rate limit, or the ring buffer full */
	KILO_LB_COUNTER_MAX,
};

struct kilo_lb_counter_value {
	__u64 packets;
	__u64 bytes;
};

/*
 * Socket-level balancing: what a host process's socket was sent to, so that
 * recvmsg() and getpeername() show it the service, not the backend. An LRU
 * keyed by the socket's cookie (unique per boot) and the backend, valued by
 * the service's address and port in a struct kilo_lb_revnat.
 */
#define KILO_LB_MAX_SOCK_REVNAT 65536

struct kilo_lb_sock_revnat_key {
	__u64 cookie; /* bpf_get_socket_cookie() */
	union kilo_lb_addr addr; /* the backend */
	__be16 port;
	__u8 family;
	__u8 pad[5];
};

/*
 * This node's own addresses: an ARRAY of one entry (key 0). A flow that
 * enters the node from outside its pods (a VPN peer's, through the
 * WireGuard device) to a ClusterIP is SNATed to the address of its family,
 * so that the backend's reply, wherever the backend runs, comes back here
 * to be reversed. has_v4/has_v6 0: no address of that family (no SNAT).
 */
struct kilo_lb_node {
	union kilo_lb_addr v4;
	union kilo_lb_addr v6;
	__u8 has_v4;
	__u8 has_v6;
	__u8 pad[6];
};

#endif
