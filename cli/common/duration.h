/* SPDX-License-Identifier: Apache-2.0 */
/* Go's durations ("30s", "1m30s", "2h", "500ms"), as Kilo's flags take them. */
#ifndef CLI_DURATION_H
#define CLI_DURATION_H

#include <stdint.h>

#define CLI_NSEC_PER_SEC 1000000000ull

/*
 * Parses text as Go's time.ParseDuration does, for durations that cannot be
 * negative: one or more decimal numbers, each with an optional fraction and
 * a unit (ns, us, µs, ms, s, m, h), such as "1m30s" or "1.5h"; "0" alone is
 * zero. A bare whole number ("30") is that many seconds, the meaning every
 * duration flag of kg and kgctl had before it took Go's form. Returns 0
 * with *ns set, -EINVAL when text is not a duration, -ERANGE when it is
 * longer than UINT64_MAX nanoseconds (about 584 years).
 */
int cli_duration_parse(const char *text, uint64_t *ns);

/* Room for any duration cli_duration_format writes, with its NUL. */
#define CLI_DURATION_STRLEN 32

/* Writes seconds as Go prints a duration: "45s", "1m30s", "2h0m0s". */
void cli_duration_format(uint64_t seconds, char out[CLI_DURATION_STRLEN]);

#endif
