/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A key that parses prints as text that parses to the same key, and a text
 * refused gets its errno and a message; a key read from a file descriptor
 * is its first 44 bytes, and only whitespace follows.
 */
#include <ctype.h>
#include <unistd.h>

#include <kilo/core.h>

#include "fuzz.h"

static void check_read_fd(const uint8_t *data, size_t size)
{
	struct kilo_key key, parsed;
	char text[KILO_KEY_B64_LEN + 1];
	int fds[2];

	/* A pipe holds 64 KiB: the reader stops after 129 bytes anyway. */
	if (size > 4096 || pipe(fds) < 0)
		return;
	if (write(fds[1], data, size) != (ssize_t)size) {
		close(fds[0]);
		close(fds[1]);
		return;
	}
	close(fds[1]);
	if (kilo_key_read_fd(fds[0], &key, NULL) == 0) {
		FUZZ_ASSERT(size >= KILO_KEY_B64_LEN, "a key was read from %zu bytes", size);
		memcpy(text, data, KILO_KEY_B64_LEN);
		text[KILO_KEY_B64_LEN] = '\0';
		FUZZ_ASSERT(kilo_key_parse(text, &parsed, NULL) == 0 && kilo_key_equal(&key, &parsed),
			    "the key read is not the first 44 bytes");
		for (size_t i = KILO_KEY_B64_LEN; i < size; i++)
			FUZZ_ASSERT(isspace(data[i]), "byte %zu after the key (0x%02x) was accepted", i, data[i]);
	}
	close(fds[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size), out[KILO_KEY_B64_LEN + 1];
	struct kilo_key key, again;
	struct kilo_error err = { 0 };
	int r = kilo_key_parse(text, &key, &err);

	FUZZ_ASSERT_EXPLAINED(r, err, "kilo_key_parse");
	if (r == 0) {
		kilo_key_format(&key, out);
		FUZZ_ASSERT(strlen(out) == KILO_KEY_B64_LEN, "bad key text %s", out);
		FUZZ_ASSERT(kilo_key_parse(out, &again, NULL) == 0 && kilo_key_equal(&key, &again), "key %s does not read back",
			    out);
	}
	check_read_fd(data, size);
	free(text);
	return 0;
}
