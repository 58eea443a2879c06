// SPDX-License-Identifier: Apache-2.0
#include "flags.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kilo/kilo.h>

#include "duration.h"

/* One line, so that a log collector keeps it whole; what the user typed is escaped. */
__attribute__((format(printf, 1, 0))) static void print_error(const char *fmt, va_list ap, const char *suffix)
{
	char text[1024], escaped[KILO_ESCAPED_SIZE(sizeof(text))];

	vsnprintf(text, sizeof(text), fmt, ap);
	fprintf(stderr, "%s: %s%s\n", cli_program, kilo_escape(text, escaped, sizeof(escaped)), suffix);
}

int cli_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_error(fmt, ap, "");
	va_end(ap);
	return CLI_EXIT_FAILURE;
}

int cli_usage_fail(const char *command, const char *fmt, ...)
{
	char help[96];
	va_list ap;

	snprintf(help, sizeof(help), " (see '%s %s%s--help')", cli_program, command ? command : "", command ? " " : "");
	va_start(ap, fmt);
	print_error(fmt, ap, help);
	va_end(ap);
	return CLI_EXIT_USAGE;
}

int cli_parse_seconds(const char *command, const char *flag, const char *text, uint32_t min, uint32_t max,
		      uint32_t *out)
{
	char low[CLI_DURATION_STRLEN], high[CLI_DURATION_STRLEN];
	uint64_t ns;
	int r = cli_duration_parse(text, &ns);

	if (r == -EINVAL)
		return cli_usage_fail(command, "--%s: \"%s\" is not a duration such as 30s, 1m30s or 2h", flag, text);
	if (r == 0 && ns % CLI_NSEC_PER_SEC)
		return cli_usage_fail(command, "--%s: \"%s\" is not a whole number of seconds", flag, text);
	if (r < 0 || ns / CLI_NSEC_PER_SEC < min || ns / CLI_NSEC_PER_SEC > max) {
		cli_duration_format(min, low);
		cli_duration_format(max, high);
		return cli_usage_fail(command, "--%s: \"%s\" is out of range (%s to %s)", flag, text, low, high);
	}
	*out = (uint32_t)(ns / CLI_NSEC_PER_SEC);
	return 0;
}

int cli_parse_number(const char *command, const char *flag, const char *text, unsigned long min, unsigned long max,
		     unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(text, &end, 10);
	if (errno || end == text || *end || strchr(text, '-') || *out < min || *out > max)
		return cli_usage_fail(command, "--%s: \"%s\" is not a number from %lu to %lu", flag, text, min, max);
	return 0;
}

int cli_parse_bool(const char *command, const char *flag, const char *text, bool *out)
{
	static const char *const yes[] = { "1", "t", "T", "true", "TRUE", "True" };
	static const char *const no[] = { "0", "f", "F", "false", "FALSE", "False" };

	if (!text) {
		*out = true;
		return 0;
	}
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(text, yes[i]) || !strcmp(text, no[i])) {
			*out = !strcmp(text, yes[i]);
			return 0;
		}
	}
	return cli_usage_fail(command, "--%s: \"%s\" is not true or false", flag, text);
}

int cli_parse_log_level(const char *command, const char *text, enum cli_log_level *out)
{
	static const char *const names[] = { "all", "debug", "info", "warn", "error", "none" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(text, names[i])) {
			*out = (enum cli_log_level)i;
			return 0;
		}
	}
	return cli_usage_fail(command, "--log-level: \"%s\" is not all, debug, info, warn, error or none", text);
}

int cli_parse_mtu(const char *command, const char *text, const struct kilo_addr *private_ip, uint32_t *mtu)
{
	struct kilo_error err = { 0 };
	unsigned long bytes;
	int r;

	if (strcmp(text, "auto")) {
		r = cli_parse_number(command, "mtu", text, CLI_MTU_MIN, CLI_MTU_MAX, &bytes);
		if (r == 0)
			*mtu = (uint32_t)bytes;
		return r;
	}
	r = kilo_net_mtu_auto(private_ip, mtu, &err);
	if (r < 0)
		return cli_fail("--mtu auto: %s", err.code ? err.message : strerror(-r));
	return 0;
}
