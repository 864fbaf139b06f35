/* The dnstap value encoder: one serialized Dnstap message (type MESSAGE) per DNS message, the
 * message copied as it was on the wire (docs/dnstap.md). Passive capture sees a client and a
 * server, so the type is CLIENT_QUERY or CLIENT_RESPONSE by the QR bit, as DNS-collector's
 * sniffer writes it, and the client is the query side.
 *
 * The protobuf is written here, not by protobuf-c: packing through protobuf-c's descriptors cost
 * ~1,500 instructions per message, more than the whole --format dnstap budget (docs/dnstap.md,
 * "Speed"). The few fields are written in field-number order, as protobuf-c packs them, so the
 * bytes are the same as dnstap__dnstap__pack's: tests/unit/test_value_dnstap.c compares the two,
 * and protobuf-c still decodes every value in the tests. Nothing is allocated per message. */
#include "value_dnstap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "decode.h"
#include "dns_message.h"
#include "dnstap_wire.h"

#define VERSION_TEXT "dnsprobe " DNSPROBE_VERSION
#define IDENTITY_MAX 255
#define VARINT_MAX   10

/* A field's tag, (field number << 3) | wire type: each below 128 here, so one byte. */
#define TAG(field, wire) ((uint8_t)((field) << 3 | (wire)))

struct dnstap_state {
	/* identity and version, the same in every value */
	uint8_t head[2 * (1 + VARINT_MAX) + IDENTITY_MAX + sizeof(VERSION_TEXT)];
	size_t head_len;
};

static size_t varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static uint8_t *put_bytes(uint8_t *p, uint8_t tag, const void *data, size_t len)
{
	*p++ = tag;
	p = put_varint(p, len);
	memcpy(p, data, len);
	return p + len;
}

static uint8_t *put_fixed32(uint8_t *p, uint8_t tag, uint32_t v)
{
	*p++ = tag;
	bytes_put_le32(p, v);
	return p + 4;
}

static void *dnstap_state_new(const struct encoder_settings *settings)
{
	struct dnstap_state *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	char identity[IDENTITY_MAX + 1];
	if (settings && settings->observer_name)
		snprintf(identity, sizeof(identity), "%s", settings->observer_name);
	else if (gethostname(identity, sizeof(identity) - 1) != 0)
		identity[0] = '\0';
	identity[IDENTITY_MAX] = '\0';
	uint8_t *p = s->head;
	if (identity[0] != '\0')
		p = put_bytes(p, TAG(DNSTAP_IDENTITY, WIRE_BYTES), identity, strlen(identity));
	p = put_bytes(p, TAG(DNSTAP_VERSION, WIRE_BYTES), VERSION_TEXT, sizeof(VERSION_TEXT) - 1);
	s->head_len = (size_t)(p - s->head);
	return s;
}

static void dnstap_state_free(void *state)
{
	free(state);
}

/* What goes into a Message for a captured packet. Addresses are kept IPv4-mapped (decode.h);
 * dnstap wants 4 bytes for IPv4. */
struct message_fields {
	bool response;
	bool has_protocol;
	uint8_t family, protocol;
	const uint8_t *client, *server;
	size_t address_len;
	uint32_t client_port, server_port;
	uint64_t sec;
	uint32_t nsec;
	const uint8_t *dns;
	size_t dns_len;
};

static void message_fields(const struct dns_event *e, struct message_fields *f)
{
	const struct packet_info *p = e->packet;
	bool v4 = p->ip_version == 4;
	f->response = e->message->is_response;
	bool from_client = !f->response;
	f->family = v4 ? FAMILY_INET : FAMILY_INET6;
	f->has_protocol = p->ip_protocol == 6 || p->ip_protocol == 17;
	f->protocol = p->ip_protocol == 6 ? PROTOCOL_TCP : PROTOCOL_UDP;
	const uint8_t *client = from_client ? p->src_addr : p->dst_addr;
	const uint8_t *server = from_client ? p->dst_addr : p->src_addr;
	f->client = v4 ? client + 12 : client;
	f->server = v4 ? server + 12 : server;
	f->address_len = v4 ? 4 : 16;
	f->client_port = from_client ? p->src_port : p->dst_port;
	f->server_port = from_client ? p->dst_port : p->src_port;
	f->sec = (uint64_t)(e->timestamp_ns / 1000000000);
	f->nsec = (uint32_t)(e->timestamp_ns % 1000000000);
	f->dns = e->dns;
	f->dns_len = e->dns_len;
}

