/* Unit tests of IP fragment and DNS-over-TCP reassembly on hand-built fragments and segments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ip_reassembly.h"
#include "tcp_reassembly.h"

#define SECOND 1000000000LL

static struct counters counters;
static uint8_t datagram[3000];

static struct packet_info fragment(uint32_t id, uint32_t offset, uint32_t len, bool more)
{
	struct packet_info p = {.ip_version = 4,
				.ip_protocol = 17,
				.fragment_id = id,
				.fragment_offset = offset,
				.more_fragments = more};
	p.src_addr[15] = 1;
	p.dst_addr[15] = 2;
	p.payload = datagram + offset;
	p.payload_len = len;
	return p;
}

static struct ip_reassembly *new_ip(uint32_t datagrams)
{
	memset(&counters, 0, sizeof(counters));
	for (size_t i = 0; i < sizeof(datagram); i++)
		datagram[i] = (uint8_t)(i * 7);
	struct flow_store_limits limits = {datagrams, 1 << 20, 30 * SECOND};
	return ip_reassembly_new(&limits, &counters);
}

static void fragments_in_any_order(void **state)
{
	(void)state;
	struct ip_reassembly *r = new_ip(16);
	const uint8_t *out;
	size_t len;
	struct packet_info last = fragment(1, 2400, 200, false);
	struct packet_info first = fragment(1, 0, 1200, true);
	struct packet_info middle = fragment(1, 1200, 1200, true);
	assert_false(ip_reassembly_add(r, &last, 1, &out, &len));
	assert_false(ip_reassembly_add(r, &first, 2, &out, &len));
	assert_true(ip_reassembly_add(r, &middle, 3, &out, &len));
	assert_int_equal(len, 2600);
	assert_memory_equal(out, datagram, 2600);
	assert_int_equal(counters.reassembled_datagrams, 1);
	ip_reassembly_free(r);
}

static void duplicates_ignored_overlaps_abandoned(void **state)
{
	(void)state;
	struct ip_reassembly *r = new_ip(16);
	const uint8_t *out;
	size_t len;
	struct packet_info first = fragment(2, 0, 1200, true);
	assert_false(ip_reassembly_add(r, &first, 1, &out, &len));
	assert_false(ip_reassembly_add(r, &first, 2, &out, &len)); /* exact duplicate */
	struct packet_info last = fragment(2, 1200, 100, false);
	assert_true(ip_reassembly_add(r, &last, 3, &out, &len));
	assert_int_equal(len, 1300);

	struct packet_info a = fragment(3, 0, 1200, true);
	struct packet_info overlapping = fragment(3, 800, 800, false);
	assert_false(ip_reassembly_add(r, &a, 4, &out, &len));
	assert_false(ip_reassembly_add(r, &overlapping, 5, &out, &len));
	assert_int_equal(counters.abandoned_by_reason[ABANDON_FRAGMENT_OVERLAP], 1);
	/* The datagram is gone: its last fragment alone completes nothing. */
	struct packet_info tail = fragment(3, 1200, 400, false);
	assert_false(ip_reassembly_add(r, &tail, 6, &out, &len));
	ip_reassembly_free(r);
}

static void bounded_and_timed_out(void **state)
{
	(void)state;
	struct ip_reassembly *r = new_ip(4);
	const uint8_t *out;
	size_t len;
	for (uint32_t id = 10; id < 20; id++) {
		struct packet_info p = fragment(id, 0, 8, true);
		assert_false(ip_reassembly_add(r, &p, id, &out, &len));
	}
	assert_int_equal(counters.abandoned_by_reason[ABANDON_FRAGMENT_TABLE_FULL], 6);
	ip_reassembly_expire(r, 100 * SECOND);
	assert_int_equal(counters.abandoned_by_reason[ABANDON_FRAGMENT_TIMEOUT], 4);
	ip_reassembly_free(r);
}

/* DNS over TCP: a stream of length-prefixed messages (RFC 7766 / RFC 1035 4.2.2). */
static uint8_t stream[200];
static size_t messages_seen;
static size_t message_lengths[8];

static void on_message(void *ctx, const uint8_t *message, size_t len)
{
	(void)ctx;
	if (messages_seen < 8)
		message_lengths[messages_seen] = len;
	assert_true(len >= 1);
	assert_int_equal(message[0], (uint8_t)len); /* each message starts with its own length */
	messages_seen++;
}

/* Three DNS queries of 20, 30 and 40 bytes back to back: a header (id = length << 8, one
 * question), the root name, type and class, then padding. */
