/* The Kafka sink: a librdkafka producer with Java-compatible key placement, idempotent delivery,
 * delivery-report accounting and bounded queues (docs/kafka.md). */
#include "kafka_sink.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <openssl/x509_vfy.h>

#include "cache_line.h"
#include "clock.h"

#define METADATA_WAIT_MS 250
/* "All brokers down" is reported once, after every broker failed its first connection attempt.
 * librdkafka tries again after 100 ms, then backs off, and each try takes the next address of a
 * name (localhost: ::1, then 127.0.0.1): these 2 s give every address a few tries. */
#define ALL_DOWN_GRACE_MS 2000
#define ERROR_TEXT_SIZE	  256

/* Applied before the user's -X settings, which override them. Why each: docs/kafka.md. */
static const char *const default_settings[][2] = {
    {"client.id", "dnsprobe"},
    {"partitioner", "murmur2_random"},
    {"enable.idempotence", "true"},
    {"acks", "all"},
    {"compression.type", "lz4"},
    {"linger.ms", "20"},
    {"queue.buffering.max.messages", "50000"},
    {"queue.buffering.max.kbytes", "16384"},
    {"statistics.interval.ms", "1000"},
};

struct kafka_sink {
	rd_kafka_t *rk;
	rd_kafka_topic_t *topic;
	uint64_t accepted; /* records librdkafka took: each ends in a delivery report */
	uint64_t delivered;
	uint64_t failed;
	uint64_t refused; /* records librdkafka would not take (SINK_FAILED) */
	char last_error[ERROR_TEXT_SIZE];
	rd_kafka_resp_err_t last_error_code;
	bool all_brokers_down;
	char client_error[ERROR_TEXT_SIZE];
	atomic_int tls_verify_error; /* the first OpenSSL X509_V_ERR_* of a broker certificate */
	bool running;		     /* past the start-up check: errors become warnings */
	bool warned_since_delivery;  /* one warning per outage, not one per retry */
	bool drop_when_full;
	bool send_time;
	struct sink_client_stats stats; /* from the last statistics callback */
};

static uint64_t in_flight(const struct kafka_sink *s)
{
	return s->accepted - s->delivered - s->failed;
}

static void remember_error(char *out, const char *text)
{
	snprintf(out, ERROR_TEXT_SIZE, "%s", text);
}

/* Delivery reports: served on the emitting thread by rd_kafka_poll and rd_kafka_flush. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque)
{
	(void)rk;
	struct kafka_sink *s = opaque;
	if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		s->delivered++;
		s->warned_since_delivery = false;
		return;
	}
	s->failed++;
	s->last_error_code = message->err;
	remember_error(s->last_error, rd_kafka_err2str(message->err));
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kafka_sink *s = opaque;
	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
		s->all_brokers_down = true;
	} else {
		/* without librdkafka's " (after 0ms in state CONNECT, ...)" tail */
		const char *details = strstr(reason, " (after ");
		int len = details ? (int)(details - reason) : (int)strlen(reason);
		snprintf(s->client_error, sizeof(s->client_error), "%.*s", len, reason);
	}
	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		char fatal[ERROR_TEXT_SIZE];
		rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
		remember_error(s->last_error, fatal);
		fprintf(stderr,
			"dnsprobe: Kafka producer stopped: %s; no more records can be sent\n",
			fatal);
		return;
	}
	if (!s->running || s->warned_since_delivery)
		return;
	s->warned_since_delivery = true;
	fprintf(stderr, "dnsprobe: warning: Kafka: %s; %s\n",
		err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ? reason : s->client_error,
		s->drop_when_full ? "records wait in the queue until it is back; once the queue is "
				    "full, new records are dropped (--on-full drop)"
				  : "records wait in the queue until it is back; once the queue is "
				    "full, reading waits for room (--on-full block)");
}

static uint64_t json_uint(const json_t *object, const char *key)
{
	json_t *value = json_object_get(object, key);
	return json_is_integer(value) && json_integer_value(value) > 0
		   ? (uint64_t)json_integer_value(value)
		   : 0;
}

