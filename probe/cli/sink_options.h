/* Command-line options that choose and tune the sink (file/stdout or Kafka), shared by the
 * commands that publish records (replay, capture). */
#ifndef DNSPROBE_SINK_OPTIONS_H
#define DNSPROBE_SINK_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "option_codes.h"
#include "runner.h"
#include "sink.h"
#include "worker.h"

#define SINK_MAX_KAFKA_SETTINGS 64

struct sink_options {
	const char *output; /* file or "-"; used when no brokers are given */
	bool output_given;
	bool discard;	     /* build every record, then throw it away */
	const char *brokers; /* Kafka bootstrap servers; NULL for file output */
	const char *topic;
	const char *kafka_settings[SINK_MAX_KAFKA_SETTINGS]; /* "key=value" for librdkafka */
	int kafka_setting_count;
	const struct key_encoder *key_encoder;
	bool key_format_given;
	const struct value_encoder *value_encoder;
	enum on_full on_full;
	bool on_full_given;
	int flush_timeout_ms;
	bool kafka_send_time; /* --kafka-timestamp send: records carry the time they are sent */
};

/* The entries to put in a command's getopt_long table (codes: option_codes.h), and the short
 * options they map from. */
#define SINK_LONG_OPTIONS                                                                          \
	{"output", required_argument, NULL, SINK_OPT_OUTPUT},                                      \
	    {"brokers", required_argument, NULL, SINK_OPT_BROKERS},                                \
	    {"topic", required_argument, NULL, SINK_OPT_TOPIC},                                    \
	    {"kafka-setting", required_argument, NULL, SINK_OPT_KAFKA_SETTING},                    \
	    {"kafka-config", required_argument, NULL, SINK_OPT_KAFKA_CONFIG},                      \
	    {"kafka-timestamp", required_argument, NULL, SINK_OPT_KAFKA_TIMESTAMP},                \
	    {"key-format", required_argument, NULL, SINK_OPT_KEY_FORMAT},                          \
	    {"format", required_argument, NULL, SINK_OPT_FORMAT},                                  \
	    {"on-full", required_argument, NULL, SINK_OPT_ON_FULL},                                \
	    {"discard", no_argument, NULL, SINK_OPT_DISCARD},                                      \
	{                                                                                          \
		"flush-timeout", required_argument, NULL, SINK_OPT_FLUSH_TIMEOUT                   \
	}
#define SINK_SHORT_OPTIONS "o:b:t:X:F:"

/* The help text of these options, for a command's --help. */
extern const char sink_options_help[];

/* Replay's defaults: block when full, Kafka timestamps of sending (captures may be old);
 * capture's: drop when full, capture timestamps (which are now). */
void sink_options_init(struct sink_options *o, enum on_full default_on_full);

/* Handles option c (a SINK_OPT_ code or 'o', 'b', 't', 'X', 'F'). Returns 1 when handled, 0 when c
 * is not a sink option, or EXIT_USAGE after printing one line about a bad value. In a build
 * without librdkafka the Kafka options are a usage error that says so. */
int sink_options_handle(struct sink_options *o, int c, const char *arg);

/* Checks the combination once all options are read; EXIT_USAGE after printing, or 0. */
int sink_options_finish(struct sink_options *o);

/* Copies what the worker needs to know about records. */
void sink_options_apply(const struct sink_options *o, struct worker_config *config);

/* How the runner opens the lanes' sinks for these options (which must outlive it). */
struct sink_opener sink_options_opener(const struct sink_options *o);

/* Opens the sink; returns 0, or -1 with one line for the user in err. */
int sink_options_open(const struct sink_options *o, struct sink *sink, char *err, size_t err_size);

#endif
