/* SPDX-License-Identifier: Apache-2.0 */
#include "dnsname.h"

#include <kilo/core.h>

bool kilo_dns_subdomain_valid(const char *name, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > KILO_DNS_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (c == '.') {
			if (label == 0 || name[i - 1] == '-')
				return false;
			label = 0;
		} else if (alnum || (c == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
	}
	return name[len - 1] != '-' && name[len - 1] != '.';
}
