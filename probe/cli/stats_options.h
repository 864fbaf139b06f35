/* The monitoring options of replay and capture (--stats-interval, --stats-file,
 * --metrics-listen), read into the
 * stats report's options (run/stats_report.h). */
#ifndef DNSPROBE_STATS_OPTIONS_H
#define DNSPROBE_STATS_OPTIONS_H

#include <getopt.h>

#include "option_codes.h"
#include "stats_report.h"

/* The entries to put in a command's getopt_long table (codes: option_codes.h). */
#define STATS_LONG_OPTIONS                                                                         \
	{"stats-interval", required_argument, NULL, STATS_OPT_INTERVAL},                           \
	    {"stats-file", required_argument, NULL, STATS_OPT_FILE},                               \
	{                                                                                          \
		"metrics-listen", required_argument, NULL, STATS_OPT_METRICS_LISTEN                \
	}

/* The help text of these options, for a command's --help. */
extern const char stats_report_help[];

/* Handles option c. Returns 1 when handled, 0 when c is not a stats option, or EXIT_USAGE after
 * printing one line about a bad value. Start from a zeroed struct. */
int stats_options_handle(struct stats_report_options *o, int c, const char *arg);

/* At exit, after the runner reported its final totals: writes the stats file a last time and
 * frees stats (NULL: nothing). Returns status, or 1 when the file could not be written. */
int stats_report_finish(struct stats_report *stats, int status);

#endif
