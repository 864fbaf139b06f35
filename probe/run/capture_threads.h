/* One receive thread per libpcap live handle, each feeding its own lane; the kernel's fanout
 * decides which handle (and so which worker) sees a flow. */
#ifndef DNSPROBE_CAPTURE_THREADS_H
#define DNSPROBE_CAPTURE_THREADS_H

#include <stddef.h>

#include "capture.h"
#include "capture_runner.h"

struct capture_threads;

/* Starts one thread per capture, thread i feeding lane i. The captures must outlive the threads.
 * Returns 0, or -1 with one line in err (threads already started are stopped). */
int capture_threads_start(struct capture_threads **out, struct capture *captures, unsigned count,
			  const char *interface, struct runner *runner, char *err, size_t err_size);

/* What the control loop calls: waking handles that wait for packets, joining the threads. */
void capture_threads_backend(struct capture_threads *t, struct runner_backend *out);

/* Frees the threads' bookkeeping once they are joined. */
void capture_threads_free(struct capture_threads *t);

#endif
