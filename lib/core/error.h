/* SPDX-License-Identifier: Apache-2.0 */
/* Recording errors: the message names the field and the bad value. */
#ifndef KILO_LIB_CORE_ERROR_H
#define KILO_LIB_CORE_ERROR_H

#include <kilo/core.h>

/*
 * Records code and a printf-style message in err (which may be NULL) and
 * returns -code, so that callers can write `return kilo_error_set(...)`.
 * The first message recorded wins: callers further up keep the precise one.
 */
int kilo_error_set(struct kilo_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the message already in err with "prefix: ", e.g. a field path. */
void kilo_error_prefix(struct kilo_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The index of text in names (n of them), or -EINVAL with err saying
 * `what "text": not one of NAME, NAME...`: the parsers of kg's and
 * kgctl's enumerated flags share it.
 */
int kilo_name_lookup(const char *const *names, size_t n, const char *what, const char *text,
		     struct kilo_error *err);

#endif
