/* The dnstap schema's field numbers and values (proto/dnstap.proto) and the protocol buffers
 * wire types (protobuf.dev, "Encoding"), for the hand-written dnstap writer (encode/) and reader
 * (decode/). */
#ifndef DNSPROBE_DNSTAP_WIRE_H
#define DNSPROBE_DNSTAP_WIRE_H

enum pb_wire_type { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_BYTES = 2, WIRE_FIXED32 = 5 };

enum dnstap_field {
	/* Dnstap */
	DNSTAP_IDENTITY = 1,
	DNSTAP_VERSION = 2,
	DNSTAP_EXTRA = 3,
	DNSTAP_MESSAGE = 14,
	DNSTAP_TYPE = 15,
	/* Message */
	MESSAGE_TYPE = 1,
	MESSAGE_SOCKET_FAMILY = 2,
	MESSAGE_SOCKET_PROTOCOL = 3,
	MESSAGE_QUERY_ADDRESS = 4,
	MESSAGE_RESPONSE_ADDRESS = 5,
	MESSAGE_QUERY_PORT = 6,
	MESSAGE_RESPONSE_PORT = 7,
	MESSAGE_QUERY_TIME_SEC = 8,
	MESSAGE_QUERY_TIME_NSEC = 9,
	MESSAGE_QUERY_MESSAGE = 10,
	MESSAGE_QUERY_ZONE = 11,
	MESSAGE_RESPONSE_TIME_SEC = 12,
	MESSAGE_RESPONSE_TIME_NSEC = 13,
	MESSAGE_RESPONSE_MESSAGE = 14,
};

enum dnstap_value {
	DNSTAP_TYPE_MESSAGE = 1,
	MESSAGE_TYPE_CLIENT_QUERY = 5,
	MESSAGE_TYPE_CLIENT_RESPONSE = 6,
	FAMILY_INET = 1,
	FAMILY_INET6 = 2,
	PROTOCOL_UDP = 1,
	PROTOCOL_TCP = 2,
};

#endif
