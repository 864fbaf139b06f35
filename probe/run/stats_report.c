/* Periodic stats: one line on stderr per interval, Prometheus metrics written atomically
 * (temporary file, then rename) for node_exporter's textfile collector, and the same metrics
 * rendered for each /metrics request from a snapshot only the control loop and the HTTP thread
 * touch (the lanes never wait for a scrape). */
#include "stats_report.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "dns_match.h"

#ifndef DNSPROBE_VERSION
#define DNSPROBE_VERSION "unknown"
#endif

struct stats_report {
	int64_t interval_ns; /* between stderr lines and file writes */
	int64_t tick_ns;     /* between calls from the runner: interval_ns, or shorter for HTTP */
	int64_t last_tick_ns;
	int64_t next_report_ns;
	bool print_lines;
	char *file;
	char *tmp_file;
	char *source;
	double start_time_s;
	int64_t last_ns;
	struct runner_totals last;
	bool write_failing; /* the last file write failed; warned once until it works again */
	struct metrics_http *http;
	pthread_mutex_t snapshot_lock; /* taken by the control loop and the HTTP thread only */
	struct runner_totals snapshot; /* what /metrics shows */
};

int64_t stats_report_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static double unix_time_s(void)
{
	return (double)clock_ns(CLOCK_REALTIME) / 1e9;
}

/* Prometheus label values escape backslash, double quote and newline. */
static void write_label_value(FILE *out, const char *value)
{
	for (const char *p = value; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", out);
		else if (*p == '"')
			fputs("\\\"", out);
		else if (*p == '\n')
			fputs("\\n", out);
		else
			fputc(*p, out);
	}
}

/* A sample's label set: the source label when there is one, then an optional extra label. */
static void write_labels(FILE *out, const char *source, const char *name, const char *value)
{
	if (!source && !name)
		return;
	fputc('{', out);
	if (source) {
		fputs("source=\"", out);
		write_label_value(out, source);
		fputc('"', out);
	}
	if (name) {
		fprintf(out, "%s%s=\"", source ? "," : "", name);
		write_label_value(out, value);
		fputc('"', out);
	}
	fputc('}', out);
}

