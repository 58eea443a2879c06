/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What kg and kgctl share on their command lines: the exit statuses, the
 * wording of errors, and the parsing of flag values, so that a value one
 * program refuses the other refuses in the same words.
 */
#ifndef CLI_FLAGS_H
#define CLI_FLAGS_H

#include <stdbool.h>
#include <stdint.h>

#include <kilo/core.h>

/* Exit statuses of kg and kgctl: 1 for any failure, 2 when the command line cannot be parsed. */
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE 2

/* The program's name, first on every error line: "kg" or "kgctl"; each program defines it. */
extern const char cli_program[];

/* Prints "<program>: <message>" on stderr (control characters escaped); returns CLI_EXIT_FAILURE. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Prints "<program>: <message> (see '<program> [<command> ]--help')";
 * returns CLI_EXIT_USAGE. command is NULL for the program's own flags.
 */
int cli_usage_fail(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The parsers below take the value text of --flag (flag without its
 * dashes) for command (NULL: the program's own flags). They return 0, or
 * CLI_EXIT_USAGE after printing an error that names the flag and the value.
 */

/*
 * A duration of whole seconds from min to max: Go's form ("30s", "1m30s",
 * "2h") or a bare number of seconds.
 */
int cli_parse_seconds(const char *command, const char *flag, const char *text, uint32_t min, uint32_t max,
		      uint32_t *out);

/* A whole number from min to max. */
int cli_parse_number(const char *command, const char *flag, const char *text, unsigned long min, unsigned long max,
		     unsigned long *out);

/* Go's strconv.ParseBool: 1, t, T, true, TRUE, True and their false forms. NULL (a bare --flag) is true. */
int cli_parse_bool(const char *command, const char *flag, const char *text, bool *out);

/* Kilo's --log-level: a message is printed when its level is at least the chosen one. */
enum cli_log_level { CLI_LOG_ALL, CLI_LOG_DEBUG, CLI_LOG_INFO, CLI_LOG_WARN, CLI_LOG_ERROR, CLI_LOG_NONE };

/* all, debug, info, warn, error or none. */
int cli_parse_log_level(const char *command, const char *text, enum cli_log_level *out);

/* The smallest and largest MTU a WireGuard link takes from --mtu. */
#define CLI_MTU_MIN 1280
#define CLI_MTU_MAX 65535

/*
 * "auto" or a number of bytes. With auto, *mtu is measured as Kilo does
 * (kilo_net_mtu_auto); private_ip (may be NULL) is measured when there is no
 * default route. A failed measure returns CLI_EXIT_FAILURE.
 */
int cli_parse_mtu(const char *command, const char *text, const struct kilo_addr *private_ip, uint32_t *mtu);

#endif
