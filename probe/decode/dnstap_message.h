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

/* The largest frame the listener takes (its --max-frame-size is at most this). */
#define DNSTAP_FRAME_MAX (1024 * 1024)

struct dnstap_decoded {
	struct packet_info packet; /* src: the sender of the message */
	const uint8_t *dns;	   /* the DNS message, inside the frame */
	size_t dns_len;
	bool has_time; /* the message carried a query or response time the probe can keep */
	int64_t ts_ns;
	struct dnstap_origin origin; /* points into the frame */
};

/* Returns MALFORMED_NONE, or why the frame gives no DNS message. */
enum malformed_reason dnstap_decode(const uint8_t *frame, size_t len, struct dnstap_decoded *out);

#endif
