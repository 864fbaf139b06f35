/* MPLS (RFC 3032): a stack of 4-byte label entries down to the one with the bottom-of-stack bit,
 * then IPv4 or IPv6 (told by the first nibble), or a pseudowire with the RFC 4385 control word
 * (first nibble 0) and an Ethernet frame (RFC 4448). The outermost label is the tunnel id. */
#include "bytes.h"
#include "decode_internal.h"

#define MPLS_ENTRY_LEN	    4
#define MPLS_MAX_LABELS	    16
#define MPLS_BOTTOM	    0x100
#define PW_CONTROL_WORD_LEN 4

enum decode_result tunnel_mpls(const uint8_t *stack, size_t len, const struct decode_ports *ports,
			       struct packet_info *out)
{
	if (len < MPLS_ENTRY_LEN)
		return decode_malformed(out, MALFORMED_TUNNEL_TRUNCATED);
	uint32_t outermost = bytes_be32(stack) >> 12;
	size_t offset = 0;
	for (int labels = 0;; labels++) {
		if (labels == MPLS_MAX_LABELS)
			return DECODE_NOT_DNS;
		if (!bytes_have(len, offset, MPLS_ENTRY_LEN))
			return decode_malformed(out, MALFORMED_TUNNEL_TRUNCATED);
		uint32_t entry = bytes_be32(stack + offset);
		offset += MPLS_ENTRY_LEN;
		if (entry & MPLS_BOTTOM)
			break;
	}
	if (!tunnel_enter(out, TUNNEL_MPLS, true, outermost, false, NULL, HOP_L4_NONE))
		return decode_malformed(out, MALFORMED_TUNNEL_TOO_DEEP);
	if (!bytes_have(len, offset, 1))
		return decode_malformed(out, MALFORMED_TUNNEL_TRUNCATED);
	const uint8_t *payload = stack + offset;
	size_t payload_len = len - offset;
	switch (payload[0] >> 4) {
	case 4:
	case 6:
		return decode_ip(0, payload, payload_len, ports, out);
	case 0:
		if (payload_len < PW_CONTROL_WORD_LEN)
			return decode_malformed(out, MALFORMED_TUNNEL_TRUNCATED);
		return decode_ethernet(payload + PW_CONTROL_WORD_LEN,
				       payload_len - PW_CONTROL_WORD_LEN, ports, out);
	default:
		return DECODE_NOT_DNS;
	}
}
