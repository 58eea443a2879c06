/* SPDX-License-Identifier: Apache-2.0 */
/* An endpoint that parses prints as text that parses to the same endpoint. */
#include <kilo/core.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size), out[KILO_ENDPOINT_STRLEN], out2[KILO_ENDPOINT_STRLEN];
	struct kilo_endpoint ep, again;

	if (kilo_endpoint_parse(text, &ep) == 0) {
		kilo_endpoint_format(&ep, out);
		FUZZ_ASSERT(kilo_endpoint_parse(out, &again) == 0, "endpoint %s does not read back", out);
		kilo_endpoint_format(&again, out2);
		FUZZ_ASSERT(strcmp(out, out2) == 0 && kilo_endpoint_equal(&ep, &again), "endpoint %s reads back as %s",
			    out, out2);
	}
	free(text);
	return 0;
}
