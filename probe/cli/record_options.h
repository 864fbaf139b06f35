/* Command-line options that shape the records: query/response matching (--response-timeout,
 * --match-queries) and the sensor's name in them (--observer-name), shared by replay and
 * capture. */
#ifndef DNSPROBE_RECORD_OPTIONS_H
#define DNSPROBE_RECORD_OPTIONS_H

#include <getopt.h>

#include "option_codes.h"
#include "worker.h"

#define RECORD_LONG_OPTIONS                                                                        \
	{"response-timeout", required_argument, NULL, RECORD_OPT_RESPONSE_TIMEOUT},                \
	    {"match-queries", required_argument, NULL, RECORD_OPT_MATCH_QUERIES},                  \
	{                                                                                          \
		"observer-name", required_argument, NULL, RECORD_OPT_OBSERVER_NAME                 \
	}

extern const char record_options_help[];

/* Handles option c into config. Returns 1 when handled, 0 when c is not one of these options, or
 * EXIT_USAGE after printing one line about a bad value. */
int record_options_handle(struct worker_config *config, int c, const char *arg);

#endif
