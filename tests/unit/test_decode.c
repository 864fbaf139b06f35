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
	port_set_add(&dns_ports.vxlan, VXLAN_STANDARD_PORT);
	port_set_add(&dns_ports.geneve, GENEVE_STANDARD_PORT);
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

static const uint8_t vtep_a[4] = {192, 0, 2, 1};
static const uint8_t vtep_b[4] = {192, 0, 2, 2};

/* Outer Ethernet, IPv4 and UDP to dport around an inner Ethernet frame carrying a DNS query;
 * header is the 8 bytes of the VXLAN or Geneve header. */
static void build_udp_tunnel(struct builder *b, uint16_t sport, uint16_t dport,
			     const uint8_t header[8])
{
	size_t inner = 14 + 20 + 8 + sizeof(dns_payload);
	put_ethernet(b, 0x0800);
	put_ipv4(b, vtep_a, vtep_b, 17, 8 + 8 + inner, 0, 0);
	put_udp(b, sport, dport, 8 + inner);
	put(b, header, 8);
	put_ethernet(b, 0x0800);
	build_udp4(b, 40000, 53);
}

static const uint8_t vxlan_vni_77[8] = {0x08, 0, 0, 0, 0, 0, 77, 0};

static void vxlan_inner_packet_and_tunnel(void **state)
{
	(void)state;
	struct builder b = {0};
	build_udp_tunnel(&b, 49152, 4789, vxlan_vni_77);
	struct packet_info p;
	assert_int_equal(decode_frame(LINK_ETHERNET, b.bytes, b.len, &dns_ports, &p), DECODE_UDP);
	assert_int_equal(p.src_port, 40000);
	assert_int_equal(p.src_addr[15], 2); /* 10.99.0.2, the inner client */
	assert_int_equal(p.tunnel_type, TUNNEL_VXLAN);
	assert_true(p.tunnel_has_id);
	assert_int_equal(p.tunnel_id, 77);
	assert_int_equal(p.tunnel_src[15], 1); /* 192.0.2.1 */
	assert_int_equal(p.l3_offset, 14 + 20 + 8 + 8 + 14);
	assert_memory_equal(p.payload, dns_payload, sizeof(dns_payload));
}

/* RFC 7348 5: the I flag must be set for a valid VNI. */
static void vxlan_without_i_flag_is_not_dns(void **state)
{
	(void)state;
	static const uint8_t no_i[8] = {0x00, 0, 0, 0, 0, 0, 77, 0};
	struct builder b = {0};
	build_udp_tunnel(&b, 49152, 4789, no_i);
	struct packet_info p;
	assert_int_equal(decode_frame(LINK_ETHERNET, b.bytes, b.len, &dns_ports, &p),
			 DECODE_NOT_DNS);
}

/* A DNS port wins: a response to a client whose ephemeral port happens to be 4789. */
static void dns_port_wins_over_vxlan_port(void **state)
{
	(void)state;
	struct builder b = {0};
	put_ethernet(&b, 0x0800);
	build_udp4(&b, 53, 4789);
	struct packet_info p;
	assert_int_equal(decode_frame(LINK_ETHERNET, b.bytes, b.len, &dns_ports, &p), DECODE_UDP);
	assert_int_equal(p.tunnel_depth, 0);
}

/* Every cut between the VXLAN header and the end of the inner UDP header is tunnel_truncated;
 * no cut reads past the frame (ASan watches). */
static void vxlan_cut_inner_frame_is_tunnel_truncated(void **state)
{
	(void)state;
	struct builder b = {0};
	build_udp_tunnel(&b, 49152, 4789, vxlan_vni_77);
	size_t outer = 14 + 20 + 8;
	struct packet_info p;
	for (size_t len = 0; len < b.len; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, b.bytes, len);
		enum decode_result r = decode_frame(LINK_ETHERNET, copy, len, &dns_ports, &p);
		if (len >= outer && len < outer + 8 + 14 + 20 + 8) {
			assert_int_equal(r, DECODE_MALFORMED);
			assert_int_equal(p.malformed, MALFORMED_TUNNEL_TRUNCATED);
		}
		free(copy);
	}
}

