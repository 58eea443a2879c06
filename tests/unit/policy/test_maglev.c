// SPDX-License-Identifier: Apache-2.0
/*
 * The Maglev table: its permutations, its fill against the paper's
 * pseudocode written naively, its balance, and how little moves when a
 * backend leaves.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/maglev.h"
#include "bpf/progs/lb_maps.h"

#define MAX_BACKENDS 1000

struct backends {
	size_t n;
	char names[MAX_BACKENDS][32];
	struct kilo_maglev_permutation perms[MAX_BACKENDS];
	uint32_t values[MAX_BACKENDS];
};

/* n backends named as pods are: "10.2.<i / 250>.<i % 250 + 2>:8080", sorted as the policy sorts them. */
static int compare_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void make_backends(struct backends *b, size_t n, uint32_t m)
{
	b->n = n;
	for (size_t i = 0; i < n; i++)
		snprintf(b->names[i], sizeof(b->names[i]), "10.2.%zu.%zu:8080", i / 250, i % 250 + 2);
	qsort(b->names, n, sizeof(b->names[0]), compare_names);
	for (size_t i = 0; i < n; i++) {
		b->perms[i] = kilo_maglev_permutation(b->names[i], strlen(b->names[i]), m);
		b->values[i] = (uint32_t)i + 1; /* ids: 0 would look like an empty entry */
	}
}

/* Without backend `gone`, the others in the same order with the same values. */
static void remove_backend(const struct backends *from, size_t gone, struct backends *to)
{
	to->n = 0;
	for (size_t i = 0; i < from->n; i++) {
		if (i == gone)
			continue;
		memcpy(to->names[to->n], from->names[i], sizeof(from->names[i]));
		to->perms[to->n] = from->perms[i];
		to->values[to->n] = from->values[i];
		to->n++;
	}
}

static uint32_t *fill(const struct backends *b, uint32_t m)
{
	uint32_t *table = malloc(m * sizeof(*table));
	void *scratch = malloc(kilo_maglev_scratch_size(b->n, m));

	assert_non_null(table);
	assert_non_null(scratch);
	assert_int_equal(kilo_maglev_fill(b->perms, b->values, b->n, m, scratch, table, NULL), 0);
	free(scratch);
	return table;
}

/* The paper's Populate(): permutation[i][j] = (offset + j * skip) mod M, computed by multiplication. */
static uint32_t *fill_naively(const struct backends *b, uint32_t m)
{
	uint32_t *table = malloc(m * sizeof(*table));
	uint64_t *next = calloc(b->n, sizeof(*next));
	uint32_t n_filled = 0;

	assert_non_null(table);
	assert_non_null(next);
	for (uint32_t j = 0; j < m; j++)
		table[j] = UINT32_MAX;
	for (;;) {
		for (size_t i = 0; i < b->n; i++) {
			uint32_t c = (uint32_t)((b->perms[i].offset + next[i] * b->perms[i].skip) % m);

			while (table[c] != UINT32_MAX) {
				next[i]++;
				c = (uint32_t)((b->perms[i].offset + next[i] * b->perms[i].skip) % m);
			}
			table[c] = b->values[i];
			next[i]++;
			if (++n_filled == m) {
				free(next);
				return table;
			}
		}
	}
}

static void test_permutation_visits_every_entry(void **state)
{
	const uint32_t sizes[] = {7, KILO_LB_MAGLEV_DEFAULT, KILO_LB_MAGLEV_LARGE};
	const char *names[] = {"10.2.0.2:8080", "[fd00:244::5]:443", "x"};

	(void)state;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint32_t m = sizes[s];
		uint8_t *seen = calloc(m, 1);

		assert_non_null(seen);
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			struct kilo_maglev_permutation p = kilo_maglev_permutation(names[k], strlen(names[k]), m);

			assert_true(p.offset < m);
			assert_true(p.skip >= 1 && p.skip < m);
			memset(seen, 0, m);
			for (uint64_t j = 0; j < m; j++)
				seen[(p.offset + j * p.skip) % m] = 1;
			for (uint32_t c = 0; c < m; c++)
				assert_int_equal(seen[c], 1);
		}
		free(seen);
	}
}

/* The name alone decides: another node, or a restart, builds the same permutation. */
static void test_permutation_is_a_function_of_the_name(void **state)
{
	struct kilo_maglev_permutation a = kilo_maglev_permutation("10.2.0.2:8080", 13, KILO_LB_MAGLEV_DEFAULT);
	struct kilo_maglev_permutation b = kilo_maglev_permutation("10.2.0.2:8080", 13, KILO_LB_MAGLEV_DEFAULT);
	struct kilo_maglev_permutation c = kilo_maglev_permutation("10.2.0.3:8080", 13, KILO_LB_MAGLEV_DEFAULT);

	(void)state;
	assert_int_equal(a.offset, b.offset);
	assert_int_equal(a.skip, b.skip);
	assert_true(a.offset != c.offset || a.skip != c.skip);
}

