// SPDX-License-Identifier: Apache-2.0
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

void kilo_log(const struct kilo_logger *logger, enum kilo_log_level level, const char *fmt, ...)
{
	char line[KILO_ERROR_MESSAGE_MAX];
	va_list ap;

	if (!logger || !logger->fn)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	logger->fn(logger->ctx, level, line);
}
