/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UAPI replies as a device might send them: a decoded device prints as a
 * dump, encodes as a set request, and differs from itself in nothing.
 */
#include <kilo/wgconf.h>

#include "fuzz.h"
#include "wg/uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kilo_error err = { 0 };
	kilo_wg_config *config = NULL, *change = NULL;
	char *dump = NULL, *request = NULL;
	size_t len = 0;

	if (kilo_uapi_decode_get((const char *)data, size, &config, &err) == 0) {
		FUZZ_ASSERT(kilo_wg_config_format_dump(config, &dump, NULL) == 0, "cannot print the dump");
		FUZZ_ASSERT(kilo_uapi_encode_set(config, NULL, &request, &len, &err) == 0, "cannot encode: %s",
			    err.message);
		FUZZ_ASSERT(len == strlen(request), "request of %zu bytes holds a NUL", len);
		FUZZ_ASSERT(kilo_wg_config_diff(config, config, &change, NULL) == 0 && change == NULL,
			    "a device differs from itself");
	} else {
		FUZZ_ASSERT(config == NULL && err.code != 0 && err.message[0], "failure without a message");
	}
	memset(&err, 0, sizeof(err));
	if (kilo_uapi_decode_errno((const char *)data, size, &err) < 0)
		FUZZ_ASSERT(err.code != 0 && err.message[0], "errno failure without a message");
	kilo_uapi_text_free(request, len);
	kilo_free(dump);
	kilo_wg_config_free(change);
	kilo_wg_config_free(config);
	return 0;
}
