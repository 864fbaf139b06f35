/* The per-worker packet path. Everything it needs per packet is allocated once in worker_new. */
#include "worker.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "cache_line.h"
#include "clock.h"
#include "dns_match.h"
#include "dns_parse.h"
#include "dnstap_message.h"
#include "flow_key.h"
#include "policy.h"

/* Big enough for the largest record: answers stop being kept long before this fills. */
#define VALUE_BUFFER_SIZE (4 * 1024 * 1024)
#define FULL_POLL_MS	  10
#define NS_PER_MS	  1000000LL

/* A stop time written from a signal handler must be a lock-free atomic. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "the stop time needs a lock-free atomic");

struct worker {
	const struct worker_config *config;
	struct decode_ports ports;
	struct sink *sink;
	struct counters counters;
	struct dns_parser *parser;
	struct dns_message *message;
	struct ip_reassembly *fragments;
	struct tcp_reassembly *streams;
	struct dns_matcher *matcher;
	struct policy_worker *policy; /* NULL without a policy */
	int64_t last_ts_ns;
	/* While a reassembled datagram that carried a tunnel is dispatched: it, for raw values. */
	const struct packet_info *datagram;
	const uint8_t *datagram_l4;
	size_t datagram_len;
	void *encoder_state;
	uint8_t *value;
	void (*wait_hook)(void *ctx);
	void *wait_ctx;
	struct frame_tap *tap; /* -w: where frames that gave records are copied; NULL: nowhere */
	atomic_llong stop_ns;  /* CLOCK_MONOTONIC time of the stop request; 0: none */
};

struct worker *worker_new(const struct worker_config *config, struct sink *sink)
{
	struct worker *w = cache_line_calloc(sizeof(*w));
	if (!w)
		return NULL;
	w->config = config;
	w->sink = sink;
	w->ports.dns = config->dns_ports;
	w->ports.vxlan = config->vxlan_ports;
	w->ports.geneve = config->geneve_ports;
	port_set_add(&w->ports.vxlan, VXLAN_STANDARD_PORT);
	port_set_add(&w->ports.geneve, GENEVE_STANDARD_PORT);
	w->parser = dns_parser_new();
	w->message = cache_line_calloc(sizeof(*w->message));
	w->value = malloc(VALUE_BUFFER_SIZE);
	if (w->parser)
		dns_parser_skip_answers(w->parser, !config->value_encoder->shows_answers);
	if (config->value_encoder->state_new) {
		w->encoder_state = config->value_encoder->state_new(&config->encoder_settings);
		if (!w->encoder_state) {
			worker_free(w);
			return NULL;
		}
	}
	atomic_init(&w->stop_ns, 0);
	w->fragments = ip_reassembly_new(&config->fragments, &w->counters);
	w->streams = tcp_reassembly_new(&config->streams, &w->counters);
	w->matcher = dns_matcher_new(&config->match, &w->counters);
	if (config->policy)
		w->policy = policy_worker_new(config->policy, &w->counters);
	if (!w->parser || !w->message || !w->value || !w->fragments || !w->streams || !w->matcher ||
	    (config->policy && !w->policy)) {
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
	ip_reassembly_free(w->fragments);
	tcp_reassembly_free(w->streams);
	dns_matcher_free(w->matcher);
	policy_worker_free(w->policy);
	if (w->encoder_state)
		w->config->value_encoder->state_free(w->encoder_state);
	free(w->message);
	free(w->value);
	free(w);
}

const struct counters *worker_counters(const struct worker *w)
{
	return &w->counters;
}

void worker_set_wait_hook(struct worker *w, void (*hook)(void *ctx), void *ctx)
{
	w->wait_hook = hook;
	w->wait_ctx = ctx;
}

void worker_set_tap(struct worker *w, struct frame_tap *tap)
{
	w->tap = tap;
}

/* clock_gettime is async-signal-safe (POSIX.1-2008). Never 0, which means "no stop". */
static long long now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC) + 1;
}

void worker_request_stop(struct worker *w)
{
	long long none = 0;
	atomic_compare_exchange_strong(&w->stop_ns, &none, now_ns());
}

/* Milliseconds left of the stop's budget; stop_wait_ms when no stop was asked for. */
static long long stop_budget_left_ms(const struct worker *w)
{
	long long stop = atomic_load(&w->stop_ns);
	if (stop == 0)
		return w->config->stop_wait_ms;
	long long left = stop + w->config->stop_wait_ms * NS_PER_MS - now_ns();
	return left > 0 ? (left + NS_PER_MS - 1) / NS_PER_MS : 0;
}

int worker_flush_budget_ms(const struct worker *w)
{
	return (int)stop_budget_left_ms(w);
}

