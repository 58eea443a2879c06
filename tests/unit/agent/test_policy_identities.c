/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's kept identities: a listing equal to the kept one is dropped, a changed one taken and ordered by label set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/policy.h"

/* A listing as kilo_store_identity_list gives it: malloc'ed, by number; labels NULL-terminated. */
static struct kilo_store_identity *listing(const uint32_t *ids, const char *const *labels, size_t n)
{
	struct kilo_store_identity *list = calloc(n + 1, sizeof(*list));

	assert_non_null(list);
	for (size_t i = 0; i < n; i++) {
		list[i] = (struct kilo_store_identity){ .id = ids[i], .labels = strdup(labels[i]), .created = 1 };
		assert_non_null(list[i].labels);
	}
	return list;
}

static void assert_by_labels(const struct kilo_agent_policy_identities *kept, const char *const *expected, size_t n)
{
	assert_int_equal(kept->n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(kept->by_labels[i]->labels, expected[i]);
}

static void test_unchanged_listing_is_dropped_and_changes_taken(void **state)
{
	static const uint32_t ids[] = { 256, 257, 258 };
	static const char *const labels[] = { "pod:app=web", "pod:app=db", "pod:app=cache" };
	static const char *const sorted[] = { "pod:app=cache", "pod:app=db", "pod:app=web" };
	static const char *const relabeled[] = { "pod:app=web", "pod:app=api", "pod:app=cache" };
	static const char *const relabeled_sorted[] = { "pod:app=api", "pod:app=cache", "pod:app=web" };
	static const uint32_t fewer_ids[] = { 256, 258 };
	static const char *const fewer[] = { "pod:app=web", "pod:app=cache" };
	struct kilo_agent_policy_identities kept = { 0 };
	const struct kilo_store_identity **order;
	bool changed = false;

	(void)state;
	/* The first listing: taken, in label set order for numbering. */
	assert_int_equal(kilo_agent_policy_identities_take(&kept, listing(ids, labels, 3), 3, &changed), 0);
	assert_true(changed);
	assert_by_labels(&kept, sorted, 3);
	/* The same again: dropped, the kept one and its order untouched (no sort again). */
	order = kept.by_labels;
	assert_int_equal(kilo_agent_policy_identities_take(&kept, listing(ids, labels, 3), 3, &changed), 0);
	assert_false(changed);
	assert_ptr_equal(kept.by_labels, order);
	assert_by_labels(&kept, sorted, 3);
	/* A label set replaced under a number: seen. */
	assert_int_equal(kilo_agent_policy_identities_take(&kept, listing(ids, relabeled, 3), 3, &changed), 0);
	assert_true(changed);
	assert_by_labels(&kept, relabeled_sorted, 3);
	/* One deleted: seen. */
	assert_int_equal(kilo_agent_policy_identities_take(&kept, listing(fewer_ids, fewer, 2), 2, &changed), 0);
	assert_true(changed);
	assert_int_equal(kept.items[1].id, 258);
	assert_string_equal(kept.by_labels[0]->labels, "pod:app=cache");
	/* None at all: seen, and empty. */
	assert_int_equal(kilo_agent_policy_identities_take(&kept, listing(NULL, NULL, 0), 0, &changed), 0);
	assert_true(changed);
	assert_int_equal(kept.n, 0);
	kilo_agent_policy_identities_release(&kept);
	assert_null(kept.items);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unchanged_listing_is_dropped_and_changes_taken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
