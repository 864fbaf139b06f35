/* The encoder interface: how one DNS message becomes a record value (json, raw, dnstap) and how
 * its flow becomes a record key (binary, text, community-id). The worker builds a dns_event
 * after parse (and the stages after it: matching, policy), and hands it to the value encoder the
 * user chose; the sink frames what comes out (docs/architecture.md, "Interfaces"). */
#ifndef DNSPROBE_ENCODER_H
#define DNSPROBE_ENCODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

struct packet_info;
struct flow_key;
struct dns_message;
struct dns_match_result;

/* Where a message came from. */
enum event_input {
	EVENT_INPUT_WIRE,  /* a captured packet (live or replay) */
	EVENT_INPUT_DNSTAP /* a dnstap frame a resolver sent */
};

/* For a message from a dnstap frame: what the sender said of it. Bytes are not NUL-terminated. */
struct dnstap_origin {
	const char *type; /* the Message.type name, e.g. "CLIENT_QUERY" */
	const uint8_t *identity;
	size_t identity_len;
	const uint8_t *version;
	size_t version_len;
};

/* What the stages after parse know about one DNS message. Pointers stay valid while the
 * encoder runs, not after. */
struct dns_event {
	int64_t
	    timestamp_ns; /* capture time (for dnstap input, the sender's), ns since the epoch */
	const struct frame *frame; /* as captured; NULL for messages not taken from a frame */
	int link_type;
	enum event_input input;
	const struct packet_info *packet; /* the decoded headers (inner ones for tunnels) */
	const struct flow_key *key;
	bool sender_is_a; /* the message went from endpoint A to endpoint B of the key */
	/* The DNS message as it was on the wire; for reassembled messages the rebuilt message. */
	const uint8_t *dns;
	size_t dns_len;
	bool dns_truncated; /* the capture cut the message short */
	const struct dns_message *message;
	/* A datagram rebuilt from fragments that carried a tunnel: its headers and transport bytes,
	 * which the frame no longer holds (for raw values). NULL otherwise. */
	const struct packet_info *datagram;
	const uint8_t *datagram_l4;
	size_t datagram_len;
	/* Query/response matching (dns/dns_match.h): for an answer matched to its query, the
	 * query's time and size and the response time. NULL when matching did not run. */
	const struct dns_match_result *match;
	/* Classification (policy/policy.h): the category of the rule the question matched and that
	 * rule's domain in wire form (no root label); category NULL when no rule matched. */
	const char *category;
	const uint8_t *rule;
	size_t rule_len;
	/* For EVENT_INPUT_DNSTAP: the sender's view; frame holds the Dnstap protobuf as received.
	 */
	const struct dnstap_origin *dnstap;
};

/* Settings an encoder may use, the same for every worker. */
struct encoder_settings {
	const char *observer_name; /* --observer-name (default: the host name) */
};

struct value_encoder {
	const char *name; /* --format NAME */
	bool binary;	  /* false: text, one record per line in files */
	/* Files of binary values are Frame Streams of this content type; NULL: binary values go
	 * only to Kafka. */
	const char *frame_stream_type;
	/* The value shows the message's answers: the parser renders them only then. */
	bool shows_answers;
	/* Per-worker state; NULL when the encoder keeps none. Returns NULL when out of memory. */
	void *(*state_new)(const struct encoder_settings *settings);
	void (*state_free)(void *state); /* NULL when state_new is NULL */
	/* Writes the value into out (room bytes); returns its length, or 0 when it does not fit
	 * (counted as a record too large). */
	size_t (*encode)(void *state, const struct dns_event *event, uint8_t *out, size_t room);
};

/* Longest key any key encoder writes. */
#define KEY_ENCODED_MAX 112

struct key_encoder {
	const char *name; /* --key-format NAME */
	/* Writes the key of the flow into out (KEY_ENCODED_MAX bytes); returns its length. */
	size_t (*encode)(const struct flow_key *key, uint8_t out[KEY_ENCODED_MAX]);
};

/* The encoders there are (encode/encoders.c); NULL for a name there is none of. */
const struct value_encoder *value_encoder_find(const char *name);
const struct key_encoder *key_encoder_find(const char *name);

/* The names, "json|raw|dnstap", for help and error messages. */
const char *value_encoder_names(void);
const char *key_encoder_names(void);

#endif
