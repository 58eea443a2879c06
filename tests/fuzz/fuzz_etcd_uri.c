/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An etcd store URI: never a crash, a refusal always says why, and an
 * accepted one has endpoints that curl can be given as they are.
 */
#include <errno.h>
#include <kilo/store.h>

#include "store/etcd/client.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kilo_etcd_config config;
	struct kilo_error err = { 0 };
	char *text = fuzz_text(data, size);
	int r;

	/* A password file is a file name to open: the fuzzer must not read the machine's files. */
	if (strstr(text, "password-file")) {
		free(text);
		return 0;
	}
	r = kilo_etcd_config_parse(text, NULL, &config, &err);
	if (r == 0) {
		FUZZ_ASSERT(config.n_endpoints > 0 && config.cluster && config.cluster[0], "accepted without endpoint");
		for (size_t i = 0; i < config.n_endpoints; i++) {
			const char *url = config.endpoints[i], *host = strstr(url, "://");

			FUZZ_ASSERT(host && !strncmp(url, config.tls ? "https" : "http", (size_t)(host - url)) &&
					    !strpbrk(host + 3, "/?#@ \r\n,"),
				    "endpoint \"%s\"", url);
		}
	} else {
		FUZZ_ASSERT(err.code == -r && err.message[0], "refused (%d) without a message", r);
	}
	kilo_etcd_config_clear(&config);
	free(text);
	return 0;
}
