/* Fuzz target: the TCP stream and IP fragment reassemblers driven through their API with tiny
 * limits (2-5 streams or 1-4 datagrams, pools of 2-5 chunks of 1 KiB), so the pools are nearly
 * always full. The input is decoded into operations on four TCP streams and four datagrams.
 *
 * Every stream carries the bytes of a sender that repeats one period of PERIOD bytes: length-
 * prefixed DNS-like messages whose lengths come from the input. Whatever the segments, every
 * message handed on must be PERIOD-periodic bytes of that stream with its own length prefix in
 * front. A stream opened by a SYN and then sent in order, while nothing was abandoned, no stream
 * could be evicted or timed out, must hand on exactly the messages sent, in order. Every datagram
 * completed must have the length of its last fragment and bytes some fragment carried. After each
 * operation the counters must match the callbacks and the reassemblers must be consistent (every
 * chunk free or held once, every held range backed by chunks); after an abandon, the pools are
 * whole again.
 *
 * Input layout (tests/fuzz/README.md):
 *   byte 0   bits 0-1: TCP streams - 2, bits 2-3: TCP pool chunks - 2, bits 4-5: datagrams - 1,
 *            bits 6-7: IP pool chunks - 2;
 *   byte 1   bits 0-3: n, the count of message-length bytes that follow; bits 4-7 mix the
 *            initial sequence numbers;
 *   n bytes  message lengths, used in turn (each stream starts at its own place): b < 0x80:
 *            12 + b; b < 0xe0: 12 + 48 * (b - 0x80); b < 0xf0: b - 0xe0 (empty and short
 *            ones); otherwise 65535 - (b & 15);
 *   then operations of OP_SIZE bytes: kind and target, a 16-bit argument (big-endian), an 8-bit
 *   argument, a time step in units of 10 ms (see the OP_ constants). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "decode.h"
#include "fuzz_check.h"
#include "ip_reassembly.h"
#include "tcp_reassembly.h"

#define START_TIME_NS	 1700000000000000000LL
#define NS_PER_MS	 1000000LL
#define TCP_TIMEOUT_NS	 (1000 * NS_PER_MS)
#define IP_TIMEOUT_NS	 (500 * NS_PER_MS)
#define KEYS		 4
#define PERIOD		 8192
#define MAX_MESSAGES	 (PERIOD / 2)
#define MAX_FRAGMENT_END 4096
#define OP_SIZE		 5
#define TCP_FIN		 0x01
#define TCP_SYN		 0x02
#define TCP_RST		 0x04

enum op_kind {
	OP_IN_ORDER, /* TCP: the next 1 + (arg16 & 0x7ff) bytes; flag 0: FIN with them */
	OP_ANYWHERE, /* TCP: 1 + 8 * arg8 bytes at (int16_t)arg16 from the next; flags: FIN, RST,
			SYN */
	OP_SYN,	     /* TCP: a SYN at the start of the next period */
	OP_CONTROL,  /* TCP: no data; flags: FIN, RST, SYN at the next byte */
	OP_JUMP,     /* TCP: the sender skips 64 * arg16 bytes */
	OP_FRAGMENT, /* IP: see add_fragment() */
	OP_WAIT,     /* arg16 milliseconds pass, then both reassemblers expire */
	OP_ABANDON,  /* both reassemblers abandon everything */
};

struct stream_model {
	uint8_t period[2 * PERIOD]; /* twice, so a search finds what crosses the end */
	uint32_t
	    starts[MAX_MESSAGES + 1]; /* where each message of the period starts; last: PERIOD */
	uint32_t messages;
	uint32_t isn;	 /* the sequence number of byte 0 */
	uint64_t next;	 /* the next byte the sender sends in order */
	int64_t last_ns; /* the last segment given to the reassembler */
	bool clean;	 /* opened by a SYN and sent in order since, with nothing lost */
	uint64_t expect; /* when clean: where the next message handed on starts */
};

struct run {
	struct stream_model streams[KEYS];
	bool last_ends[KEYS]
		      [MAX_FRAGMENT_END]; /* where the last fragments sent said a datagram ends */
	struct counters counters;
	uint64_t callbacks;
	bool model_valid; /* no stream can be evicted: every key has a slot */
	int current;
};

static struct run run;

