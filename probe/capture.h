/* The capture interface: every input (capture-file replay, libpcap live, DPDK, the dnstap
 * listener) hands out bursts of frames; the one runner (run/runner.c) pulls them and gives them
 * to a worker (docs/architecture.md, "Interfaces"). An input sees only this header and frame.h. */
#ifndef DNSPROBE_CAPTURE_H
#define DNSPROBE_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"

#define CAPTURE_BURST 256

/* What next_burst returns instead of a count of frames. */
enum capture_status {
	CAPTURE_END = -1,      /* the input ended */
	CAPTURE_ERROR = -2,    /* it broke: error() says why; drain() may still hand out frames */
	CAPTURE_WARNING = -3,  /* a part of it broke (a damaged file) and the rest follows: error()
				* says what; call again */
	CAPTURE_NEW_FILE = -4, /* the frames after this begin a new file: recorded time starts
				* again (--speed); call again */
	CAPTURE_NEW_PASS = -5, /* the frames after this begin a new --loop pass: capture time
				* goes back; call again */
};

/* Packets lost before a worker saw them, by where they were lost. */
enum drop_source {
	DROPS_NONE,   /* the input keeps no such counts */
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
	/* An input that takes connections (the dnstap listener): what became of them. */
	bool has_connections;
	uint64_t connections_opened;
	uint64_t connections_closed;
	uint64_t connections_refused; /* over --max-connections */
	uint64_t frames;	      /* data frames handed out */
	uint64_t bad_control;	   /* malformed or unexpected control frames (connection closed) */
	uint64_t oversized;	   /* data frames over --max-frame-size (connection closed) */
	uint64_t bad_content_type; /* not protobuf:dnstap.Dnstap (connection closed) */
	uint64_t bad_protobuf;	   /* a data frame that is not a Dnstap protobuf (closed) */
};

void capture_drops_add(struct capture_drops *total, const struct capture_drops *part);

/* How far a replay has come, for its progress bar. */
struct capture_progress {
	uint64_t done_bytes;  /* of this pass */
	uint64_t total_bytes; /* of one pass over every file */
	unsigned file;	      /* counted from 1 */
	unsigned files;
	uint64_t pass;	 /* counted from 1 */
	uint64_t passes; /* 0: until interrupted */
};

struct capture_ops {
	/* Puts at most max frames into frames; returns how many (>= 0) or a capture_status. The
	 * frames' bytes stay valid until the next call. May wait a little for packets. */
	int (*next_burst)(void *state, struct frame *frames, unsigned max);
	const char *(*error)(void *state);
	void (*close)(void *state);

	/* Optional operations: NULL when the input has nothing to say. */

	/* The drops the input counted so far, on the thread that calls next_burst. */
	void (*drops)(void *state, struct capture_drops *out);
	/* After CAPTURE_ERROR: frames the input still holds (a ring being read out); 0 when no
	 * more. */
	int (*drain)(void *state, struct frame *frames, unsigned max);
	/* From another thread: makes a next_burst that waits for packets return now. */
	void (*wake)(void *state);
	/* After a burst without frames, with nothing claimed of --count: an input that polls
	 * (DPDK) may nap here instead of spinning; one that blocks (libpcap) waits here for
	 * packets, so a quiet input does not hold a share of --count while it waits. */
	void (*idle)(void *state);
	/* A frame of the last burst that the worker found breaks the input's protocol: an input
	 * that takes connections ends the one it came from (at the next call, like its other
	 * faults). */
	void (*reject)(void *state, const struct frame *frame);
	/* From any thread: how far a replay has come. */
	void (*progress)(void *state, struct capture_progress *out);
};

struct capture {
	const struct capture_ops *ops;
	void *state;
};

#endif
