/* Command-line options of the policy stage, shared by replay and capture: --classify,
 * --drop-category, --rate-limit, --rate-limit-per-client. The rule files are read once the
 * options are parsed, before anything is written, so a bad rule exits 2 with nothing done. */
#ifndef DNSPROBE_POLICY_OPTIONS_H
#define DNSPROBE_POLICY_OPTIONS_H

#include <getopt.h>

#include "option_codes.h"
#include "policy.h"
#include "worker.h"

#define POLICY_LONG_OPTIONS                                                                        \
	{"classify", required_argument, NULL, POLICY_OPT_CLASSIFY},                                \
	    {"drop-category", required_argument, NULL, POLICY_OPT_DROP_CATEGORY},                  \
	    {"rate-limit", required_argument, NULL, POLICY_OPT_RATE_LIMIT},                        \
	{                                                                                          \
		"rate-limit-per-client", required_argument, NULL, POLICY_OPT_RATE_LIMIT_PER_CLIENT \
	}

extern const char policy_options_help[];

/* Handles option c into config. Returns 1 when handled, 0 when c is not one of these options, or
 * EXIT_USAGE after printing one line about a bad value. */
int policy_options_handle(struct policy_config *config, int c, const char *arg);

/* When any policy option was given: checks them together, reads the rule files (one line about
 * them on stderr) and sets worker->policy. Returns 0, or EXIT_USAGE after one line. */
int policy_options_finish(struct policy_config *config, unsigned workers,
			  struct worker_config *worker);

#endif
