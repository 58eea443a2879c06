/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILO_LIB_CORE_ARRAY_H
#define KILO_LIB_CORE_ARRAY_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Grows the malloc'ed *array of size-byte items so that it holds at least
 * need of them, doubling its capacity *cap; -ENOMEM (the array is then
 * unchanged).
 */
int kilo_array_reserve(void **array, size_t *cap, size_t need, size_t size);

/* Puts the size-byte *item at index at of the n items of *array, growing it (kilo_array_reserve); -ENOMEM. */
int kilo_array_insert(void **array, size_t *n, size_t *cap, size_t at, const void *item, size_t size);
/* Takes the item at index at out of the n size-byte items of array, closing the gap. */
void kilo_array_remove(void *array, size_t *n, size_t at, size_t size);
/*
 * Binary search of n items sorted by name (strcmp), name_at(items, i)
 * being the i-th's: where name is (*found true) or where it would go.
 */
size_t kilo_array_find_name(const void *items, size_t n, const char *(*name_at)(const void *items, size_t i),
			    const char *name, bool *found);

#endif
