// SPDX-License-Identifier: Apache-2.0
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

void kilo_log(const struct kilo_logger *logger, enum kilo_log_level level, const char *fmt, ...)
{
	char text[KILO_ERROR_MESSAGE_MAX], line[KILO_ERROR_MESSAGE_MAX];
	va_list ap;

	if (!logger || !logger->fn)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* Names in the line come from the store: none may start a log line of its own. */
	kilo_escape(text, line, sizeof(line));
	logger->fn(logger->ctx, level, line);
}
