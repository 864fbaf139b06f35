/* The DPDK capture backend as the capture command sees it (no DPDK types): start EAL and the
 * ports, run one worker per rx queue on its own lcore, read the ports' drop counters, release EAL.
 * Built only with -Ddpdk (HAVE_DPDK). */
#ifndef DNSPROBE_DPDK_CAPTURE_H
#define DNSPROBE_DPDK_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "capture.h"

#define DPDK_MAX_PORTS 32
#define DPDK_MAX_LANES 128

struct dpdk_capture_options {
	char **eal_args; /* passed to EAL as they are */
	int eal_arg_count;
	const char *ports[DPDK_MAX_PORTS]; /* numbers, PCI addresses or names; none: every port */
	int port_count;
	unsigned workers; /* rx queues per RSS port */
	bool workers_given;
	unsigned rx_desc;      /* 0: the driver's preferred ring size */
	unsigned mempool_size; /* 0: sized from the rings */
	bool promiscuous;
};

/* Why the start failed: the user's arguments, or the machine (memory, device). */
enum dpdk_start_failure {
	DPDK_FAILED_MACHINE = 1,
	DPDK_FAILED_USAGE = 2,
};

struct dpdk_capture;

/* Starts EAL and sets up the ports (not started). Returns 0, or a dpdk_start_failure with one line
 * in err; then EAL is released again and the process may capture another way. */
int dpdk_capture_start(struct dpdk_capture **out, const struct dpdk_capture_options *o, char *err,
		       size_t err_size);

/* One lane per rx queue over all ports. */
unsigned dpdk_capture_lane_count(const struct dpdk_capture *dc);

/* Lane index's input: the rx queue, read in bursts (the runner pulls them). */
struct capture dpdk_capture_lane(struct dpdk_capture *dc, unsigned index);

/* Starts the ports and runs lane_main(lanes[i]) for every lane on its own lcore. Returns 0, or
 * -1 with one line in err. */
int dpdk_capture_launch(struct dpdk_capture *dc, int (*lane_main)(void *lane), void *const *lanes,
			char *err, size_t err_size);

/* One start-up line per port. */
void dpdk_capture_print_startup(const struct dpdk_capture *dc, FILE *out);

/* The ports' statistics, summed into out, on the main thread. */
void dpdk_capture_read_drops(const struct dpdk_capture *dc, struct capture_drops *out);

/* Returns once every lane loop has ended. */
void dpdk_capture_wait(struct dpdk_capture *dc);

/* Stops and closes the ports and releases EAL. */
void dpdk_capture_close(struct dpdk_capture *dc);

#endif