static void write_family_head(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void write_uint_metric(FILE *out, const char *source, const char *name, const char *type,
			      const char *help, uint64_t value)
{
	write_family_head(out, name, type, help);
	fputs(name, out);
	write_labels(out, source, NULL, NULL);
	fprintf(out, " %" PRIu64 "\n", value);
}

struct counter_metric {
	const char *name;
	const char *help;
	uint64_t value;
};

/* Query/response matching: what became of queries and responses, queries by type, responses by
 * code, and the response-time histogram by response code (seconds, cumulative buckets). */
static void write_match_metrics(FILE *out, const struct match_counters *m, const char *source)
{
	const struct counter_metric counters[] = {
	    {"dnsprobe_matched_responses_total", "Responses that answered an open query.",
	     m->matched_responses},
	    {"dnsprobe_unmatched_responses_total",
	     "Responses with no open query (capture started late, duplicates, another question).",
	     m->unmatched_responses},
	    {"dnsprobe_unanswered_queries_total",
	     "Queries not answered within --response-timeout, or open when a replay ended.",
	     m->unanswered_queries},
	    {"dnsprobe_match_table_full_total",
	     "Queries let go unmatched because the matching table (--match-queries) was full.",
	     m->match_table_full},
	};
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		write_uint_metric(out, source, counters[i].name, "counter", counters[i].help,
				  counters[i].value);
	write_family_head(out, "dnsprobe_queries_total", "counter", "DNS queries, by query type.");
	for (unsigned i = 0; i < MATCH_QTYPE_SLOTS; i++) {
		fputs("dnsprobe_queries_total", out);
		write_labels(out, source, "qtype", dns_match_qtype_label(i));
		fprintf(out, " %" PRIu64 "\n", m->queries_by_qtype[i]);
	}
	write_family_head(out, "dnsprobe_responses_total", "counter",
			  "DNS responses, by response code.");
	for (unsigned i = 0; i < MATCH_RCODE_SLOTS; i++) {
		fputs("dnsprobe_responses_total", out);
		write_labels(out, source, "rcode", dns_match_rcode_label(i));
		fprintf(out, " %" PRIu64 "\n", m->responses_by_rcode[i]);
	}
	const char *name = "dnsprobe_response_time_seconds";
	if (m->matched_responses == 0)
		return; /* a family is written with samples or not at all */
	write_family_head(out, name, "histogram",
			  "Time from a query to the response that matched it, by response code.");
	for (unsigned row = 0; row < MATCH_RCODE_SLOTS; row++) {
		uint64_t count = 0;
		for (unsigned b = 0; b <= MATCH_LATENCY_BUCKETS; b++)
			count += m->latency_buckets[row][b];
		if (count == 0)
			continue;
		const char *rcode = dns_match_rcode_label(row);
		uint64_t cumulative = 0;
		for (unsigned b = 0; b <= MATCH_LATENCY_BUCKETS; b++) {
			cumulative += m->latency_buckets[row][b];
			fprintf(out, "%s_bucket{", name);
			if (source) {
				fputs("source=\"", out);
				write_label_value(out, source);
				fputs("\",", out);
			}
			if (b < MATCH_LATENCY_BUCKETS)
				fprintf(out, "rcode=\"%s\",le=\"%g\"} %" PRIu64 "\n", rcode,
					dns_match_latency_bounds_s[b], cumulative);
			else
				fprintf(out, "rcode=\"%s\",le=\"+Inf\"} %" PRIu64 "\n", rcode,
					cumulative);
		}
		fprintf(out, "%s_sum", name);
		write_labels(out, source, "rcode", rcode);
		fprintf(out, " %.9f\n", (double)m->latency_sum_ns[row] / 1e9);
		fprintf(out, "%s_count", name);
		write_labels(out, source, "rcode", rcode);
		fprintf(out, " %" PRIu64 "\n", count);
	}
}

/* The policy stage: records classified, dropped by category (in all and per --drop-category)
 * and over the rate limit. */
static void write_policy_metrics(FILE *out, const struct policy_counters *p, const char *source)
{
	const struct counter_metric counters[] = {
	    {"dnsprobe_policy_classified_total",
	     "Records whose question matched a --classify rule.", p->classified},
	    {"dnsprobe_policy_dropped_total",
	     "Records of a --drop-category category, not published.", p->dropped},
	    {"dnsprobe_rate_limited_total",
	     "Records over --rate-limit or --rate-limit-per-client, not published.",
	     p->rate_limited},
	};
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		write_uint_metric(out, source, counters[i].name, "counter", counters[i].help,
				  counters[i].value);
	unsigned drops = counters_drop_category_count();
	if (drops == 0)
		return; /* a family is written with samples or not at all */
	const char *name = "dnsprobe_policy_dropped_category_total";
	write_family_head(out, name, "counter",
			  "Records not published because of their category, by --drop-category.");
	for (unsigned i = 0; i < drops; i++) {
		fputs(name, out);
		write_labels(out, source, "category", counters_drop_category_name(i));
		fprintf(out, " %" PRIu64 "\n", p->dropped_by_category[i]);
	}
}

/* A label set of the source label (when there is one), worker="N" and an optional broker. */
static void write_worker_labels(FILE *out, const char *source, unsigned worker, const char *broker)
{
	fputc('{', out);
	if (source) {
		fputs("source=\"", out);
		write_label_value(out, source);
		fputs("\",", out);
	}
	fprintf(out, "worker=\"%u\"", worker);
	if (broker) {
		fputs(",broker=\"", out);
		write_label_value(out, broker);
		fputc('"', out);
	}
	fputc('}', out);
}

/* Each worker's own figures: which lane is behind, which one drops. */
static void write_worker_metrics(FILE *out, const struct runner_totals *t, const char *source)
{
	static const struct {
		const char *name, *type, *help;
		size_t offset;
	} metrics[] = {
	    {"dnsprobe_worker_packets_total", "counter", "Packets this worker handled.",
	     offsetof(struct runner_lane_totals, packets)},
	    {"dnsprobe_worker_records_total", "counter",
	     "DNS messages this worker made records of.",
	     offsetof(struct runner_lane_totals, records)},
	    {"dnsprobe_worker_malformed_total", "counter",
	     "Packets with no usable DNS message, at this worker.",
	     offsetof(struct runner_lane_totals, malformed)},
	    {"dnsprobe_worker_records_to_sink_total", "counter",
	     "Records this worker's sink accepted.",
	     offsetof(struct runner_lane_totals, records_to_sink)},
	    {"dnsprobe_worker_records_dropped_total", "counter",
	     "Records this worker dropped because its sink was full (--on-full drop).",
	     offsetof(struct runner_lane_totals, records_dropped)},
	    {"dnsprobe_worker_records_delivered_total", "counter",
	     "Records this worker's sink delivered (a shared output file counts its own).",
	     offsetof(struct runner_lane_totals, sink.delivered)},
	    {"dnsprobe_worker_records_in_flight", "gauge",
	     "Records this worker's sink accepted that are not delivered or failed yet.",
	     offsetof(struct runner_lane_totals, sink.in_flight)},
	};
	if (t->lane_count == 0)
		return;
	for (size_t m = 0; m < sizeof(metrics) / sizeof(metrics[0]); m++) {
		write_family_head(out, metrics[m].name, metrics[m].type, metrics[m].help);
		for (unsigned w = 0; w < t->lane_count; w++) {
			uint64_t value;
			memcpy(&value, (const char *)&t->lanes[w] + metrics[m].offset,
			       sizeof(value));
			fputs(metrics[m].name, out);
			write_worker_labels(out, source, w, NULL);
			fprintf(out, " %" PRIu64 "\n", value);
		}
	}
}

/* The producer-wide figures from librdkafka's statistics, one sample per worker. */
static void write_client_metrics(FILE *out, const struct runner_totals *t, const char *source)
{
	static const struct {
		const char *name, *type, *help;
		size_t offset;
	} metrics[] = {
	    {"dnsprobe_kafka_queue_messages", "gauge",
	     "Records waiting in the producer's queue (librdkafka msg_cnt).",
	     offsetof(struct sink_client_stats, queue_messages)},
	    {"dnsprobe_kafka_queue_bytes", "gauge",
	     "Bytes of records waiting in the producer's queue (librdkafka msg_size).",
	     offsetof(struct sink_client_stats, queue_bytes)},
	    {"dnsprobe_kafka_queue_max_messages", "gauge",
	     "Records the producer's queue holds at most (queue.buffering.max.messages).",
	     offsetof(struct sink_client_stats, queue_max_messages)},
	    {"dnsprobe_kafka_queue_max_bytes", "gauge",
	     "Bytes the producer's queue holds at most (queue.buffering.max.kbytes).",
	     offsetof(struct sink_client_stats, queue_max_bytes)},
	    {"dnsprobe_kafka_sent_messages_total", "counter",
	     "Records the producer sent to brokers (librdkafka txmsgs).",
	     offsetof(struct sink_client_stats, sent_messages)},
	    {"dnsprobe_kafka_sent_bytes_total", "counter",
	     "Bytes of records the producer sent to brokers (librdkafka txmsg_bytes).",
	     offsetof(struct sink_client_stats, sent_bytes)},
	};
	for (size_t m = 0; m < sizeof(metrics) / sizeof(metrics[0]); m++) {
		write_family_head(out, metrics[m].name, metrics[m].type, metrics[m].help);
		for (unsigned w = 0; w < t->lane_count; w++) {
			if (!t->lanes[w].client.valid)
				continue;
			uint64_t value;
			memcpy(&value, (const char *)&t->lanes[w].client + metrics[m].offset,
			       sizeof(value));
			fputs(metrics[m].name, out);
			write_worker_labels(out, source, w, NULL);
			fprintf(out, " %" PRIu64 "\n", value);
		}
	}
}

enum broker_figure {
	BROKER_UP,
	BROKER_RTT_AVG,
	BROKER_RTT_P99,
	BROKER_WAITING,
	BROKER_TX_ERRORS,
	BROKER_TX_RETRIES,
	BROKER_TIMEOUTS,
	BROKER_FIGURES
};

static double broker_figure(const struct sink_broker_stats *b, enum broker_figure f)
{
	switch (f) {
	case BROKER_UP:
		return b->up ? 1 : 0;
	case BROKER_RTT_AVG:
		return b->rtt_avg_s;
	case BROKER_RTT_P99:
		return b->rtt_p99_s;
	case BROKER_WAITING:
		return (double)b->waiting_messages;
	case BROKER_TX_ERRORS:
		return (double)b->tx_errors;
	case BROKER_TX_RETRIES:
		return (double)b->tx_retries;
	case BROKER_TIMEOUTS:
		return (double)b->request_timeouts;
	case BROKER_FIGURES:
		break;
	}
	return 0;
}

/* Each broker a worker's producer talks to, labelled with librdkafka's name for it. */
static void write_broker_metrics(FILE *out, const struct runner_totals *t, const char *source)
{
	static const struct {
		const char *name, *type, *help;
	} metrics[BROKER_FIGURES] = {
	    [BROKER_UP] = {"dnsprobe_kafka_broker_up", "gauge",
			   "1 when the producer's connection to the broker is up (state UP)."},
	    [BROKER_RTT_AVG] = {"dnsprobe_kafka_broker_rtt_avg_seconds", "gauge",
				"Mean request round trip to the broker in the last statistics "
				"window (0: no request)."},
	    [BROKER_RTT_P99] = {"dnsprobe_kafka_broker_rtt_p99_seconds", "gauge",
				"99th percentile of the request round trips to the broker in the "
				"last statistics window (0: no request)."},
	    [BROKER_WAITING] = {"dnsprobe_kafka_broker_waiting_messages", "gauge",
				"Records in requests to the broker not sent or not answered yet."},
	    [BROKER_TX_ERRORS] = {"dnsprobe_kafka_broker_tx_errors_total", "counter",
				  "Requests to the broker that failed to be sent."},
	    [BROKER_TX_RETRIES] = {"dnsprobe_kafka_broker_tx_retries_total", "counter",
				   "Requests to the broker sent again."},
	    [BROKER_TIMEOUTS] = {"dnsprobe_kafka_broker_request_timeouts_total", "counter",
				 "Requests to the broker that timed out."},
	};
	for (int f = 0; f < BROKER_FIGURES; f++) {
		write_family_head(out, metrics[f].name, metrics[f].type, metrics[f].help);
		for (unsigned w = 0; w < t->lane_count; w++) {
			const struct sink_client_stats *c = &t->lanes[w].client;
			for (unsigned b = 0; c->valid && b < c->broker_count; b++) {
				fputs(metrics[f].name, out);
				write_worker_labels(out, source, w, c->brokers[b].name);
				fprintf(out, " %.9g\n", broker_figure(&c->brokers[b], f));
			}
		}
	}
}

static bool any_client_stats(const struct runner_totals *t)
{
	for (unsigned w = 0; w < t->lane_count; w++)
		if (t->lanes[w].client.valid)
			return true;
	return false;
}

int stats_report_write_prometheus(FILE *out, const struct runner_totals *t, const char *source,
				  double start_time_s)
{
	const struct counters *c = &t->counters;
	const struct capture_drops *d = &t->drops;
	const struct counter_metric counters[] = {
	    {"dnsprobe_packets_total", "Packets the capture handed to the probe.", c->packets},
	    {"dnsprobe_records_total", "DNS messages turned into records.", c->records},
	    {"dnsprobe_records_partial_total",
	     "Records of DNS messages that could only be partly parsed.", c->records_partial},
	    {"dnsprobe_not_dns_total", "Packets that were not DNS (other ports or protocols).",
	     c->not_dns},
	    {"dnsprobe_tcp_segments_total", "TCP segments on a DNS port.", c->tcp},
	    {"dnsprobe_ip_fragments_total", "IP fragments.", c->ip_fragments},
	    {"dnsprobe_reassembled_datagrams_total",
	     "IP datagrams rebuilt from fragments (each then counted like a packet).",
	     c->reassembled_datagrams},
	    {"dnsprobe_tcp_messages_total",
	     "DNS messages rebuilt from TCP streams (each then counted like a packet).",
	     c->tcp_messages},
	    {"dnsprobe_unsupported_link_total", "Packets of a link type the probe cannot decode.",
	     c->unsupported_link},
	    {"dnsprobe_records_to_sink_total", "Records the sink accepted.", c->records_to_sink},
	    {"dnsprobe_records_dropped_total",
	     "Records dropped because the sink was full (--on-full drop).", c->records_dropped},
	    {"dnsprobe_records_rejected_total", "Records the sink refused with an error.",
	     c->records_rejected},
	    {"dnsprobe_records_delivered_total", "Records the sink delivered.", t->sink.delivered},
	    {"dnsprobe_records_failed_total", "Records whose delivery failed.", t->sink.failed},
	    {"dnsprobe_capture_received_total",
	     "Packets the kernel (passed the filter) or the NIC (ipackets) received for the "
	     "capture.",
	     d->received},
	    {"dnsprobe_kernel_dropped_total",
	     "Packets the kernel dropped because the capture buffer was full (raise -B).",
	     d->kernel_dropped},
	    {"dnsprobe_interface_dropped_total",
	     "Packets the interface or its driver dropped (libpcap ps_ifdrop).",
	     d->interface_dropped},
	    {"dnsprobe_nic_missed_total", "Packets the NIC missed for want of rx descriptors.",
	     d->nic_missed},
	    {"dnsprobe_nic_errors_total", "Bad frames the NIC received.", d->nic_errors},
	    {"dnsprobe_nic_no_mbuf_total", "Packets the NIC dropped for want of an mbuf.",
	     d->nic_no_mbuf},
	};

	write_family_head(out, "dnsprobe_info", "gauge", "Version of the running probe.");
	fputs("dnsprobe_info", out);
	write_labels(out, source, "version", DNSPROBE_VERSION);
	fputs(" 1\n", out);
	write_family_head(out, "dnsprobe_start_time_seconds", "gauge",
			  "Unix time the probe started.");
	fputs("dnsprobe_start_time_seconds", out);
	write_labels(out, source, NULL, NULL);
	fprintf(out, " %.3f\n", start_time_s);

	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		write_uint_metric(out, source, counters[i].name, "counter", counters[i].help,
				  counters[i].value);

	if (d->has_connections) {
		const struct counter_metric dnstap[] = {
		    {"dnsprobe_dnstap_connections_opened_total", "dnstap senders that connected.",
		     d->connections_opened},
		    {"dnsprobe_dnstap_connections_closed_total",
		     "dnstap connections closed (by the sender, or for a fault).",
		     d->connections_closed},
		    {"dnsprobe_dnstap_connections_refused_total",
		     "dnstap connections refused over --max-connections.", d->connections_refused},
		    {"dnsprobe_dnstap_frames_total", "dnstap data frames received.", d->frames},
		};
		for (size_t i = 0; i < sizeof(dnstap) / sizeof(dnstap[0]); i++)
			write_uint_metric(out, source, dnstap[i].name, "counter", dnstap[i].help,
					  dnstap[i].value);
		const char *reasons[] = {"control", "oversized", "content_type", "protobuf"};
		uint64_t values[] = {d->bad_control, d->oversized, d->bad_content_type,
				     d->bad_protobuf};
		write_family_head(
		    out, "dnsprobe_dnstap_malformed_total", "counter",
		    "dnstap connections closed for breaking Frame Streams or dnstap, by reason.");
		for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
			fputs("dnsprobe_dnstap_malformed_total", out);
			write_labels(out, source, "reason", reasons[i]);
			fprintf(out, " %" PRIu64 "\n", values[i]);
		}
	}
	write_family_head(out, "dnsprobe_malformed_total", "counter",
			  "Packets with no usable DNS message, by reason.");
	for (int reason = MALFORMED_NONE + 1; reason < MALFORMED_REASON_COUNT; reason++) {
		fputs("dnsprobe_malformed_total", out);
		write_labels(out, source, "reason", malformed_reason_name(reason));
		fprintf(out, " %" PRIu64 "\n", c->malformed_by_reason[reason]);
	}
	write_family_head(out, "dnsprobe_abandoned_total", "counter",
			  "Fragmented datagrams and TCP stream data given up on, by reason.");
	for (int reason = 0; reason < ABANDON_REASON_COUNT; reason++) {
		fputs("dnsprobe_abandoned_total", out);
		write_labels(out, source, "reason", abandon_reason_name(reason));
		fprintf(out, " %" PRIu64 "\n", c->abandoned_by_reason[reason]);
	}
	write_match_metrics(out, &c->match, source);
	write_policy_metrics(out, &c->policy, source);
	write_uint_metric(out, source, "dnsprobe_records_in_flight", "gauge",
			  "Records the sink accepted that are not delivered or failed yet.",
			  t->sink.in_flight);
	write_worker_metrics(out, t, source);
	if (any_client_stats(t)) {
		write_client_metrics(out, t, source);
		write_broker_metrics(out, t, source);
	}
	return ferror(out) ? -1 : 0;
}

