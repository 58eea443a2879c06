/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILO_LIB_CORE_ARRAY_H
#define KILO_LIB_CORE_ARRAY_H

#include <stddef.h>

/*
 * Grows the malloc'ed *array of size-byte items so that it holds at least
 * need of them, doubling its capacity *cap; -ENOMEM (the array is then
 * unchanged).
 */
int kilo_array_reserve(void **array, size_t *cap, size_t need, size_t size);

#endif
