/* Reading the monitoring options. */
#include "stats_options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

const char stats_report_help[] =
    "Monitoring:\n"
    "      --stats-interval S   print a line of counters on standard error every S seconds\n"
    "      --stats-file PATH    write the counters as Prometheus metrics to PATH (for\n"
    "                           node_exporter's textfile collector: a *.prom file), replaced\n"
    "                           atomically every S seconds (default 10) and at exit\n"
    "      --metrics-listen ADDRESS:PORT\n"
    "                           serve the same metrics over HTTP at /metrics for Prometheus to\n"
    "                           scrape, on that address only: A.B.C.D:PORT or [IPv6]:PORT\n"
    "                           (e.g. 127.0.0.1:9153); refreshed every second. Off by default\n";

int stats_options_handle(struct stats_report_options *o, int c, const char *arg)
{
	switch (c) {
	case STATS_OPT_INTERVAL: {
		char *end;
		errno = 0;
		double seconds = strtod(arg, &end);
		if (errno || end == arg || *end != '\0' || !(seconds >= 0.1 && seconds <= 86400))
			return cli_usage_error("--stats-interval: '%s' is not a number of seconds; "
					       "give 0.1 to 86400, e.g. --stats-interval 60",
					       arg);
		o->interval_s = seconds;
		return 1;
	}
	case STATS_OPT_FILE:
		if (arg[0] == '\0')
			return cli_usage_error("--stats-file: give a path, e.g. "
					       "/var/lib/prometheus/node-exporter/dnsprobe.prom");
		o->file = arg;
		return 1;
	case STATS_OPT_METRICS_LISTEN: {
		char err[256];
		if (metrics_address_parse(arg, &o->listen, err, sizeof(err)) != 0)
			return cli_usage_error("%s", err);
		o->listen_given = true;
		return 1;
	}
	default:
		return 0;
	}
}

int stats_report_finish(struct stats_report *stats, int status)
{
	char err[512];
	if (stats_report_close(stats, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "dnsprobe: %s\n", err);
		return status ? status : 1;
	}
	return status;
}
