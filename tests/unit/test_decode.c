/* Unit tests of link/network/transport decoding on hand-built frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "decode.h"
#include "packet_builder.h"

static const uint8_t client4[4] = {10, 99, 0, 2};
static const uint8_t server4[4] = {10, 99, 0, 1};
static const uint8_t dns_payload[12] = {0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};

static struct decode_ports dns_ports;

static int setup(void **state)
{
	(void)state;
	memset(&dns_ports, 0, sizeof(dns_ports));
	port_set_add(&dns_ports.dns, 53);
	return 0;
}

static void build_udp4(struct builder *b, uint16_t sport, uint16_t dport)
{
	put_ipv4(b, client4, server4, 17, 8 + sizeof(dns_payload), 0, 0);
	put_udp(b, sport, dport, sizeof(dns_payload));
	put(b, dns_payload, sizeof(dns_payload));
}

static void ethernet_ipv4_udp(void **state)
{
	(void)state;
	struct builder b = {0};
	put_ethernet(&b, 0x0800);
	build_udp4(&b, 40000, 53);
	struct packet_info p;
	assert_int_equal(decode_frame(LINK_ETHERNET, b.bytes, b.len, &dns_ports, &p), DECODE_UDP);
	assert_int_equal(p.ip_version, 4);
	assert_int_equal(p.ip_protocol, 17);
	static const uint8_t mapped_client[16] = {0, 0, 0,    0,    0,	0,  0, 0,
						  0, 0, 0xff, 0xff, 10, 99, 0, 2};
	assert_memory_equal(p.src_addr, mapped_client, 16);
	assert_int_equal(p.src_port, 40000);
	assert_int_equal(p.dst_port, 53);
	assert_int_equal(p.payload_len, sizeof(dns_payload));
	assert_memory_equal(p.payload, dns_payload, sizeof(dns_payload));
	assert_int_equal(p.vlan_count, 0);
}

/* Ethernet pads frames to 60 bytes; the UDP length, not the frame, bounds the payload. */
static void ethernet_padding_is_not_payload(void **state)
{
	(void)state;
	struct builder b = {0};
	put_ethernet(&b, 0x0800);
	put_ipv4(&b, client4, server4, 17, 8 + 4, 0, 0);
	put_udp(&b, 40000, 53, 4);
	put32(&b, 0x01020304);
	while (b.len < 60)
		put8(&b, 0xee);
	struct packet_info p;
	assert_int_equal(decode_frame(LINK_ETHERNET, b.bytes, b.len, &dns_ports, &p), DECODE_UDP);
	assert_int_equal(p.payload_len, 4);
}

static void vlan_qinq_tags(void **state)
{
	(void)state;
	struct builder b = {0};
	put_ethernet(&b, 0x88a8);
	put_vlan(&b, 100, 0x8100);
	put_vlan(&b, 200, 0x0800);
	build_udp4(&b, 53, 40000);
	struct packet_info p;
	assert_int_equal(decode_frame(LINK_ETHERNET, b.bytes, b.len, &dns_ports, &p), DECODE_UDP);
	assert_int_equal(p.vlan_count, 2);
	assert_int_equal(p.vlan_ids[0], 100);
	assert_int_equal(p.vlan_ids[1], 200);
	assert_int_equal(p.src_port, 53);
}

static void ipv4_options(void **state)
{
	(void)state;
	struct builder b = {0};
	put_ethernet(&b, 0x0800);
	put_ipv4(&b, client4, server4, 17, 8 + sizeof(dns_payload), 0, 2);
	put_udp(&b, 40000, 53, sizeof(dns_payload));
	put(&b, dns_payload, sizeof(dns_payload));
	struct packet_info p;
	assert_int_equal(decode_frame(LINK_ETHERNET, b.bytes, b.len, &dns_ports, &p), DECODE_UDP);
	assert_memory_equal(p.payload, dns_payload, sizeof(dns_payload));
}

static void ipv6_extension_headers(void **state)
{
	(void)state;
	static const uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
	struct builder b = {0};
	put_ethernet(&b, 0x86dd);
	put_ipv6(&b, src, dst, 0, (uint16_t)(8 + 16 + 8 + sizeof(dns_payload)));
	/* hop-by-hop (next: destination options), 8 bytes: next, len 0, PadN */
	put8(&b, 60), put8(&b, 0), put8(&b, 1), put8(&b, 4), put32(&b, 0);
	/* destination options, 16 bytes (len 1): next UDP, PadN of 14 */
	put8(&b, 17), put8(&b, 1), put8(&b, 1), put8(&b, 12);
	for (int i = 0; i < 12; i++)
		put8(&b, 0);
	put_udp(&b, 40000, 53, sizeof(dns_payload));
	put(&b, dns_payload, sizeof(dns_payload));
	struct packet_info p;
	assert_int_equal(decode_frame(LINK_ETHERNET, b.bytes, b.len, &dns_ports, &p), DECODE_UDP);
	assert_int_equal(p.ip_version, 6);
	assert_memory_equal(p.src_addr, src, 16);
	assert_memory_equal(p.dst_addr, dst, 16);
	assert_memory_equal(p.payload, dns_payload, sizeof(dns_payload));
}

