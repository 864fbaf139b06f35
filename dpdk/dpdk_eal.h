/* Starting and stopping DPDK's EAL for dnsprobe: the user's EAL arguments pass through, what EAL
 * prints while it starts is kept back and boiled down to one line when it fails. */
#ifndef DNSPROBE_DPDK_EAL_H
#define DNSPROBE_DPDK_EAL_H

#include <stdbool.h>
#include <stddef.h>

struct eal_request {
	char **args; /* the user's EAL arguments, without a program name */
	int arg_count;
	/* Worker lcores to provide when the arguments choose none (-l, -c, --lcores). */
	unsigned auto_worker_lcores;
};

/* Starts EAL. Returns 0, or -1 with one line in err saying what went wrong and what to do. */
int eal_start(const struct eal_request *request, char *err, size_t err_size);

/* The most telling complaint in what EAL printed while starting (a driver that failed to probe,
 * say), or "" when there was none. */
void eal_startup_complaint(char *out, size_t size);

/* Releases EAL and gives the main thread back the CPUs it could run on before EAL pinned it. */
void eal_stop(void);

#endif