/* The Message's length; each field is its tag (one byte), then its value. */
static size_t message_len(const struct message_fields *f)
{
	return 2 + 2 + (f->has_protocol ? 2 : 0) + 2 * (2 + f->address_len) + 1 +
	       varint_len(f->client_port) + 1 + varint_len(f->server_port) + 1 +
	       varint_len(f->sec) + 5 + 1 + varint_len(f->dns_len) + f->dns_len;
}

static uint8_t *put_message(uint8_t *p, const struct message_fields *f)
{
	*p++ = TAG(MESSAGE_TYPE, WIRE_VARINT);
	*p++ = f->response ? MESSAGE_TYPE_CLIENT_RESPONSE : MESSAGE_TYPE_CLIENT_QUERY;
	*p++ = TAG(MESSAGE_SOCKET_FAMILY, WIRE_VARINT);
	*p++ = f->family;
	if (f->has_protocol) {
		*p++ = TAG(MESSAGE_SOCKET_PROTOCOL, WIRE_VARINT);
		*p++ = f->protocol;
	}
	p = put_bytes(p, TAG(MESSAGE_QUERY_ADDRESS, WIRE_BYTES), f->client, f->address_len);
	p = put_bytes(p, TAG(MESSAGE_RESPONSE_ADDRESS, WIRE_BYTES), f->server, f->address_len);
	*p++ = TAG(MESSAGE_QUERY_PORT, WIRE_VARINT);
	p = put_varint(p, f->client_port);
	*p++ = TAG(MESSAGE_RESPONSE_PORT, WIRE_VARINT);
	p = put_varint(p, f->server_port);
	*p++ = f->response ? TAG(MESSAGE_RESPONSE_TIME_SEC, WIRE_VARINT)
			   : TAG(MESSAGE_QUERY_TIME_SEC, WIRE_VARINT);
	p = put_varint(p, f->sec);
	p = put_fixed32(p,
			f->response ? TAG(MESSAGE_RESPONSE_TIME_NSEC, WIRE_FIXED32)
				    : TAG(MESSAGE_QUERY_TIME_NSEC, WIRE_FIXED32),
			f->nsec);
	return put_bytes(p,
			 f->response ? TAG(MESSAGE_RESPONSE_MESSAGE, WIRE_BYTES)
				     : TAG(MESSAGE_QUERY_MESSAGE, WIRE_BYTES),
			 f->dns, f->dns_len);
}

static size_t dnstap_encode(void *state, const struct dns_event *e, uint8_t *out, size_t room)
{
	struct dnstap_state *s = state;
	if (e->input == EVENT_INPUT_DNSTAP) { /* a resolver's message: passed on as it came */
		if (!e->frame || e->frame->caplen > room)
			return 0;
		memcpy(out, e->frame->data, e->frame->caplen);
		return e->frame->caplen;
	}
	if (!e->packet || !e->message)
		return 0;
	struct message_fields f;
	message_fields(e, &f);
	size_t body = message_len(&f);
	size_t total = s->head_len + 1 + varint_len(body) + body + 2;
	if (total > room)
		return 0;
	memcpy(out, s->head, s->head_len);
	uint8_t *p = out + s->head_len;
	*p++ = TAG(DNSTAP_MESSAGE, WIRE_BYTES);
	p = put_varint(p, body);
	p = put_message(p, &f);
	*p++ = TAG(DNSTAP_TYPE, WIRE_VARINT);
	*p++ = DNSTAP_TYPE_MESSAGE;
	return (size_t)(p - out);
}

const struct value_encoder value_dnstap = {
    .name = "dnstap",
    .binary = true,
    .frame_stream_type = "protobuf:dnstap.Dnstap",
    .state_new = dnstap_state_new,
    .state_free = dnstap_state_free,
    .encode = dnstap_encode,
};
