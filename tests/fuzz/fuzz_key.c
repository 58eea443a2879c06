/* SPDX-License-Identifier: Apache-2.0 */
/* A key that parses prints as text that parses to the same key. */
#include <kilo/core.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size), out[KILO_KEY_B64_LEN + 1];
	struct kilo_key key, again;

	if (kilo_key_parse(text, &key) == 0) {
		kilo_key_format(&key, out);
		FUZZ_ASSERT(strlen(out) == KILO_KEY_B64_LEN, "bad key text %s", out);
		FUZZ_ASSERT(kilo_key_parse(out, &again) == 0 && kilo_key_equal(&key, &again), "key %s does not read back",
			    out);
	}
	free(text);
	return 0;
}
