/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILO_LIB_CORE_DECIMAL_H
#define KILO_LIB_CORE_DECIMAL_H

#include <stddef.h>

/* Longest decimal text of an unsigned long, without a NUL. */
#define KILO_DECIMAL_MAX 20

/*
 * Writes the decimal digits of v at out, without a NUL, and returns their
 * number. The formatters of big meshes call this instead of printf, which
 * costs more than the rest of the formatting together.
 */
size_t kilo_put_decimal(char *out, unsigned long v);

#endif
