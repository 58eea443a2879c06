/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILO_LIB_CORE_DNSNAME_H
#define KILO_LIB_CORE_DNSNAME_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True if the len bytes at name are an RFC 1123 subdomain as Kubernetes
 * validates it: at most 253 characters of lower-case letters, digits, '-'
 * and '.', in labels that start and end with a letter or digit. Kilo uses
 * this rule for endpoint host names, Kubernetes for node and peer names.
 */
bool kilo_dns_subdomain_valid(const char *name, size_t len);

#endif
