/* Command-line options bounding IP fragment and TCP stream reassembly, shared by the commands
 * that read packets (replay, capture). */
#ifndef DNSPROBE_REASSEMBLY_OPTIONS_H
#define DNSPROBE_REASSEMBLY_OPTIONS_H

#include <getopt.h>

#include "option_codes.h"
#include "worker.h"

/* The entries to put in a command's getopt_long table (codes: option_codes.h). */
#define REASSEMBLY_LONG_OPTIONS                                                                    \
	{"fragment-datagrams", required_argument, NULL, REASSEMBLY_OPT_FRAGMENT_DATAGRAMS},        \
	    {"fragment-memory", required_argument, NULL, REASSEMBLY_OPT_FRAGMENT_MEMORY},          \
	    {"fragment-timeout", required_argument, NULL, REASSEMBLY_OPT_FRAGMENT_TIMEOUT},        \
	    {"tcp-streams", required_argument, NULL, REASSEMBLY_OPT_TCP_STREAMS},                  \
	    {"tcp-memory", required_argument, NULL, REASSEMBLY_OPT_TCP_MEMORY},                    \
	{                                                                                          \
		"tcp-timeout", required_argument, NULL, REASSEMBLY_OPT_TCP_TIMEOUT                 \
	}

extern const char reassembly_options_help[];

/* Handles option c into config. Returns 1 when handled, 0 when c is not a reassembly option, or
 * EXIT_USAGE after printing one line about a bad value. */
int reassembly_options_handle(struct worker_config *config, int c, const char *arg);

#endif
