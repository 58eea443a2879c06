/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A line of kg's /flows as kgctl observe reads it (kilo_flow_line: what a
 * kg, or anything answering at its address, sends): never a crash, a
 * refusal explained, and a flow that passes no filter printed by none. The
 * input is the line, then a NUL and the pod of a --pod filter.
 */
#include <kilo/agent.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	size_t split = strlen(text);
	struct kilo_flow_filter filter = { .sz = sizeof(filter), .pod = split < size ? text + split + 1 : NULL };
	static const enum kilo_flow_output formats[] = { KILO_FLOW_OUTPUT_TEXT, KILO_FLOW_OUTPUT_JSON };
	struct kilo_error err = { 0 };
	uint64_t seq;
	char *out, *any;
	int r;

	for (size_t f = 0; f < 2; f++) {
		err = (struct kilo_error){ 0 };
		r = kilo_flow_line(text, NULL, formats[f], &any, &seq, &err);
		FUZZ_ASSERT_EXPLAINED(r, err, "kilo_flow_line");
		FUZZ_ASSERT(r < 0 ? !any : true, "a refused line printed something");
		/* A filter only leaves lines out. */
		r = kilo_flow_line(text, &filter, formats[f], &out, NULL, NULL);
		FUZZ_ASSERT(!out || any, "a filtered line printed what the unfiltered one did not");
		FUZZ_ASSERT(!out || out[strlen(out) - 1] == '\n', "a printed flow does not end its line");
		kilo_free(out);
		kilo_free(any);
	}
	free(text);
	return 0;
}