static void test_fill_matches_the_paper(void **state)
{
	const size_t counts[] = {1, 2, 3, 10, 100, 1000};
	const uint32_t sizes[] = {KILO_LB_MAGLEV_DEFAULT, KILO_LB_MAGLEV_LARGE};
	static struct backends b;

	(void)state;
	for (size_t s = 0; s < 2; s++) {
		for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
			uint32_t *table, *reference;

			make_backends(&b, counts[k], sizes[s]);
			table = fill(&b, sizes[s]);
			reference = fill_naively(&b, sizes[s]);
			assert_memory_equal(table, reference, sizes[s] * sizeof(*table));
			free(table);
			free(reference);
		}
	}
}

/* Round-robin filling gives every backend floor(M/N) or ceil(M/N) entries: within 1% of M/N when N <= M/100. */
static void test_every_backend_gets_its_share(void **state)
{
	const size_t counts[] = {2, 3, 10, 100, 163, 1000};
	const uint32_t sizes[] = {KILO_LB_MAGLEV_DEFAULT, KILO_LB_MAGLEV_LARGE};
	static struct backends b;

	(void)state;
	for (size_t s = 0; s < 2; s++) {
		uint32_t m = sizes[s];

		for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
			size_t n = counts[k], *share = calloc(n + 1, sizeof(*share));
			uint32_t *table;
			double fair = (double)m / (double)n;

			make_backends(&b, n, m);
			table = fill(&b, m);
			for (uint32_t c = 0; c < m; c++)
				share[table[c]]++;
			for (size_t i = 1; i <= n; i++) {
				assert_true(share[i] == m / n || share[i] == m / n + 1);
				if (n <= m / 100)
					assert_true(share[i] >= fair * 0.99 && share[i] <= fair * 1.01);
			}
			free(share);
			free(table);
		}
	}
}

/*
 * Removing one of N backends: its entries go to the others, and of the
 * others' entries only a few move (the paper, figure 10: some 1-2% of the
 * table at N in the hundreds with M = 65537). Bounds: everything that
 * moves <= 1.2 * M/N + 2% of M, of which the others' entries <= 2% of M.
 */
static void test_removing_a_backend_moves_its_share(void **state)
{
	const size_t counts[] = {3, 10, 100, 1000};
	const uint32_t sizes[] = {KILO_LB_MAGLEV_DEFAULT, KILO_LB_MAGLEV_LARGE};
	static struct backends b, without;

	(void)state;
	for (size_t s = 0; s < 2; s++) {
		uint32_t m = sizes[s];

		for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
			size_t n = counts[k], gone = n / 2, moved = 0, moved_others = 0;
			uint32_t *before, *after;

			make_backends(&b, n, m);
			remove_backend(&b, gone, &without);
			before = fill(&b, m);
			after = fill(&without, m);
			for (uint32_t c = 0; c < m; c++) {
				assert_int_not_equal(after[c], b.values[gone]);
				if (before[c] == after[c])
					continue;
				moved++;
				moved_others += before[c] != b.values[gone];
			}
			print_message("M %u N %zu: %zu entries moved (%.2f%%; 1/N = %.2f%%), %zu of other backends (%.2f%%)\n",
				      m, n, moved, 100.0 * moved / m, 100.0 / n, moved_others, 100.0 * moved_others / m);
			assert_true(moved <= 1.2 * m / n + 0.02 * m);
			assert_true(moved_others <= 0.02 * m);
			free(before);
			free(after);
		}
	}
}

static void test_bad_sizes_are_refused(void **state)
{
	struct kilo_maglev_permutation p = {0, 1};
	uint32_t value = 1, table[16], scratch[64];
	struct kilo_error err = {0};

	(void)state;
	assert_int_equal(kilo_maglev_fill(&p, &value, 1, 15, scratch, table, &err), -EINVAL);
	assert_non_null(strstr(err.message, "table size 15"));
	memset(&err, 0, sizeof(err));
	assert_int_equal(kilo_maglev_fill(&p, &value, 0, 13, scratch, table, &err), -EINVAL);
	assert_non_null(strstr(err.message, "0 backends"));
	assert_false(kilo_maglev_size_valid(65537));
	assert_true(kilo_maglev_size_valid(KILO_LB_MAGLEV_DEFAULT));
	assert_true(kilo_maglev_size_valid(KILO_LB_MAGLEV_LARGE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_permutation_visits_every_entry),
		cmocka_unit_test(test_permutation_is_a_function_of_the_name),
		cmocka_unit_test(test_fill_matches_the_paper),
		cmocka_unit_test(test_every_backend_gets_its_share),
		cmocka_unit_test(test_removing_a_backend_moves_its_share),
		cmocka_unit_test(test_bad_sizes_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
