/* Command-line options that shape the records: matching and the observer name. */
#include "record_options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dns_match.h"

#define STRINGIFY(x) #x
#define TEXT(x)	     STRINGIFY(x)

#define OBSERVER_NAME_MAX 255

const char record_options_help[] =
    "Records (query/response matching per worker; memory stays within the bound):\n"
    "      --response-timeout S  a query not answered within S seconds of capture time\n"
    "                            counts as unanswered (0.001 to 3600, default " TEXT(
	DNS_MATCH_DEFAULT_TIMEOUT_S) ")\n"
				     "      --match-queries N     open queries held for matching "
				     "(default " TEXT(
					 DNS_MATCH_DEFAULT_QUERIES) ")\n"
								    "      --observer-name NAME  "
								    "observer.name in every record "
								    "(default: the host name)\n";

int record_options_handle(struct worker_config *config, int c, const char *arg)
{
	uint64_t v;
	switch (c) {
	case RECORD_OPT_RESPONSE_TIMEOUT: {
		char *end;
		errno = 0;
		double seconds = strtod(arg, &end);
		if (errno || end == arg || *end != '\0' || !(seconds >= 0.001 && seconds <= 3600))
			return cli_usage_error(
			    "--response-timeout: '%s' is not a number of seconds; "
			    "give 0.001 to 3600, e.g. --response-timeout 5",
			    arg);
		config->match.timeout_ns = (int64_t)(seconds * 1e9 + 0.5);
		return 1;
	}
	case RECORD_OPT_MATCH_QUERIES:
		if (!cli_parse_uint(arg, 1, 10000000, &v))
			return cli_usage_error("--match-queries: '%s' is not a count; give 1 to "
					       "10000000, e.g. --match-queries 65536",
					       arg);
		config->match.max_queries = (uint32_t)v;
		return 1;
	case RECORD_OPT_OBSERVER_NAME:
		if (arg[0] == '\0' || strlen(arg) > OBSERVER_NAME_MAX)
			return cli_usage_error(
			    "--observer-name: give a name of 1 to %d bytes, e.g. "
			    "--observer-name sensor-fra-1",
			    OBSERVER_NAME_MAX);
		config->encoder_settings.observer_name = arg;
		return 1;
	default:
		return 0;
	}
}
