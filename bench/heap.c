// SPDX-License-Identifier: Apache-2.0
#include "heap.h"

#include <malloc.h>

void bench_keep_heap_warm(void)
{
	mallopt(M_MMAP_MAX, 0);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
}
