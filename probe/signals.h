/* SIGINT/SIGTERM handling: the first asks the probe to stop reading, flush and report; a second
 * one exits at once. */
#ifndef DNSPROBE_SIGNALS_H
#define DNSPROBE_SIGNALS_H

#include <stdbool.h>

struct worker;

void signals_install(void);

/* A stop request also tells this worker to stop waiting on a full sink. */
void signals_watch_worker(struct worker *worker);

bool signals_stop_requested(void);

#endif
