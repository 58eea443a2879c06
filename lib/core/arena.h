/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bump allocator: a solve makes thousands of small allocations that all
 * die together, so they come from one arena that is freed at once.
 */
#ifndef KILO_LIB_CORE_ARENA_H
#define KILO_LIB_CORE_ARENA_H

#include <stddef.h>

struct kilo_arena_chunk;

struct kilo_arena {
	struct kilo_arena_chunk *head;
	/* The size of the first chunk; 0: 64 KiB. Small for the many small arenas of a cache. */
	size_t first_chunk;
};

/* Zeroed memory for size bytes, aligned for any type; NULL when out of memory. */
void *kilo_arena_alloc(struct kilo_arena *arena, size_t size);
/* kilo_arena_alloc of n * size with an overflow check. */
void *kilo_arena_array(struct kilo_arena *arena, size_t n, size_t size);
/*
 * The same, not zeroed: for memory the caller overwrites whole at once
 * (a load copies megabytes of nodes, and zeroing them first doubled the cost).
 */
void *kilo_arena_alloc_raw(struct kilo_arena *arena, size_t size);
void *kilo_arena_array_raw(struct kilo_arena *arena, size_t n, size_t size);
/* A copy of the NUL-terminated string s. */
char *kilo_arena_strdup(struct kilo_arena *arena, const char *s);
/* Frees every allocation; the arena can be used again afterwards. */
void kilo_arena_release(struct kilo_arena *arena);

#endif
