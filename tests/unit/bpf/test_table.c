// SPDX-License-Identifier: Apache-2.0
/*
 * Tables diffed run by run (kilo_bpf_table_diff_runs, policy's rules and
 * regions after a first sync) give what the whole merge gives, index for
 * index, and name every run of want that holds a record to write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bpf/table.h"

/* A record: an 8-byte run prefix (as a prefix length and an endpoint), 4 more bytes of key, a 4-byte value. */
struct record {
	uint32_t run[2];
	uint32_t rest;
	uint32_t value;
};

#define MAX 4096

static uint32_t next_random(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

/*
 * Records of random runs in key order (big-endian fields: memcmp order is
 * numeric order), each record kept with probability keep / 8, its value
 * bumped with probability bump / 8.
 */
static size_t make(struct record *out, uint32_t seed, uint32_t *rng, unsigned keep, unsigned bump)
{
	size_t n = 0;

	for (uint32_t run = 0; run < 200; run++)
		for (uint32_t k = 0; k < seed % 7 + run % 5; k++) {
			if (next_random(rng) % 8 >= keep)
				continue;
			out[n] = (struct record){ { __builtin_bswap32(run / 50), __builtin_bswap32(run % 50) },
						  __builtin_bswap32(k), run * 100 + k };
			out[n].value += next_random(rng) % 8 < bump;
			n++;
		}
	return n;
}

static struct kilo_bpf_table table(struct record *records, size_t n)
{
	return (struct kilo_bpf_table){ n, offsetof(struct record, value), sizeof(uint32_t), (unsigned char *)records,
					false };
}

static bool in_ranges(const size_t *ranges, size_t n, size_t i)
{
	for (size_t k = 0; k < n; k += 2)
		if (ranges[k] <= i && i < ranges[k + 1])
			return true;
	return false;
}

static void test_a_diff_by_runs_is_the_whole_merge(void **state)
{
	static struct record want[MAX], have[MAX];

	(void)state;
	for (uint32_t seed = 1; seed < 300; seed++) {
		uint32_t rng = seed;
		/* Records and runs added, gone or changed. */
		size_t n_have = make(have, seed, &rng, seed % 3 == 1 ? 6 : 7, 0), n_want;
		struct kilo_bpf_table w, h;
		struct kilo_bpf_diff whole, runs;
		size_t *differ = NULL, n_differ = 0;

		rng = seed;
		n_want = make(want, seed, &rng, seed % 3 ? 7 : 6, seed % 4 ? seed % 2 : 3);
		w = table(want, n_want);
		h = table(have, n_have);
		assert_int_equal(kilo_bpf_table_diff(&w, &h, &whole), 0);
		assert_int_equal(kilo_bpf_table_diff_runs(&w, &h, 2 * sizeof(uint32_t), &runs, &differ, &n_differ), 0);
		assert_int_equal(runs.n_write, whole.n_write);
		assert_int_equal(runs.n_added, whole.n_added);
		assert_int_equal(runs.n_remove, whole.n_remove);
		assert_true(seed % 3 != 1 || whole.n_added);
		assert_memory_equal(runs.write, whole.write, whole.n_write * sizeof(size_t));
		assert_memory_equal(runs.remove, whole.remove, whole.n_remove * sizeof(size_t));
		for (size_t k = 0; k < runs.n_write; k++)
			assert_true(in_ranges(differ, n_differ, runs.write[k]));
		for (size_t k = 2; k < n_differ; k++)
			assert_true(differ[k - 1] <= differ[k]);
		/* The same tables: nothing differs. */
		kilo_bpf_diff_free(&runs);
		free(differ);
		assert_int_equal(kilo_bpf_table_diff_runs(&h, &h, 2 * sizeof(uint32_t), &runs, &differ, &n_differ), 0);
		assert_int_equal(runs.n_write + runs.n_remove + n_differ, 0);
		kilo_bpf_diff_free(&runs);
		kilo_bpf_diff_free(&whole);
		free(differ);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_diff_by_runs_is_the_whole_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
