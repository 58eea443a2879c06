/* SPDX-License-Identifier: Apache-2.0 */
#include "array.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

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
