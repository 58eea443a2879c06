// SPDX-License-Identifier: Apache-2.0
/*
 * Tables diffed run by run (kilo_bpf_table_diff_runs, policy's rules and
 * regions after a first sync) give what the whole merge gives, index for
 * index, and name every run of want that holds a record to write; so do
 * they diffed in the runs listed only (kilo_bpf_table_diff_listed, the
 * endpoints a compile changed), when those hold every difference.
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

static int run_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(((struct record *)0)->run));
}

/* The runs of the records the diff writes and removes, and of every 9th of have's: sorted, each once. */
static size_t runs_to_list(const struct kilo_bpf_diff *d, const struct record *want, const struct record *have,
			   size_t n_have, uint32_t (*out)[2])
{
	size_t n = 0, kept = 0;

	for (size_t k = 0; k < d->n_write; k++)
		memcpy(out[n++], want[d->write[k]].run, sizeof(out[0]));
	for (size_t k = 0; k < d->n_remove; k++)
		memcpy(out[n++], have[d->remove[k]].run, sizeof(out[0]));
	for (size_t k = 0; k < n_have; k += 9)
		memcpy(out[n++], have[k].run, sizeof(out[0]));
	qsort(out, n, sizeof(out[0]), run_cmp);
	for (size_t k = 0; k < n; k++)
		if (!kept || run_cmp(out[kept - 1], out[k]))
			memcpy(out[kept++], out[k], sizeof(out[0]));
	return kept;
}

static void assert_same_diff(const struct kilo_bpf_diff *a, const struct kilo_bpf_diff *b)
{
	assert_int_equal(a->n_write, b->n_write);
	assert_int_equal(a->n_added, b->n_added);
	assert_int_equal(a->n_remove, b->n_remove);
	assert_memory_equal(a->write, b->write, b->n_write * sizeof(size_t));
	assert_memory_equal(a->remove, b->remove, b->n_remove * sizeof(size_t));
}

static void test_a_diff_by_runs_is_the_whole_merge(void **state)
{
	static struct record want[MAX], have[MAX];
	static uint32_t runs_listed[3 * MAX][2];

	(void)state;
	for (uint32_t seed = 1; seed < 300; seed++) {
		uint32_t rng = seed;
		/* Records and runs added, gone or changed. */
		size_t n_have = make(have, seed, &rng, seed % 3 == 1 ? 6 : 7, 0), n_want;
		struct kilo_bpf_table w, h;
		struct kilo_bpf_diff whole, runs, listed;
		size_t *differ = NULL, n_differ = 0, *listed_differ = NULL, n_listed_differ = 0, n_listed;

		rng = seed;
		n_want = make(want, seed, &rng, seed % 3 ? 7 : 6, seed % 4 ? seed % 2 : 3);
		w = table(want, n_want);
		h = table(have, n_have);
		assert_int_equal(kilo_bpf_table_diff(&w, &h, &whole), 0);
		assert_int_equal(kilo_bpf_table_diff_runs(&w, &h, 2 * sizeof(uint32_t), &runs, &differ, &n_differ), 0);
		assert_same_diff(&runs, &whole);
		assert_true(seed % 3 != 1 || whole.n_added);
		for (size_t k = 0; k < runs.n_write; k++)
			assert_true(in_ranges(differ, n_differ, runs.write[k]));
		for (size_t k = 2; k < n_differ; k++)
			assert_true(differ[k - 1] <= differ[k]);
		/* Listed: the runs that differ, and some that do not, which are compared all the same. */
		n_listed = runs_to_list(&whole, want, have, n_have, runs_listed);
		assert_int_equal(kilo_bpf_table_diff_listed(&w, &h, 2 * sizeof(uint32_t), (unsigned char *)runs_listed,
							    n_listed, &listed, &listed_differ, &n_listed_differ), 0);
		assert_same_diff(&listed, &whole);
		assert_int_equal(n_listed_differ, n_differ);
		assert_memory_equal(listed_differ, differ, n_differ * sizeof(size_t));
		kilo_bpf_diff_free(&listed);
		free(listed_differ);
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