static uint32_t message_length(uint8_t b)
{
	if (b < 0x80)
		return 12u + b;
	if (b < 0xe0)
		return 12u + 48u * (b - 0x80u);
	if (b < 0xf0)
		return b - 0xe0u;
	return 65535u - (b & 15u);
}

/* A message body: a DNS header with one question (plausible, so resynchronisation finds it), then
 * bytes that depend on the stream, the message and the place. */
static uint8_t body_byte(int key, uint32_t message, uint32_t at)
{
	static const uint8_t header[] = {0, 0, 0x01, 0,	  0,   1,   0, 0, 0,  0, 0,
					 0, 4, 't',  'e', 's', 't', 0, 0, 16, 0, 1};
	if (at == 0)
		return (uint8_t)key;
	if (at == 1)
		return (uint8_t)message;
	if (at < sizeof(header))
		return header[at];
	return (uint8_t)(at * 31u + message * 7u + (uint32_t)key * 101u + (at >> 8));
}

static void make_period(struct stream_model *m, int key, const uint8_t *lengths, size_t n)
{
	static const uint8_t fallback[] = {20, 0x90, 0xe0, 40};
	if (n == 0) {
		lengths = fallback;
		n = sizeof(fallback);
	}
	uint32_t at = 0, k = 0;
	for (;;) {
		uint32_t len = message_length(lengths[(k + (uint32_t)key) % n]);
		if (PERIOD - at < 2 + len + 2 || k == MAX_MESSAGES - 1)
			len = PERIOD - at - 2; /* the last one fills the period */
		m->starts[k] = at;
		m->period[at] = (uint8_t)(len >> 8);
		m->period[at + 1] = (uint8_t)len;
		for (uint32_t i = 0; i < len; i++)
			m->period[at + 2 + i] = body_byte(key, k, i);
		at += 2 + len;
		k++;
		if (at == PERIOD)
			break;
	}
	m->messages = k;
	m->starts[k] = PERIOD;
	memcpy(m->period + PERIOD, m->period, PERIOD);
}

/* The length of the message that starts at position at of a clean stream. */
static uint32_t message_at(const struct stream_model *m, uint64_t at)
{
	uint32_t in = (uint32_t)(at % PERIOD), k = 0;
	while (m->starts[k] != in)
		k++;
	return m->starts[k + 1] - in - 2;
}

static void on_message(void *ctx, const uint8_t *message, size_t len)
{
	struct stream_model *m = ctx;
	run.callbacks++;
	FUZZ_CHECK(len > 0 && len <= 65535);
	/* The message, with its length prefix, is bytes of the periodic sender. */
	static uint8_t framed[PERIOD];
	size_t window = len + 2 < PERIOD ? len + 2 : PERIOD;
	framed[0] = (uint8_t)(len >> 8);
	framed[1] = (uint8_t)len;
	memcpy(framed + 2, message, window - 2);
	const uint8_t *found = memmem(m->period, sizeof(m->period), framed, window);
	FUZZ_CHECK(found != NULL);
	size_t at = (size_t)(found - m->period) + 2;
	for (size_t i = window - 2; i < len; i++)
		FUZZ_CHECK(message[i] == m->period[(at + i) % PERIOD]);
	if (m->clean && run.model_valid) {
		uint32_t want;
		while ((want = message_at(m, m->expect)) == 0)
			m->expect += 2; /* empty messages are skipped */
		FUZZ_CHECK(len == want);
		for (size_t i = 0; i < len; i++)
			FUZZ_CHECK(message[i] == m->period[(m->expect + 2 + i) % PERIOD]);
		m->expect += 2 + len;
	}
}

/* Stream bytes given up (empty messages are not: they frame nothing). */
static uint64_t abandoned_streams(void)
{
	uint64_t n = 0;
	for (int i = ABANDON_TCP_GAP; i <= ABANDON_TCP_CLOSED_INCOMPLETE; i++)
		n += run.counters.abandoned_by_reason[i];
	return n;
}

