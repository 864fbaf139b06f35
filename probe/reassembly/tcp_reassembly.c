/* DNS over TCP: per-direction stream reassembly and 2-byte length framing, bounded. */
#include "tcp_reassembly.h"

#include <string.h>

#include "bytes.h"
#include "chunk_pool.h"
#include "clock.h"
#include "dns_name.h"
#include "flow_store.h"
#include "range_set.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
/* version, source, destination, source port, destination port */
#define KEY_LEN (1 + 16 + 16 + 2 + 2)
/* A hole at the front that later segments do not fill within this many segments is a gap. */
#define GAP_SEGMENTS 16
/* The smallest DNS message: a header. */
#define DNS_HEADER_MIN 12

struct stream {
	struct chunk_buffer data; /* offset head is base_seq */
	uint32_t head; /* < CHUNK_SIZE: consuming drops whole chunks, never moves bytes */
	struct range_set received;
	struct range_set delivered; /* held behind a hole but already handed on (see below) */
	uint32_t base_seq;
	uint32_t segments_behind_hole;
	bool need_boundary; /* after a gap: wait for a segment that starts with a message */
};

struct tcp_reassembly {
	struct flow_store store; /* first: flow_store_owner_new allocates the whole */
	struct counters *counters;
	struct stream *streams; /* store.entries */
	uint8_t message[CHUNK_BUFFER_MAX];
};

static const struct flow_store_limits default_limits = {
    .max_flows = TCP_REASSEMBLY_DEFAULT_STREAMS,
    .max_bytes = TCP_REASSEMBLY_DEFAULT_BYTES,
    .timeout_ns = TCP_REASSEMBLY_DEFAULT_TIMEOUT_S * CLOCK_NS_PER_SECOND,
};

struct tcp_reassembly *tcp_reassembly_new(const struct flow_store_limits *limits,
					  struct counters *counters)
{
	struct tcp_reassembly *r = flow_store_owner_new(sizeof(*r), limits, &default_limits,
							sizeof(struct stream), KEY_LEN);
	if (r) {
		r->counters = counters;
		r->streams = r->store.entries;
	}
	return r;
}

void tcp_reassembly_free(struct tcp_reassembly *r)
{
	flow_store_owner_free(r);
}

static void make_key(const struct packet_info *p, uint8_t key[KEY_LEN])
{
	key[0] = p->ip_version;
	memcpy(key + 1, p->src_addr, 16);
	memcpy(key + 17, p->dst_addr, 16);
	key[33] = (uint8_t)(p->src_port >> 8);
	key[34] = (uint8_t)p->src_port;
	key[35] = (uint8_t)(p->dst_port >> 8);
	key[36] = (uint8_t)p->dst_port;
}

/* A stream that starts again at base_seq with nothing held (its data already released or new). */
static void restart_stream(struct stream *s, uint32_t base_seq)
{
	s->head = 0;
	range_set_clear(&s->received);
	range_set_clear(&s->delivered);
	s->base_seq = base_seq;
	s->segments_behind_hole = 0;
	s->need_boundary = false;
}

static void reset_stream(struct tcp_reassembly *r, struct stream *s, uint32_t base_seq)
{
	chunk_buffer_release(&r->store.pool, &s->data);
	restart_stream(s, base_seq);
}

/* Closes a stream; bytes still held are abandoned for the given reason. */
static void close_stream(struct tcp_reassembly *r, uint32_t slot, enum abandon_reason reason)
{
	struct stream *s = &r->streams[slot];
	if (s->received.count > 0)
		r->counters->abandoned_by_reason[reason]++;
	chunk_buffer_release(&r->store.pool, &s->data);
	flow_table_remove(&r->store.table, slot);
}

void tcp_reassembly_expire(struct tcp_reassembly *r, int64_t now_ns)
{
	uint32_t slot;
	while ((slot = flow_table_oldest(&r->store.table)) != FLOW_TABLE_NONE &&
	       now_ns - r->store.table.slots[slot].last_seen_ns > r->store.limits.timeout_ns)
		close_stream(r, slot, ABANDON_TCP_TIMEOUT);
}

void tcp_reassembly_abandon_all(struct tcp_reassembly *r, enum abandon_reason reason)
{
	uint32_t slot;
	while ((slot = flow_table_oldest(&r->store.table)) != FLOW_TABLE_NONE)
		close_stream(r, slot, reason);
}

bool tcp_reassembly_consistent(const struct tcp_reassembly *r)
{
	uint32_t held = 0, used = 0;
	for (uint32_t i = 0; i < r->store.limits.max_flows; i++) {
		const struct stream *s = &r->streams[i];
		uint32_t chunks = chunk_buffer_held(&s->data);
		held += chunks;
		if (!r->store.table.slots[i].used) {
			if (chunks > 0)
				return false;
			continue;
		}
		used++;
		if (s->head >= CHUNK_SIZE)
			return false;
		for (uint32_t j = 0; j < s->received.count; j++) {
			uint32_t start = s->received.ranges[j].start,
				 end = s->received.ranges[j].end;
			if (start >= end || (j > 0 && start <= s->received.ranges[j - 1].end) ||
			    !chunk_buffer_backed(&s->data, s->head + (size_t)start, end - start))
				return false;
		}
	}
	return used == r->store.table.used &&
	       held + r->store.pool.free_count == r->store.pool.chunk_count;
}

