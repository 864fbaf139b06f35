/* The per-worker packet path. Everything it needs per packet is allocated once in worker_new. */
#include "worker.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "dns_parse.h"
#include "flow_key.h"
#include "json_writer.h"
#include "record_json.h"

/* Big enough for the largest record: answers stop being kept long before this fills. */
#define VALUE_BUFFER_SIZE (4 * 1024 * 1024)
#define FULL_POLL_MS      10

struct worker {
	const struct worker_config *config;
	struct sink *sink;
	struct counters counters;
	struct dns_parser *parser;
	struct dns_message *message;
	struct timestamp_cache timestamps;
	char *value;
	atomic_bool stop;
};

struct worker *worker_new(const struct worker_config *config, struct sink *sink)
{
	struct worker *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->config = config;
	w->sink = sink;
	w->parser = dns_parser_new();
	w->message = malloc(sizeof(*w->message));
	w->value = malloc(VALUE_BUFFER_SIZE);
	timestamp_cache_init(&w->timestamps);
	atomic_init(&w->stop, false);
	if (!w->parser || !w->message || !w->value) {
		worker_free(w);
		return NULL;
	}
	return w;
}

void worker_free(struct worker *w)
{
	if (!w)
		return;
	dns_parser_free(w->parser);
	free(w->message);
	free(w->value);
	free(w);
}

const struct counters *worker_counters(const struct worker *w)
{
	return &w->counters;
}

void worker_request_stop(struct worker *w)
{
	atomic_store(&w->stop, true);
}

static void count_malformed(struct worker *w, enum malformed_reason reason)
{
	w->counters.malformed++;
	w->counters.malformed_by_reason[reason]++;
}

/* Hands one record to the sink, waiting or dropping when it is full as configured. */
static void publish(struct worker *w, const struct sink_record *record)
{
	w->counters.records++;
	for (;;) {
		enum sink_status status = w->sink->ops->emit(w->sink->state, record);
		if (status == SINK_OK) {
			w->counters.records_to_sink++;
			return;
		}
		if (status == SINK_FAILED) {
			w->counters.records_rejected++;
			return;
		}
		if (w->config->on_full == ON_FULL_DROP || atomic_load(&w->stop)) {
			w->counters.records_dropped++;
			return;
		}
		w->sink->ops->poll(w->sink->state, FULL_POLL_MS);
	}
}

static void handle_dns(struct worker *w, const struct frame *frame, const struct packet_info *p)
{
	bool truncated = p->truncated || frame->caplen < frame->wirelen;
	if (!dns_parse(w->parser, p->payload, p->payload_len, truncated, w->message)) {
		count_malformed(w, MALFORMED_DNS_TOO_SHORT);
		return;
	}

	struct flow_key key;
	bool sender_is_a = flow_key_build(p, &key);
	char key_text[FLOW_KEY_TEXT_MAX];
	struct sink_record record = {.timestamp_ns = frame->ts_ns};
	if (w->config->key_format == KEY_TEXT) {
		record.key = key_text;
		record.key_len = flow_key_text(&key, key_text, sizeof(key_text));
	} else {
		record.key = key.bytes;
		record.key_len = FLOW_KEY_LEN;
	}

	if (w->config->value_format == VALUE_RAW) {
		record.value = frame->data;
		record.value_len = frame->caplen;
	} else {
		struct dns_record dns = {
			.timestamp_ns = frame->ts_ns,
			.packet = p,
			.key = &key,
			.sender_is_a = sender_is_a,
			.dns_size = p->payload_len,
			.message = w->message,
		};
		struct json_writer json;
		json_init(&json, w->value, VALUE_BUFFER_SIZE);
		record_json_encode(&json, &w->timestamps, &dns);
		if (json.overflow) {
			count_malformed(w, MALFORMED_RECORD_TOO_LARGE);
			return;
		}
		record.value = w->value;
		record.value_len = json.len;
	}
	if (w->message->malformed)
		w->counters.records_partial++;
	publish(w, &record);
}

void worker_packet(struct worker *w, int link_type, const struct frame *frame)
{
	w->counters.packets++;
	if (!decode_link_type_supported(link_type)) {
		w->counters.unsupported_link++;
		return;
	}
	struct packet_info p;
	switch (decode_frame(link_type, frame->data, frame->caplen, &w->config->dns_ports, &p)) {
	case DECODE_UDP:
		handle_dns(w, frame, &p);
		return;
	case DECODE_TCP:
		w->counters.tcp++;
		return;
	case DECODE_FRAGMENT:
		w->counters.ip_fragments++;
		return;
	case DECODE_NOT_DNS:
		w->counters.not_dns++;
		return;
	case DECODE_MALFORMED:
		count_malformed(w, p.malformed);
		return;
	}
}

void worker_end_burst(struct worker *w)
{
	w->sink->ops->poll(w->sink->state, 0);
}