static void fragments_are_counted_apart(void **state)
{
	(void)state;
	struct builder b = {0};
	put_ethernet(&b, 0x0800);
	put_ipv4(&b, client4, server4, 17, 8 + sizeof(dns_payload), 0x2000 /* MF */, 0);
	put_udp(&b, 40000, 53, sizeof(dns_payload));
	put(&b, dns_payload, sizeof(dns_payload));
	struct packet_info p;
	assert_int_equal(decode_frame(LINK_ETHERNET, b.bytes, b.len, &dns_ports, &p),
			 DECODE_FRAGMENT);
}

static void tcp_and_other_ports(void **state)
{
	(void)state;
	struct builder b = {0};
	put_ethernet(&b, 0x0800);
	put_ipv4(&b, client4, server4, 6, 20, 0, 0);
	put16(&b, 40000), put16(&b, 53), put32(&b, 1), put32(&b, 0);
	put8(&b, 0x50), put8(&b, 0x02), put16(&b, 1024), put32(&b, 0);
	struct packet_info p;
	assert_int_equal(decode_frame(LINK_ETHERNET, b.bytes, b.len, &dns_ports, &p), DECODE_TCP);

	struct builder ntp = {0};
	put_ethernet(&ntp, 0x0800);
	build_udp4(&ntp, 123, 123);
	assert_int_equal(decode_frame(LINK_ETHERNET, ntp.bytes, ntp.len, &dns_ports, &p),
			 DECODE_NOT_DNS);

	struct builder arp = {0};
	put_ethernet(&arp, 0x0806);
	put32(&arp, 0);
	assert_int_equal(decode_frame(LINK_ETHERNET, arp.bytes, arp.len, &dns_ports, &p),
			 DECODE_NOT_DNS);
}

static void every_truncation_is_malformed_never_a_crash(void **state)
{
	(void)state;
	struct builder b = {0};
	put_ethernet(&b, 0x8100);
	put_vlan(&b, 7, 0x0800);
	build_udp4(&b, 40000, 53);
	struct packet_info p;
	/* Every prefix of the frame decodes without reading past it (ASan watches this). */
	for (size_t len = 0; len < b.len; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, b.bytes, len);
		enum decode_result r = decode_frame(LINK_ETHERNET, copy, len, &dns_ports, &p);
		assert_true(r == DECODE_MALFORMED || r == DECODE_UDP);
		free(copy);
	}
	assert_int_equal(decode_frame(LINK_ETHERNET, b.bytes, 14 + 4 + 10, &dns_ports, &p),
			 DECODE_MALFORMED);
	assert_int_equal(p.malformed, MALFORMED_IP_TRUNCATED);
}

static void udp_length_beyond_packet(void **state)
{
	(void)state;
	struct builder b = {0};
	put_ethernet(&b, 0x0800);
	put_ipv4(&b, client4, server4, 17, 8 + sizeof(dns_payload), 0, 0);
	put16(&b, 40000), put16(&b, 53), put16(&b, 500), put16(&b, 0);
	put(&b, dns_payload, sizeof(dns_payload));
	struct packet_info p;
	assert_int_equal(decode_frame(LINK_ETHERNET, b.bytes, b.len, &dns_ports, &p),
			 DECODE_MALFORMED);
	assert_int_equal(p.malformed, MALFORMED_UDP_BAD_LENGTH);
}

static void other_link_types(void **state)
{
	(void)state;
	struct packet_info p;
	/* Linux cooked v2: protocol first, 20-byte header. */
	struct builder sll2 = {0};
	put16(&sll2, 0x0800);
	put16(&sll2, 0), put32(&sll2, 2), put16(&sll2, 1), put8(&sll2, 0), put8(&sll2, 6);
	put32(&sll2, 0), put32(&sll2, 0);
	build_udp4(&sll2, 40000, 53);
	assert_int_equal(decode_frame(LINK_LINUX_SLL2, sll2.bytes, sll2.len, &dns_ports, &p),
			 DECODE_UDP);
	/* BSD loopback: AF_INET (2) in the capturing host's byte order (little-endian here). */
	struct builder null = {0};
	put8(&null, 2), put8(&null, 0), put8(&null, 0), put8(&null, 0);
	build_udp4(&null, 40000, 53);
	assert_int_equal(decode_frame(LINK_NULL, null.bytes, null.len, &dns_ports, &p), DECODE_UDP);
	/* Raw IP: the version nibble decides. */
	struct builder raw = {0};
	build_udp4(&raw, 40000, 53);
	assert_int_equal(decode_frame(LINK_RAW, raw.bytes, raw.len, &dns_ports, &p), DECODE_UDP);
	assert_int_equal(p.payload_len, sizeof(dns_payload));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(ethernet_ipv4_udp, setup),
	    cmocka_unit_test_setup(ethernet_padding_is_not_payload, setup),
	    cmocka_unit_test_setup(vlan_qinq_tags, setup),
	    cmocka_unit_test_setup(ipv4_options, setup),
	    cmocka_unit_test_setup(ipv6_extension_headers, setup),
	    cmocka_unit_test_setup(fragments_are_counted_apart, setup),
	    cmocka_unit_test_setup(tcp_and_other_ports, setup),
	    cmocka_unit_test_setup(every_truncation_is_malformed_never_a_crash, setup),
	    cmocka_unit_test_setup(udp_length_beyond_packet, setup),
	    cmocka_unit_test_setup(other_link_types, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