/* Writes the metrics to a temporary name in the same folder, then renames it over the file, so
 * the collector never reads a half-written file. */
static int write_file(const struct stats_report *r, const struct runner_totals *t, char *err,
		      size_t err_size)
{
	int fd = open(r->tmp_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, err_size,
			 "cannot write the stats file %s: %s; check that its folder exists and is "
			 "writable by the user the probe runs as",
			 r->tmp_file, strerror(errno));
		return -1;
	}
	FILE *out = fdopen(fd, "w");
	if (!out) {
		close(fd);
		unlink(r->tmp_file);
		snprintf(err, err_size, "cannot write the stats file %s: %s", r->tmp_file,
			 strerror(errno));
		return -1;
	}
	int rc = stats_report_write_prometheus(out, t, r->source, r->start_time_s);
	int saved_errno = errno;
	if (fclose(out) != 0) {
		rc = -1;
		saved_errno = errno;
	}
	if (rc == 0 && rename(r->tmp_file, r->file) != 0) {
		rc = -1;
		saved_errno = errno;
	}
	if (rc != 0) {
		unlink(r->tmp_file);
		snprintf(err, err_size, "cannot write the stats file %s: %s; check the disk",
			 r->file, strerror(saved_errno));
	}
	return rc;
}

/* Packets lost before a worker saw them, wherever they were lost. */
static uint64_t dropped_before_probe(const struct capture_drops *d)
{
	return d->kernel_dropped + d->interface_dropped + d->nic_missed + d->nic_no_mbuf;
}