/* A full sink is waited for until a stop's budget is used up. */
static bool may_wait(const struct worker *w)
{
	return atomic_load(&w->stop_ns) == 0 || stop_budget_left_ms(w) > 0;
}

static void count_malformed(struct worker *w, enum malformed_reason reason)
{
	w->counters.malformed++;
	w->counters.malformed_by_reason[reason]++;
}

/* Hands one record to the sink, waiting or dropping when it is full as configured. A stop does
 * not end the wait at once: what was read is published if the sink has room within the stop's
 * budget (worker_request_stop). While waiting, the owner's hook keeps its stats going. */
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
		if (w->config->on_full == ON_FULL_DROP || !may_wait(w)) {
			w->counters.records_dropped++;
			return;
		}
		if (w->sink->ops->poll)
			w->sink->ops->poll(w->sink->state, FULL_POLL_MS);
		else
			nanosleep(&(struct timespec){.tv_nsec = FULL_POLL_MS * NS_PER_MS}, NULL);
		if (w->wait_hook)
			w->wait_hook(w->wait_ctx);
	}
}

/* One DNS message (a UDP payload, a message from a TCP stream, or one a resolver sent as
 * dnstap, with what it said of it in origin) becomes one record. */
static void handle_message(struct worker *w, const struct frame *frame, const struct packet_info *p,
			   const uint8_t *dns, size_t dns_len, bool truncated, int64_t ts_ns,
			   const struct dnstap_origin *origin)
{
	if (!dns_parse(w->parser, dns, dns_len, truncated, w->message)) {
		count_malformed(w, MALFORMED_DNS_TOO_SHORT);
		return;
	}

	struct flow_key key;
	bool sender_is_a = flow_key_build(p, &key);
	struct dns_match_result match;
	dns_match_message(w->matcher, &key, sender_is_a, w->message, dns_len, ts_ns, &match);
	struct policy_result policy = {0};
	if (w->policy) {
		enum policy_verdict verdict = policy_decide(
		    w->policy, dns, dns_len, w->message, &key, sender_is_a, &match, ts_ns, &policy);
		if (!w->message->is_response)
			dns_match_mark_query(w->matcher, verdict == POLICY_LIMITED);
		if (verdict != POLICY_KEEP) {
			w->counters.records++; /* a record that ends here: counted by the policy */
			return;
		}
	}
	struct dns_event event = {
	    .timestamp_ns = ts_ns,
	    .frame = frame,
	    .link_type = frame->link_type,
	    .input = origin ? EVENT_INPUT_DNSTAP : EVENT_INPUT_WIRE,
	    .packet = p,
	    .key = &key,
	    .sender_is_a = sender_is_a,
	    .dns = dns,
	    .dns_len = dns_len,
	    .dns_truncated = truncated,
	    .message = w->message,
	    .datagram = w->datagram,
	    .datagram_l4 = w->datagram_l4,
	    .datagram_len = w->datagram_len,
	    .match = &match,
	    .category = policy.category,
	    .rule = policy.rule,
	    .rule_len = policy.rule_len,
	    .dnstap = origin,
	};
	uint8_t key_bytes[KEY_ENCODED_MAX];
	struct sink_record record = {
	    .key = key_bytes,
	    .key_len = w->config->key_encoder->encode(&key, key_bytes),
	    .value = w->value,
	    .value_len = w->config->value_encoder->encode(w->encoder_state, &event, w->value,
							  VALUE_BUFFER_SIZE),
	    .timestamp_ns = ts_ns,
	};
	if (record.value_len == 0) {
		count_malformed(w, MALFORMED_RECORD_TOO_LARGE);
		return;
	}
	if (w->message->malformed)
		w->counters.records_partial++;
	publish(w, &record);
}

static void handle_dns(struct worker *w, const struct frame *frame, const struct packet_info *p,
		       const uint8_t *dns, size_t dns_len, bool truncated)
{
	handle_message(w, frame, p, dns, dns_len, truncated, frame->ts_ns, NULL);
}

/* A frame from the dnstap listener: the message a resolver sent, timed as it said. False when
 * the frame is not a Dnstap protobuf: its sender breaks the protocol. */
static bool handle_dnstap(struct worker *w, const struct frame *frame)
{
	struct dnstap_decoded d;
	enum malformed_reason reason = dnstap_decode(frame->data, frame->caplen, &d);
	if (reason != MALFORMED_NONE) {
		count_malformed(w, reason);
		return reason != MALFORMED_DNSTAP_PROTOBUF;
	}
	/* The sender's clock times the message, so it also drives expiry: the arrival time would
	 * expire a lagging resolver's queries before their answers came. */
	w->last_ts_ns = d.has_time ? d.ts_ns : frame->ts_ns;
	handle_message(w, frame, &d.packet, d.dns, d.dns_len, false, w->last_ts_ns, &d.origin);
	return true;
}

