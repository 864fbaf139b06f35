/* The null sink: accepts every record and keeps none, counting them as delivered. It measures the
 * whole path up to the sink (scripts/bench) and lets a dry run count without writing. */
#include <stdio.h>
#include <stdlib.h>

#include "cache_line.h"
#include "sink.h"

struct null_sink {
	uint64_t accepted;
};

static enum sink_status null_emit(void *state, const struct sink_record *record)
{
	(void)record;
	((struct null_sink *)state)->accepted++;
	return SINK_OK;
}

static void null_counters(void *state, struct sink_counters *out)
{
	out->delivered = ((struct null_sink *)state)->accepted;
	out->failed = 0;
	out->in_flight = 0;
}

static int null_close(void *state, bool complete, char *err, size_t err_size)
{
	(void)complete;
	(void)err;
	(void)err_size;
	free(state);
	return 0;
}

static const struct sink_ops null_sink_ops = {
    .emit = null_emit,
    .counters = null_counters,
    .close = null_close,
};

int sink_null_open(struct sink *sink, char *err, size_t err_size)
{
	struct null_sink *s = cache_line_calloc(sizeof(*s));
	if (!s) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	sink->ops = &null_sink_ops;
	sink->state = s;
	return 0;
}
