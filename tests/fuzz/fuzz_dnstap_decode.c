/* Fuzz target: the dnstap frame decoder (probe/decode/dnstap_message.c, which reads the protocol
 * buffers wire format by hand) against protobuf-c's dnstap__dnstap__unpack, the reference. One
 * input is one frame: both must take it or both refuse it as a protobuf, and when they take it,
 * every value the decoder gives (addresses, ports, transport, the DNS message, its time, the
 * sender's type name, identity and version) must be what the reference's fields say.
 *
 * Input: one Dnstap frame, as the listener hands it on. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnstap.pb-c.h"
#include "dnstap_message.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_bytes(const uint8_t *a, size_t a_len, protobuf_c_boolean has,
		       const ProtobufCBinaryData *b)
{
	if (!has)
		return a == NULL && a_len == 0;
	return a_len == b->len && (a_len == 0 || (a && memcmp(a, b->data, a_len) == 0));
}

static bool is_response(Dnstap__Message__Type type)
{
	return type >= DNSTAP__MESSAGE__TYPE__AUTH_RESPONSE &&
	       type <= DNSTAP__MESSAGE__TYPE__UPDATE_RESPONSE && type % 2 == 0;
}

/* The address the decoder should give for one the reference read: IPv4 mapped, 16 bytes as
 * they are, anything else zero. */
static void expected_address(uint8_t out[16], protobuf_c_boolean has, const ProtobufCBinaryData *in)
{
	memset(out, 0, 16);
	if (has && in->len == 4) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, in->data, 4);
	} else if (has && in->len == 16) {
		memcpy(out, in->data, 16);
	}
}

static void check_decoded(const Dnstap__Dnstap *ref, const struct dnstap_decoded *d)
{
	const Dnstap__Message *m = ref->message;
	bool response = is_response(m->type);
	const ProtobufCBinaryData *wire = response ? &m->response_message : &m->query_message;
	FUZZ_CHECK(same_bytes(d->dns, d->dns_len, true, wire));
	FUZZ_CHECK(
	    d->packet.ip_version ==
	    (m->has_socket_family && m->socket_family == DNSTAP__SOCKET_FAMILY__INET6 ? 6 : 4));
	FUZZ_CHECK(d->packet.ip_protocol ==
		   (m->has_socket_protocol && m->socket_protocol != DNSTAP__SOCKET_PROTOCOL__UDP
			? 6
			: 17));
	uint8_t client[16], server[16];
	expected_address(client, m->has_query_address, &m->query_address);
	expected_address(server, m->has_response_address, &m->response_address);
	FUZZ_CHECK(memcmp(d->packet.src_addr, response ? server : client, 16) == 0);
	FUZZ_CHECK(memcmp(d->packet.dst_addr, response ? client : server, 16) == 0);
	uint16_t client_port = m->has_query_port ? (uint16_t)m->query_port : 0;
	uint16_t server_port = m->has_response_port ? (uint16_t)m->response_port : 0;
	FUZZ_CHECK(d->packet.src_port == (response ? server_port : client_port));
	FUZZ_CHECK(d->packet.dst_port == (response ? client_port : server_port));
	protobuf_c_boolean has_sec = response ? m->has_response_time_sec : m->has_query_time_sec;
	uint64_t sec = response ? m->response_time_sec : m->query_time_sec;
	uint32_t nsec = response ? m->response_time_nsec : m->query_time_nsec;
	bool keepable = has_sec && sec <= INT64_MAX / 1000000000 - 1 && nsec < 1000000000;
	FUZZ_CHECK(d->has_time == keepable);
	if (keepable)
		FUZZ_CHECK(d->ts_ns == (int64_t)sec * 1000000000 + (int64_t)nsec);
	const ProtobufCEnumValue *type =
	    protobuf_c_enum_descriptor_get_value(&dnstap__message__type__descriptor, m->type);
	FUZZ_CHECK(strcmp(d->origin.type, type ? type->name : "UNKNOWN") == 0);
	FUZZ_CHECK(same_bytes(d->origin.identity, d->origin.identity_len, ref->has_identity,
			      &ref->identity));
	FUZZ_CHECK(
	    same_bytes(d->origin.version, d->origin.version_len, ref->has_version, &ref->version));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *frame = fuzz_exact_copy(data, size);
	struct dnstap_decoded d;
	enum malformed_reason reason = dnstap_decode(frame, size, &d);
	Dnstap__Dnstap *ref = dnstap__dnstap__unpack(NULL, size, frame);
	FUZZ_CHECK((reason == MALFORMED_DNSTAP_PROTOBUF) == (ref == NULL));
	if (ref) {
		const Dnstap__Message *m = ref->message;
		bool has_dns =
		    ref->type == DNSTAP__DNSTAP__TYPE__MESSAGE && m &&
		    (is_response(m->type) ? m->has_response_message : m->has_query_message);
		FUZZ_CHECK((reason == MALFORMED_NONE) == has_dns);
		if (has_dns)
			check_decoded(ref, &d);
		dnstap__dnstap__free_unpacked(ref, NULL);
	}
	free(frame);
	return 0;
}