static void build_stream(void)
{
	static const uint8_t header_rest[] = {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1};
	size_t at = 0;
	for (int m = 0; m < 3; m++) {
		size_t len = 20 + 10 * (size_t)m;
		stream[at++] = 0;
		stream[at++] = (uint8_t)len;
		stream[at] = (uint8_t)len;
		stream[at + 1] = 0;
		memcpy(stream + at + 2, header_rest, sizeof(header_rest));
		for (size_t i = 2 + sizeof(header_rest); i < len; i++)
			stream[at + i] = 0xee;
		at += len;
	}
}

static struct packet_info segment(uint32_t seq, uint32_t offset, uint32_t len, uint8_t flags)
{
	struct packet_info p = {.ip_version = 4,
				.ip_protocol = 6,
				.src_port = 40000,
				.dst_port = 53,
				.tcp_seq = seq + offset,
				.tcp_flags = flags};
	p.payload = stream + offset;
	p.payload_len = len;
	return p;
}

static struct tcp_reassembly *new_tcp(void)
{
	memset(&counters, 0, sizeof(counters));
	messages_seen = 0;
	build_stream();
	struct flow_store_limits limits = {64, 1 << 20, 60 * SECOND};
	return tcp_reassembly_new(&limits, &counters);
}

static void split_pipelined_out_of_order(void **state)
{
	(void)state;
	struct tcp_reassembly *r = new_tcp();
	const uint32_t isn = 1000;
	struct packet_info syn = segment(isn - 1, 0, 0, 0x02);
	tcp_reassembly_add(r, &syn, 1, on_message, NULL);
	/* bytes 10..60 arrive before 0..10; 60..96 carries the end of message 2 and message 3 */
	struct packet_info second = segment(isn, 10, 50, 0x10);
	struct packet_info first = segment(isn, 0, 10, 0x10);
	struct packet_info third = segment(isn, 60, 36, 0x10);
	tcp_reassembly_add(r, &second, 2, on_message, NULL);
	assert_int_equal(messages_seen, 0);
	tcp_reassembly_add(r, &first, 3, on_message, NULL);
	assert_int_equal(messages_seen, 2); /* 22 + 32 = 54 bytes of whole messages in 0..60 */
	tcp_reassembly_add(r, &second, 4, on_message, NULL); /* retransmission */
	tcp_reassembly_add(r, &third, 5, on_message, NULL);
	assert_int_equal(messages_seen, 3);
	assert_int_equal(message_lengths[0], 20);
	assert_int_equal(message_lengths[1], 30);
	assert_int_equal(message_lengths[2], 40);
	assert_int_equal(counters.tcp_messages, 3);
	tcp_reassembly_free(r);
}

static void mid_stream_start_and_gap(void **state)
{
	(void)state;
	struct tcp_reassembly *r = new_tcp();
	/* No SYN: the first data seen starts a message (message 1). */
	struct packet_info first = segment(5000, 0, 22, 0x10);
	tcp_reassembly_add(r, &first, 1, on_message, NULL);
	assert_int_equal(messages_seen, 1);
	/* Message 2 (22..54) is lost; message 3 (54..96), a segment of whole messages, comes out at
	 * once; its retransmissions pile up behind the hole until the stream gives up waiting,
	 * counts the gap and resynchronises there, without handing message 3 on twice. */
	struct packet_info third = segment(5000, 54, 42, 0x10);
	tcp_reassembly_add(r, &third, 2, on_message, NULL);
	assert_int_equal(messages_seen, 2);
	assert_int_equal(message_lengths[1], 40);
	for (int i = 0; i <= 17; i++)
		tcp_reassembly_add(r, &third, 3 + i, on_message, NULL);
	assert_int_equal(counters.abandoned_by_reason[ABANDON_TCP_GAP], 1);
	assert_int_equal(messages_seen, 2);
	struct packet_info fin = segment(5000, 96, 0, 0x11);
	tcp_reassembly_add(r, &fin, 30, on_message, NULL);
	assert_int_equal(counters.abandoned_by_reason[ABANDON_TCP_CLOSED_INCOMPLETE], 0);
	tcp_reassembly_free(r);
}

/* TCP Fast Open (RFC 7413): the SYN carries the first message; its data starts at ISN + 1. */
static void data_on_syn(void **state)
{
	(void)state;
	struct tcp_reassembly *r = new_tcp();
	struct packet_info syn_with_data = segment(699, 0, 22, 0x02);
	syn_with_data.tcp_seq = 699; /* ISN; the data is at 700 */
	tcp_reassembly_add(r, &syn_with_data, 1, on_message, NULL);
	assert_int_equal(messages_seen, 1);
	assert_int_equal(message_lengths[0], 20);
	struct packet_info next = segment(700, 22, 32, 0x10);
	tcp_reassembly_add(r, &next, 2, on_message, NULL);
	assert_int_equal(messages_seen, 2);
	tcp_reassembly_free(r);
}

