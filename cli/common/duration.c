// SPDX-License-Identifier: Apache-2.0
#include "duration.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct unit {
	const char *name;
	uint64_t ns;
};

/* Longest names first where one is the start of another ("ms" before "m"). */
static const struct unit units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "\xc2\xb5s", 1000 }, /* U+00B5 micro sign */
	{ "\xce\xbcs", 1000 }, /* U+03BC Greek mu */
	{ "ms", 1000000 },
	{ "s", CLI_NSEC_PER_SEC },
	{ "m", 60 * CLI_NSEC_PER_SEC },
	{ "h", 3600 * CLI_NSEC_PER_SEC },
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Adds a * b to *sum; false on overflow. */
static bool add_product(uint64_t *sum, uint64_t a, uint64_t b)
{
	if (b && a > UINT64_MAX / b)
		return false;
	if (*sum > UINT64_MAX - a * b)
		return false;
	*sum += a * b;
	return true;
}

/* Bare digits: whole seconds. */
static int parse_seconds(const char *text, uint64_t *ns)
{
	uint64_t seconds = 0, total = 0;

	for (const char *p = text; *p; p++) {
		if (seconds > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -ERANGE;
		seconds = seconds * 10 + (uint64_t)(*p - '0');
	}
	if (!add_product(&total, seconds, CLI_NSEC_PER_SEC))
		return -ERANGE;
	*ns = total;
	return 0;
}

/*
 * One "12.75ms" term at *p: adds its nanoseconds to *total. Go keeps the
 * fraction's digits until they no longer change the result; nanoseconds
 * are the finest unit, so digits past the ninth are dropped as Go does.
 */
static int parse_term(const char **p, uint64_t *total)
{
	uint64_t whole = 0, frac = 0, scale = 1;
	const char *s = *p;
	bool digits = false;
	const struct unit *unit = NULL;

	for (; is_digit(*s); s++, digits = true) {
		if (whole > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		whole = whole * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '.') {
		for (s++; is_digit(*s); s++, digits = true) {
			if (scale < CLI_NSEC_PER_SEC) {
				frac = frac * 10 + (uint64_t)(*s - '0');
				scale *= 10;
			}
		}
	}
	if (!digits)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && !unit; i++)
		if (!strncmp(s, units[i].name, strlen(units[i].name)))
			unit = &units[i];
	if (!unit)
		return -EINVAL;
	if (!add_product(total, whole, unit->ns))
		return -ERANGE;
	/* frac / scale of a unit, rounded down to the nanosecond; frac < scale <= 1e9. */
	if (!add_product(total, 1, (uint64_t)((unsigned __int128)frac * unit->ns / scale)))
		return -ERANGE;
	*p = s + strlen(unit->name);
	return 0;
}

int cli_duration_parse(const char *text, uint64_t *ns)
{
	uint64_t total = 0;
	const char *p = text;
	int r;

	if (*p == '+')
		p++;
	if (!*p)
		return -EINVAL;
	if (strspn(p, "0123456789") == strlen(p))
		return parse_seconds(p, ns);
	while (*p) {
		r = parse_term(&p, &total);
		if (r < 0)
			return r;
	}
	*ns = total;
	return 0;
}

void cli_duration_format(uint64_t seconds, char out[CLI_DURATION_STRLEN])
{
	unsigned long long h = seconds / 3600, m = seconds / 60 % 60, s = seconds % 60;

	if (h)
		snprintf(out, CLI_DURATION_STRLEN, "%lluh%llum%llus", h, m, s);
	else if (m)
		snprintf(out, CLI_DURATION_STRLEN, "%llum%llus", m, s);
	else
		snprintf(out, CLI_DURATION_STRLEN, "%llus", s);
}
