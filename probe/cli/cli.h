/* Small helpers shared by the subcommands: parsing option values and reporting usage errors as
 * one line that says what is wrong and how to fix it. */
#ifndef DNSPROBE_CLI_H
#define DNSPROBE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXIT_USAGE 2

/* Prints "dnsprobe: [context: ]<message>" on stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* Errors printed from now on say where first ("FILE:LINE"), until NULL is set; the config file
 * sets it while its options are read. */
void cli_set_context(const char *where);

/* Parses a whole decimal number in [min, max]; false when text is anything else. */
bool cli_parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out);

/* Parses a size for -B/--buffer-size: a whole number with an optional unit, KiB (or K), MiB (M)
 * or GiB (G); a bare number is MiB. Sets *kib; false when text is anything else, zero, or more
 * than max_kib. */
bool cli_parse_size_kib(const char *text, uint64_t max_kib, uint64_t *kib);

/* The one line for a bad -B/--buffer-size value; returns EXIT_USAGE. */
int cli_bad_size(const char *option, const char *text, uint64_t max_kib);

/* The getopt_long error for the option at argv[optind - 1], as one line with a hint. */
int cli_bad_option(const char *command, const char *arg);

/* cli_bad_option for argv[index - 1] (index: getopt's optind), or, when the word is an old
 * "-pPORT", the line that says -p is tcpdump's -p now and names --dns-port. */
int cli_bad_option_near(const char *command, char **argv, int argc, int index);

/* Checks that option's path can name a file the probe creates: not empty, not a folder, in a
 * folder that exists and that the probe (its real user) may write. Prints one line and returns
 * EXIT_USAGE, or returns 0. Call it before the first packet is read, so a bad path costs
 * nothing; once more after dropping privileges for a file written only at exit. */
int cli_check_output_path(const char *option, const char *path);

/* The same check; returns 0, or -1 with the line in err instead of printing it. */
int cli_output_path_error(const char *option, const char *path, char *err, size_t err_size);

/* cli_check_output_path for --output (NULL: no file output; "-" is standard output),
 * --summary-json and --stats-file (NULL: not given). */
int cli_check_output_paths(const char *output, const char *summary_json, const char *stats_file);

#endif