/* A stream's bytes moved down after a message must never need memory the pool does not have:
 * with the pool otherwise full, three chunk-aligned blocks held behind a hole spread over twice
 * as many chunks once shifted by a 14-byte message, and resynchronising read what was never
 * written (a SIGSEGV at default settings, from the network). */
static uint8_t blocks[8192];

static struct packet_info block_segment(uint16_t src_port, uint32_t seq, const uint8_t *data,
					uint32_t len, uint8_t flags)
{
	struct packet_info p = {.ip_version = 4,
				.ip_protocol = 6,
				.src_port = src_port,
				.dst_port = 53,
				.tcp_seq = seq,
				.tcp_flags = flags};
	p.payload = data;
	p.payload_len = len;
	return p;
}

static void shift_with_the_pool_full(void **state)
{
	(void)state;
	memset(&counters, 0, sizeof(counters));
	messages_seen = 0;
	/* Eight chunks of 1 KiB. */
	struct flow_store_limits limits = {64, 8 * 1024, 60 * SECOND};
	struct tcp_reassembly *r = tcp_reassembly_new(&limits, &counters);
	/* Bytes that never read as a plausible message. */
	memset(blocks, 1, sizeof(blocks));
	/* Another stream holds four chunks of a message that never completes. */
	blocks[0] = 0xff;
	blocks[1] = 0xff;
	struct packet_info other = block_segment(40001, 100, blocks, 4096, 0x10);
	tcp_reassembly_add(r, &other, 1, on_message, NULL);
	/* The stream under test: three 1 KiB blocks at 1024, 3072 and 5120, behind a hole. */
	const uint32_t isn = 7000;
	struct packet_info syn = block_segment(40002, isn - 1, NULL, 0, 0x02);
	tcp_reassembly_add(r, &syn, 2, on_message, NULL);
	for (uint32_t at = 1024; at <= 5120; at += 2048) {
		struct packet_info block =
		    block_segment(40002, isn + at, blocks + 2048, 1024, 0x10);
		tcp_reassembly_add(r, &block, 2, on_message, NULL);
	}
	/* A 12-byte message (14 with its prefix) at the front fills the last chunk. */
	static const uint8_t front[14] = {0, 12, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	struct packet_info first = block_segment(40002, isn, front, sizeof(front), 0x10);
	tcp_reassembly_add(r, &first, 3, on_message, NULL);
	assert_int_equal(messages_seen, 1);
	/* Every range the stream holds is still in chunks, and every chunk is held once or free. */
	assert_true(tcp_reassembly_consistent(r));
	/* Retransmissions of the first block pile up behind the hole until the stream
	 * resynchronises over what it holds. */
	struct packet_info again = block_segment(40002, isn + 1024, blocks + 2048, 1024, 0x10);
	for (int i = 0; i <= 17; i++)
		tcp_reassembly_add(r, &again, 4 + i, on_message, NULL);
	assert_int_equal(messages_seen, 1);
	assert_int_equal(counters.abandoned_by_reason[ABANDON_TCP_GAP], 1);
	assert_true(tcp_reassembly_consistent(r));
	tcp_reassembly_abandon_all(r, ABANDON_HELD_AT_EXIT);
	assert_true(tcp_reassembly_consistent(r));
	tcp_reassembly_free(r);
}

/* Length prefixes of zero frame nothing: a segment of zeros is one TCP segment, not hundreds of
 * empty messages each counted malformed. */
static void zero_length_prefixes(void **state)
{
	(void)state;
	memset(&counters, 0, sizeof(counters));
	messages_seen = 0;
	struct flow_store_limits limits = {64, 1 << 20, 60 * SECOND};
	struct tcp_reassembly *r = tcp_reassembly_new(&limits, &counters);
	memset(blocks, 0, sizeof(blocks));
	struct packet_info zeros = block_segment(40003, 100, blocks, 1400, 0x10);
	tcp_reassembly_add(r, &zeros, 1, on_message, NULL);
	assert_int_equal(messages_seen, 0);
	assert_int_equal(counters.tcp_messages, 0);
	assert_int_equal(counters.abandoned_by_reason[ABANDON_TCP_EMPTY_MESSAGE], 1);
	tcp_reassembly_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fragments_in_any_order),
	    cmocka_unit_test(duplicates_ignored_overlaps_abandoned),
	    cmocka_unit_test(bounded_and_timed_out),
	    cmocka_unit_test(split_pipelined_out_of_order),
	    cmocka_unit_test(mid_stream_start_and_gap),
	    cmocka_unit_test(data_on_syn),
	    cmocka_unit_test(shift_with_the_pool_full),
	    cmocka_unit_test(zero_length_prefixes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
