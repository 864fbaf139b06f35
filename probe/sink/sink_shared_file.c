/* One output file for several workers: per-worker record buffers flushed under one mutex. */
#include "sink_shared_file.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache_line.h"
#include "clock.h"

#define WORKER_BUFFER_SIZE (1 << 20)
/* A buffer older than this is handed over at the next poll, so output keeps up with slow traffic.
 */
#define HAND_OVER_AFTER_NS (200 * 1000000LL)

struct shared_file {
	pthread_mutex_t lock;
	struct sink file; /* the file sink, only used under lock */
};

/* One worker's buffer of records, each stored as its length and its value bytes. */
struct worker_buffer {
	struct shared_file *shared;
	uint8_t *data;
	size_t used;
	uint64_t buffered; /* records in data */
	uint64_t refused;  /* records the file sink refused; those it took, it counts itself */
	int64_t first_ns;  /* when the oldest buffered record came */
};

/* Writes one record to the file sink; the caller holds the lock. */
static void write_record(struct worker_buffer *b, const void *value, size_t len)
{
	struct sink_record record = {.value = value, .value_len = len};
	struct sink *file = &b->shared->file;
	if (file->ops->emit(file->state, &record) != SINK_OK)
		b->refused++;
}

static void hand_over(struct worker_buffer *b)
{
	if (b->buffered == 0)
		return;
	pthread_mutex_lock(&b->shared->lock);
	size_t at = 0;
	while (at < b->used) {
		uint32_t len;
		memcpy(&len, b->data + at, sizeof(len));
		at += sizeof(len);
		write_record(b, b->data + at, len);
		at += len;
	}
	pthread_mutex_unlock(&b->shared->lock);
	b->used = 0;
	b->buffered = 0;
}

static enum sink_status buffer_emit(void *state, const struct sink_record *record)
{
	struct worker_buffer *b = state;
	size_t need = sizeof(uint32_t) + record->value_len;
	if (b->used + need > WORKER_BUFFER_SIZE)
		hand_over(b);
	if (need > WORKER_BUFFER_SIZE) {
		pthread_mutex_lock(&b->shared->lock);
		write_record(b, record->value, record->value_len);
		pthread_mutex_unlock(&b->shared->lock);
		return SINK_OK;
	}
	if (b->buffered == 0)
		b->first_ns = clock_ns(CLOCK_MONOTONIC_COARSE);
	uint32_t len = (uint32_t)record->value_len;
	memcpy(b->data + b->used, &len, sizeof(len));
	memcpy(b->data + b->used + sizeof(len), record->value, len);
	b->used += need;
	b->buffered++;
	return SINK_OK;
}

static void buffer_poll(void *state, int timeout_ms)
{
	struct worker_buffer *b = state;
	(void)timeout_ms;
	if (b->buffered && clock_ns(CLOCK_MONOTONIC_COARSE) - b->first_ns >= HAND_OVER_AFTER_NS)
		hand_over(b);
}

static int buffer_flush(void *state, int timeout_ms)
{
	(void)timeout_ms;
	hand_over(state);
	return 0;
}

static void buffer_counters(void *state, struct sink_counters *out)
{
	struct worker_buffer *b = state;
	out->delivered = 0;
	out->failed = b->refused;
	out->in_flight = b->buffered;
}

static int buffer_close(void *state, bool complete, char *err, size_t err_size)
{
	struct worker_buffer *b = state;
	(void)err;
	(void)err_size;
	if (complete)
		hand_over(b);
	free(b->data);
	free(b);
	return 0;
}

static const struct sink_ops worker_buffer_ops = {
    .emit = buffer_emit,
    .poll = buffer_poll,
    .flush = buffer_flush,
    .counters = buffer_counters,
    .close = buffer_close,
};

int shared_file_open(struct shared_file **out, struct sink file, char *err, size_t err_size)
{
	struct shared_file *shared = calloc(1, sizeof(*shared));
	if (!shared) {
		snprintf(err, err_size, "out of memory");
		file.ops->close(file.state, false, err, err_size);
		return -1;
	}
	shared->file = file;
	pthread_mutex_init(&shared->lock, NULL);
	*out = shared;
	return 0;
}

int shared_file_sink(struct shared_file *shared, struct sink *out, char *err, size_t err_size)
{
	struct worker_buffer *b = cache_line_calloc(sizeof(*b));
	if (b)
		b->data = malloc(WORKER_BUFFER_SIZE);
	if (!b || !b->data) {
		free(b);
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	b->shared = shared;
	out->ops = &worker_buffer_ops;
	out->state = b;
	return 0;
}

void shared_file_counters(struct shared_file *shared, struct sink_counters *out)
{
	pthread_mutex_lock(&shared->lock);
	shared->file.ops->counters(shared->file.state, out);
	pthread_mutex_unlock(&shared->lock);
}

int shared_file_finish(struct shared_file *shared, char *err, size_t err_size)
{
	pthread_mutex_lock(&shared->lock);
	int rc = sink_finish(&shared->file, err, err_size);
	pthread_mutex_unlock(&shared->lock);
	return rc;
}

int shared_file_close(struct shared_file *shared, bool complete, char *err, size_t err_size)
{
	int rc = shared->file.ops->close(shared->file.state, complete, err, err_size);
	pthread_mutex_destroy(&shared->lock);
	free(shared);
	return rc;
}
