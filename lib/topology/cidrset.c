/* SPDX-License-Identifier: Apache-2.0 */
#include "internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t addr_len(const struct kilo_addr *addr)
{
	return addr->family == 4 ? 4 : 16;
}

static size_t cidr_hash(const struct kilo_cidr *cidr)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	h = (h ^ cidr->addr.family) * 1099511628211ULL;
	h = (h ^ cidr->prefix) * 1099511628211ULL;
	for (size_t i = 0; i < addr_len(&cidr->addr); i++)
		h = (h ^ cidr->addr.bytes[i]) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 32));
}

int kilo_cidr_set_init(struct kilo_cidr_set *set, size_t n)
{
	size_t cap = 16;

	/* At most half full, so that probes stay short. */
	while (cap < n * 2) {
		if (cap > SIZE_MAX / 4)
			return -ENOMEM;
		cap *= 2;
	}
	set->slots = calloc(cap, sizeof(*set->slots));
	if (!set->slots)
		return -ENOMEM;
	set->mask = cap - 1;
	return 0;
}

bool kilo_cidr_set_add(struct kilo_cidr_set *set, const struct kilo_cidr *cidr)
{
	size_t i;

	if (cidr->addr.family == 0)
		return true;
	for (i = cidr_hash(cidr) & set->mask; set->slots[i].addr.family; i = (i + 1) & set->mask) {
		if (set->slots[i].prefix == cidr->prefix && set->slots[i].addr.family == cidr->addr.family &&
		    memcmp(set->slots[i].addr.bytes, cidr->addr.bytes, addr_len(&cidr->addr)) == 0)
			return false;
	}
	set->slots[i] = *cidr;
	return true;
}

void kilo_cidr_set_free(struct kilo_cidr_set *set)
{
	free(set->slots);
	set->slots = NULL;
}
