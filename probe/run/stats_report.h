/* The operations view of a running probe: a one-line summary of the counters on stderr every
 * --stats-interval seconds, and the same counters as Prometheus metrics in a text file
 * (--stats-file) for node_exporter's textfile collector, replaced atomically on every write, and
 * over HTTP (--metrics-listen) from a snapshot the control loop refreshes every second. */
#ifndef DNSPROBE_STATS_REPORT_H
#define DNSPROBE_STATS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "metrics_http.h"
#include "runner.h"

/* How often the file is rewritten when only --stats-file is given. */
#define STATS_FILE_DEFAULT_INTERVAL_S 10.0
/* How often the snapshot behind --metrics-listen is refreshed (at most; --stats-interval may be
 * shorter). */
#define STATS_SNAPSHOT_INTERVAL_S 1.0

struct stats_report_options {
	double interval_s;  /* seconds between stderr lines (and file writes); 0: no stderr line */
	const char *file;   /* Prometheus text file; NULL: none */
	const char *source; /* value of a source="..." label on every metric; NULL: no label */
	bool listen_given;  /* --metrics-listen: serve the metrics over HTTP at listen */
	struct metrics_address listen;
};

/* The input is struct runner_totals (runner.h): the counters summed over the workers,
 * the sink's counters and the kernel's or NIC's drops. Replay fills one with no drops. */

struct stats_report;

/* The monotonic clock, in nanoseconds, that the functions below take as "now". */
int64_t stats_report_now_ns(void);

/* Sets *out to NULL when the options ask for nothing (every call below accepts NULL). Otherwise
 * writes the file once with zero counters, so a bad path fails here, and starts the HTTP server,
 * so a bad address fails here. Call it after dropping
 * privileges: the file is written as the user the probe runs as. Returns 0, or -1 with one line
 * for the user in err. */
int stats_report_open(struct stats_report **out, const struct stats_report_options *o, char *err,
		      size_t err_size);

/* True when an interval has passed since the last report: time to sum the counters and tick. */
bool stats_report_due(const struct stats_report *r, int64_t now_ns);

/* Prints the stderr line and rewrites the file when an interval has passed; otherwise does
 * nothing. Cheap enough to call after every burst. */
void stats_report_tick(struct stats_report *r, int64_t now_ns, const struct runner_totals *t);

/* For a capture runner, which calls its hook on its own schedule: set runner_options.interval_ms
 * to stats_report_interval_ms(r) (0 when r is NULL: no calls), .on_interval to
 * stats_report_runner_hook, .on_final to stats_report_final_hook and .interval_ctx to r. The
 * interval hook refreshes the HTTP snapshot, and prints the line and writes the file when their
 * interval has passed; the final hook does all three at once. */
unsigned stats_report_interval_ms(const struct stats_report *r);
void stats_report_runner_hook(void *report, const struct runner_totals *t);
void stats_report_final_hook(void *report, const struct runner_totals *t);

/* Stops the HTTP server, writes the file a last time, with t or (when t is NULL) the last totals
 * reported, then frees r.
 * Prints no stderr line (the command prints its own summary). Returns 0, or -1 with one line for
 * the user in err. */
int stats_report_close(struct stats_report *r, const struct runner_totals *t, char *err,
		       size_t err_size);

/* The Prometheus text exposition of t (format 0.0.4): the sums, each worker's own counters
 * (worker="N") and, when a sink has a client library, its figures (dnsprobe_kafka_*). The one
 * renderer of the file and of /metrics. start_time_s is the Unix time the probe started. Returns 0,
 * or -1 when out reports an error. */
int stats_report_write_prometheus(FILE *out, const struct runner_totals *t, const char *source,
				  double start_time_s);

#endif
