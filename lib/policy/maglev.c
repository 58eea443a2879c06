/* SPDX-License-Identifier: Apache-2.0 */
#include "maglev.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "../core/error.h"

/*
 * Two fixed SipHash keys: the table must be the same on every node and
 * across restarts, so they are constants, never random. The two hashes of
 * a name are independent, as the paper's offset and skip must be.
 */
static const unsigned char offset_key[crypto_shorthash_KEYBYTES] = "kilo-maglev-offs";
static const unsigned char skip_key[crypto_shorthash_KEYBYTES] = "kilo-maglev-skip";

static uint64_t name_hash(const unsigned char key[crypto_shorthash_KEYBYTES], const char *name, size_t len)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t h = 0;

	crypto_shorthash(out, (const unsigned char *)name, len, key);
	for (size_t i = 0; i < sizeof(out); i++)
		h |= (uint64_t)out[i] << (8 * i);
	return h;
}

struct kilo_maglev_permutation kilo_maglev_permutation(const char *name, size_t len, uint32_t m)
{
	return (struct kilo_maglev_permutation){
		.offset = (uint32_t)(name_hash(offset_key, name, len) % m),
		.skip = (uint32_t)(name_hash(skip_key, name, len) % (m - 1) + 1),
	};
}

bool kilo_maglev_size_valid(uint32_t m)
{
	if (m < 2 || m > KILO_MAGLEV_MAX)
		return false;
	for (uint32_t d = 2; d * d <= m; d++)
		if (m % d == 0)
			return false;
	return true;
}

/* The scratch memory: each backend's next entry of its permutation, then a bitmap of the entries taken. */
static size_t bitmap_words(uint32_t m)
{
	return ((size_t)m + 63) / 64;
}

size_t kilo_maglev_scratch_size(size_t n, uint32_t m)
{
	return n * sizeof(uint32_t) + bitmap_words(m) * sizeof(uint64_t);
}

int kilo_maglev_fill(const struct kilo_maglev_permutation *perms, const uint32_t *values, size_t n, uint32_t m,
		     void *scratch, uint32_t *table, struct kilo_error *err)
{
	uint64_t *taken;
	uint32_t *next;
	uint32_t filled = 0;

	if (!kilo_maglev_size_valid(m))
		return kilo_error_set(err, EINVAL, "maglev: table size %u is not a prime of at most %u", m,
				      KILO_MAGLEV_MAX);
	if (n == 0 || n > m)
		return kilo_error_set(err, EINVAL, "maglev: %zu backends do not fit a table of %u entries", n, m);
	/* The bitmap first: its words are 8-byte aligned when scratch is. */
	taken = scratch;
	next = (uint32_t *)(taken + bitmap_words(m));
	memset(taken, 0, bitmap_words(m) * sizeof(uint64_t));
	for (size_t i = 0; i < n; i++)
		next[i] = perms[i].offset;
	/*
	 * The paper's loop. A backend's candidate advances by adding skip
	 * modulo m, which a compare and a subtraction do without a division;
	 * the bitmap (8 KiB at m = 65521) stays in L1 while the table does not.
	 */
	for (;;) {
		for (size_t i = 0; i < n; i++) {
			uint32_t c = next[i];

			while (taken[c / 64] & (UINT64_C(1) << (c % 64))) {
				c += perms[i].skip;
				if (c >= m)
					c -= m;
			}
			taken[c / 64] |= UINT64_C(1) << (c % 64);
			table[c] = values[i];
			c += perms[i].skip;
			next[i] = c >= m ? c - m : c;
			if (++filled == m)
				return 0;
		}
	}
}
