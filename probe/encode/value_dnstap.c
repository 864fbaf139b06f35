/* The dnstap value encoder: one serialized Dnstap message (type MESSAGE) per DNS message, the
 * message copied as it was on the wire (docs/dnstap.md). Passive capture sees a client and a
 * server, so the type is CLIENT_QUERY or CLIENT_RESPONSE by the QR bit, as DNS-collector's
 * sniffer writes it, and the client is the query side. protobuf-c packs into the output buffer;
 * nothing is allocated per message. */
#include "value_dnstap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dnstap.pb-c.h"
#include "decode.h"
#include "dns_message.h"

#define VERSION_TEXT "dnsprobe " DNSPROBE_VERSION
/* More than the fields around the DNS message and the identity and version can take. */
#define ENVELOPE_MAX 128

struct dnstap_state {
	Dnstap__Dnstap dnstap;
	Dnstap__Message message;
	size_t fixed_len;   /* identity and version */
	char identity[256]; /* --observer-name, or the host name */
};

static void *dnstap_state_new(const struct encoder_settings *settings)
{
	struct dnstap_state *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	dnstap__dnstap__init(&s->dnstap);
	dnstap__message__init(&s->message);
	s->dnstap.type = DNSTAP__DNSTAP__TYPE__MESSAGE;
	s->dnstap.message = &s->message;
	if (settings && settings->observer_name)
		snprintf(s->identity, sizeof(s->identity), "%s", settings->observer_name);
	else if (gethostname(s->identity, sizeof(s->identity) - 1) != 0)
		s->identity[0] = '\0';
	s->dnstap.has_identity = s->identity[0] != '\0';
	s->dnstap.identity.data = (uint8_t *)s->identity;
	s->dnstap.identity.len = strlen(s->identity);
	s->dnstap.has_version = true;
	s->dnstap.version.data = (uint8_t *)VERSION_TEXT;
	s->dnstap.version.len = sizeof(VERSION_TEXT) - 1;
	s->fixed_len = s->dnstap.identity.len + s->dnstap.version.len;
	return s;
}

static void dnstap_state_free(void *state)
{
	free(state);
}

/* Addresses are kept IPv4-mapped (decode.h); dnstap wants 4 bytes for IPv4. */
static void set_address(ProtobufCBinaryData *out, const uint8_t addr[16], bool v4)
{
	out->data = (uint8_t *)(v4 ? addr + 12 : addr);
	out->len = v4 ? 4 : 16;
}

static void set_endpoints(Dnstap__Message *m, const struct packet_info *p, bool from_client)
{
	bool v4 = p->ip_version == 4;
	m->has_socket_family = true;
	m->socket_family = v4 ? DNSTAP__SOCKET_FAMILY__INET : DNSTAP__SOCKET_FAMILY__INET6;
	m->has_socket_protocol = p->ip_protocol == 6 || p->ip_protocol == 17;
	m->socket_protocol =
	    p->ip_protocol == 6 ? DNSTAP__SOCKET_PROTOCOL__TCP : DNSTAP__SOCKET_PROTOCOL__UDP;
	const uint8_t *client = from_client ? p->src_addr : p->dst_addr;
	const uint8_t *server = from_client ? p->dst_addr : p->src_addr;
	m->has_query_address = m->has_response_address = true;
	set_address(&m->query_address, client, v4);
	set_address(&m->response_address, server, v4);
	m->has_query_port = m->has_response_port = true;
	m->query_port = from_client ? p->src_port : p->dst_port;
	m->response_port = from_client ? p->dst_port : p->src_port;
}

static size_t dnstap_encode(void *state, const struct dns_event *e, uint8_t *out, size_t room)
{
	struct dnstap_state *s = state;
	Dnstap__Message *m = &s->message;
	if (e->input == EVENT_INPUT_DNSTAP) { /* a resolver's message: passed on as it came */
		if (!e->frame || e->frame->caplen > room)
			return 0;
		memcpy(out, e->frame->data, e->frame->caplen);
		return e->frame->caplen;
	}
	if (!e->packet || !e->message)
		return 0;
	bool response = e->message->is_response;
	set_endpoints(m, e->packet, !response);
	m->type =
	    response ? DNSTAP__MESSAGE__TYPE__CLIENT_RESPONSE : DNSTAP__MESSAGE__TYPE__CLIENT_QUERY;
	ProtobufCBinaryData wire = {.len = e->dns_len, .data = (uint8_t *)e->dns};
	uint64_t sec = (uint64_t)(e->timestamp_ns / 1000000000);
	uint32_t nsec = (uint32_t)(e->timestamp_ns % 1000000000);
	m->has_query_message = m->has_query_time_sec = m->has_query_time_nsec = !response;
	m->has_response_message = m->has_response_time_sec = m->has_response_time_nsec = response;
	m->query_message = wire;
	m->response_message = wire;
	m->query_time_sec = m->response_time_sec = sec;
	m->query_time_nsec = m->response_time_nsec = nsec;
	/* Packing is bounded only by its size: measure only when the message might not fit. */
	if (e->dns_len + s->fixed_len + ENVELOPE_MAX > room &&
	    dnstap__dnstap__get_packed_size(&s->dnstap) > room)
		return 0;
	return dnstap__dnstap__pack(&s->dnstap, out);
}

const struct value_encoder value_dnstap = {
    .name = "dnstap",
    .binary = true,
    .frame_stream_type = "protobuf:dnstap.Dnstap",
    .state_new = dnstap_state_new,
    .state_free = dnstap_state_free,
    .encode = dnstap_encode,
};
