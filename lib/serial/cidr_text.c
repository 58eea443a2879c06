/* SPDX-License-Identifier: Apache-2.0 */
#include "cidr_text.h"

#include <errno.h>
#include <string.h>

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int kilo_serial_cidr_parse(const char *text, struct kilo_cidr *out)
{
	struct kilo_cidr cidr;

	if (kilo_cidr_parse(text, &cidr) < 0)
		return -EINVAL;
	if (cidr.addr.family == 6 && memcmp(cidr.addr.bytes, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0)
		return -EINVAL;
	*out = cidr;
	return 0;
}
