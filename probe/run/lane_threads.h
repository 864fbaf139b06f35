/* The runner's own lane threads (replay, libpcap live): one thread per lane running the lane
 * loop, with every signal blocked so that they all reach the control loop on the main thread. */
#ifndef DNSPROBE_LANE_THREADS_H
#define DNSPROBE_LANE_THREADS_H

#include <stddef.h>

struct lane_threads;

/* Starts lane_main(lanes[i]) on a thread each. Returns 0, or -1 with one line in err; *out is
 * set either way and lane_threads_join joins what started. */
int lane_threads_start(struct lane_threads **out, int (*lane_main)(void *lane), void *const *lanes,
		       unsigned count, char *err, size_t err_size);

/* Joins every thread that started and frees the bookkeeping; NULL does nothing. */
void lane_threads_join(struct lane_threads *t);

#endif
