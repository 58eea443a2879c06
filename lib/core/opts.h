/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a caller's option struct by libbpf's rule for `sz` (docs/design.md, "API conventions"). */
#ifndef KILO_LIB_CORE_OPTS_H
#define KILO_LIB_CORE_OPTS_H

#include <kilo/core.h>

/*
 * Copies the caller's option struct in (NULL: every field zero, the
 * defaults) into out, the out_size bytes of the struct this library was
 * built with, whose first field is `size_t sz`. in->sz is required; a
 * smaller struct (a caller built against an older header) leaves the
 * fields past it zero; a larger one (a newer header) is taken only when
 * every byte past out_size is zero, since those are options this library
 * cannot honour. Errors name the struct (name, e.g. "struct
 * kilo_apply_opts") and the size: -EINVAL for a sz too small to hold sz
 * itself, -E2BIG for a non-zero unknown tail. out->sz is set to out_size.
 */
int kilo_opts_copy(void *out, size_t out_size, const void *in, const char *name, struct kilo_error *err);

/*
 * kilo_opts_copy into out, a struct type * (e.g. KILO_OPTS_COPY(&opts,
 * opts_in, kilo_apply_opts, err)), named after type; a mismatched out is
 * a compile error (a pointer type mismatch).
 */
#define KILO_OPTS_COPY(out, in, type, err) \
	kilo_opts_copy(1 ? (out) : (struct type *)0, sizeof(struct type), (in), "struct " #type, (err))

#endif