static void read_broker(const char *name, const json_t *b, struct sink_broker_stats *out)
{
	snprintf(out->name, sizeof(out->name), "%s", name);
	const char *state = json_string_value(json_object_get(b, "state"));
	out->up = state && strcmp(state, "UP") == 0;
	json_t *rtt = json_object_get(b, "rtt");
	out->rtt_avg_s = (double)json_uint(rtt, "avg") / 1e6; /* librdkafka gives microseconds */
	out->rtt_p99_s = (double)json_uint(rtt, "p99") / 1e6;
	out->waiting_messages = json_uint(b, "outbuf_msg_cnt") + json_uint(b, "waitresp_msg_cnt");
	out->tx_errors = json_uint(b, "txerrs");
	out->tx_retries = json_uint(b, "txretries");
	out->request_timeouts = json_uint(b, "req_timeouts");
}

/* librdkafka's statistics (statistics.interval.ms), served by rd_kafka_poll on the emitting
 * thread: the figures an operator watches are kept for the metrics (docs/operations.md). */
static int on_statistics(rd_kafka_t *rk, char *json, size_t json_len, void *opaque)
{
	(void)rk;
	struct kafka_sink *s = opaque;
	json_t *root = json_loadb(json, json_len, 0, NULL);
	if (!root)
		return 0;
	struct sink_client_stats *st = &s->stats;
	st->valid = true;
	st->queue_messages = json_uint(root, "msg_cnt");
	st->queue_bytes = json_uint(root, "msg_size");
	st->queue_max_messages = json_uint(root, "msg_max");
	st->queue_max_bytes = json_uint(root, "msg_size_max");
	st->sent_messages = json_uint(root, "txmsgs");
	st->sent_bytes = json_uint(root, "txmsg_bytes");
	st->broker_count = 0;
	const char *name;
	json_t *broker;
	json_object_foreach(json_object_get(root, "brokers"), name, broker)
	{
		if (st->broker_count == SINK_MAX_BROKERS)
			break;
		read_broker(name, broker, &st->brokers[st->broker_count++]);
	}
	json_decref(root);
	return 0; /* librdkafka frees json */
}

static void kafka_client_stats(void *state, struct sink_client_stats *out)
{
	struct kafka_sink *s = state;
	*out = s->stats;
}

/* librdkafka's own log lines: its errors already reached on_error, so only what the user asked
 * for (-X debug=...) and configuration warnings are shown. Called from librdkafka's threads. */
static void on_log(const rd_kafka_t *rk, int level, const char *facility, const char *text)
{
	(void)rk;
	if (level >= 7 || strcmp(facility, "CONFWARN") == 0)
		fprintf(stderr, "dnsprobe: librdkafka %s: %s\n", facility, text);
}

struct servers {
	const char *list;
	const char *origin; /* "--brokers" or "-X bootstrap.servers" */
};

/* TLS: OpenSSL's verdict on each certificate of the broker's chain stands; the first reason
 * for refusing one is kept, so that a failed start can say which (librdkafka's own error text
 * says only "certificate verify failed"). Called from librdkafka's broker threads. */
static int on_certificate(rd_kafka_t *rk, const char *broker_name, int32_t broker_id,
			  int *x509_error, int depth, const char *buf, size_t size, char *errstr,
			  size_t errstr_size, void *opaque)
{
	(void)rk;
	(void)broker_name;
	(void)broker_id;
	(void)depth;
	(void)buf;
	(void)size;
	struct kafka_sink *s = opaque;
	if (*x509_error == X509_V_OK)
		return 1;
	int none = X509_V_OK;
	atomic_compare_exchange_strong(&s->tls_verify_error, &none, *x509_error);
	snprintf(errstr, errstr_size, "%s", X509_verify_cert_error_string(*x509_error));
	return 0;
}

/* What to do about a certificate the broker showed and OpenSSL refused. */
static const char *certificate_advice(int x509_error)
{
	switch (x509_error) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return "the broker's certificate has expired: renew it on the broker";
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return "the broker's certificate is not valid yet: check the clocks";
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return "the broker's certificate does not name the host in the bootstrap servers: "
		       "connect by a name (or address) its subjectAltName holds";
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return "the broker's certificate is not signed by a CA the probe trusts: give the "
		       "CA that signed it with -X ssl.ca.location=FILE";
	default:
		return "check the broker's certificate and ssl.ca.location";
	}
}