static void tcp_packet(struct tcp_reassembly *r, int key, uint64_t at, size_t len, uint8_t flags,
		       int64_t now_ns)
{
	struct stream_model *m = &run.streams[key];
	static uint8_t payload[2048];
	memcpy(payload, m->period + at % PERIOD, len);
	struct packet_info p;
	memset(&p, 0, sizeof(p));
	p.ip_version = 4;
	p.ip_protocol = 6;
	p.src_addr[10] = p.src_addr[11] = p.dst_addr[10] = p.dst_addr[11] = 0xff;
	p.src_addr[12] = 192;
	p.src_addr[15] = (uint8_t)(1 + key);
	p.dst_addr[12] = 198;
	p.dst_addr[15] = 53;
	p.src_port = (uint16_t)(40000 + key);
	p.dst_port = 53;
	p.tcp_seq = m->isn + (uint32_t)at - ((flags & TCP_SYN) ? 1u : 0u);
	p.tcp_flags = flags;
	p.payload = payload;
	p.payload_len = len;
	uint64_t before = abandoned_streams();
	tcp_reassembly_add(r, &p, now_ns, on_message, m);
	m->last_ns = now_ns;
	if (abandoned_streams() != before) /* streams timed out are not clean already */
		m->clean = false;
}

/* A clean stream has handed on every non-empty message that ends before the next byte. */
static void check_clean(int key)
{
	struct stream_model *m = &run.streams[key];
	if (!m->clean || !run.model_valid)
		return;
	uint32_t len;
	while (m->expect + 2 <= m->next &&
	       m->expect + 2 + (len = message_at(m, m->expect)) <= m->next) {
		FUZZ_CHECK(len == 0); /* a message that ended and was not handed on */
		m->expect += 2;
	}
}

/* Datagram content: each fragment carries one of two variants of the datagram's bytes. */
static uint8_t datagram_byte(int key, int variant, uint32_t at)
{
	return (uint8_t)(at * 13u + (uint32_t)key * 57u + (uint32_t)variant * 101u +
			 (at >> 8) * 3u);
}

/* arg16 bits 0-7: offset in units of 8 bytes, bits 8-13: length in units of 8 bytes - 1; arg8
 * bits 0-2: bytes added to the length of a last fragment; flags: bit 0 the last fragment, bit 1
 * the second variant of the bytes, bit 2 IPv6. */
static void add_fragment(struct ip_reassembly *r, int key, uint16_t arg16, uint8_t arg8,
			 uint8_t flags, int64_t now_ns)
{
	static uint8_t payload[64 * 8 + 8];
	bool last = flags & 1;
	int variant = (flags >> 1) & 1;
	uint32_t offset = (arg16 & 0xffu) * 8u;
	size_t len = (((arg16 >> 8) & 0x3fu) + 1u) * 8u + (last ? (arg8 & 7u) : 0u);
	for (size_t i = 0; i < len; i++)
		payload[i] = datagram_byte(key, variant, offset + (uint32_t)i);
	if (last)
		run.last_ends[key][offset + len] = true;
	struct packet_info p;
	memset(&p, 0, sizeof(p));
	p.ip_version = (flags & 4) ? 6 : 4;
	p.ip_protocol = 17;
	p.src_addr[0] = 0x20;
	p.src_addr[15] = (uint8_t)(1 + key);
	p.dst_addr[0] = 0x20;
	p.dst_addr[15] = 53;
	p.fragment_id = (uint32_t)key * 0x01010101u;
	p.fragment_offset = offset;
	p.more_fragments = !last;
	p.payload = payload;
	p.payload_len = len;
	uint64_t before = run.counters.reassembled_datagrams;
	const uint8_t *l4 = NULL;
	size_t l4_len = 0;
	if (ip_reassembly_add(r, &p, now_ns, &l4, &l4_len)) {
		FUZZ_CHECK(run.counters.reassembled_datagrams == before + 1);
		FUZZ_CHECK(l4_len < MAX_FRAGMENT_END && run.last_ends[key][l4_len]);
		for (size_t i = 0; i < l4_len; i++)
			FUZZ_CHECK(l4[i] == datagram_byte(key, 0, (uint32_t)i) ||
				   l4[i] == datagram_byte(key, 1, (uint32_t)i));
	} else {
		FUZZ_CHECK(run.counters.reassembled_datagrams == before);
	}
}

static uint8_t tcp_flags(uint8_t flags)
{
	return (uint8_t)(((flags & 1) ? TCP_FIN : 0) | ((flags & 2) ? TCP_RST : 0) |
			 ((flags & 4) ? TCP_SYN : 0));
}

