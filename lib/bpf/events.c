// SPDX-License-Identifier: Apache-2.0
/* Reading the programs' flow events (events.bpf.h) from their ring buffer. */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "../core/error.h"

#define EVENTS_MAP "kilo_policy_events"

struct kilo_bpf_events {
	struct ring_buffer *ring;
	int pinned_fd; /* opened from a pin: ours to close; else -1 */
	kilo_bpf_event_fn fn;
	void *ctx;
};

static int on_sample(void *ctx, void *data, size_t size)
{
	struct kilo_bpf_events *events = ctx;

	/* A record of another size is from programs of another version: not ours to read. */
	if (size != sizeof(struct kilo_flow_event))
		return 0;
	return events->fn(events->ctx, data);
}

static int open_fd(int fd, int pinned_fd, kilo_bpf_event_fn fn, void *ctx, kilo_bpf_events **out,
		   struct kilo_error *err)
{
	struct kilo_bpf_events *events = calloc(1, sizeof(*events));
	libbpf_print_fn_t previous;
	int r;

	if (!events) {
		if (pinned_fd >= 0)
			close(pinned_fd);
		return kilo_error_set(err, ENOMEM, "bpf: out of memory");
	}
	events->pinned_fd = pinned_fd;
	events->fn = fn;
	events->ctx = ctx;
	previous = kilo__bpf_quiet();
	events->ring = ring_buffer__new(fd, on_sample, events, NULL);
	r = events->ring ? 0 : -errno;
	kilo__bpf_loud(previous);
	if (r < 0) {
		kilo_bpf_events_close(events);
		return kilo_error_set(err, -r, "bpf: reading map %s: %s", EVENTS_MAP, strerror(-r));
	}
	*out = events;
	return 0;
}

int kilo_bpf_events_open(kilo_bpf *bpf, kilo_bpf_event_fn fn, void *ctx, kilo_bpf_events **out,
			 struct kilo_error *err)
{
	int fd = kilo__bpf_map_fd(bpf, EVENTS_MAP);

	*out = NULL;
	if (fd < 0)
		return kilo_error_set(err, ENOENT, "bpf: no map %s in the programs", EVENTS_MAP);
	return open_fd(fd, -1, fn, ctx, out, err);
}

int kilo_bpf_events_open_pinned(const char *pin_dir, kilo_bpf_event_fn fn, void *ctx, kilo_bpf_events **out,
				struct kilo_error *err)
{
	char path[PATH_MAX];
	int fd;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/%s", pin_dir ? pin_dir : KILO_LB_PIN_DIR, EVENTS_MAP);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return kilo_error_set(err, -fd, "bpf events: %s: %s%s", path, strerror(-fd),
				      fd == -ENOENT ? " (is kg running with --bpf?)" : "");
	return open_fd(fd, fd, fn, ctx, out, err);
}

int kilo_bpf_events_fd(const kilo_bpf_events *events)
{
	return ring_buffer__epoll_fd(events->ring);
}

int kilo_bpf_events_consume(kilo_bpf_events *events, struct kilo_error *err)
{
	int r = ring_buffer__consume(events->ring);

	if (r < 0)
		return kilo_error_set(err, -r, "bpf: reading flow events: %s", strerror(-r));
	return r;
}

void kilo_bpf_events_close(kilo_bpf_events *events)
{
	if (!events)
		return;
	ring_buffer__free(events->ring);
	if (events->pinned_fd >= 0)
		close(events->pinned_fd);
	free(events);
}
