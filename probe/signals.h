/* SIGINT/SIGTERM handling: the first asks the probe to stop reading, flush and report; a second
 * one exits at once. */
#ifndef DNSPROBE_SIGNALS_H
#define DNSPROBE_SIGNALS_H

#include <stdbool.h>

struct worker;

void signals_install(void);

/* A stop request also starts this worker's stop budget: a wait on a full sink then ends after
 * --flush-timeout (worker_request_stop). */
void signals_watch_worker(struct worker *worker);

bool signals_stop_requested(void);

#endif