/* The one line for a start that never got an answer from the cluster. */
static void explain_unreachable(const struct kafka_sink *s, const struct servers *servers,
				rd_kafka_resp_err_t e, char *err, size_t err_size)
{
	int x509_error = atomic_load(&s->tls_verify_error);
	if (x509_error != X509_V_OK) {
		snprintf(err, err_size, "Kafka at %s: TLS: %s; %s", servers->list,
			 X509_verify_cert_error_string(x509_error), certificate_advice(x509_error));
		return;
	}
	if (strstr(s->client_error, "SASL authentication error")) {
		const char *scram_note = "";
		if (strstr(s->client_error, "SCRAM") && rd_kafka_version() < 0x020601ff)
			scram_note =
			    " (or librdkafka older than 2.6.1, which cannot do SCRAM with "
			    "Kafka 4 brokers: use sasl.mechanisms=PLAIN inside TLS, or a newer "
			    "librdkafka)";
		const char *reason = strstr(s->client_error, "SASL authentication error");
		snprintf(err, err_size,
			 "Kafka at %s: %s; check sasl.username and sasl.password (-F, -X)%s",
			 servers->list, reason, scram_note);
		return;
	}
	snprintf(err, err_size,
		 "cannot reach Kafka at %s (%s); check %s and that the broker is running",
		 servers->list, s->client_error[0] ? s->client_error : rd_kafka_err2str(e),
		 servers->origin);
}

static enum sink_status kafka_emit(void *state, const struct sink_record *record)
{
	struct kafka_sink *s = state;
	rd_kafka_resp_err_t err = rd_kafka_producev(
	    s->rk, RD_KAFKA_V_RKT(s->topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
	    RD_KAFKA_V_KEY(record->key, record->key_len),
	    RD_KAFKA_V_VALUE((void *)record->value, record->value_len),
	    RD_KAFKA_V_TIMESTAMP(s->send_time ? 0 : record->timestamp_ns / 1000000),
	    RD_KAFKA_V_END);
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		s->accepted++;
		return SINK_OK;
	}
	if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
		return SINK_FULL;
	s->refused++;
	s->last_error_code = err;
	remember_error(s->last_error, rd_kafka_err2str(err));
	return SINK_FAILED;
}

static void kafka_poll(void *state, int timeout_ms)
{
	struct kafka_sink *s = state;
	rd_kafka_poll(s->rk, timeout_ms);
}

static int kafka_flush(void *state, int timeout_ms)
{
	struct kafka_sink *s = state;
	rd_kafka_flush(s->rk, timeout_ms);
	return in_flight(s) == 0 ? 0 : -1;
}

static void kafka_counters(void *state, struct sink_counters *out)
{
	struct kafka_sink *s = state;
	out->delivered = s->delivered;
	out->failed = s->failed;
	out->in_flight = in_flight(s);
}

static void kafka_free(struct kafka_sink *s)
{
	if (s->topic)
		rd_kafka_topic_destroy(s->topic);
	if (s->rk)
		rd_kafka_destroy(s->rk);
	free(s);
}

/* What to do about the last error, for the exit line. */
static const char *error_hint(const struct kafka_sink *s)
{
	switch (s->last_error_code) {
	case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
		return "the topic refuses these capture times, see \"Timestamps\" in docs/kafka.md";
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
		return "a record is larger than the producer (-X message.max.bytes) or the topic "
		       "(its max.message.bytes) allows; raise both, see \"Record size\" in "
		       "docs/kafka.md";
	default:
		return "check the broker, or give --flush-timeout more time";
	}
}

/* Records still in flight are given up (flush already waited --flush-timeout for them), so
 * closing never hangs on a broker that is away. */