static void print_line(const struct stats_report *r, int64_t now_ns, const struct runner_totals *t)
{
	double seconds = (double)(now_ns - r->last_ns) / 1e9;
	const struct counters *c = &t->counters;
	uint64_t new_packets = c->packets - r->last.counters.packets;
	uint64_t new_records = c->records - r->last.counters.records;
	uint64_t dropped = dropped_before_probe(&t->drops);
	fprintf(stderr,
		"dnsprobe: stats: %" PRIu64 " packets (%.0f/s), %" PRIu64
		" records (%.0f/s), %" PRIu64 " malformed, %" PRIu64
		" dropped before the probe (+%" PRIu64 "), %" PRIu64
		" sink-full drops; records %" PRIu64 " delivered, %" PRIu64 " failed, %" PRIu64
		" in flight\n",
		c->packets, seconds > 0 ? (double)new_packets / seconds : 0.0, c->records,
		seconds > 0 ? (double)new_records / seconds : 0.0, c->malformed, dropped,
		dropped - dropped_before_probe(&r->last.drops), c->records_dropped,
		t->sink.delivered, t->sink.failed + c->records_rejected, t->sink.in_flight);
}

/* /metrics: the snapshot rendered on the HTTP thread. */
static int render_snapshot(void *ctx, FILE *out)
{
	struct stats_report *r = ctx;
	pthread_mutex_lock(&r->snapshot_lock);
	int rc = stats_report_write_prometheus(out, &r->snapshot, r->source, r->start_time_s);
	pthread_mutex_unlock(&r->snapshot_lock);
	return rc;
}

