/* Decodes one Dnstap protobuf (proto/dnstap.proto) into the sender's packet_info, the DNS
 * message and what the sender said of it, reading the protocol buffers wire format
 * (protobuf.dev, "Encoding") in place: nothing is copied or allocated, every length is checked
 * against what is left.
 *
 * It accepts what protobuf-c's dnstap__dnstap__unpack accepts and reads the same values, so the
 * listener behaves as it did with protobuf-c, which cost a quarter of the listener's CPU
 * (docs/dnstap.md, "Cost"): tags and varints as protobuf-c bounds them (a tag in at most 5
 * bytes, a varint in at most 10, a length in at most 5 and below 2^31), unknown fields skipped,
 * a known field with another wire type refused, the required types required, the last of a
 * repeated field kept, and a repeated Message merged with the one before as protobuf-c merges
 * (each must be whole on its own). fuzz_dnstap_decode compares the two on every input. */
#include "dnstap_message.h"

#include <limits.h>
#include <string.h>

#include "bytes.h"
#include "decode_internal.h"
#include "dnstap_wire.h"

/* Message.type names by value (proto/dnstap.proto). */
static const char *const message_type_names[] = {
    [1] = "AUTH_QUERY",	       [2] = "AUTH_RESPONSE",	   [3] = "RESOLVER_QUERY",
    [4] = "RESOLVER_RESPONSE", [5] = "CLIENT_QUERY",	   [6] = "CLIENT_RESPONSE",
    [7] = "FORWARDER_QUERY",   [8] = "FORWARDER_RESPONSE", [9] = "STUB_QUERY",
    [10] = "STUB_RESPONSE",    [11] = "TOOL_QUERY",	   [12] = "TOOL_RESPONSE",
    [13] = "UPDATE_QUERY",     [14] = "UPDATE_RESPONSE",
};

struct pb_bytes {
	bool has;
	const uint8_t *data;
	size_t len;
};

/* One field as read: its number, wire type and value (a number, or bytes). */
struct pb_field {
	uint32_t number;
	uint8_t wire;
	uint64_t number_value;
	const uint8_t *data;
	size_t len;
};

struct pb_reader {
	const uint8_t *at;
	size_t left;
};

/* A tag as protobuf-c reads one: at most 5 bytes, the first with a field number. */
static bool read_tag(struct pb_reader *r, uint32_t *number, uint8_t *wire)
{
	const uint8_t *d = r->at;
	size_t max = r->left < 5 ? r->left : 5;
	if ((d[0] & 0xf8) == 0)
		return false;
	*wire = d[0] & 7;
	uint32_t tag = (uint32_t)(d[0] & 0x7f) >> 3;
	unsigned shift = 4;
	for (size_t i = 0; i < max; i++) {
		if (i > 0) {
			tag |= (uint32_t)(d[i] & 0x7f) << shift;
			shift += 7;
		}
		if (!(d[i] & 0x80)) {
			*number = tag;
			r->at += i + 1;
			r->left -= i + 1;
			return true;
		}
	}
	return false;
}

static bool read_varint(struct pb_reader *r, uint64_t *value)
{
	size_t max = r->left < 10 ? r->left : 10;
	uint64_t v = 0;
	for (size_t i = 0; i < max; i++) {
		v |= (uint64_t)(r->at[i] & 0x7f) << (7 * i);
		if (!(r->at[i] & 0x80)) {
			*value = v;
			r->at += i + 1;
			r->left -= i + 1;
			return true;
		}
	}
	return false;
}

/* A length prefix and the bytes after it: at most 5 bytes of length, below 2^31. */
static bool read_bytes(struct pb_reader *r, const uint8_t **data, size_t *len)
{
	size_t max = r->left < 5 ? r->left : 5, value = 0;
	for (size_t i = 0; i < max; i++) {
		value |= (size_t)(r->at[i] & 0x7f) << (7 * i);
		if (!(r->at[i] & 0x80)) {
			size_t prefix = i + 1;
			if (value > INT_MAX || value > r->left - prefix)
				return false;
			*data = r->at + prefix;
			*len = value;
			r->at += prefix + value;
			r->left -= prefix + value;
			return true;
		}
	}
	return false;
}

