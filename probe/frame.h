/* One captured frame, as every input hands it to the runner and the runner to a worker. */
#ifndef DNSPROBE_FRAME_H
#define DNSPROBE_FRAME_H

#include <stdint.h>

/* A frame that is not a link-layer frame but one dnstap message (a Frame Streams data frame's
 * payload, a serialized Dnstap protobuf), from the dnstap listener. Outside the range of pcap
 * LINKTYPE_ values the decoder knows. */
#define FRAME_LINK_DNSTAP 0x10000

struct frame {
	const uint8_t *data;
	uint32_t caplen;
	uint32_t wirelen;
	int64_t ts_ns; /* capture time, nanoseconds since the epoch */
	int link_type; /* pcap LINKTYPE_ value, or FRAME_LINK_DNSTAP */
};

#endif
