/* Unit tests of the dnstap value encoder: what it writes by hand is byte for byte what protobuf-c
 * packs for the same Dnstap message (the fields filled as dnstap.proto names them), over IPv4 and
 * IPv6, UDP, TCP and other transports, queries and responses, ports, times and message lengths
 * on both sides of every varint length step, and observer names of every size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "dns_message.h"
#include "dnstap.pb-c.h"
#include "encoder.h"
#include "value_dnstap.h"

#define OUT_MAX	     (70 * 1024)
#define VERSION_TEXT "dnsprobe " DNSPROBE_VERSION

static uint8_t dns[65535];

/* The reference: the Dnstap message docs/dnstap.md describes, packed by protobuf-c. */
static size_t pack_reference(const char *identity, const struct dns_event *e, uint8_t *out)
{
	Dnstap__Dnstap d;
	Dnstap__Message m;
	dnstap__dnstap__init(&d);
	dnstap__message__init(&m);
	d.type = DNSTAP__DNSTAP__TYPE__MESSAGE;
	d.message = &m;
	d.has_identity = identity[0] != '\0';
	d.identity = (ProtobufCBinaryData){strlen(identity), (uint8_t *)identity};
	d.has_version = true;
	d.version = (ProtobufCBinaryData){sizeof(VERSION_TEXT) - 1, (uint8_t *)VERSION_TEXT};
	const struct packet_info *p = e->packet;
	bool response = e->message->is_response, v4 = p->ip_version == 4;
	m.type =
	    response ? DNSTAP__MESSAGE__TYPE__CLIENT_RESPONSE : DNSTAP__MESSAGE__TYPE__CLIENT_QUERY;
	m.has_socket_family = true;
	m.socket_family = v4 ? DNSTAP__SOCKET_FAMILY__INET : DNSTAP__SOCKET_FAMILY__INET6;
	m.has_socket_protocol = p->ip_protocol == 6 || p->ip_protocol == 17;
	m.socket_protocol =
	    p->ip_protocol == 6 ? DNSTAP__SOCKET_PROTOCOL__TCP : DNSTAP__SOCKET_PROTOCOL__UDP;
	const uint8_t *client = response ? p->dst_addr : p->src_addr;
	const uint8_t *server = response ? p->src_addr : p->dst_addr;
	m.has_query_address = m.has_response_address = true;
	m.query_address =
	    (ProtobufCBinaryData){v4 ? 4 : 16, (uint8_t *)(v4 ? client + 12 : client)};
	m.response_address =
	    (ProtobufCBinaryData){v4 ? 4 : 16, (uint8_t *)(v4 ? server + 12 : server)};
	m.has_query_port = m.has_response_port = true;
	m.query_port = response ? p->dst_port : p->src_port;
	m.response_port = response ? p->src_port : p->dst_port;
	ProtobufCBinaryData wire = {e->dns_len, (uint8_t *)e->dns};
	uint64_t sec = (uint64_t)(e->timestamp_ns / 1000000000);
	uint32_t nsec = (uint32_t)(e->timestamp_ns % 1000000000);
	if (response) {
		m.has_response_message = m.has_response_time_sec = m.has_response_time_nsec = true;
		m.response_message = wire;
		m.response_time_sec = sec;
		m.response_time_nsec = nsec;
	} else {
		m.has_query_message = m.has_query_time_sec = m.has_query_time_nsec = true;
		m.query_message = wire;
		m.query_time_sec = sec;
		m.query_time_nsec = nsec;
	}
	return dnstap__dnstap__pack(&d, out);
}

static void test_values_are_what_protobuf_c_packs(void **state)
{
	(void)state;
	static uint8_t ours[OUT_MAX], reference[OUT_MAX];
	for (size_t i = 0; i < sizeof(dns); i++)
		dns[i] = (uint8_t)(i * 7);
	char long_name[256];
	memset(long_name, 'n', 255);
	long_name[255] = '\0';
	const char *identities[] = {"", "s", "sensor-7.example", long_name};
	const uint8_t protocols[] = {17, 6, 132};
	const uint16_t ports[] = {0, 53, 127, 128, 16383, 16384, 65535};
	const size_t lengths[] = {0, 12, 127, 128, 16383, 16384, 65535};
	const int64_t times[] = {0, 1700000000123456789LL, 999999999LL, -1500000000LL};
	unsigned compared = 0;
	for (size_t id = 0; id < sizeof(identities) / sizeof(identities[0]); id++) {
		struct encoder_settings settings = {.observer_name = identities[id]};
		void *encoder = value_dnstap.state_new(&settings);
		assert_non_null(encoder);
		for (unsigned n = 0; n < 2 * 3 * 2 * 7 * 7 * 4; n++) {
			unsigned k = n;
			struct packet_info p = {0};
			p.ip_version = k % 2 ? 6 : 4;
			k /= 2;
			p.ip_protocol = protocols[k % 3];
			k /= 3;
			struct dns_message message = {.is_response = k % 2};
			k /= 2;
			p.src_port = ports[k % 7];
			p.dst_port = ports[(k + 3) % 7];
			k /= 7;
			size_t dns_len = lengths[k % 7];
			k /= 7;
			for (int b = 0; b < 16; b++) {
				p.src_addr[b] = (uint8_t)(0x10 + b);
				p.dst_addr[b] = (uint8_t)(0xa0 + b);
			}
			struct dns_event e = {.timestamp_ns = times[k % 4],
					      .input = EVENT_INPUT_WIRE,
					      .packet = &p,
					      .dns = dns,
					      .dns_len = dns_len,
					      .message = &message};
			size_t len = value_dnstap.encode(encoder, &e, ours, sizeof(ours));
			size_t reference_len = pack_reference(identities[id], &e, reference);
			assert_int_equal(len, reference_len);
			assert_memory_equal(ours, reference, len);
			/* One byte too little room: nothing, not a cut value. */
			assert_int_equal(value_dnstap.encode(encoder, &e, ours, len - 1), 0);
			compared++;
		}
		value_dnstap.state_free(encoder);
	}
	assert_int_equal(compared, 4 * 2 * 3 * 2 * 7 * 7 * 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values_are_what_protobuf_c_packs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