static bool read_fixed(struct pb_reader *r, size_t size, struct pb_field *f)
{
	if (r->left < size)
		return false;
	f->number_value = size == 4 ? bytes_le32(r->at) : 0;
	r->at += size;
	r->left -= size;
	return true;
}

static bool read_field(struct pb_reader *r, struct pb_field *f)
{
	if (!read_tag(r, &f->number, &f->wire))
		return false;
	switch (f->wire) {
	case WIRE_VARINT:
		return read_varint(r, &f->number_value);
	case WIRE_FIXED64:
		return read_fixed(r, 8, f);
	case WIRE_BYTES:
		return read_bytes(r, &f->data, &f->len);
	case WIRE_FIXED32:
		return read_fixed(r, 4, f);
	default:
		return false; /* groups, as protobuf-c */
	}
}

static void keep_bytes(struct pb_bytes *out, const struct pb_field *f)
{
	*out = (struct pb_bytes){.has = true, .data = f->data, .len = f->len};
}

/* The fields of a Message. */
struct message_fields {
	int32_t type;
	bool has_family, has_protocol, has_query_port, has_response_port;
	bool has_query_time, has_response_time, has_query_time_nsec, has_response_time_nsec;
	int32_t family, protocol;
	uint32_t query_port, response_port;
	uint64_t query_time_sec, response_time_sec;
	uint32_t query_time_nsec, response_time_nsec;
	struct pb_bytes query_address, response_address, query_message, response_message;
};

struct dnstap_fields {
	struct pb_bytes identity, version;
	bool has_message;
	struct message_fields message;
};

/* What dnstap_field_wire and message_field_wire give for numbers the schema does not define. */
#define FIELD_UNKNOWN 0xff

/* The wire type each field of Dnstap and of Message has. */
static uint8_t dnstap_field_wire(uint32_t number)
{
	switch (number) {
	case DNSTAP_IDENTITY:
	case DNSTAP_VERSION:
	case DNSTAP_EXTRA:
	case DNSTAP_MESSAGE:
		return WIRE_BYTES;
	case DNSTAP_TYPE:
		return WIRE_VARINT;
	default:
		return FIELD_UNKNOWN;
	}
}

static uint8_t message_field_wire(uint32_t number)
{
	switch (number) {
	case MESSAGE_TYPE:
	case MESSAGE_SOCKET_FAMILY:
	case MESSAGE_SOCKET_PROTOCOL:
	case MESSAGE_QUERY_PORT:
	case MESSAGE_RESPONSE_PORT:
	case MESSAGE_QUERY_TIME_SEC:
	case MESSAGE_RESPONSE_TIME_SEC:
		return WIRE_VARINT;
	case MESSAGE_QUERY_TIME_NSEC:
	case MESSAGE_RESPONSE_TIME_NSEC:
		return WIRE_FIXED32;
	case MESSAGE_QUERY_ADDRESS:
	case MESSAGE_RESPONSE_ADDRESS:
	case MESSAGE_QUERY_MESSAGE:
	case MESSAGE_QUERY_ZONE:
	case MESSAGE_RESPONSE_MESSAGE:
		return WIRE_BYTES;
	default:
		return FIELD_UNKNOWN;
	}
}

