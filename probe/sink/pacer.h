/* Replay in recorded time (--speed): a sink in front of the real one that holds each record until
 * its capture time, counted from the first record of its file and divided by the speed, has
 * come. */
#ifndef DNSPROBE_PACER_H
#define DNSPROBE_PACER_H

#include <stdatomic.h>

#include "sink.h"

struct pacer;

/* While a record waits for its time: stop is looked at (a true one ends the wait) and
 * waiting(ctx) called every PACER_HOOK_MS or so, for the owner to publish its counters. */
struct pacer_hooks {
	const atomic_bool *stop;
	void (*waiting)(void *ctx);
	void *ctx;
};

#define PACER_HOOK_MS 100

/* A pacer in front of inner, which it owns from now on (closing the pacer's sink closes inner).
 * Returns NULL when out of memory. */
struct pacer *pacer_new(struct sink inner, double speed, const struct pacer_hooks *hooks);

/* The sink to emit into. */
struct sink pacer_sink(struct pacer *p);

/* A new file begins: its first record sets the clock again. */
void pacer_restart(struct pacer *p);

#endif
