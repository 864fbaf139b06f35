/* A frame tap: where a worker copies the frames that gave at least one DNS record (-w, the
 * evidence pcap). Each worker has a tap of its own, written only on its thread, so the hot path
 * shares nothing with other workers; a tap buffers its writes (no syscall per frame). */
#ifndef DNSPROBE_FRAME_TAP_H
#define DNSPROBE_FRAME_TAP_H

#include <stdbool.h>
#include <stddef.h>

#include "frame.h"

struct frame_tap_ops {
	/* Copies one frame; a failure is kept and reported by close. */
	void (*write)(void *state, const struct frame *frame);
	/* Ends the tap's files and frees it. keep false: removes the files it made (nothing was
	 * run). Returns 0, or -1 with one line for the user in err. */
	int (*close)(void *state, bool keep, char *err, size_t err_size);
};

struct frame_tap {
	const struct frame_tap_ops *ops;
	void *state;
};

#endif
