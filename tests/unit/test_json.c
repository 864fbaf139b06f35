/* Unit tests of JSON writing: escaping (RFC 8259 section 7) and the record layout of
 * docs/records.md, written out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dns_parse.h"
#include "json_writer.h"
#include "packet_builder.h"
#include "record_json.h"

static char buf[8192];

static const char *escaped(const char *text, size_t len)
{
	struct json_writer w;
	json_init(&w, buf, sizeof(buf) - 1);
	json_string(&w, text, len);
	buf[w.len] = '\0';
	return buf;
}

static void strings_are_escaped(void **state)
{
	(void)state;
	assert_string_equal(escaped("plain", 5), "\"plain\"");
	assert_string_equal(escaped("a\"b\\c", 5), "\"a\\\"b\\\\c\"");
	assert_string_equal(escaped("\n\t\x01", 3), "\"\\u000a\\u0009\\u0001\"");
	assert_string_equal(escaped("\0x", 2), "\"\\u0000x\"");
	/* Bytes outside ASCII may not be UTF-8: each becomes its own code point. */
	assert_string_equal(escaped("\xff\x80\x7f", 3), "\"\\u00ff\\u0080\\u007f\"");
	/* Long text is checked 16 and 8 bytes at a time, the tail as the last 8 (overlapping):
	 * escapes in a later chunk, in the tail, and in none. */
	assert_string_equal(escaped("abcdefghijklmnopqrstuvwxyz0123456789", 36),
			    "\"abcdefghijklmnopqrstuvwxyz0123456789\"");
	assert_string_equal(escaped("abcdefghijklmnopqrst\"vwxyz0123456789", 36),
			    "\"abcdefghijklmnopqrst\\\"vwxyz0123456789\"");
	assert_string_equal(escaped("abcdefghijklmnopqrstuvwxyz0123\x01"
				    "4567",
				    35),
			    "\"abcdefghijklmnopqrstuvwxyz0123\\u00014567\"");
	assert_string_equal(escaped("abcdefghijklmnopq\xfe", 18), "\"abcdefghijklmnopq\\u00fe\"");
}

static void numbers_and_overflow(void **state)
{
	(void)state;
	struct json_writer w;
	json_init(&w, buf, 25);
	json_uint(&w, 0);
	json_raw(&w, " ", 1);
	json_uint(&w, UINT64_MAX);
	assert_false(w.overflow);
	assert_memory_equal(buf, "0 18446744073709551615", 22);
	json_uint(&w, 12345);
	assert_true(w.overflow);
	assert_int_equal(w.len, 22);
}

/* Every digit count, at both ends, as printf writes them. */
static void numbers_of_every_width(void **state)
{
	(void)state;
	uint64_t power = 1;
	for (int digits = 1; digits <= 20; digits++) {
		uint64_t values[] = {power, power + 7, digits < 20 ? power * 10 - 1 : UINT64_MAX};
		for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
			char want[32], got[JSON_UINT_MAX + 1];
			snprintf(want, sizeof(want), "%" PRIu64, values[i]);
			char *end = json_put_uint(got, values[i]);
			*end = '\0';
			assert_string_equal(got, want);
		}
		if (digits < 20)
			power *= 10;
	}
}

static void timestamps(void **state)
{
	(void)state;
	struct timestamp_cache cache;
	timestamp_cache_init(&cache);
	char text[TIMESTAMP_TEXT_LEN + 1];
	/* 1700000000 s is 2023-11-14T22:13:20Z (date -u -d @1700000000). */
	timestamp_format(&cache, 1700000000LL * 1000000000LL + 123456789, text);
	assert_string_equal(text, "2023-11-14T22:13:20.123456789Z");
	timestamp_format(&cache, 1700000001LL * 1000000000LL + 5, text);
	assert_string_equal(text, "2023-11-14T22:13:21.000000005Z");
	/* Past 2106: pcapng carries 64-bit times. 4300000000 s is 2106-04-06T12:26:40Z (date -u -d
	 * @4300000000). */
	timestamp_format(&cache, 4300000000LL * 1000000000LL, text);
	assert_string_equal(text, "2106-04-06T12:26:40.000000000Z");
}

