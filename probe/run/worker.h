/* The per-worker packet path: decode → flow key → DNS parse → match → policy → encode → sink, with
 * the worker's own counters. One worker per capture queue; workers share nothing they write. */
#ifndef DNSPROBE_WORKER_H
#define DNSPROBE_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "decode.h"
#include "dns_match.h"
#include "encoder.h"
#include "frame.h"
#include "frame_tap.h"
#include "ip_reassembly.h"
#include "policy.h"
#include "sink.h"
#include "tcp_reassembly.h"

enum on_full {
	ON_FULL_BLOCK, /* wait for the sink: capture stalls, nothing is lost */
	ON_FULL_DROP   /* drop the record and count it */
};

struct worker_config {
	struct port_set dns_ports;
	/* UDP destination ports that mean VXLAN and Geneve; the standard ports (4789, 6081) are
	 * always among them. */
	struct port_set vxlan_ports;
	struct port_set geneve_ports;
	enum on_full on_full;
	const struct value_encoder *value_encoder; /* --format */
	const struct key_encoder *key_encoder;	   /* --key-format */
	struct encoder_settings encoder_settings;
	/* Zero fields take the defaults of ip_reassembly.h and tcp_reassembly.h. */
	struct flow_store_limits fragments;
	struct flow_store_limits streams;
	struct dns_match_limits match; /* zero fields: the defaults of dns_match.h */
	struct policy *policy;	       /* classify, drop, rate limit; NULL: none */
	/* After a stop, how long records still wait for a full sink, and with the final flush,
	 * how long everything may take (--flush-timeout). */
	int stop_wait_ms;
};

struct worker;

/* The worker keeps pointers to config and sink; both must outlive it. */
struct worker *worker_new(const struct worker_config *config, struct sink *sink);
void worker_free(struct worker *w);

/* One frame; its link type says how to decode it. False when the frame breaks its input's
 * protocol (a dnstap frame that is not a Dnstap protobuf), so the input may end the connection
 * it came from; a malformed packet off the wire is only counted, and true. */
bool worker_packet(struct worker *w, const struct frame *frame);

/* Called before the frames of a burst: the burst is handled with the rules in force now (a
 * reload while the input waited for packets applies to them). */
void worker_begin_burst(struct worker *w);

/* Called after each burst: lets the sink serve its delivery reports. */
void worker_end_burst(struct worker *w);

/* At the end of capture: counts what reassembly still holds as abandoned. */
void worker_finish(struct worker *w);

/* Before capture time starts again (a new --loop pass): what reassembly holds belongs to the
 * time before, so it is counted as abandoned and nothing of it joins what comes next. */
void worker_restart_clock(struct worker *w);

const struct counters *worker_counters(const struct worker *w);

/* While a record waits for room in a full sink (--on-full block), hook(ctx) is called every few
 * milliseconds on the worker's thread, so its owner can keep reporting stats; it is never
 * called on the path of a record the sink takes at once. */
void worker_set_wait_hook(struct worker *w, void (*hook)(void *ctx), void *ctx);

/* Every frame that gave at least one record handed to the sink (a UDP message, or the frame
 * that completed a TCP message or a fragmented datagram; not a record the policy dropped or
 * rate limited) is copied to tap once, after its records (NULL: none). The tap must outlive the
 * worker's use of it. */
void worker_set_tap(struct worker *w, struct frame_tap *tap);

/* A stop was asked for (a signal, or the end of a capture): records already read keep waiting
 * for a full sink, but at most stop_wait_ms from now; then they count as dropped (sink full).
 * The first call counts. Async-signal-safe. */
void worker_request_stop(struct worker *w);

/* What the final flush may wait: stop_wait_ms, less the time since the stop was asked for. */
int worker_flush_budget_ms(const struct worker *w);

#endif