static uint32_t open_stream(struct tcp_reassembly *r, const uint8_t *key, uint32_t base_seq,
			    int64_t now_ns)
{
	uint32_t victim = flow_table_victim(&r->store.table, key); /* table or bucket full */
	if (victim != FLOW_TABLE_NONE)
		close_stream(r, victim, ABANDON_TCP_TABLE_FULL);
	uint32_t slot = flow_table_insert(&r->store.table, key, now_ns);
	struct stream *s = &r->streams[slot];
	chunk_buffer_init(&s->data);
	restart_stream(s, base_seq);
	return slot;
}

/* Drops the first cut bytes: what is held after them starts at offset 0 now. The bytes stay where
 * they are (the chunks wholly before the new start go back to the pool), so this never needs
 * memory. */
static void consume(struct tcp_reassembly *r, struct stream *s, uint32_t cut)
{
	size_t head = (size_t)s->head + cut;
	chunk_buffer_drop_front(&r->store.pool, &s->data, head / CHUNK_SIZE);
	s->head = (uint32_t)(head % CHUNK_SIZE);
	range_set_shift(&s->received, cut);
	range_set_shift(&s->delivered, cut);
	s->base_seq += cut;
	s->segments_behind_hole = 0;
}

/* Hands every complete length-prefixed message at the front to on_message. */
static void deliver(struct tcp_reassembly *r, struct stream *s, tcp_message_fn on_message,
		    void *ctx)
{
	bool skipped_empty = false;
	for (;;) {
		uint32_t ready = range_set_prefix(&s->received);
		if (s->delivered.count > 0 && s->delivered.ranges[0].start == 0 &&
		    s->delivered.ranges[0].end <= ready) {
			consume(r, s, s->delivered.ranges[0].end); /* handed on already */
			continue;
		}
		if (ready < 2)
			return;
		uint8_t prefix[2];
		chunk_buffer_read(&r->store.pool, &s->data, s->head, prefix, 2);
		uint32_t len = bytes_be16(prefix);
		if (len == 0) { /* frames nothing: skipped, a run of them counted once */
			if (!skipped_empty)
				r->counters->abandoned_by_reason[ABANDON_TCP_EMPTY_MESSAGE]++;
			skipped_empty = true;
			consume(r, s, 2);
			continue;
		}
		if (ready < 2 + len)
			return;
		chunk_buffer_read(&r->store.pool, &s->data, s->head + 2, r->message, len);
		r->counters->tcp_messages++;
		consume(r, s, 2 + len);
		on_message(ctx, r->message, len);
	}
}

/* Looks like the start of a DNS message: a known opcode, one question, and its name reads. */
static bool plausible_message(const uint8_t *msg, size_t len)
{
	unsigned opcode = (msg[2] >> 3) & 0x0f;
	size_t offset = DNS_HEADER_MIN;
	return (opcode <= 2 || (opcode >= 4 && opcode <= 6)) && bytes_be16(msg + 4) == 1 &&
	       dns_name_skip(msg, len, &offset) == DNS_NAME_OK && offset + 4 <= len;
}

/* True when the segment holds whole, plausible length-prefixed DNS messages and nothing else. */
static bool whole_messages(const uint8_t *data, size_t len)
{
	size_t at = 0;
	while (at < len) {
		if (len - at < 2)
			return false;
		size_t message = bytes_be16(data + at);
		if (message < DNS_HEADER_MIN || message > len - at - 2 ||
		    !plausible_message(data + at + 2, message))
			return false;
		at += 2 + message;
	}
	return len > 0;
}

/* A segment behind a hole that holds whole messages, from its first byte to its last, is taken
 * to start at a message boundary: its messages are handed on now, at its capture time, and marked
 * so that they are skipped when the hole fills (segments reordered in flight) or the stream
 * resynchronises past the hole (a segment lost before the capture). */
static void deliver_behind_hole(struct tcp_reassembly *r, struct stream *s,
				const struct packet_info *p, uint32_t rel,
				tcp_message_fn on_message, void *ctx)
{
	if (rel <= range_set_prefix(&s->received) ||
	    range_set_overlaps(&s->delivered, rel, rel + (uint32_t)p->payload_len) ||
	    !whole_messages(p->payload, p->payload_len) ||
	    !range_set_add(&s->delivered, rel, rel + (uint32_t)p->payload_len))
		return;
	for (size_t at = 0; at < p->payload_len;) {
		size_t message = bytes_be16(p->payload + at);
		r->counters->tcp_messages++;
		on_message(ctx, p->payload + at + 2, message);
		at += 2 + message;
	}
}

