/* SPDX-License-Identifier: Apache-2.0 */
/* What every fuzz target shares: a NUL-terminated copy of the input. */
#ifndef KILO_FUZZ_H
#define KILO_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	return text;
}

/* A broken invariant: report what differed and let libFuzzer keep the input. */
#define FUZZ_ASSERT(cond, ...)                                  \
	do {                                                    \
		if (!(cond)) {                                  \
			fprintf(stderr, __VA_ARGS__);           \
			fputc('\n', stderr);                    \
			abort();                                \
		}                                               \
	} while (0)

#endif
