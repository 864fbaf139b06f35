/* The direction-normalised 5-tuple flow key (docs/architecture.md, "The flow key"): both directions
 * of a flow give the same 38 bytes; endpoint A is the lower (address, port) pair in byte order. */
#ifndef DNSPROBE_FLOW_KEY_H
#define DNSPROBE_FLOW_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "address_text.h"
#include "decode.h"

#define FLOW_KEY_LEN 38
/* The layout: IP version, protocol, endpoint A's address (16 bytes, IPv4 mapped), endpoint B's,
 * A's port, B's port (big-endian). */
#define FLOW_KEY_VERSION   0
#define FLOW_KEY_PROTOCOL  1
#define FLOW_KEY_ADDRESS_A 2
#define FLOW_KEY_ADDRESS_B 18
#define FLOW_KEY_PORT_A	   34
#define FLOW_KEY_PORT_B	   36
/* "udp [" + 39 + "]:65535 [" + 39 + "]:65535" and a NUL fit in 104 bytes. */
#define FLOW_KEY_TEXT_MAX 104

struct flow_key {
	uint8_t bytes[FLOW_KEY_LEN];
};

/* Builds the key of a decoded packet; returns true when the sender is endpoint A. */
bool flow_key_build(const struct packet_info *p, struct flow_key *key);

/* "udp 192.0.2.1:53 198.51.100.7:40000" or "udp [2001:db8::1]:53 [2001:db8::2]:40000". */
size_t flow_key_text(const struct flow_key *key, char *out, size_t size);

/* Lower-case hex of the 38 bytes: 76 characters and a NUL. */
void flow_key_hex(const struct flow_key *key, char out[FLOW_KEY_LEN * 2 + 1]);

#endif