/* A whole, plausible message stored at [start, end). */
static bool plausible_at(struct tcp_reassembly *r, const struct stream *s, uint32_t start,
			 uint32_t end)
{
	if (end - start < 2 + DNS_HEADER_MIN)
		return false;
	uint8_t prefix[2];
	chunk_buffer_read(&r->store.pool, &s->data, s->head + start, prefix, 2);
	uint32_t len = bytes_be16(prefix);
	if (len < DNS_HEADER_MIN || 2 + len > end - start)
		return false;
	chunk_buffer_read(&r->store.pool, &s->data, s->head + start + 2, r->message, len);
	return plausible_message(r->message, len);
}

/* A hole at the front that has not filled: count the gap and skip to the first held bytes that
 * start a plausible message, or past everything held (the next segment that holds whole
 * messages starts the stream again). */
static void resynchronise(struct tcp_reassembly *r, struct stream *s)
{
	r->counters->abandoned_by_reason[ABANDON_TCP_GAP]++;
	for (uint32_t i = 0; i < s->received.count; i++) {
		uint32_t start = s->received.ranges[i].start;
		bool delivered = s->delivered.count > 0 && s->delivered.ranges[0].start == start;
		if (start > 0 &&
		    (delivered || plausible_at(r, s, start, s->received.ranges[i].end))) {
			consume(r, s, start);
			return;
		}
	}
	uint32_t end = s->received.count ? s->received.ranges[s->received.count - 1].end : 0;
	consume(r, s, end);
	s->need_boundary = true;
}

/* Returns where the segment's first byte landed, or -1 when it did not land whole. */
static int64_t add_data(struct tcp_reassembly *r, struct stream *s, const struct packet_info *p)
{
	/* Data on a SYN (TCP Fast Open, RFC 7413) starts after the SYN's own sequence number. */
	uint32_t seq = p->tcp_seq + ((p->tcp_flags & TCP_SYN) ? 1 : 0);
	int32_t rel = (int32_t)(seq - s->base_seq);
	const uint8_t *data = p->payload;
	size_t len = p->payload_len;
	int64_t landed = rel;
	if (rel < 0) { /* starts in bytes already delivered: a retransmission */
		landed = -1;
		size_t behind = (size_t) - (int64_t)rel;
		if (behind >= len)
			return -1;
		data += behind;
		len -= behind;
		rel = 0;
	}
	if (s->head + (size_t)rel + len > CHUNK_BUFFER_MAX) { /* far beyond what is held: a gap */
		if (s->received.count > 0)
			r->counters->abandoned_by_reason[ABANDON_TCP_GAP]++;
		reset_stream(r, s, seq);
		rel = 0;
		landed = 0;
	}
	if (!chunk_buffer_write(&r->store.pool, &s->data, s->head + (size_t)rel, data, len)) {
		r->counters->abandoned_by_reason[ABANDON_TCP_MEMORY]++;
		reset_stream(r, s, seq + (uint32_t)p->payload_len);
		return -1;
	}
	if (!range_set_add(&s->received, (uint32_t)rel, (uint32_t)rel + (uint32_t)len)) {
		resynchronise(r, s);
		return -1;
	}
	return landed;
}

void tcp_reassembly_add(struct tcp_reassembly *r, const struct packet_info *p, int64_t now_ns,
			tcp_message_fn on_message, void *ctx)
{
	tcp_reassembly_expire(r, now_ns);
	uint8_t key[KEY_LEN];
	make_key(p, key);
	uint32_t slot = flow_table_find(&r->store.table, key);
	bool syn = p->tcp_flags & TCP_SYN;
	if (slot == FLOW_TABLE_NONE) {
		if (!syn && p->payload_len == 0)
			return; /* no state for bare ACKs, FINs and RSTs of streams not followed */
		/* With no SYN seen, the first data is taken to start a message. */
		slot = open_stream(r, key, syn ? p->tcp_seq + 1 : p->tcp_seq, now_ns);
	} else {
		flow_table_touch(&r->store.table, slot, now_ns);
		if (syn)
			reset_stream(r, &r->streams[slot], p->tcp_seq + 1);
	}
	struct stream *s = &r->streams[slot];
	if (p->payload_len > 0 && s->need_boundary) {
		int32_t ahead = (int32_t)(p->tcp_seq - s->base_seq);
		if (ahead >= 0 && whole_messages(p->payload, p->payload_len))
			reset_stream(r, s, p->tcp_seq); /* the stream starts again here */
		else if (ahead >= 0) /* the rest of a message whose start was lost: skip it */
			s->base_seq = p->tcp_seq + (uint32_t)p->payload_len;
	}
	if (p->payload_len > 0 && !s->need_boundary) {
		int64_t rel = add_data(r, s, p);
		if (rel > 0)
			deliver_behind_hole(r, s, p, (uint32_t)rel, on_message, ctx);
		deliver(r, s, on_message, ctx);
		if (range_set_prefix(&s->received) == 0 && s->received.count > 0 &&
		    ++s->segments_behind_hole > GAP_SEGMENTS) {
			resynchronise(r, s);
			deliver(r, s, on_message, ctx);
		}
	}
	if (p->tcp_flags & (TCP_FIN | TCP_RST))
		close_stream(r, slot, ABANDON_TCP_CLOSED_INCOMPLETE);
}