/* RFC 8926 3.4: only version 0 is defined; options longer than the packet are a cut header. */
static void geneve_version_and_option_length(void **state)
{
	(void)state;
	static const uint8_t v1[8] = {0x40, 0, 0x65, 0x58, 0, 0x13, 0x88, 0};
	static const uint8_t long_options[8] = {0x3f, 0, 0x65, 0x58, 0, 0x13, 0x88, 0};
	static const uint8_t plain[8] = {0x00, 0, 0x65, 0x58, 0, 0x13, 0x88, 0};
	struct packet_info p;
	struct builder b = {0};
	build_udp_tunnel(&b, 1, 6081, v1);
	assert_int_equal(decode_frame(LINK_ETHERNET, b.bytes, b.len, &dns_ports, &p),
			 DECODE_NOT_DNS);
	struct builder c = {0};
	build_udp_tunnel(&c, 1, 6081, long_options);
	assert_int_equal(
	    decode_frame(LINK_ETHERNET, c.bytes, 14 + 20 + 8 + 8 + 100, &dns_ports, &p),
	    DECODE_MALFORMED);
	assert_int_equal(p.malformed, MALFORMED_TUNNEL_TRUNCATED);
	struct builder d = {0};
	build_udp_tunnel(&d, 1, 6081, plain);
	assert_int_equal(decode_frame(LINK_ETHERNET, d.bytes, d.len, &dns_ports, &p), DECODE_UDP);
	assert_int_equal(p.tunnel_type, TUNNEL_GENEVE);
	assert_int_equal(p.tunnel_id, 5000);
}

/* RFC 2784 2.1: the routing bit (RFC 1701 source routing) is not decoded. */
static void gre_with_routing_is_not_dns(void **state)
{
	(void)state;
	struct builder b = {0};
	put_ethernet(&b, 0x0800);
	put_ipv4(&b, vtep_a, vtep_b, 47, 4 + 20 + 8 + sizeof(dns_payload), 0, 0);
	put16(&b, 0x4000), put16(&b, 0x0800);
	build_udp4(&b, 40000, 53);
	struct packet_info p;
	assert_int_equal(decode_frame(LINK_ETHERNET, b.bytes, b.len, &dns_ports, &p),
			 DECODE_NOT_DNS);
	b.bytes[14 + 20] = 0; /* the same without it */
	assert_int_equal(decode_frame(LINK_ETHERNET, b.bytes, b.len, &dns_ports, &p), DECODE_UDP);
	assert_int_equal(p.tunnel_type, TUNNEL_GRE);
	assert_false(p.tunnel_has_id);
}

/* RFC 3032: a stack without a bottom-of-stack entry in the frame is cut short. */
static void mpls_without_bottom_is_tunnel_truncated(void **state)
{
	(void)state;
	struct builder b = {0};
	put_ethernet(&b, 0x8847);
	put32(&b, 16u << 12 | 64);
	put32(&b, 17u << 12 | 64);
	struct packet_info p;
	assert_int_equal(decode_frame(LINK_ETHERNET, b.bytes, b.len, &dns_ports, &p),
			 DECODE_MALFORMED);
	assert_int_equal(p.malformed, MALFORMED_TUNNEL_TRUNCATED);
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
	    cmocka_unit_test_setup(vxlan_inner_packet_and_tunnel, setup),
	    cmocka_unit_test_setup(vxlan_without_i_flag_is_not_dns, setup),
	    cmocka_unit_test_setup(dns_port_wins_over_vxlan_port, setup),
	    cmocka_unit_test_setup(vxlan_cut_inner_frame_is_tunnel_truncated, setup),
	    cmocka_unit_test_setup(geneve_version_and_option_length, setup),
	    cmocka_unit_test_setup(gre_with_routing_is_not_dns, setup),
	    cmocka_unit_test_setup(mpls_without_bottom_is_tunnel_truncated, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