static void record_layout(void **state)
{
	(void)state;
	struct dns_parser *parser = dns_parser_new();
	struct dns_message message;
	struct builder b = {0};
	put_dns_header(&b, 0x0102, 0x8183 /* QR RD RA NXDOMAIN */, 1, 0, 0, 0);
	put_name(&b, "\7example\3org");
	put16(&b, 28), put16(&b, 1);
	assert_true(dns_parse(parser, b.bytes, b.len, false, &message));

	struct packet_info p = {.ip_version = 4,
				.ip_protocol = 17,
				.src_port = 53,
				.dst_port = 40000,
				.vlan_count = 1,
				.vlan_ids = {42}};
	p.src_addr[10] = p.src_addr[11] = p.dst_addr[10] = p.dst_addr[11] = 0xff;
	p.src_addr[12] = 10, p.src_addr[13] = 99, p.src_addr[15] = 1;
	p.dst_addr[12] = 10, p.dst_addr[13] = 99, p.dst_addr[15] = 7;
	struct flow_key key;
	bool sender_is_a = flow_key_build(&p, &key);
	struct dns_event record = {.timestamp_ns = 1700000000LL * 1000000000LL,
				   .packet = &p,
				   .key = &key,
				   .sender_is_a = sender_is_a,
				   .dns_len = b.len,
				   .message = &message};
	/* A matched answer: 1.5 ms after its query of 30 bytes. */
	struct dns_match_result match = {.matched = true,
					 .query_ns = 1700000000LL * 1000000000LL - 1500000,
					 .duration_ns = 1500000,
					 .query_size = 30};
	record.match = &match;
	struct encoder_settings settings = {.observer_name = "sensor \"1\""};
	struct record_json_state *json_state = record_json_state_new(&settings);
	assert_non_null(json_state);
	struct json_writer w;
	json_init(&w, buf, sizeof(buf) - 1);
	record_json_encode(&w, json_state, &record);
	buf[w.len] = '\0';
	char hostname[256] = "";
	assert_int_equal(gethostname(hostname, sizeof(hostname) - 1), 0);
	static char expected[4096];
	/* The Community ID is the one of the reference implementation (PyPI communityid 1.5:
	 * CommunityID(seed=0).calc(FlowTuple.make_udp('10.99.0.1', '10.99.0.7', 53, 40000))). */
	snprintf(expected, sizeof(expected),
		 "{\"@timestamp\":\"2023-11-14T22:13:20.000000000Z\","
		 "\"ecs\":{\"version\":\"9.4.0\"},"
		 "\"event\":{\"kind\":\"event\",\"category\":[\"network\"],"
		 "\"type\":[\"connection\",\"protocol\"],\"dataset\":\"dnsprobe.dns\","
		 "\"start\":\"2023-11-14T22:13:19.998500000Z\","
		 "\"end\":\"2023-11-14T22:13:20.000000000Z\",\"duration\":1500000},"
		 "\"observer\":{\"hostname\":\"%s\",\"name\":\"sensor \\\"1\\\"\"},"
		 "\"source\":{\"ip\":\"10.99.0.1\",\"port\":53,\"bytes\":29},"
		 "\"destination\":{\"ip\":\"10.99.0.7\",\"port\":40000,\"bytes\":30},"
		 "\"client\":{\"ip\":\"10.99.0.7\",\"port\":40000},"
		 "\"server\":{\"ip\":\"10.99.0.1\",\"port\":53},"
		 "\"network\":{\"transport\":\"udp\",\"iana_number\":\"17\",\"type\":\"ipv4\","
		 "\"protocol\":\"dns\",\"community_id\":\"1:WY6fSLRtKX9n1GOAVr6tVaGEcL8=\","
		 "\"bytes\":59,\"vlan\":{\"id\":42}},"
		 "\"dns\":{\"id\":258,\"type\":\"answer\",\"op_code\":\"QUERY\","
		 "\"header_flags\":[\"RD\",\"RA\"],\"response_code\":\"NXDOMAIN\","
		 "\"question\":{\"name\":\"example.org\",\"type\":\"AAAA\",\"class\":\"IN\","
		 "\"registered_domain\":\"example.org\",\"top_level_domain\":\"org\"}},"
		 "\"related\":{\"ip\":[\"10.99.0.1\",\"10.99.0.7\"]},"
		 "\"dnsprobe\":{\"flow_key\":\"0411"
		 "00000000000000000000ffff0a630001"
		 "00000000000000000000ffff0a630007"
		 "00359c40\",\"direction\":\"a_to_b\",\"size\":29,"
		 "\"counts\":{\"qd\":1,\"an\":0,\"ns\":0,\"ar\":0},\"input\":\"wire\"}}",
		 hostname);
	assert_string_equal(buf, expected);
	record_json_state_free(json_state);
	dns_parser_free(parser);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(strings_are_escaped),    cmocka_unit_test(numbers_and_overflow),
	    cmocka_unit_test(numbers_of_every_width), cmocka_unit_test(timestamps),
	    cmocka_unit_test(record_layout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
