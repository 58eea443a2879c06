/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON values of the core types, for the output formats of this layer.
 * Every constructor returns a new reference, or NULL when out of memory;
 * the setters take (steal) that reference and turn a NULL into -ENOMEM,
 * so that a whole object can be built without checking each call.
 */
#ifndef KILO_LIB_SERIAL_JSONVAL_H
#define KILO_LIB_SERIAL_JSONVAL_H

#include <jansson.h>

#include <kilo/core.h>

/* "ip/prefix" with host bits kept; null when the CIDR has no family. */
json_t *kilo_jsonval_cidr(const struct kilo_cidr *cidr);
/* The address; null when it has no family. */
json_t *kilo_jsonval_addr(const struct kilo_addr *addr);
/* "ip:port", "[ipv6]:port" or "name:port"; null when none. */
json_t *kilo_jsonval_endpoint(const struct kilo_endpoint *ep);
/* A public key in base64 (never call it with a secret). */
json_t *kilo_jsonval_key(const struct kilo_key *key);
json_t *kilo_jsonval_cidrs(const struct kilo_cidr *cidrs, size_t n);

/* object[key] = value, stealing value; 0 or -ENOMEM (value NULL included). */
int kilo_jsonval_set(json_t *object, const char *key, json_t *value);
/* Appends value to array, stealing it; 0 or -ENOMEM. */
int kilo_jsonval_append(json_t *array, json_t *value);

#endif
