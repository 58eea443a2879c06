/* SPDX-License-Identifier: Apache-2.0 */
/* Parsed configurations print as text that parses to the same text. */
#include <kilo/wgconf.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kilo_error err = { 0 };
	kilo_wg_config *config = NULL, *again = NULL;
	char *text = fuzz_text(data, size), *out = NULL, *out2 = NULL, *json = NULL;

	if (kilo_wg_config_parse(text, size, &config, &err) == 0) {
		FUZZ_ASSERT(kilo_wg_config_format(config, &out, NULL) == 0, "cannot print the configuration");
		FUZZ_ASSERT(kilo_wg_config_to_json(config, true, &json, NULL) == 0, "cannot write JSON");
		memset(&err, 0, sizeof(err));
		FUZZ_ASSERT(kilo_wg_config_parse(out, strlen(out), &again, &err) == 0, "own output rejected: %s\n%s",
			    err.message, out);
		FUZZ_ASSERT(kilo_wg_config_format(again, &out2, NULL) == 0, "cannot print again");
		FUZZ_ASSERT(strcmp(out, out2) == 0, "round trip changed the text:\n%s\n%s", out, out2);
	} else {
		FUZZ_ASSERT(config == NULL && err.code != 0 && err.message[0], "failure without a message");
	}
	kilo_free(json);
	kilo_free(out);
	kilo_free(out2);
	kilo_wg_config_free(config);
	kilo_wg_config_free(again);
	free(text);
	return 0;
}