static void expire_clean(int64_t now_ns)
{
	for (int i = 0; i < KEYS; i++)
		if (now_ns - run.streams[i].last_ns > TCP_TIMEOUT_NS)
			run.streams[i].clean = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint8_t config = data[0];
	size_t n = data[1] & 15u;
	if (size < 2 + n)
		return 0;
	memset(&run, 0, sizeof(run));
	struct flow_store_limits tcp_limits = {.max_flows = 2u + (config & 3u),
					       .max_bytes = (2u + ((config >> 2) & 3u)) * 1024u,
					       .timeout_ns = TCP_TIMEOUT_NS};
	struct flow_store_limits ip_limits = {.max_flows = 1u + ((config >> 4) & 3u),
					      .max_bytes = (2u + ((config >> 6) & 3u)) * 1024u,
					      .timeout_ns = IP_TIMEOUT_NS};
	struct tcp_reassembly *tcp = tcp_reassembly_new(&tcp_limits, &run.counters);
	struct ip_reassembly *ip = ip_reassembly_new(&ip_limits, &run.counters);
	FUZZ_CHECK(tcp && ip);
	run.model_valid = tcp_limits.max_flows >= KEYS;
	static const uint32_t isns[KEYS] = {0xfffff000u, 1u, 0x7fffff00u, 0x12345678u};
	int64_t now = START_TIME_NS;
	for (int i = 0; i < KEYS; i++) {
		make_period(&run.streams[i], i, data + 2, n);
		run.streams[i].isn = isns[i] ^ ((uint32_t)(data[1] >> 4) << 28);
		run.streams[i].last_ns = now;
	}

	for (const uint8_t *op = data + 2 + n; op + OP_SIZE <= data + size; op += OP_SIZE) {
		enum op_kind kind = op[0] & 7u;
		int key = (op[0] >> 3) & 3;
		uint8_t flags = op[0] >> 5;
		uint16_t arg16 = (uint16_t)(op[1] << 8 | op[2]);
		uint8_t arg8 = op[3];
		struct stream_model *m = &run.streams[key];
		now += op[4] * 10 * NS_PER_MS;
		expire_clean(now);
		switch (kind) {
		case OP_IN_ORDER: {
			size_t len = 1u + (arg16 & 0x7ffu);
			tcp_packet(tcp, key, m->next, len, (flags & 1) ? TCP_FIN : 0, now);
			m->next += len;
			check_clean(key);
			if (flags & 1)
				m->clean = false;
			break;
		}
		case OP_ANYWHERE: {
			int64_t at = (int64_t)m->next + (int16_t)arg16;
			m->clean = false;
			tcp_packet(tcp, key, at < 0 ? 0 : (uint64_t)at, 1u + 8u * arg8,
				   tcp_flags(flags), now);
			break;
		}
		case OP_SYN:
			m->next = (m->next + PERIOD - 1) / PERIOD * PERIOD;
			tcp_packet(tcp, key, m->next, 0, TCP_SYN, now);
			m->clean = true;
			m->expect = m->next;
			break;
		case OP_CONTROL:
			if (flags)
				m->clean = false;
			tcp_packet(tcp, key, m->next, 0, tcp_flags(flags), now);
			break;
		case OP_JUMP:
			m->next += 64u * arg16;
			m->clean = false;
			break;
		case OP_FRAGMENT:
			add_fragment(ip, key, arg16, arg8, flags, now);
			break;
		case OP_WAIT:
			now += arg16 * NS_PER_MS;
			expire_clean(now);
			tcp_reassembly_expire(tcp, now);
			ip_reassembly_expire(ip, now);
			break;
		case OP_ABANDON:
			tcp_reassembly_abandon_all(tcp, ABANDON_HELD_AT_EXIT);
			ip_reassembly_abandon_all(ip, ABANDON_HELD_AT_EXIT);
			for (int i = 0; i < KEYS; i++)
				run.streams[i].clean = false;
			break;
		}
		FUZZ_CHECK(run.counters.tcp_messages == run.callbacks);
		FUZZ_CHECK(tcp_reassembly_consistent(tcp));
		FUZZ_CHECK(ip_reassembly_consistent(ip));
	}
	tcp_reassembly_abandon_all(tcp, ABANDON_HELD_AT_EXIT);
	ip_reassembly_abandon_all(ip, ABANDON_HELD_AT_EXIT);
	FUZZ_CHECK(tcp_reassembly_consistent(tcp) && ip_reassembly_consistent(ip));
	tcp_reassembly_free(tcp);
	ip_reassembly_free(ip);
	return 0;
}
