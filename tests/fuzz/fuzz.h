/* SPDX-License-Identifier: Apache-2.0 */
/* What every fuzz target shares: a NUL-terminated copy of the input. */
#ifndef KILO_FUZZ_H
#define KILO_FUZZ_H

#include <stdint.h>
#include <stdio.h>

#include <kilo/core.h>
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

/* A parser's result r and its err agree: a failure has its errno and a message, a success neither. */
#define FUZZ_ASSERT_EXPLAINED(r, err, what)                                                              \
	FUZZ_ASSERT((r) == 0 ? (err).code == 0 : (err).code == -(r) && (err).message[0] != '\0',        \
		    "%s returned %d with error %d \"%s\"", what, (r), (err).code, (err).message)

#endif
