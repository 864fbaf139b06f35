/* The capture interface: a backend (libpcap file or live, DPDK) hands bursts of frames to a
 * worker. The worker only sees this header (DESIGN.md, "Layout"). */
#ifndef DNSPROBE_CAPTURE_H
#define DNSPROBE_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "worker.h"

#define CAPTURE_BURST 256

enum capture_status {
	CAPTURE_MORE = 0,   /* call again */
	CAPTURE_END = -1,   /* a file ended */
	CAPTURE_ERROR = -2, /* see the backend's error text */
};

/* What the kernel or the NIC dropped before the backend saw it. */
struct capture_stats {
	uint64_t received;
	uint64_t dropped;
};

struct capture_ops {
	/* Passes at most max frames to the worker; returns how many (>= 0) or a capture_status. */
	int (*receive)(void *state, struct worker *w, unsigned max);
	void (*stats)(void *state, struct capture_stats *out);
	const char *(*error)(void *state);
	void (*close)(void *state);
};

struct capture {
	const struct capture_ops *ops;
	void *state;
};

#endif
