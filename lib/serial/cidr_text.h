/* SPDX-License-Identifier: Apache-2.0 */
/* CIDRs as the serialisers of this layer read them. */
#ifndef KILO_LIB_SERIAL_CIDR_TEXT_H
#define KILO_LIB_SERIAL_CIDR_TEXT_H

#include <kilo/core.h>

/*
 * kilo_cidr_parse, but refusing IPv4-mapped IPv6 addresses: they print as
 * IPv4 (as Go prints them), so "::ffff:1.2.3.4/128" would be written back
 * as "1.2.3.4/128", which nothing reads, and "/24" would change meaning.
 */
int kilo_serial_cidr_parse(const char *text, struct kilo_cidr *out);

#endif
