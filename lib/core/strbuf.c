/* SPDX-License-Identifier: Apache-2.0 */
#include "strbuf.h"

#include "decimal.h"
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(struct kilo_strbuf *sb, size_t extra)
{
	size_t need, cap;
	char *data;

	if (sb->failed)
		return false;
	need = sb->len + extra + 1;
	if (need < extra) {
		sb->failed = true;
		return false;
	}
	if (need <= sb->cap)
		return true;
	cap = sb->cap ? sb->cap : 256;
	while (cap < need)
		cap *= 2;
	data = realloc(sb->data, cap);
	if (!data) {
		sb->failed = true;
		return false;
	}
	sb->data = data;
	sb->cap = cap;
	return true;
}

void kilo_strbuf_append_len(struct kilo_strbuf *sb, const char *s, size_t len)
{
	if (!reserve(sb, len))
		return;
	memcpy(sb->data + sb->len, s, len);
	sb->len += len;
	sb->data[sb->len] = '\0';
}

void kilo_strbuf_append(struct kilo_strbuf *sb, const char *s)
{
	kilo_strbuf_append_len(sb, s, strlen(s));
}

void kilo_strbuf_append_uint(struct kilo_strbuf *sb, unsigned long v)
{
	char digits[KILO_DECIMAL_MAX];

	kilo_strbuf_append_len(sb, digits, kilo_put_decimal(digits, v));
}

void kilo_strbuf_printf(struct kilo_strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(sb, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

int kilo_strbuf_finish(struct kilo_strbuf *sb, char **out)
{
	*out = NULL;
	if (!sb->failed && !reserve(sb, 0))
		sb->failed = true;
	if (sb->failed) {
		kilo_strbuf_reset(sb);
		return -ENOMEM;
	}
	sb->data[sb->len] = '\0';
	*out = sb->data;
	sb->data = NULL;
	sb->len = sb->cap = 0;
	return 0;
}

int kilo_strbuf_finish_named(struct kilo_strbuf *sb, char **out, const char *what, struct kilo_error *err)
{
	int r = kilo_strbuf_finish(sb, out);

	return r < 0 ? kilo_error_set(err, -r, "%s: out of memory", what) : 0;
}

void kilo_strbuf_reset(struct kilo_strbuf *sb)
{
	free(sb->data);
	sb->data = NULL;
	sb->len = sb->cap = 0;
	sb->failed = false;
}
