/* Decodes one Dnstap protobuf (protobuf-c, unpacked into a per-worker arena: no allocation per
 * frame) into the sender's packet_info, the DNS message and what the sender said of it. */
#include "dnstap_message.h"

#include <stdlib.h>
#include <string.h>

#include "decode_internal.h"
#include "dnstap.pb-c.h"

/* protobuf-c copies every bytes field and allocates each sub-message: twice the frame and a
 * margin for the structures hold any frame the decoder takes. */
#define ARENA_SIZE (2 * DNSTAP_FRAME_MAX + 64 * 1024)

struct dnstap_decoder {
	ProtobufCAllocator allocator;
	uint8_t *arena;
	size_t used;
};

static void *arena_alloc(void *ctx, size_t size)
{
	struct dnstap_decoder *d = ctx;
	size_t need = (size + 15) & ~(size_t)15;
	if (need < size || need > ARENA_SIZE - d->used)
		return NULL; /* protobuf-c then fails the unpack */
	void *at = d->arena + d->used;
	d->used += need;
	return at;
}

static void arena_free(void *ctx, void *at)
{
	(void)ctx;
	(void)at; /* the whole arena is reset before the next frame */
}

struct dnstap_decoder *dnstap_decoder_new(void)
{
	struct dnstap_decoder *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->arena = malloc(ARENA_SIZE);
	if (!d->arena) {
		free(d);
		return NULL;
	}
	d->allocator =
	    (ProtobufCAllocator){.alloc = arena_alloc, .free = arena_free, .allocator_data = d};
	return d;
}

void dnstap_decoder_free(struct dnstap_decoder *d)
{
	if (!d)
		return;
	free(d->arena);
	free(d);
}

static bool type_is_response(Dnstap__Message__Type type)
{
	switch (type) {
	case DNSTAP__MESSAGE__TYPE__AUTH_RESPONSE:
	case DNSTAP__MESSAGE__TYPE__RESOLVER_RESPONSE:
	case DNSTAP__MESSAGE__TYPE__CLIENT_RESPONSE:
	case DNSTAP__MESSAGE__TYPE__FORWARDER_RESPONSE:
	case DNSTAP__MESSAGE__TYPE__STUB_RESPONSE:
	case DNSTAP__MESSAGE__TYPE__TOOL_RESPONSE:
	case DNSTAP__MESSAGE__TYPE__UPDATE_RESPONSE:
		return true;
	default:
		return false;
	}
}

/* An address of 4 bytes (IPv4, stored IPv4-mapped) or 16; anything else stays all zero. */
static void copy_address(uint8_t out[16], protobuf_c_boolean has, const ProtobufCBinaryData *in)
{
	if (has && in->len == 4)
		decode_map_ipv4(out, in->data);
	else if (has && in->len == 16)
		memcpy(out, in->data, 16);
	else
		memset(out, 0, 16);
}

/* Seconds beyond what int64 nanoseconds hold (year 2262) are not a time the probe can keep. */
#define TIME_SEC_MAX (INT64_MAX / 1000000000 - 1)

static bool time_ns(uint64_t sec, uint32_t nsec, int64_t *out)
{
	if (sec > TIME_SEC_MAX || nsec >= 1000000000)
		return false;
	*out = (int64_t)sec * 1000000000 + (int64_t)nsec;
	return true;
}

enum malformed_reason dnstap_decode(struct dnstap_decoder *d, const uint8_t *frame, size_t len,
				    struct dnstap_decoded *out)
{
	d->used = 0;
	Dnstap__Dnstap *dt = dnstap__dnstap__unpack(&d->allocator, len, frame);
	if (!dt)
		return MALFORMED_DNSTAP_PROTOBUF;
	const Dnstap__Message *m = dt->message;
	if (dt->type != DNSTAP__DNSTAP__TYPE__MESSAGE || !m)
		return MALFORMED_DNSTAP_NO_MESSAGE;
	bool response = type_is_response(m->type);
	const ProtobufCBinaryData *wire = response ? &m->response_message : &m->query_message;
	if (!(response ? m->has_response_message : m->has_query_message))
		return MALFORMED_DNSTAP_NO_MESSAGE;

	memset(out, 0, sizeof(*out));
	struct packet_info *p = &out->packet;
	bool v6 = m->has_socket_family && m->socket_family == DNSTAP__SOCKET_FAMILY__INET6;
	p->ip_version = v6 ? 6 : 4;
	p->ip_protocol =
	    m->has_socket_protocol && m->socket_protocol != DNSTAP__SOCKET_PROTOCOL__UDP ? 6 : 17;
	/* The query side is the client: it sends queries and receives responses. */
	uint8_t client[16], server[16];
	copy_address(client, m->has_query_address, &m->query_address);
	copy_address(server, m->has_response_address, &m->response_address);
	uint16_t client_port = m->has_query_port ? (uint16_t)m->query_port : 0;
	uint16_t server_port = m->has_response_port ? (uint16_t)m->response_port : 0;
	memcpy(p->src_addr, response ? server : client, 16);
	memcpy(p->dst_addr, response ? client : server, 16);
	p->src_port = response ? server_port : client_port;
	p->dst_port = response ? client_port : server_port;
	p->payload = wire->data;
	p->payload_len = wire->len;

	out->dns = wire->data;
	out->dns_len = wire->len;
	/* A time that cannot be kept leaves the record with the time the frame arrived. */
	if (response ? m->has_response_time_sec : m->has_query_time_sec)
		out->has_time =
		    response ? time_ns(m->response_time_sec, m->response_time_nsec, &out->ts_ns)
			     : time_ns(m->query_time_sec, m->query_time_nsec, &out->ts_ns);
	const ProtobufCEnumValue *type =
	    protobuf_c_enum_descriptor_get_value(&dnstap__message__type__descriptor, m->type);
	out->origin.type = type ? type->name : "UNKNOWN";
	out->origin.identity = dt->has_identity ? dt->identity.data : NULL;
	out->origin.identity_len = dt->has_identity ? dt->identity.len : 0;
	out->origin.version = dt->has_version ? dt->version.data : NULL;
	out->origin.version_len = dt->has_version ? dt->version.len : 0;
	return MALFORMED_NONE;
}
