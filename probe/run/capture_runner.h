/* Runs the workers of a live capture. Each worker has a lane: its own struct worker, its own sink
 * and a copy of its counters it publishes now and then for the control loop. A backend runs one
 * receive loop per lane (threads for libpcap, lcores for DPDK); the control loop on the main thread
 * stops them (signal, --count, --duration, --idle-exit), calls a periodic hook, and at the end
 * flushes the sinks and prints the summary. Nothing here includes a capture library. */
#ifndef DNSPROBE_CAPTURE_RUNNER_H
#define DNSPROBE_CAPTURE_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "sink_options.h"
#include "worker.h"

#define RUNNER_MAX_LANES 128

/* Packets lost before a worker saw them, by where they were lost. */
enum drop_source {
	DROPS_NONE,   /* the backend keeps no such counts */
	DROPS_KERNEL, /* libpcap: the socket's ring, the interface */
	DROPS_NIC     /* DPDK: the port's counters (rte_eth_stats) */
};

struct capture_drops {
	enum drop_source source;
	uint64_t received;	    /* kernel: passed the filter (ps_recv); NIC: ipackets */
	uint64_t kernel_dropped;    /* ps_drop: the ring was full */
	uint64_t interface_dropped; /* ps_ifdrop: dropped by the interface or its driver */
	uint64_t nic_missed;	    /* imissed: no free rx descriptor */
	uint64_t nic_errors;	    /* ierrors: bad frames */
	uint64_t nic_no_mbuf;	    /* rx_nombuf: the mempool was empty */
	uint64_t unread; /* kernel: passed the filter, not dropped, never read (set at the end) */
};

void capture_drops_add(struct capture_drops *total, const struct capture_drops *part);

/* What the periodic hook and the summary see: the sums over all lanes. */
struct runner_totals {
	struct counters counters;
	struct sink_counters sink;
	struct capture_drops drops;
	double elapsed_s;   /* since the lanes started */
	double receiving_s; /* from the end of the first burst with packets to the end of the last,
			     * over all lanes */
};

struct runner_options {
	const struct worker_config *worker_config;
	const struct sink_options *sink;
	unsigned lanes;
	uint64_t count;	      /* stop after this many packets; 0: no limit */
	unsigned duration_s;  /* stop after this many seconds; 0: no limit */
	unsigned idle_exit_s; /* stop when no packet came for this many seconds; 0: never */
	const char *summary_json;
	/* Called on the main thread every interval_ms with the current totals (stats export). */
	unsigned interval_ms;
	void (*on_interval)(void *ctx, const struct runner_totals *totals);
	/* Called once on the main thread with the final totals, after the flush; may be NULL. */
	void (*on_final)(void *ctx, const struct runner_totals *totals);
	void *interval_ctx; /* passed to on_interval and on_final */
};

struct runner;
struct lane;

/* Opens every lane's sink and worker. Returns 0, or -1 with one line for the user in err. */
int runner_open(struct runner **out, const struct runner_options *o, char *err, size_t err_size);

struct lane *runner_lane(struct runner *r, unsigned index);

/* What the control loop needs from the backend that runs the lanes. */
struct runner_backend {
	const char *name; /* "libpcap" or "DPDK", for messages */
	/* Current drop counts, read on the main thread. */
	void (*read_drops)(void *ctx, struct capture_drops *out);
	/* Makes lanes that wait for packets notice their stop flag now; may be NULL. */
	void (*wake)(void *ctx);
	/* Returns once every lane's loop has ended. */
	void (*wait)(void *ctx);
	void *ctx;
};

/* The control loop: waits for a reason to stop, stops the lanes, flushes and closes the sinks,
 * prints the summary and frees the runner. Returns the exit status. */
int runner_run(struct runner *r, const struct runner_backend *backend);

/* Tells every lane's loop to end (as runner_run does when it stops). */
void runner_stop_lanes(struct runner *r);

/* Frees a runner whose lanes did not run or have ended; output files are not left behind. */
void runner_abandon(struct runner *r);

/* For the backend's receive loops. */
struct worker *lane_worker(struct lane *lane);
bool lane_running(const struct lane *lane);
/* How many packets the lane may take in its next burst (at most max): less near --count, 0 when
 * the count is used up. */
unsigned lane_claim(struct lane *lane, unsigned max);
/* After each burst, with what lane_claim gave and how many packets came: serves the sink and
 * now and then publishes the lane's counters. */
void lane_end_burst(struct lane *lane, unsigned claimed, unsigned received);
/* A lane whose capture broke: prints why (once for all lanes), stops the capture, and makes the
 * exit status non-zero. */
void lane_fail(struct lane *lane, const char *message);
/* Lanes that own their drop counts (one libpcap handle each) publish them with their counters. */
void lane_set_drops(struct lane *lane, const struct capture_drops *drops);

#endif
