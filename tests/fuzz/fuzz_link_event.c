/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtnetlink link messages as the agent's link watcher reads them (kg
 * --bpf): any bytes, walked as the watcher walks a datagram, never crash,
 * and a link read has a NUL-terminated name of the kernel's length.
 */
#include <linux/rtnetlink.h>

#include "agent/lb.h"
#include "fuzz.h"

static void check_link(uint16_t type, const struct kilo_lb_link *link, void *ctx)
{
	(void)ctx;
	FUZZ_ASSERT(type == RTM_NEWLINK || type == RTM_DELLINK, "a message of type %u read as a link", type);
	FUZZ_ASSERT(link->name[0] && strnlen(link->name, sizeof(link->name)) < sizeof(link->name),
		    "a link without a proper name");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* libmnl walks the messages in place: aligned, as a receive buffer is; as large as the watcher's, at most 8 KiB. */
	static uint32_t buf[8192 / sizeof(uint32_t)];

	if (size > sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	kilo__lb_link_walk(buf, size, check_link, NULL);
	return 0;
}
