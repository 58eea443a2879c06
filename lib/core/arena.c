/* SPDX-License-Identifier: Apache-2.0 */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK_MIN (64 * 1024)
#define ARENA_ALIGN 16

struct kilo_arena_chunk {
	struct kilo_arena_chunk *next;
	size_t used, size;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

void *kilo_arena_alloc_raw(struct kilo_arena *arena, size_t size)
{
	struct kilo_arena_chunk *chunk = arena->head;
	size_t rounded = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	void *p;

	if (rounded < size)
		return NULL;
	if (!chunk || chunk->size - chunk->used < rounded) {
		size_t first = arena->first_chunk ? arena->first_chunk : ARENA_CHUNK_MIN;
		size_t cap = rounded > first ? rounded : first;

		/* Each chunk doubles the last, so a large solve needs few mallocs. */
		if (chunk && cap < chunk->size * 2 && chunk->size * 2 < SIZE_MAX / 2)
			cap = chunk->size * 2;
		chunk = malloc(sizeof(*chunk) + cap);
		if (!chunk)
			return NULL;
		chunk->next = arena->head;
		chunk->used = 0;
		chunk->size = cap;
		arena->head = chunk;
	}
	p = chunk->data + chunk->used;
	chunk->used += rounded;
	return p;
}

void *kilo_arena_alloc(struct kilo_arena *arena, size_t size)
{
	void *p = kilo_arena_alloc_raw(arena, size);

	if (p)
		memset(p, 0, size);
	return p;
}

void *kilo_arena_array(struct kilo_arena *arena, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return kilo_arena_alloc(arena, n * size);
}

void *kilo_arena_array_raw(struct kilo_arena *arena, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return kilo_arena_alloc_raw(arena, n * size);
}

char *kilo_arena_strdup(struct kilo_arena *arena, const char *s)
{
	size_t len = strlen(s) + 1;
	char *copy = kilo_arena_alloc_raw(arena, len);

	if (copy)
		memcpy(copy, s, len);
	return copy;
}

void kilo_arena_release(struct kilo_arena *arena)
{
	struct kilo_arena_chunk *chunk = arena->head;

	while (chunk) {
		struct kilo_arena_chunk *next = chunk->next;

		free(chunk);
		chunk = next;
	}
	arena->head = NULL;
}