struct tcp_message_context {
	struct worker *w;
	const struct frame *frame;
	const struct packet_info *packet;
};

static void on_tcp_message(void *ctx, const uint8_t *message, size_t len)
{
	struct tcp_message_context *c = ctx;
	handle_dns(c->w, c->frame, c->packet, message, len, false);
}

static void handle_tcp(struct worker *w, const struct frame *frame, const struct packet_info *p)
{
	w->counters.tcp++;
	struct tcp_message_context ctx = {w, frame, p};
	tcp_reassembly_add(w->streams, p, frame->ts_ns, on_tcp_message, &ctx);
}

/* A packet, or a datagram rebuilt from fragments, after its headers were decoded. */
static void dispatch(struct worker *w, const struct frame *frame, struct packet_info *p,
		     enum decode_result result);

static void handle_fragment(struct worker *w, const struct frame *frame, struct packet_info *p)
{
	w->counters.ip_fragments++;
	w->datagram = NULL; /* a datagram inside one: the outer one's bytes are gone */
	const uint8_t *l4;
	size_t l4_len;
	if (!ip_reassembly_add(w->fragments, p, frame->ts_ns, &l4, &l4_len))
		return;
	p->truncated = false;
	struct packet_info datagram = *p;
	enum decode_result result = decode_transport(l4, l4_len, &w->ports, p);
	if (p->tunnel_depth > datagram.tunnel_depth) {
		w->datagram = &datagram;
		w->datagram_l4 = l4;
		w->datagram_len = l4_len;
	}
	dispatch(w, frame, p, result);
	w->datagram = NULL;
}

static void dispatch(struct worker *w, const struct frame *frame, struct packet_info *p,
		     enum decode_result result)
{
	switch (result) {
	case DECODE_UDP:
		handle_dns(w, frame, p, p->payload, p->payload_len,
			   p->truncated || frame->caplen < frame->wirelen);
		return;
	case DECODE_TCP:
		handle_tcp(w, frame, p);
		return;
	case DECODE_FRAGMENT:
		handle_fragment(w, frame, p);
		return;
	case DECODE_NOT_DNS:
		w->counters.not_dns++;
		return;
	case DECODE_MALFORMED:
		count_malformed(w, p->malformed);
		return;
	}
}

/* Records handed to the sink, whatever became of them (not those the policy dropped): the
 * frames behind them are what -w writes. */
static uint64_t records_published(const struct counters *c)
{
	return c->records_to_sink + c->records_dropped + c->records_rejected;
}

bool worker_packet(struct worker *w, const struct frame *frame)
{
	int link_type = frame->link_type;
	w->counters.packets++;
	if (link_type == FRAME_LINK_DNSTAP)
		return handle_dnstap(w, frame);
	w->last_ts_ns = frame->ts_ns;
	if (!decode_link_type_supported(link_type)) {
		w->counters.unsupported_link++;
		return true;
	}
	struct packet_info p;
	enum decode_result result =
	    decode_frame(link_type, frame->data, frame->caplen, &w->ports, &p);
	uint64_t published = records_published(&w->counters);
	dispatch(w, frame, &p, result);
	if (w->tap && records_published(&w->counters) != published)
		w->tap->ops->write(w->tap->state, frame);
	return true;
}

void worker_begin_burst(struct worker *w)
{
	if (w->policy)
		policy_worker_refresh(w->policy);
}

void worker_end_burst(struct worker *w)
{
	ip_reassembly_expire(w->fragments, w->last_ts_ns);
	tcp_reassembly_expire(w->streams, w->last_ts_ns);
	dns_match_expire(w->matcher, w->last_ts_ns);
	if (w->policy)
		policy_worker_refresh(w->policy);
	sink_poll(w->sink, 0);
}

void worker_finish(struct worker *w)
{
	ip_reassembly_abandon_all(w->fragments, ABANDON_HELD_AT_EXIT);
	tcp_reassembly_abandon_all(w->streams, ABANDON_HELD_AT_EXIT);
	dns_match_abandon_all(w->matcher);
}

void worker_restart_clock(struct worker *w)
{
	ip_reassembly_abandon_all(w->fragments, ABANDON_HELD_AT_PASS_END);
	tcp_reassembly_abandon_all(w->streams, ABANDON_HELD_AT_PASS_END);
	dns_match_abandon_all(w->matcher);
	if (w->policy)
		policy_worker_restart_clock(w->policy);
}
