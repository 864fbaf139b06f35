/* Unit tests of the direction-normalised flow key against the layout in docs/architecture.md. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flow_key.h"

static void set_ipv4(uint8_t addr[16], uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	memset(addr, 0, 10);
	addr[10] = addr[11] = 0xff;
	addr[12] = a, addr[13] = b, addr[14] = c, addr[15] = d;
}

static struct packet_info udp4(uint8_t s, uint16_t sport, uint8_t d, uint16_t dport)
{
	struct packet_info p = {.ip_version = 4, .ip_protocol = 17};
	set_ipv4(p.src_addr, 10, 99, 0, s);
	set_ipv4(p.dst_addr, 10, 99, 0, d);
	p.src_port = sport;
	p.dst_port = dport;
	return p;
}

/* The layout byte by byte: version, protocol, A, B, port A, port B; IPv4 mapped to ::ffff:0:0/96.
 */
static void layout_matches_design(void **state)
{
	(void)state;
	struct packet_info query = udp4(7, 40000, 1, 53);
	struct flow_key key;
	bool sender_is_a = flow_key_build(&query, &key);
	static const uint8_t expected[FLOW_KEY_LEN] = {
	    4,	  17,	0, 0, 0, 0, 0, 0, 0, 0, 0,    0,    0xff, 0xff, 10, 99,
	    0,	  1,							       /* A: the server */
	    0,	  0,	0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10,	  99,	0,  7, /* B: the client */
	    0x00, 0x35,							       /* port A 53 */
	    0x9c, 0x40,							       /* port B 40000 */
	};
	assert_memory_equal(key.bytes, expected, FLOW_KEY_LEN);
	assert_false(sender_is_a);
}

static void both_directions_give_one_key(void **state)
{
	(void)state;
	struct packet_info query = udp4(7, 40000, 1, 53);
	struct packet_info response = udp4(1, 53, 7, 40000);
	struct flow_key kq, kr;
	bool q_is_a = flow_key_build(&query, &kq);
	bool r_is_a = flow_key_build(&response, &kr);
	assert_memory_equal(kq.bytes, kr.bytes, FLOW_KEY_LEN);
	assert_true(q_is_a != r_is_a);
}

static void different_flows_differ(void **state)
{
	(void)state;
	struct flow_key base, other_port, other_host, other_proto;
	struct packet_info p = udp4(7, 40000, 1, 53);
	flow_key_build(&p, &base);
	p = udp4(7, 40001, 1, 53);
	flow_key_build(&p, &other_port);
	p = udp4(8, 40000, 1, 53);
	flow_key_build(&p, &other_host);
	p = udp4(7, 40000, 1, 53);
	p.ip_protocol = 6;
	flow_key_build(&p, &other_proto);
	assert_memory_not_equal(base.bytes, other_port.bytes, FLOW_KEY_LEN);
	assert_memory_not_equal(base.bytes, other_host.bytes, FLOW_KEY_LEN);
	assert_memory_not_equal(base.bytes, other_proto.bytes, FLOW_KEY_LEN);
}

/* Same address on both ends: the port decides which endpoint is A. */
static void same_address_ordered_by_port(void **state)
{
	(void)state;
	struct packet_info p = udp4(1, 5353, 1, 53);
	struct flow_key key;
	assert_false(flow_key_build(&p, &key));
	assert_int_equal(key.bytes[34] << 8 | key.bytes[35], 53);
	assert_int_equal(key.bytes[36] << 8 | key.bytes[37], 5353);
}

static void text_and_hex_forms(void **state)
{
	(void)state;
	struct packet_info p = udp4(7, 40000, 1, 53);
	struct flow_key key;
	flow_key_build(&p, &key);
	char text[FLOW_KEY_TEXT_MAX];
	flow_key_text(&key, text, sizeof(text));
	assert_string_equal(text, "udp 10.99.0.1:53 10.99.0.7:40000");
	char hex[FLOW_KEY_LEN * 2 + 1];
	flow_key_hex(&key, hex);
	assert_string_equal(hex, "0411"
				 "00000000000000000000ffff0a630001"
				 "00000000000000000000ffff0a630007"
				 "00359c40");

	struct packet_info v6 = {
	    .ip_version = 6, .ip_protocol = 6, .src_port = 853, .dst_port = 53};
	v6.src_addr[0] = 0x20, v6.src_addr[1] = 0x01, v6.src_addr[2] = 0x0d, v6.src_addr[3] = 0xb8;
	v6.src_addr[15] = 2;
	memcpy(v6.dst_addr, v6.src_addr, 16);
	v6.dst_addr[15] = 1;
	flow_key_build(&v6, &key);
	flow_key_text(&key, text, sizeof(text));
	assert_string_equal(text, "tcp [2001:db8::1]:53 [2001:db8::2]:853");
}

/* Address text must read exactly as glibc's inet_ntop writes it: every octet value, and IPv6
 * addresses with zero groups at every place and length (RFC 5952 4.2 picks the first longest run;
 * glibc also writes IPv4-compatible addresses as ::a.b.c.d). Each address is checked with a buffer
 * that holds just ADDRESS_TEXT_MAX bytes, so that a write past it shows under AddressSanitizer. */
static void address_text_matches_inet_ntop(void **state)
{
	(void)state;
	char *ours = malloc(ADDRESS_TEXT_MAX);
	char theirs[INET6_ADDRSTRLEN];
	assert_non_null(ours);
	uint8_t a[16] = {0};
	a[10] = a[11] = 0xff;
	for (unsigned v = 0; v < 256; v++) {
		a[12] = (uint8_t)v, a[13] = (uint8_t)(255 - v), a[14] = (uint8_t)(v * 7), a[15] = 9;
		assert_non_null(inet_ntop(AF_INET, a + 12, theirs, sizeof(theirs)));
		assert_int_equal(address_text(a, ours, ADDRESS_TEXT_MAX), strlen(theirs));
		assert_string_equal(ours, theirs);
	}
	srand(7);
	for (unsigned zero_groups = 0; zero_groups < 256; zero_groups++) {
		for (int round = 0; round < 20; round++) {
			for (int g = 0; g < 8; g++) {
				unsigned value = (unsigned)rand();
				/* Groups of every width: 1 to 4 hex digits, and ffff. */
				value >>= (unsigned)rand() % 4 * 4;
				value = round == 0 ? 0xffff : value & 0xffff;
				if (zero_groups & (1u << g))
					value = 0;
				a[2 * g] = (uint8_t)(value >> 8), a[2 * g + 1] = (uint8_t)value;
			}
			if (round == 1)
				a[10] = a[11] =
				    0xff; /* IPv4-mapped when the groups before are zero */
			assert_non_null(inet_ntop(AF_INET6, a, theirs, sizeof(theirs)));
			size_t n = ipv6_text(a, ours);
			ours[n] = '\0';
			assert_string_equal(ours, theirs);
		}
	}
	free(ours);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(layout_matches_design),
	    cmocka_unit_test(both_directions_give_one_key),
	    cmocka_unit_test(different_flows_differ),
	    cmocka_unit_test(same_address_ordered_by_port),
	    cmocka_unit_test(text_and_hex_forms),
	    cmocka_unit_test(address_text_matches_inet_ntop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
