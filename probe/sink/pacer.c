/* The pacer of replay --speed. It flushes the real sink before waiting, so what was due is out
 * when it was due, and serves the sink's delivery reports while it waits. */
#include "pacer.h"

#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"

#define PACE_MIN_SLEEP_NS  1000000LL /* sleep only when a record is due later than this */
#define PACE_MAX_SLEEP_NS  (PACER_HOOK_MS * 1000000LL) /* while sleeping, look around this often */
#define PACE_MAX_OFFSET_NS 3.15e16 /* a record is never due more than a year after the first */

struct pacer {
	struct sink inner;
	double speed;
	struct pacer_hooks hooks;
	bool started;
	int64_t first_capture_ns;
	int64_t first_emit_ns;
};

struct pacer *pacer_new(struct sink inner, double speed, const struct pacer_hooks *hooks)
{
	struct pacer *p = calloc(1, sizeof(*p));
	if (p) {
		p->inner = inner;
		p->speed = speed;
		p->hooks = *hooks;
	}
	return p;
}

void pacer_restart(struct pacer *p)
{
	p->started = false;
}

static void wait_until(struct pacer *p, int64_t due_ns)
{
	sink_flush(&p->inner, 0);
	while (!atomic_load_explicit(p->hooks.stop, memory_order_relaxed)) {
		int64_t now = clock_ns(CLOCK_MONOTONIC);
		if (now >= due_ns)
			return;
		int64_t wake = due_ns - now > PACE_MAX_SLEEP_NS ? now + PACE_MAX_SLEEP_NS : due_ns;
		if (p->inner.ops->poll) {
			/* A sink with delivery reports (Kafka) serves them while we wait, so that
			 * what was sent counts delivered, not in flight, during a long pause. */
			sink_poll(&p->inner, (int)((wake - now + 999999) / 1000000));
		} else {
			struct timespec until = {.tv_sec = wake / CLOCK_NS_PER_SECOND,
						 .tv_nsec = wake % CLOCK_NS_PER_SECOND};
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
		}
		if (p->hooks.waiting)
			p->hooks.waiting(p->hooks.ctx);
	}
}

static enum sink_status paced_emit(void *state, const struct sink_record *record)
{
	struct pacer *p = state;
	int64_t now = clock_ns(CLOCK_MONOTONIC);
	if (!p->started) {
		p->started = true;
		p->first_capture_ns = record->timestamp_ns;
		p->first_emit_ns = now;
	}
	/* in floating point, saturated: capture times may be far apart (or damaged), and a slow
	 * speed stretches them further; a year ahead is as good as never */
	double offset_ns = ((double)record->timestamp_ns - (double)p->first_capture_ns) / p->speed;
	if (offset_ns > PACE_MAX_OFFSET_NS)
		offset_ns = PACE_MAX_OFFSET_NS;
	int64_t due = p->first_emit_ns + (int64_t)offset_ns;
	if (due - now > PACE_MIN_SLEEP_NS)
		wait_until(p, due);
	return p->inner.ops->emit(p->inner.state, record);
}

static void paced_poll(void *state, int timeout_ms)
{
	struct pacer *p = state;
	sink_poll(&p->inner, timeout_ms);
}

static int paced_flush(void *state, int timeout_ms)
{
	struct pacer *p = state;
	return sink_flush(&p->inner, timeout_ms);
}

static void paced_counters(void *state, struct sink_counters *out)
{
	struct pacer *p = state;
	p->inner.ops->counters(p->inner.state, out);
}

static void paced_client_stats(void *state, struct sink_client_stats *out)
{
	struct pacer *p = state;
	if (p->inner.ops->client_stats)
		p->inner.ops->client_stats(p->inner.state, out);
}

static int paced_finish(void *state, char *err, size_t err_size)
{
	struct pacer *p = state;
	return sink_finish(&p->inner, err, err_size);
}

static int paced_close(void *state, bool complete, char *err, size_t err_size)
{
	struct pacer *p = state;
	int rc = p->inner.ops->close(p->inner.state, complete, err, err_size);
	free(p);
	return rc;
}

static const struct sink_ops pacer_ops = {
    .emit = paced_emit,
    .poll = paced_poll,
    .flush = paced_flush,
    .counters = paced_counters,
    .client_stats = paced_client_stats,
    .finish = paced_finish,
    .close = paced_close,
};

struct sink pacer_sink(struct pacer *p)
{
	return (struct sink){.ops = &pacer_ops, .state = p};
}
