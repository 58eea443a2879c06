/* SPDX-License-Identifier: Apache-2.0 */
/* The program's log function as a handle holds it. */
#ifndef KILO_CORE_LOG_H
#define KILO_CORE_LOG_H

#include <kilo/core.h>

struct kilo_logger {
	kilo_log_fn fn;
	void *ctx;
};

/* Formats one line and hands it to the logger; nothing when none is installed. */
__attribute__((format(printf, 3, 4))) void kilo_log(const struct kilo_logger *logger, enum kilo_log_level level,
						    const char *fmt, ...);

#endif
