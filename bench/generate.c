// SPDX-License-Identifier: Apache-2.0
#include "generate.h"

#include <inttypes.h>
#include <string.h>

#include <kilo/kilo.h>

/* Distinct from every other node's: the meshes of the sizes keep the /24s they always had. */
static void pod_cidr(unsigned i, char out[32])
{
	unsigned j = i - BENCH_FIRST_RANGE_NODES;

	if (i < BENCH_FIRST_RANGE_NODES)
		snprintf(out, 32, "10.%u.%u.0/24", 128 + (i >> 8), i & 255);
	else
		snprintf(out, 32, "100.%u.%u.%u/27", 64 + (j >> 11), (j >> 3) & 255, (j & 7) * 32);
}

/* Distinct too: 192.168.0.0/16 holds the first 65,536, as it always did; 172.16.0.0/12 the rest. */
static void internal_ip(unsigned i, char out[32])
{
	if (i < 65536)
		snprintf(out, 32, "192.168.%u.%u/16", i >> 8, i & 255);
	else
		snprintf(out, 32, "172.%u.%u.%u/12", 16 + (i >> 16) - 1, (i >> 8) & 255, i & 255);
}

void bench_node_json(FILE *f, unsigned i, unsigned l, unsigned variant, int64_t last_seen)
{
	char cidr[32], internal[32], key_text[KILO_KEY_B64_LEN + 1];
	struct kilo_key key;

	memset(&key, 0, sizeof(key));
	key.bytes[0] = (uint8_t)((i + 1) >> 24);
	key.bytes[1] = (uint8_t)((i + 1) >> 16);
	key.bytes[2] = (uint8_t)((i + 1) >> 8);
	key.bytes[3] = (uint8_t)(i + 1);
	kilo_key_format(&key, key_text);
	pod_cidr(i, cidr);
	internal_ip(i, internal);
	fprintf(f,
		"{\"name\":\"node-%05u\",\"location\":\"loc-%04u\",\"endpoint\":\"%u.%u.%u.%u:51820\","
		"\"internalIP\":\"%s\",\"podCIDR\":\"%s\",\"publicKey\":\"%s\"",
		i, i % l, 1 + (i >> 16), (i >> 8) & 255, i & 255, 7 + variant, internal, cidr, key_text);
	if (last_seen)
		fprintf(f, ",\"lastSeen\":%" PRId64, last_seen);
	fputs("}", f);
}
