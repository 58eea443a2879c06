/* SPDX-License-Identifier: Apache-2.0 */
/* An endpoint that parses prints as text that parses to the same endpoint; one refused gets a message. */
#include <kilo/core.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size), out[KILO_ENDPOINT_STRLEN], out2[KILO_ENDPOINT_STRLEN];
	struct kilo_endpoint ep, again;
	struct kilo_error err = { 0 };
	int r = kilo_endpoint_parse(text, &ep, &err);

	FUZZ_ASSERT_EXPLAINED(r, err, "kilo_endpoint_parse");
	if (r == 0) {
		kilo_endpoint_format(&ep, out);
		FUZZ_ASSERT(kilo_endpoint_parse(out, &again, NULL) == 0, "endpoint %s does not read back", out);
		kilo_endpoint_format(&again, out2);
		FUZZ_ASSERT(strcmp(out, out2) == 0 && kilo_endpoint_equal(&ep, &again) &&
				    kilo_endpoint_equal_opt(&ep, &again, true),
			    "endpoint %s reads back as %s", out, out2);
		FUZZ_ASSERT(ep.addr.family != 6 || ep.addr.bytes[10] != 0xff || ep.addr.bytes[11] != 0xff ||
				    memcmp(ep.addr.bytes, "\0\0\0\0\0\0\0\0\0\0", 10) != 0,
			    "IPv4-mapped endpoint %s was accepted", out);
	}
	free(text);
	return 0;
}