static void report_free(struct stats_report *r)
{
	metrics_http_stop(r->http);
	pthread_mutex_destroy(&r->snapshot_lock);
	free(r->file);
	free(r->tmp_file);
	free(r->source);
	free(r);
}

int stats_report_open(struct stats_report **out, const struct stats_report_options *o, char *err,
		      size_t err_size)
{
	*out = NULL;
	if (o->interval_s <= 0 && !o->file && !o->listen_given)
		return 0;
	struct stats_report *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	pthread_mutex_init(&r->snapshot_lock, NULL);
	double interval = o->interval_s > 0 ? o->interval_s : STATS_FILE_DEFAULT_INTERVAL_S;
	r->interval_ns = (int64_t)(interval * 1e9);
	double tick = o->listen_given && interval > STATS_SNAPSHOT_INTERVAL_S
			  ? STATS_SNAPSHOT_INTERVAL_S
			  : interval;
	r->tick_ns = (int64_t)(tick * 1e9);
	r->print_lines = o->interval_s > 0;
	r->start_time_s = unix_time_s();
	r->last_ns = stats_report_now_ns();
	r->last_tick_ns = r->last_ns;
	r->next_report_ns = r->last_ns + r->interval_ns;
	bool ok = true;
	if (o->source)
		ok = (r->source = strdup(o->source)) != NULL;
	if (ok && o->file) {
		r->file = strdup(o->file);
		r->tmp_file = malloc(strlen(o->file) + sizeof(".tmp"));
		ok = r->file && r->tmp_file;
		if (ok)
			sprintf(r->tmp_file, "%s.tmp", o->file);
	}
	if (!ok) {
		report_free(r);
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	if (r->file && write_file(r, &r->last, err, err_size) != 0) {
		report_free(r);
		return -1;
	}
	if (o->listen_given &&
	    metrics_http_start(&r->http, &o->listen, render_snapshot, r, err, err_size) != 0) {
		report_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

bool stats_report_due(const struct stats_report *r, int64_t now_ns)
{
	return r && now_ns - r->last_tick_ns >= r->tick_ns;
}

static void update_snapshot(struct stats_report *r, const struct runner_totals *t)
{
	if (!r->http)
		return;
	pthread_mutex_lock(&r->snapshot_lock);
	memcpy(&r->snapshot, t, offsetof(struct runner_totals, lanes));
	memcpy(r->snapshot.lanes, t->lanes, t->lane_count * sizeof(t->lanes[0]));
	pthread_mutex_unlock(&r->snapshot_lock);
}

/* Refreshes the snapshot; prints the line and rewrites the file when their time came (half a
 * tick early is on time: the runner's calls come a little late or early) or when final. */
static void report_now(struct stats_report *r, int64_t now_ns, const struct runner_totals *t,
		       bool final)
{
	update_snapshot(r, t);
	r->last_tick_ns = now_ns;
	if (!final && now_ns < r->next_report_ns - r->tick_ns / 2)
		return;
	r->next_report_ns = now_ns + r->interval_ns;
	if (r->print_lines)
		print_line(r, now_ns, t);
	if (r->file) {
		char err[512];
		bool failed = write_file(r, t, err, sizeof(err)) != 0;
		if (failed && !r->write_failing)
			fprintf(stderr,
				"dnsprobe: warning: %s (metrics stay stale until it works)\n", err);
		r->write_failing = failed;
	}
	r->last = *t;
	r->last_ns = now_ns;
}

void stats_report_tick(struct stats_report *r, int64_t now_ns, const struct runner_totals *t)
{
	if (stats_report_due(r, now_ns))
		report_now(r, now_ns, t, false);
}

unsigned stats_report_interval_ms(const struct stats_report *r)
{
	return r ? (unsigned)(r->tick_ns / 1000000) : 0;
}

void stats_report_runner_hook(void *report, const struct runner_totals *t)
{
	if (report)
		report_now(report, stats_report_now_ns(), t, false);
}

void stats_report_final_hook(void *report, const struct runner_totals *t)
{
	if (report)
		report_now(report, stats_report_now_ns(), t, true);
}

int stats_report_close(struct stats_report *r, const struct runner_totals *t, char *err,
		       size_t err_size)
{
	if (!r)
		return 0;
	int rc = r->file ? write_file(r, t ? t : &r->last, err, err_size) : 0;
	report_free(r);
	return rc;
}
