/* Small helpers shared by the subcommands: parsing option values and reporting usage errors as
 * one line that says what is wrong and how to fix it. */
#ifndef DNSPROBE_CLI_H
#define DNSPROBE_CLI_H

#include <stdbool.h>
#include <stdint.h>

#define EXIT_USAGE 2

/* Prints "dnsprobe: <message>" on stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* Parses a whole decimal number in [min, max]; false when text is anything else. */
bool cli_parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out);

/* The getopt_long error for the option at argv[optind - 1], as one line with a hint. */
int cli_bad_option(const char *command, const char *arg);

#endif
