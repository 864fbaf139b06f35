/* SIGINT, SIGTERM and SIGHUP handling: the first asks the probe to stop reading, flush and
 * report; a second one removes the temporary output files and exits at once. Once reloads are
 * enabled (there are rule files), SIGHUP asks for a reload instead and never stops the probe.
 * SIGPIPE is ignored, so a reader of standard output that goes away is a write error (EPIPE), not
 * death. */
#ifndef DNSPROBE_SIGNALS_H
#define DNSPROBE_SIGNALS_H

#include <stdbool.h>

struct worker;

void signals_install(void);

/* A stop request also starts this worker's stop budget: a wait on a full sink then ends after
 * --flush-timeout (worker_request_stop). */
void signals_watch_worker(struct worker *worker);
/* Before the watched workers are freed: a signal from now on touches none of them. */
void signals_unwatch_workers(void);

bool signals_stop_requested(void);

/* From now on SIGHUP asks for a reload (signals_take_reload) instead of a stop. */
void signals_enable_reload(void);

/* True once for every SIGHUP (several before a call count as one). */
bool signals_take_reload(void);

/* The stop a first signal asks for, asked by the probe itself (its output went away). */
void signals_request_stop(void);

/* Remembers a temporary file for a second signal to remove. Returns its slot for
 * signals_forget_file, or -1 when the path is too long or every slot is taken. */
int signals_track_file(const char *path);

/* The file of this slot (-1: none) is renamed or removed: a signal leaves it alone. */
void signals_forget_file(int slot);

#endif
