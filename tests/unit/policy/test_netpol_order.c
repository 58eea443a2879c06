/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The label sets' order kept from one model to the next
 * (lib/policy/netpol_order.c): through rounds that keep, add, remove and
 * replace sets, it is always strcmp's order, as a fresh sort gives it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/netpol.h"
#include "policy/netpol_order.h"

#define POOL 300

static void shuffle(unsigned *seed, struct kilo_np_label_key *keys, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)rand_r(seed) % i;
		struct kilo_np_label_key t = keys[i - 1];

		keys[i - 1] = keys[j];
		keys[j] = t;
	}
}

/* Keys of some of the pool's sets (each in keep_in percent), shuffled. */
static size_t choose(unsigned *seed, unsigned keep_in, char texts[POOL][64], struct kilo_np_label_key *keys)
{
	size_t n = 0;

	for (size_t i = 0; i < POOL; i++)
		if ((unsigned)rand_r(seed) % 100 < keep_in)
			keys[n++] = (struct kilo_np_label_key){ texts[i], kilo_np_hash(KILO_NP_HASH_INIT, texts[i],
											 strlen(texts[i])) };
	shuffle(seed, keys, n);
	return n;
}

static void assert_sorted(const struct kilo_np_label_key *keys, const size_t *sorted, size_t n)
{
	for (size_t k = 1; k < n; k++)
		if (strcmp(keys[sorted[k - 1]].labels, keys[sorted[k]].labels) >= 0)
			fail_msg("out of order at %zu: \"%s\" before \"%s\"", k, keys[sorted[k - 1]].labels,
				 keys[sorted[k]].labels);
}

static void test_the_order_kept_is_strcmps_through_every_change(void **state)
{
	static char texts[POOL][64];
	struct kilo_np_label_key keys[POOL];
	struct kilo_np_label_order order = { 0 };
	size_t sorted[POOL], fresh[POOL];
	unsigned seed = 7;

	(void)state;
	/* Long shared prefixes, as label sets have. */
	for (size_t i = 0; i < POOL; i++)
		snprintf(texts[i], sizeof(texts[i]), "ns:kubernetes.io/metadata.name=ns%zu,pod:app=a%zu", i % 17, i * 7919 % POOL);
	for (unsigned round = 0, n = 0; round < 200; round++) {
		/* Every third round the same sets as the last, first seen in another order (the common case). */
		if (round % 3 == 1)
			shuffle(&seed, keys, n);
		else
			n = choose(&seed, round % 10 == 9 ? 50 : 95, texts, keys);
		assert_int_equal(kilo_np_label_order_sort(&order, keys, n, sorted), 0);
		assert_sorted(keys, sorted, n);
		assert_int_equal(kilo_np_label_order_sort(NULL, keys, n, fresh), 0);
		assert_memory_equal(sorted, fresh, n * sizeof(*sorted));
		assert_int_equal(order.n, n);
	}
	assert_int_equal(kilo_np_label_order_sort(&order, keys, 0, sorted), 0);
	assert_int_equal(order.n, 0);
	kilo_np_label_order_release(&order);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_order_kept_is_strcmps_through_every_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
