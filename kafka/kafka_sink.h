/* The Kafka sink: publishes records to a Kafka topic with a librdkafka producer, behind the sink
 * interface of probe/sink.h. The only file that includes this is the one that picks the sink. */
#ifndef DNSPROBE_KAFKA_SINK_H
#define DNSPROBE_KAFKA_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "sink.h"

struct kafka_sink_config {
	const char *brokers; /* bootstrap servers, "host:port[,host:port...]" */
	const char *topic;
	/* "property=value" for librdkafka, applied in order over our defaults (docs/kafka.md). */
	const char *const *settings;
	int setting_count;
	bool drop_when_full; /* --on-full drop: records that find the queue full are dropped */
	bool send_time;	     /* record timestamps are the time of sending, not of capture */
};

/* Creates the producer and waits (at most KAFKA_SINK_CONNECT_TIMEOUT_MS) until the cluster
 * answers and knows the topic. Returns 0, or -1 with one line for the user in err (a bad
 * setting, no broker reachable, unknown topic) and nothing sent. One sink per thread: its
 * delivery counters are served by the thread that emits. */
int sink_kafka_open(struct sink *sink, const struct kafka_sink_config *config, char *err,
		    size_t err_size);

#define KAFKA_SINK_CONNECT_TIMEOUT_MS 10000

/* Prints every librdkafka property with its default and description (-X list), as kcat does. */
void kafka_sink_show_properties(FILE *out);

#endif
