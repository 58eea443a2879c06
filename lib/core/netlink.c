/* SPDX-License-Identifier: Apache-2.0 */
#include "netlink.h"

#include <errno.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "error.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

int kilo_netlink_open(struct kilo_netlink *nl, int bus, struct kilo_error *err)
{
	int one = 1;

	memset(nl, 0, sizeof(*nl));
	nl->buf = malloc(KILO_NETLINK_BUFFER_SIZE);
	nl->socket = mnl_socket_open2(bus, SOCK_CLOEXEC);
	if (!nl->buf || !nl->socket || mnl_socket_bind(nl->socket, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = nl->buf ? errno : ENOMEM;

		kilo_netlink_close(nl);
		return kilo_error_set(err, e, "netlink socket: %s", strerror(e));
	}
	/* Without extended acks the kernel's explanation of an error is lost. */
	mnl_socket_setsockopt(nl->socket, NETLINK_EXT_ACK, &one, sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->socket);
	nl->seq = (unsigned int)random();
	return 0;
}

void kilo_netlink_close(struct kilo_netlink *nl)
{
	if (nl->socket)
		mnl_socket_close(nl->socket);
	free(nl->buf);
	memset(nl, 0, sizeof(*nl));
}

unsigned int kilo_netlink_next_seq(struct kilo_netlink *nl)
{
	return ++nl->seq;
}

struct ack {
	int error;              /* the kernel's -errno, 0 */
	char message[256];      /* its extended-ack text */
};

static int ext_ack_attr(const struct nlattr *attr, void *data)
{
	struct ack *ack = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(ack->message, sizeof(ack->message), "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

/* NLMSG_ERROR: an ack (error 0) or an error with, maybe, the kernel's text. */
static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct ack *ack = data;
	size_t offset;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		ack->error = -EBADMSG;
		return MNL_CB_ERROR;
	}
	ack->error = e->error;
	if (e->error == 0)
		return MNL_CB_STOP;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		/* The attributes follow the error and, unless capped, a copy of our request. */
		offset = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			offset += e->msg.nlmsg_len - sizeof(e->msg);
		if (mnl_nlmsg_size(offset) <= nlh->nlmsg_len)
			mnl_attr_parse(nlh, (unsigned int)offset, ext_ack_attr, ack);
	}
	return MNL_CB_ERROR;
}

/* Runs the replies in buf; MNL_CB_OK while more are to come. */
static int run_replies(const char *buf, size_t n, unsigned int seq, unsigned int portid, mnl_cb_t cb, void *data,
		       struct ack *ack, bool *interrupted)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int left = (int)n, r;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (!mnl_nlmsg_seq_ok(nlh, seq) || !mnl_nlmsg_portid_ok(nlh, portid)) {
			ack->error = -EPROTO;
			return MNL_CB_ERROR;
		}
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			*interrupted = true;
		switch (nlh->nlmsg_type) {
		case NLMSG_ERROR:
			return error_cb(nlh, ack);
		case NLMSG_DONE:
			/* A dump ends with an error code of its own. */
			if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(int)) && *(const int *)mnl_nlmsg_get_payload(nlh) < 0) {
				ack->error = *(const int *)mnl_nlmsg_get_payload(nlh);
				return MNL_CB_ERROR;
			}
			return MNL_CB_STOP;
		case NLMSG_NOOP:
		case NLMSG_OVERRUN:
			continue;
		default:
			if (!cb)
				continue;
			r = cb(nlh, data);
			if (r == MNL_CB_ERROR)
				ack->error = -EBADMSG;
			if (r <= MNL_CB_STOP)
				return r;
		}
	}
	return MNL_CB_OK;
}

int kilo_netlink_talk(struct kilo_netlink *nl, const void *request, size_t len, unsigned int seq, mnl_cb_t cb,
		      void *data, const char *what, struct kilo_error *err)
{
	struct ack ack = { 0 };
	bool interrupted = false;
	int r, e;

	if (mnl_socket_sendto(nl->socket, request, len) < 0)
		return kilo_error_set(err, errno, "%s: sending to the kernel: %s", what, strerror(errno));
	do {
		ssize_t n = mnl_socket_recvfrom(nl->socket, nl->buf, KILO_NETLINK_BUFFER_SIZE);

		if (n < 0)
			return kilo_error_set(err, errno, "%s: reading from the kernel: %s", what, strerror(errno));
		r = run_replies(nl->buf, (size_t)n, seq, nl->portid, cb, data, &ack, &interrupted);
	} while (r == MNL_CB_OK);
	if (r == MNL_CB_ERROR) {
		e = ack.error ? -ack.error : EBADMSG;
		if (ack.message[0])
			return kilo_error_set(err, e, "%s: %s (%s)", what, ack.message, strerror(e));
		return kilo_error_set(err, e, "%s: %s", what, strerror(e));
	}
	return interrupted ? -EINTR : 0;
}
