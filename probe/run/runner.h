/* The one runner of replay and capture. Each worker has a lane: its own capture (an input behind
 * capture.h), its own struct worker, its own sink, and a copy of its counters it publishes now
 * and then for the control loop. One loop (runner_lane_main) pulls bursts from a lane's capture
 * into its worker, on a thread of the runner's own or on a backend's (DPDK lcores). The control
 * loop on the main thread stops the lanes (a signal, --count, --duration, --idle-exit, the end of
 * every input), reports (stats, replay's progress bar, warnings), and at the end flushes the sinks
 * and prints the summary. Nothing here includes a capture library or knows a sink by name. */
#ifndef DNSPROBE_RUNNER_H
#define DNSPROBE_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "counters.h"
#include "sink.h"
#include "worker.h"

#define RUNNER_MAX_LANES 128

/* One lane's own figures, for per-worker metrics. */
struct runner_lane_totals {
	uint64_t packets, records, malformed, records_to_sink, records_dropped;
	struct sink_counters sink;
	struct sink_client_stats client; /* .valid false: the sink has no client library */
};

/* What the periodic hook and the summary see: the sums over all lanes, and each lane's own. */
struct runner_totals {
	struct counters counters;
	struct sink_counters sink;
	struct capture_drops drops;
	unsigned lane_count;
	struct runner_lane_totals lanes[RUNNER_MAX_LANES];
	double elapsed_s;   /* since the lanes started */
	double receiving_s; /* from the end of the first burst with packets to the end of the last,
			     * over all lanes */
};

/* How the lanes' sinks are opened: the command knows the outputs, the runner only asks. */
struct sink_opener {
	/* Opens one sink writing to path (NULL: the output is not a file). Returns 0, or -1 with
	 * one line for the user in err. */
	int (*open)(void *ctx, const char *path, struct sink *out, char *err, size_t err_size);
	void *ctx;
	/* The output file ("-": standard output); NULL when records go elsewhere. Several lanes
	 * share one file, or write one each when it holds "{worker}". */
	const char *path;
};

struct runner_options {
	const struct worker_config *worker_config;
	struct sink_opener sinks;
	unsigned lanes;
	uint64_t count;	      /* stop after this many packets; 0: no limit */
	unsigned duration_s;  /* stop after this many seconds; 0: no limit */
	unsigned idle_exit_s; /* stop when no packet came for this many seconds; 0: never */
	double speed;	      /* publish in recorded time, this many times faster; 0: at once */
	bool progress_bar;    /* redraw replay's progress bar on standard error */
	const char *summary_json;
	/* Called on the main thread every interval_ms with the current totals (stats export). */
	unsigned interval_ms;
	void (*on_interval)(void *ctx, const struct runner_totals *totals);
	/* Called once on the main thread with the final totals, after the flush; may be NULL. */
	void (*on_final)(void *ctx, const struct runner_totals *totals);
	void *interval_ctx; /* passed to on_interval and on_final */
};

struct runner;

/* Opens every lane's sink and worker. Returns 0, or -1 with one line for the user in err. */
int runner_open(struct runner **out, const struct runner_options *o, char *err, size_t err_size);

/* Gives lane index its input; the runner closes it at the end (or in runner_abandon). */
void runner_set_capture(struct runner *r, unsigned index, struct capture capture);

/* The lane loop, for backends that run it on threads of their own: lane is runner_lane(r, i).
 * Returns 0 when the lane's input ended or the lane was stopped. */
int runner_lane_main(void *lane);
void *runner_lane(struct runner *r, unsigned index);

/* Who runs the lane loops, when not the runner's own threads. */
struct lane_executor {
	/* Starts lane_main(lanes[i]) for every lane. Returns 0, or -1 with one line in err (lanes
	 * already started have been told to stop by the runner, and wait() is still called). */
	int (*launch)(void *ctx, int (*lane_main)(void *lane), void *const *lanes, unsigned count,
		      char *err, size_t err_size);
	/* Returns once every lane loop has ended. */
	void (*wait)(void *ctx);
	/* Drops counted for all lanes together (a NIC port's), read on the main thread; NULL when
	 * the lanes' inputs count their own. */
	void (*read_drops)(void *ctx, struct capture_drops *out);
	void *ctx;
};

/* Runs the lanes (on the runner's threads when executor is NULL) and the control loop until
 * a reason to stop; stops the lanes, flushes and closes the sinks and the inputs, prints the
 * summary and frees the runner. Returns the exit status. */
int runner_run(struct runner *r, const struct lane_executor *executor);

/* Frees a runner whose lanes did not run; output files are not left behind. */
void runner_abandon(struct runner *r);

#endif
