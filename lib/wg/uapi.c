/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UAPI socket I/O: one connection per request, a request written whole and
 * a reply read up to its blank line. Every buffer that held a key is wiped.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "../core/error.h"
#include "uapi.h"

/* A device that does not answer within this time is treated as hung. */
#define UAPI_TIMEOUT_SEC 30
#define REPLY_CHUNK 4096

struct reply {
	char *text;
	size_t len, cap;
};

static void reply_release(struct reply *r)
{
	kilo_uapi_text_free(r->text, r->cap);
	*r = (struct reply){ 0 };
}

/* Grows by copying and wiping, never realloc, which could leave a key in freed memory. */
static int reply_reserve(struct reply *r)
{
	size_t cap = r->cap ? 2 * r->cap : REPLY_CHUNK;
	char *text;

	if (r->len + REPLY_CHUNK <= r->cap)
		return 0;
	if (cap < r->cap || !(text = malloc(cap)))
		return -ENOMEM;
	if (r->len)
		memcpy(text, r->text, r->len);
	kilo_uapi_text_free(r->text, r->cap);
	r->text = text;
	r->cap = cap;
	return 0;
}

int kilo_uapi_socket_path(const char *socket_dir, const char *ifname, char out[KILO_UAPI_PATH_MAX],
			  struct kilo_error *err)
{
	int n = snprintf(out, KILO_UAPI_PATH_MAX, "%s/%s.sock", socket_dir ? socket_dir : KILO_UAPI_SOCKET_DIR, ifname);

	if (n < 0 || (size_t)n >= KILO_UAPI_PATH_MAX)
		return kilo_error_set(err, ENAMETOOLONG, "UAPI socket path %s/%s.sock is too long",
				      socket_dir ? socket_dir : KILO_UAPI_SOCKET_DIR, ifname);
	return 0;
}

static int connect_device(const char *path, const char *ifname, struct kilo_error *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval timeout = { .tv_sec = UAPI_TIMEOUT_SEC };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), e;

	if (fd < 0)
		return kilo_error_set(err, errno, "%s: cannot create a UAPI socket: %s", ifname, strerror(errno));
	strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) < 0 ||
	    connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		e = errno;
		close(fd);
		if (e == ENOENT)
			return kilo_error_set(err, ENODEV, "%s: no userspace WireGuard socket %s", ifname, path);
		if (e == ECONNREFUSED)
			return kilo_error_set(err, ENODEV, "%s: nothing listens on %s (a userspace WireGuard that stopped?)",
					      ifname, path);
		return kilo_error_set(err, e, "%s: cannot connect to %s: %s", ifname, path, strerror(e));
	}
	return fd;
}

/* Sends request and reads the reply up to its blank line (or the end of the stream). */
static int transact(const char *path, const char *ifname, const char *request, size_t len, struct reply *reply,
		    struct kilo_error *err)
{
	int fd = connect_device(path, ifname, err), r = 0;

	if (fd < 0)
		return fd;
	for (size_t sent = 0; sent < len;) {
		ssize_t n = send(fd, request + sent, len - sent, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = kilo_error_set(err, errno, "%s: sending to %s: %s", ifname, path, strerror(errno));
			goto out;
		}
		sent += (size_t)n;
	}
	while (reply->len < 2 || memcmp(reply->text + reply->len - 2, "\n\n", 2) != 0) {
		ssize_t n;

		if (reply_reserve(reply) < 0) {
			r = kilo_error_set(err, ENOMEM, "%s: out of memory for the UAPI reply", ifname);
			goto out;
		}
		n = recv(fd, reply->text + reply->len, reply->cap - reply->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = kilo_error_set(err, errno, "%s: reading from %s: %s", ifname, path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		reply->len += (size_t)n;
	}
	if (reply->len == 0)
		r = kilo_error_set(err, EPROTO, "%s: %s closed the connection without a reply", ifname, path);
out:
	close(fd);
	return r;
}

int kilo_uapi_get(const char *path, const char *ifname, struct kilo_wg_config **out, struct kilo_error *err)
{
	static const char request[] = "get=1\n\n";
	struct reply reply = { 0 };
	int r = transact(path, ifname, request, sizeof(request) - 1, &reply, err);

	if (r == 0 && (r = kilo_uapi_decode_get(reply.text, reply.len, out, err)) < 0)
		kilo_error_prefix(err, "%s", ifname);
	reply_release(&reply);
	return r;
}

static bool removes_allowed_ips(const struct kilo_wg_config *change)
{
	for (size_t i = 0; i < change->n_peers; i++)
		if (change->peers[i].flags & KILO_WG_PEER_REMOVE_ALLOWED_IPS)
			return true;
	return false;
}

int kilo_uapi_set(const char *path, const char *ifname, const struct kilo_wg_config *change,
		  struct kilo_wg_counters *counters, struct kilo_error *err)
{
	struct kilo_wg_config *live = NULL;
	struct reply reply = { 0 };
	char *request = NULL;
	size_t len = 0;
	int r = 0;

	/* UAPI has no per-IP removal: read the device to replace its set without them. */
	if (removes_allowed_ips(change))
		r = kilo_uapi_get(path, ifname, &live, err);
	if (r == 0 && (r = kilo_uapi_encode_set(change, live, &request, &len, err)) < 0)
		kilo_error_prefix(err, "%s", ifname);
	if (r == 0) {
		r = transact(path, ifname, request, len, &reply, err);
		counters->messages++;
		counters->peers += change->n_peers;
	}
	if (r == 0 && (r = kilo_uapi_decode_errno(reply.text, reply.len, err)) < 0)
		kilo_error_prefix(err, "%s: set", ifname);
	kilo_uapi_text_free(request, len);
	reply_release(&reply);
	kilo_wg_config_free(live);
	return r;
}
