/* The raw value encoder: the frame as captured when the message lies in it; else (rebuilt from
 * fragments or from several TCP segments) one packet rebuilt around the whole message
 * (raw_packet.c). */
#include "value_raw.h"

#include <string.h>

#include "bytes.h"
#include "raw_packet.h"

static size_t raw_encode(void *state, const struct dns_event *e, uint8_t *out, size_t room)
{
	(void)state;
	const struct frame *frame = e->frame;
	if (!frame)
		return 0;
	if (bytes_span_inside(frame->data, frame->caplen, e->dns, e->dns_len)) {
		if (frame->caplen > room)
			return 0;
		memcpy(out, frame->data, frame->caplen);
		return frame->caplen;
	}
	if (e->datagram && bytes_span_inside(e->datagram_l4, e->datagram_len, e->dns, e->dns_len))
		return raw_packet_rebuild_datagram(out, room, frame->data, frame->caplen,
						   e->datagram, e->datagram_l4, e->datagram_len);
	return raw_packet_rebuild(out, room, frame->data, frame->caplen, e->packet, e->dns,
				  e->dns_len);
}

const struct value_encoder value_raw = {
    .name = "raw",
    .binary = true,
    .encode = raw_encode,
};
