/* A dnstap frame (one serialized Dnstap protobuf from a resolver) decoded into what a wire
 * capture gives: the addresses and ports as packet_info (the sender as source), the DNS message
 * bytes and its time, and where it came from (docs/dnstap.md, "Input"). */
#ifndef DNSPROBE_DNSTAP_MESSAGE_H
#define DNSPROBE_DNSTAP_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "decode.h"
#include "encoder.h"

/* Decoding state: an arena the protobuf is unpacked into, so nothing is allocated per frame. */
struct dnstap_decoder;

/* The largest frame the decoder takes (the listener's --max-frame-size is at most this). */
#define DNSTAP_FRAME_MAX (1024 * 1024)

struct dnstap_decoder *dnstap_decoder_new(void);
void dnstap_decoder_free(struct dnstap_decoder *d);

struct dnstap_decoded {
	struct packet_info packet; /* src: the sender of the message */
	const uint8_t *dns;	   /* the DNS message; valid until the next decode */
	size_t dns_len;
	bool has_time; /* the message carried a query or response time the probe can keep */
	int64_t ts_ns;
	struct dnstap_origin origin; /* points into the decoder; valid until the next decode */
};

/* Returns MALFORMED_NONE, or why the frame gives no DNS message. */
enum malformed_reason dnstap_decode(struct dnstap_decoder *d, const uint8_t *frame, size_t len,
				    struct dnstap_decoded *out);

#endif
