/* SPDX-License-Identifier: Apache-2.0 */
#include "array.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int kilo_array_reserve(void **array, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *grown;

	if (need <= *cap)
		return 0;
	while (n < need) {
		if (n > SIZE_MAX / 2 / size)
			return -ENOMEM;
		n *= 2;
	}
	grown = reallocarray(*array, n, size);
	if (!grown)
		return -ENOMEM;
	*array = grown;
	*cap = n;
	return 0;
}

int kilo_array_insert(void **array, size_t *n, size_t *cap, size_t at, const void *item, size_t size)
{
	char *items;

	if (kilo_array_reserve(array, cap, *n + 1, size) < 0)
		return -ENOMEM;
	items = *array;
	memmove(items + (at + 1) * size, items + at * size, (*n - at) * size);
	memcpy(items + at * size, item, size);
	(*n)++;
	return 0;
}

void kilo_array_remove(void *array, size_t *n, size_t at, size_t size)
{
	char *items = array;

	memmove(items + at * size, items + (at + 1) * size, (*n - at - 1) * size);
	(*n)--;
}

size_t kilo_array_find_name(const void *items, size_t n, const char *(*name_at)(const void *items, size_t i),
			    const char *name, bool *found)
{
	size_t lo = 0, hi = n;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name_at(items, mid), name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
