/* SPDX-License-Identifier: Apache-2.0 */
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kilo/version.h>

const char *kilo_version(void)
{
	return KILO_VERSION_STRING;
}

void kilo_free(void *ptr)
{
	free(ptr);
}

/* Messages quote names and values as given: none of their control characters gets through. */
static void set_message(struct kilo_error *err, const char *text)
{
	kilo_escape(text, err->message, sizeof(err->message));
}

int kilo_error_set(struct kilo_error *err, int code, const char *fmt, ...)
{
	char text[KILO_ERROR_MESSAGE_MAX];
	va_list ap;

	if (err && err->code == 0) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(text, sizeof(text), fmt, ap);
		va_end(ap);
		set_message(err, text);
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
		set_message(err, joined);
}

int kilo_name_lookup(const char *const *names, size_t n, const char *what, const char *text,
		     struct kilo_error *err)
{
	char choices[KILO_ERROR_MESSAGE_MAX] = "";
	size_t used = 0;

	for (size_t i = 0; text && i < n; i++)
		if (strcmp(text, names[i]) == 0)
			return (int)i;
	for (size_t i = 0; i < n && used < sizeof(choices); i++)
		used += (size_t)snprintf(choices + used, sizeof(choices) - used, "%s%s", i ? ", " : "", names[i]);
	if (!text)
		return kilo_error_set(err, EINVAL, "%s: none given (one of %s)", what, choices);
	return kilo_error_set(err, EINVAL, "%s \"%s\": not one of %s", what, text, choices);
}