static int kafka_close(void *state, bool complete, char *err, size_t err_size)
{
	struct kafka_sink *s = state;
	(void)complete; /* what reached Kafka cannot be taken back */
	uint64_t failed = s->failed + s->refused;
	uint64_t pending = in_flight(s);
	int rc = 0;
	if (failed || pending) {
		snprintf(err, err_size,
			 "Kafka: %llu records failed and %llu were still in flight at exit, given "
			 "up without knowing whether they arrived (last error: %s); %s",
			 (unsigned long long)failed, (unsigned long long)pending,
			 s->last_error[0] ? s->last_error : "none", error_hint(s));
		rc = -1;
	}
	if (pending) {
		rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT |
					  RD_KAFKA_PURGE_F_NON_BLOCKING);
		rd_kafka_poll(s->rk, 0);
	}
	kafka_free(s);
	return rc;
}

static const struct sink_ops kafka_sink_ops = {
    .emit = kafka_emit,
    .poll = kafka_poll,
    .flush = kafka_flush,
    .counters = kafka_counters,
    .client_stats = kafka_client_stats,
    .close = kafka_close,
};

static int set_property(rd_kafka_conf_t *conf, const char *origin, const char *name,
			const char *value, char *err, size_t err_size)
{
	char reason[512];
	if (rd_kafka_conf_set(conf, name, value, reason, sizeof(reason)) == RD_KAFKA_CONF_OK)
		return 0;
	reason[strcspn(reason, "\n")] = '\0';
	snprintf(err, err_size, "%s%s: %s; see docs/kafka.md for the librdkafka properties", origin,
		 name, reason);
	return -1;
}

/* One "property=value" from -X; the value is never echoed, it may be a password. */
static int set_user_property(rd_kafka_conf_t *conf, const char *setting, char *err, size_t err_size)
{
	const char *equals = strchr(setting, '=');
	size_t name_len = equals ? (size_t)(equals - setting) : 0;
	if (name_len == 0) {
		snprintf(err, err_size, "-X: expected property=value, e.g. -X linger.ms=50");
		return -1;
	}
	char *name = strndup(setting, name_len);
	if (!name) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	int rc = set_property(conf, "-X ", name, equals + 1, err, err_size);
	free(name);
	return rc;
}

/* Where the producer connects: --brokers, or a -X that set bootstrap.servers after it. */
/* The servers a -X setting gives (under either of librdkafka's names), or NULL. */
static const char *servers_set_by(const char *setting)
{
	static const char *const names[] = {"bootstrap.servers=", "metadata.broker.list="};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strncmp(setting, names[i], strlen(names[i])) == 0)
			return setting + strlen(names[i]);
	return NULL;
}

/* Our defaults, --brokers, then -X in order. Sets *servers to what the producer connects to in
 * the end, for the messages that name it. */
static int configure(rd_kafka_conf_t *conf, const struct kafka_sink_config *config,
		     struct servers *servers, char *err, size_t err_size)
{
	for (size_t i = 0; i < sizeof(default_settings) / sizeof(default_settings[0]); i++)
		if (set_property(conf, "default ", default_settings[i][0], default_settings[i][1],
				 err, err_size) != 0)
			return -1;
	if (set_property(conf, "--brokers ", "bootstrap.servers", config->brokers, err, err_size) !=
	    0)
		return -1;
	*servers = (struct servers){config->brokers, "--brokers"};
	for (int i = 0; i < config->setting_count; i++) {
		if (set_user_property(conf, config->settings[i], err, err_size) != 0)
			return -1;
		const char *list = servers_set_by(config->settings[i]);
		if (list)
			*servers = (struct servers){list, "-X bootstrap.servers"};
	}
	/* The accounting needs a report for every record, delivered or not. */
	return set_property(conf, "", "delivery.report.only.error", "false", err, err_size);
}

static int64_t monotonic_ms(void)
{
	return clock_ns(CLOCK_MONOTONIC) / 1000000;
}

/* The cluster answered: 0 when we can write to the topic, 1 when it does not exist yet, or -1
 * with the reason in err. A topic created on first use (by our producer's own metadata request)
 * is unknown for a moment, then has no leader for a moment; records wait for its leader. */
