/* SPDX-License-Identifier: Apache-2.0 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KILO_VERSION_STRING "0.1.0"

const char *kilo_version(void)
{
	return KILO_VERSION_STRING;
}

void kilo_free(void *ptr)
{
	free(ptr);
}

int kilo_error_set(struct kilo_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && err->code == 0) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return -code;
}

void kilo_error_prefix(struct kilo_error *err, const char *fmt, ...)
{
	char prefix[KILO_ERROR_MESSAGE_MAX];
	char joined[KILO_ERROR_MESSAGE_MAX];
	va_list ap;

	if (!err || err->code == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	/* Truncation is acceptable: the start of the message is the useful part. */
	if (snprintf(joined, sizeof(joined), "%.200s: %.300s", prefix, err->message) > 0)
		memcpy(err->message, joined, sizeof(joined));
}
