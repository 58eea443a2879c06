// SPDX-License-Identifier: Apache-2.0
/*
 * Prefixes either nest or are disjoint, and the accepted ones are
 * pairwise disjoint (an overlapping one is never accepted). Sorted by
 * network, then prefix length, a CIDR c overlaps an accepted one exactly
 * when the nearest accepted CIDR before it contains c, or an accepted one
 * lies in the run right after c of the CIDRs whose network c contains. A
 * Fenwick tree of accepted positions answers both in O(log n).
 */
#include "pod_cidrs.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct kilo_pod_cidr_item {
	struct kilo_cidr network; /* masked */
	const struct kilo_cidr *cidr;
	size_t node;
	size_t run_end; /* the end of the run of items after this one inside its network */
};

static int compare_items(const void *a, const void *b)
{
	const struct kilo_pod_cidr_item *x = a, *y = b;
	int r;

	if (x->network.addr.family != y->network.addr.family)
		return x->network.addr.family < y->network.addr.family ? -1 : 1;
	r = memcmp(x->network.addr.bytes, y->network.addr.bytes, sizeof(x->network.addr.bytes));
	if (r)
		return r;
	if (x->network.prefix != y->network.prefix)
		return x->network.prefix < y->network.prefix ? -1 : 1;
	return (x->node > y->node) - (x->node < y->node);
}

/*
 * Each item's run_end, in one sweep: the items still open on a stack (in
 * stack, which has room for m) are the networks that contain the current one.
 */
static void set_run_ends(struct kilo_pod_cidr_item *items, size_t m, size_t *stack)
{
	size_t depth = 0;

	for (size_t p = 0; p < m; p++) {
		while (depth && !kilo_cidr_contains(&items[stack[depth - 1]].network, &items[p].network.addr))
			items[stack[--depth]].run_end = p;
		stack[depth++] = p;
	}
	while (depth)
		items[stack[--depth]].run_end = m;
	memset(stack, 0, m * sizeof(*stack));
}

int kilo_pod_cidr_index_init(struct kilo_pod_cidr_index *index, const struct kilo_node *nodes, size_t n)
{
	size_t m = 0;

	memset(index, 0, sizeof(*index));
	index->nodes = nodes;
	index->items = malloc((2 * n + 1) * sizeof(*index->items));
	index->position = malloc((n + 1) * sizeof(*index->position));
	index->accepted = calloc(2 * n + 2, sizeof(*index->accepted));
	if (!index->items || !index->position || !index->accepted) {
		kilo_pod_cidr_index_free(index);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct kilo_cidr *cidrs[] = { &nodes[i].pod_cidr, &nodes[i].secondary_pod_cidr };

		for (size_t k = 0; k < 2; k++)
			if (cidrs[k]->addr.family)
				index->items[m++] = (struct kilo_pod_cidr_item){ kilo_cidr_masked(cidrs[k]), cidrs[k], i, 0 };
	}
	qsort(index->items, m, sizeof(*index->items), compare_items);
	set_run_ends(index->items, m, index->accepted);
	for (size_t i = 0; i < n; i++)
		index->position[i][0] = index->position[i][1] = SIZE_MAX;
	for (size_t p = 0; p < m; p++) {
		const struct kilo_pod_cidr_item *item = &index->items[p];

		index->position[item->node][item->cidr != &nodes[item->node].pod_cidr] = p;
	}
	index->n_items = m;
	return 0;
}

void kilo_pod_cidr_index_free(struct kilo_pod_cidr_index *index)
{
	free(index->items);
	free(index->position);
	free(index->accepted);
	memset(index, 0, sizeof(*index));
}

/* How many items before position end (exclusive) are accepted. */
static size_t accepted_before(const struct kilo_pod_cidr_index *index, size_t end)
{
	size_t count = 0;

	for (size_t i = end; i > 0; i -= i & -i)
		count += index->accepted[i];
	return count;
}

/* The position of the k-th accepted item (k from 1). */
static size_t kth_accepted(const struct kilo_pod_cidr_index *index, size_t k)
{
	size_t pos = 0, step = 1;

	while (step * 2 <= index->n_items)
		step *= 2;
	for (; step; step /= 2) {
		if (pos + step <= index->n_items && index->accepted[pos + step] < k) {
			pos += step;
			k -= index->accepted[pos];
		}
	}
	return pos;
}

/* The accepted item that overlaps the item at p, or SIZE_MAX. */
static size_t overlapping(const struct kilo_pod_cidr_index *index, size_t p)
{
	size_t before = accepted_before(index, p), q;

	if (before) {
		q = kth_accepted(index, before);
		if (kilo_cidr_intersects(&index->items[q].network, &index->items[p].network))
			return q;
	}
	if (accepted_before(index, index->items[p].run_end) > before)
		return kth_accepted(index, before + 1);
	return SIZE_MAX;
}

bool kilo_pod_cidr_index_overlap(const struct kilo_pod_cidr_index *index, size_t i, struct kilo_pod_cidr_overlap *out)
{
	for (size_t k = 0; k < 2; k++) {
		size_t p = index->position[i][k], q;

		if (p == SIZE_MAX || (q = overlapping(index, p)) == SIZE_MAX)
			continue;
		*out = (struct kilo_pod_cidr_overlap){ index->items[q].node, index->items[p].cidr, index->items[q].cidr };
		return true;
	}
	return false;
}

void kilo_pod_cidr_index_accept(struct kilo_pod_cidr_index *index, size_t i)
{
	for (size_t k = 0; k < 2; k++) {
		size_t p = index->position[i][k];

		if (p == SIZE_MAX)
			continue;
		for (size_t j = p + 1; j <= index->n_items; j += j & -j)
			index->accepted[j]++;
	}
}

const char *kilo_pod_cidr_field(const struct kilo_node *node, const struct kilo_cidr *cidr)
{
	return cidr == &node->pod_cidr ? "podCIDR" : "secondaryPodCIDR";
}