static int check_topic(const struct rd_kafka_metadata *metadata, const char *topic, char *err,
		       size_t err_size)
{
	if (metadata->topic_cnt < 1)
		return 1;
	rd_kafka_resp_err_t topic_err = metadata->topics[0].err;
	switch (topic_err) {
	case RD_KAFKA_RESP_ERR_NO_ERROR:
	case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
		return 0;
	case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
		return 1;
	default:
		snprintf(err, err_size, "Kafka topic '%s': %s; check the topic name and its ACLs",
			 topic, rd_kafka_err2str(topic_err));
		return -1;
	}
}

/* Waits until a broker answers a metadata request for the topic, so that a wrong address or a
 * stopped broker is one clear error before anything is read, not a queue of failed records. */
static int wait_for_cluster(struct kafka_sink *s, const struct kafka_sink_config *config,
			    const struct servers *servers, char *err, size_t err_size)
{
	int64_t deadline = monotonic_ms() + KAFKA_SINK_CONNECT_TIMEOUT_MS;
	bool answered = false;
	bool grace_started = false;
	for (;;) {
		const struct rd_kafka_metadata *metadata;
		rd_kafka_resp_err_t e =
		    rd_kafka_metadata(s->rk, 0, s->topic, &metadata, METADATA_WAIT_MS);
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
			answered = true;
			int rc = check_topic(metadata, config->topic, err, err_size);
			rd_kafka_metadata_destroy(metadata);
			if (rc <= 0)
				return rc;
		}
		rd_kafka_poll(s->rk, answered ? METADATA_WAIT_MS : 0);
		if (s->all_brokers_down && !grace_started) {
			grace_started = true;
			int64_t grace_end = monotonic_ms() + ALL_DOWN_GRACE_MS;
			deadline = grace_end < deadline ? grace_end : deadline;
		}
		if (monotonic_ms() < deadline)
			continue;
		if (answered)
			snprintf(
			    err, err_size,
			    "Kafka topic '%s' does not exist and the cluster did not create it "
			    "on first use; create it first (see docs/kafka.md)",
			    config->topic);
		else
			explain_unreachable(s, servers, e, err, err_size);
		return -1;
	}
}

int sink_kafka_open(struct sink *sink, const struct kafka_sink_config *config, char *err,
		    size_t err_size)
{
	struct kafka_sink *s = cache_line_calloc(sizeof(*s));
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (!s || !conf) {
		free(s);
		if (conf)
			rd_kafka_conf_destroy(conf);
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	/* First of all, so that no line of librdkafka's own printer ("%6|...") ever reaches
	 * stderr: everything it logs goes through on_log. */
	rd_kafka_conf_set_log_cb(conf, on_log);
	rd_kafka_conf_set_opaque(conf, s);
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_stats_cb(conf, on_statistics);
	rd_kafka_conf_set_ssl_cert_verify_cb(conf, on_certificate);
	atomic_init(&s->tls_verify_error, X509_V_OK);
	s->drop_when_full = config->drop_when_full;
	s->send_time = config->send_time;
	struct servers servers;
	if (configure(conf, config, &servers, err, err_size) != 0) {
		rd_kafka_conf_destroy(conf);
		free(s);
		return -1;
	}

	char reason[512];
	s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, reason, sizeof(reason));
	if (!s->rk) {
		rd_kafka_conf_destroy(conf);
		free(s);
		snprintf(err, err_size,
			 "cannot set up the Kafka producer: %s; check the -X settings", reason);
		return -1;
	}
	s->topic = rd_kafka_topic_new(s->rk, config->topic, NULL);
	if (!s->topic) {
		snprintf(err, err_size, "Kafka topic '%s': %s", config->topic,
			 rd_kafka_err2str(rd_kafka_last_error()));
		kafka_free(s);
		return -1;
	}
	if (wait_for_cluster(s, config, &servers, err, err_size) != 0) {
		kafka_free(s);
		return -1;
	}
	s->running = true;
	sink->ops = &kafka_sink_ops;
	sink->state = s;
	return 0;
}

void kafka_sink_show_properties(FILE *out)
{
	rd_kafka_conf_properties_show(out);
}
