/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A netlink socket with request/reply plumbing shared by the rtnetlink,
 * generic netlink (WireGuard) and nftables code: sequence numbers, replies
 * run through a callback, the kernel's extended-ack text in kilo_error.
 */
#ifndef KILO_LIB_CORE_NETLINK_H
#define KILO_LIB_CORE_NETLINK_H

#include <libmnl/libmnl.h>

#include <kilo/core.h>

/* Big enough for any one reply message the kernel sends (a dump part is at most a page or two). */
#define KILO_NETLINK_BUFFER_SIZE (64 * 1024)

struct kilo_netlink {
	struct mnl_socket *socket;
	unsigned int portid;
	unsigned int seq;
	char *buf; /* KILO_NETLINK_BUFFER_SIZE bytes for replies */
};

/* Opens a socket on bus (NETLINK_ROUTE, NETLINK_GENERIC, NETLINK_NETFILTER) with extended acks. */
int kilo_netlink_open(struct kilo_netlink *nl, int bus, struct kilo_error *err);
void kilo_netlink_close(struct kilo_netlink *nl);

/* The next sequence number, to put in a request before sending it. */
unsigned int kilo_netlink_next_seq(struct kilo_netlink *nl);

/*
 * Sends len bytes at request (one or more messages, the last carrying
 * NLM_F_ACK or being a dump) and runs cb (which may be NULL) on every reply
 * with seq until the kernel acknowledges or ends the dump. A kernel error
 * returns -errno and records its extended-ack text, prefixed by what; a dump
 * that the kernel marked interrupted returns -EINTR so the caller can retry.
 */
int kilo_netlink_talk(struct kilo_netlink *nl, const void *request, size_t len, unsigned int seq, mnl_cb_t cb,
		      void *data, const char *what, struct kilo_error *err);

#endif