/* One Message field into out (values as protobuf-c keeps them: enums and uint32 in 32 bits). */
static void keep_message_field(struct message_fields *out, const struct pb_field *f)
{
	uint64_t v = f->number_value;
	switch (f->number) {
	case MESSAGE_TYPE:
		out->type = (int32_t)(uint32_t)v;
		break;
	case MESSAGE_SOCKET_FAMILY:
		out->has_family = true;
		out->family = (int32_t)(uint32_t)v;
		break;
	case MESSAGE_SOCKET_PROTOCOL:
		out->has_protocol = true;
		out->protocol = (int32_t)(uint32_t)v;
		break;
	case MESSAGE_QUERY_ADDRESS:
		keep_bytes(&out->query_address, f);
		break;
	case MESSAGE_RESPONSE_ADDRESS:
		keep_bytes(&out->response_address, f);
		break;
	case MESSAGE_QUERY_PORT:
		out->has_query_port = true;
		out->query_port = (uint32_t)v;
		break;
	case MESSAGE_RESPONSE_PORT:
		out->has_response_port = true;
		out->response_port = (uint32_t)v;
		break;
	case MESSAGE_QUERY_TIME_SEC:
		out->has_query_time = true;
		out->query_time_sec = v;
		break;
	case MESSAGE_QUERY_TIME_NSEC:
		out->has_query_time_nsec = true;
		out->query_time_nsec = (uint32_t)v;
		break;
	case MESSAGE_QUERY_MESSAGE:
		keep_bytes(&out->query_message, f);
		break;
	case MESSAGE_RESPONSE_TIME_SEC:
		out->has_response_time = true;
		out->response_time_sec = v;
		break;
	case MESSAGE_RESPONSE_TIME_NSEC:
		out->has_response_time_nsec = true;
		out->response_time_nsec = (uint32_t)v;
		break;
	case MESSAGE_RESPONSE_MESSAGE:
		keep_bytes(&out->response_message, f);
		break;
	default:
		break; /* query_zone, and numbers Message does not define */
	}
}

/* A repeated Message is merged as protobuf-c's merge_messages does: a field the later one lacks
 * is taken from the earlier one; for bytes, a later empty value counts as lacking (protobuf-c
 * keeps no pointer for it) and an earlier empty one is not taken. */
#define MERGE_SCALAR(later, earlier, has, field)                                                   \
	do {                                                                                       \
		if ((earlier)->has && !(later)->has) {                                             \
			(later)->has = true;                                                       \
			(later)->field = (earlier)->field;                                         \
		}                                                                                  \
	} while (0)

static void merge_bytes(struct pb_bytes *later, const struct pb_bytes *earlier)
{
	if (earlier->len > 0 && later->len == 0)
		*later = *earlier;
}

static void merge_message(struct message_fields *later, const struct message_fields *earlier)
{
	MERGE_SCALAR(later, earlier, has_family, family);
	MERGE_SCALAR(later, earlier, has_protocol, protocol);
	MERGE_SCALAR(later, earlier, has_query_port, query_port);
	MERGE_SCALAR(later, earlier, has_response_port, response_port);
	MERGE_SCALAR(later, earlier, has_query_time, query_time_sec);
	MERGE_SCALAR(later, earlier, has_response_time, response_time_sec);
	MERGE_SCALAR(later, earlier, has_query_time_nsec, query_time_nsec);
	MERGE_SCALAR(later, earlier, has_response_time_nsec, response_time_nsec);
	merge_bytes(&later->query_address, &earlier->query_address);
	merge_bytes(&later->response_address, &earlier->response_address);
	merge_bytes(&later->query_message, &earlier->query_message);
	merge_bytes(&later->response_message, &earlier->response_message);
}

/* One Message; false when it is not one on its own. */
static bool read_message(struct message_fields *out, const uint8_t *data, size_t len)
{
	struct pb_reader r = {data, len};
	bool has_type = false;
	while (r.left > 0) {
		struct pb_field f;
		if (!read_field(&r, &f))
			return false;
		uint8_t wire = message_field_wire(f.number);
		if (wire == FIELD_UNKNOWN)
			continue;
		if (wire != f.wire)
			return false;
		has_type |= f.number == MESSAGE_TYPE;
		keep_message_field(out, &f);
	}
	return has_type;
}

