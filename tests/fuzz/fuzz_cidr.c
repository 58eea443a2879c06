/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Addresses and CIDRs that parse print as text that parses to the same
 * value. IPv4-mapped IPv6 addresses, which Go prints as IPv4, never parse.
 * Every text refused gets its errno and a message.
 */
#include <kilo/core.h>

#include "fuzz.h"

static bool v4_mapped(const struct kilo_addr *addr)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return addr->family == 6 && memcmp(addr->bytes, prefix, sizeof(prefix)) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size), out[KILO_CIDR_STRLEN], out2[KILO_CIDR_STRLEN];
	struct kilo_cidr cidr, again, masked;
	struct kilo_addr addr, addr2;
	struct kilo_error cidr_err = { 0 }, addr_err = { 0 };
	int r = kilo_cidr_parse(text, &cidr, &cidr_err);

	FUZZ_ASSERT_EXPLAINED(r, cidr_err, "kilo_cidr_parse");
	if (r == 0) {
		kilo_cidr_format(&cidr, out);
		FUZZ_ASSERT(!v4_mapped(&cidr.addr), "IPv4-mapped CIDR %s was accepted", out);
		masked = kilo_cidr_masked(&cidr);
		FUZZ_ASSERT(kilo_cidr_contains(&masked, &cidr.addr), "%s is outside its own network", out);
		FUZZ_ASSERT(kilo_cidr_parse(out, &again, NULL) == 0, "CIDR %s does not read back", out);
		kilo_cidr_format(&again, out2);
		FUZZ_ASSERT(strcmp(out, out2) == 0 && kilo_cidr_equal(&cidr, &again), "CIDR %s reads back as %s", out,
			    out2);
	}
	r = kilo_addr_parse(text, &addr, &addr_err);
	FUZZ_ASSERT_EXPLAINED(r, addr_err, "kilo_addr_parse");
	if (r == 0) {
		kilo_addr_format(&addr, out);
		FUZZ_ASSERT(!v4_mapped(&addr), "IPv4-mapped address %s was accepted", out);
		FUZZ_ASSERT(kilo_addr_parse(out, &addr2, NULL) == 0 && kilo_addr_equal(&addr, &addr2),
			    "address %s does not read back", out);
	}
	free(text);
	return 0;
}
