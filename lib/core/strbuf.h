/* SPDX-License-Identifier: Apache-2.0 */
/* A growable text buffer for the serialisers; errors are sticky. */
#ifndef KILO_LIB_CORE_STRBUF_H
#define KILO_LIB_CORE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

#include <kilo/core.h>

struct kilo_strbuf {
	char *data; /* always NUL-terminated once anything was added */
	size_t len, cap;
	bool failed; /* an allocation failed; later appends do nothing */
};

void kilo_strbuf_append(struct kilo_strbuf *sb, const char *s);
void kilo_strbuf_append_len(struct kilo_strbuf *sb, const char *s, size_t len);
/* Appends v in decimal. */
void kilo_strbuf_append_uint(struct kilo_strbuf *sb, unsigned long v);
void kilo_strbuf_printf(struct kilo_strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Hands the text to the caller (free with kilo_free) and resets sb.
 * Returns 0, or -ENOMEM if any append failed (then *out is NULL).
 */
int kilo_strbuf_finish(struct kilo_strbuf *sb, char **out);
/* kilo_strbuf_finish for a public function: err says that the text of what ran out of memory. */
int kilo_strbuf_finish_named(struct kilo_strbuf *sb, char **out, const char *what, struct kilo_error *err);
/* Frees the buffer without handing it out. */
void kilo_strbuf_reset(struct kilo_strbuf *sb);

#endif