static bool read_dnstap(struct dnstap_fields *out, const uint8_t *frame, size_t len)
{
	struct pb_reader r = {frame, len};
	bool has_type = false;
	int32_t type = 0;
	while (r.left > 0) {
		struct pb_field f;
		if (!read_field(&r, &f))
			return false;
		uint8_t wire = dnstap_field_wire(f.number);
		if (wire == FIELD_UNKNOWN)
			continue;
		if (wire != f.wire)
			return false;
		if (f.number == DNSTAP_IDENTITY) {
			keep_bytes(&out->identity, &f);
		} else if (f.number == DNSTAP_VERSION) {
			keep_bytes(&out->version, &f);
		} else if (f.number == DNSTAP_MESSAGE) {
			struct message_fields later = {0};
			if (!read_message(&later, f.data, f.len))
				return false;
			if (out->has_message)
				merge_message(&later, &out->message);
			out->message = later;
			out->has_message = true;
		} else if (f.number == DNSTAP_TYPE) {
			has_type = true;
			type = (int32_t)(uint32_t)f.number_value;
		}
	}
	if (!has_type)
		return false;
	if (type != DNSTAP_TYPE_MESSAGE)
		out->has_message = false; /* a message of another kind: none to record */
	return true;
}

static bool type_is_response(int32_t type)
{
	/* AUTH, RESOLVER, CLIENT, FORWARDER, STUB, TOOL and UPDATE responses: 2 to 14, even */
	return type >= 2 && type <= 14 && type % 2 == 0;
}

/* An address of 4 bytes (IPv4, stored IPv4-mapped) or 16; anything else stays all zero. */
static void copy_address(uint8_t out[16], const struct pb_bytes *in)
{
	if (in->has && in->len == 4)
		decode_map_ipv4(out, in->data);
	else if (in->has && in->len == 16)
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

enum malformed_reason dnstap_decode(const uint8_t *frame, size_t len, struct dnstap_decoded *out)
{
	struct dnstap_fields dt = {0};
	if (!read_dnstap(&dt, frame, len))
		return MALFORMED_DNSTAP_PROTOBUF;
	if (!dt.has_message)
		return MALFORMED_DNSTAP_NO_MESSAGE;
	const struct message_fields *m = &dt.message;
	bool response = type_is_response(m->type);
	const struct pb_bytes *wire = response ? &m->response_message : &m->query_message;
	if (!wire->has)
		return MALFORMED_DNSTAP_NO_MESSAGE;

	memset(out, 0, sizeof(*out));
	struct packet_info *p = &out->packet;
	p->ip_version = m->has_family && m->family == FAMILY_INET6 ? 6 : 4;
	p->ip_protocol = m->has_protocol && m->protocol != PROTOCOL_UDP ? 6 : 17;
	/* The query side is the client: it sends queries and receives responses. */
	uint8_t client[16], server[16];
	copy_address(client, &m->query_address);
	copy_address(server, &m->response_address);
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
	if (response ? m->has_response_time : m->has_query_time)
		out->has_time =
		    response ? time_ns(m->response_time_sec, m->response_time_nsec, &out->ts_ns)
			     : time_ns(m->query_time_sec, m->query_time_nsec, &out->ts_ns);
	bool named = m->type > 0 &&
		     (size_t)m->type < sizeof(message_type_names) / sizeof(message_type_names[0]);
	out->origin.type = named ? message_type_names[m->type] : "UNKNOWN";
	out->origin.identity = dt.identity.has ? dt.identity.data : NULL;
	out->origin.identity_len = dt.identity.has ? dt.identity.len : 0;
	out->origin.version = dt.version.has ? dt.version.data : NULL;
	out->origin.version_len = dt.version.has ? dt.version.len : 0;
	return MALFORMED_NONE;
}
