/* The sink interface: where records go (a file, stdout, Kafka). Backends implement these
 * operations; the worker only sees this header (docs/architecture.md, "Folders and what they may
 * include"). */
#ifndef DNSPROBE_SINK_H
#define DNSPROBE_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"

struct sink_record {
	const void *key;
	size_t key_len;
	const void *value;
	size_t value_len;
	int64_t timestamp_ns; /* capture time */
};

enum sink_status {
	SINK_OK,    /* accepted: it will end delivered or failed */
	SINK_FULL,  /* not accepted now; poll and try again, or drop */
	SINK_FAILED /* not accepted, and trying again will not help */
};

/* What a client library behind a sink (librdkafka) says about itself in its statistics: its
 * queue, and each broker it talks to. */
#define SINK_MAX_BROKERS      8
#define SINK_BROKER_NAME_SIZE 64
struct sink_broker_stats {
	char name[SINK_BROKER_NAME_SIZE]; /* librdkafka's "host:port/id" */
	bool up;			  /* connected and ready */
	double rtt_avg_s, rtt_p99_s;	  /* request round trips in the last window; 0: none */
	uint64_t waiting_messages;	  /* messages in requests not sent or not answered yet */
	uint64_t tx_errors, tx_retries, request_timeouts;
};

struct sink_client_stats {
	bool valid;				      /* false until the client reported once */
	uint64_t queue_messages, queue_bytes;	      /* waiting in the producer's queue */
	uint64_t queue_max_messages, queue_max_bytes; /* its bounds */
	uint64_t sent_messages, sent_bytes;	      /* handed to brokers */
	unsigned broker_count;
	struct sink_broker_stats brokers[SINK_MAX_BROKERS];
};

struct sink_ops {
	enum sink_status (*emit)(void *state, const struct sink_record *record);
	/* Serves delivery reports; waits at most timeout_ms for one. NULL when the sink has none
	 * (and is never full for long). */
	void (*poll)(void *state, int timeout_ms);
	/* Waits until everything accepted has ended or the timeout passed; 0 when all ended. NULL
	 * when nothing accepted waits. */
	int (*flush)(void *state, int timeout_ms);
	void (*counters)(void *state, struct sink_counters *out);
	/* The client's last statistics; called on the emitting thread. NULL when there is no
	 * client library behind the sink. */
	void (*client_stats)(void *state, struct sink_client_stats *out);
	/* Ends the output once nothing more will be emitted: writes what is pending and puts a
	 * file in place. Afterwards the counters are final, for the summary, and close(complete)
	 * only frees. NULL when flush already ends all there is (sink_finish then does nothing).
	 * Returns 0, or -1 with a message in err. */
	int (*finish)(void *state, char *err, size_t err_size);
	/* complete=false abandons output that would look finished (a file is not left behind);
	 * complete=true finishes it first when finish was not called. Returns 0, or -1 with a
	 * message in err. Frees the state. */
	int (*close)(void *state, bool complete, char *err, size_t err_size);
};

struct sink {
	const struct sink_ops *ops;
	void *state;
};

static inline void sink_poll(struct sink *sink, int timeout_ms)
{
	if (sink->ops->poll)
		sink->ops->poll(sink->state, timeout_ms);
}

static inline int sink_flush(struct sink *sink, int timeout_ms)
{
	return sink->ops->flush ? sink->ops->flush(sink->state, timeout_ms) : 0;
}

static inline int sink_finish(struct sink *sink, char *err, size_t err_size)
{
	return sink->ops->finish ? sink->ops->finish(sink->state, err, err_size) : 0;
}

/* Records to a file, or to stdout for "-": one per line, or, given a frame_stream_type (e.g.
 * "protobuf:dnstap.Dnstap"), a Frame Streams file of that content type. A regular file is written
 * under a temporary name, synced to disk and renamed into place when finished; a second signal
 * removes the temporary file. A record counts delivered once written (write(2) took it); when the
 * file cannot be synced or put in place, every record counts failed. Once standard output (or a
 * FIFO) has no reader any more (EPIPE), the sink asks the probe to stop reading. Returns 0, or -1
 * with a message in err. */
int sink_file_open(struct sink *sink, const char *path, const char *frame_stream_type, char *err,
		   size_t err_size);

/* Accepts every record and keeps none: for benchmarks and dry runs. */
int sink_null_open(struct sink *sink, char *err, size_t err_size);

#endif
