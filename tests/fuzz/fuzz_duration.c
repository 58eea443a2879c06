/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Go's durations from kg's and kgctl's flags: any input parses or is
 * refused without a crash, and a duration of whole seconds prints (as Go
 * prints it) to text that parses to the same value.
 */
#include "duration.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size), out[CLI_DURATION_STRLEN];
	uint64_t ns, again;

	if (cli_duration_parse(text, &ns) == 0 && ns % CLI_NSEC_PER_SEC == 0) {
		cli_duration_format(ns / CLI_NSEC_PER_SEC, out);
		FUZZ_ASSERT(cli_duration_parse(out, &again) == 0 && again == ns,
			    "\"%s\" prints as \"%s\", which reads back otherwise", text, out);
	}
	free(text);
	return 0;
}
