/* Geneve (RFC 8926): an 8-byte header, variable options (skipped whole by their length), then
 * the frame its protocol type names: Ethernet (transparent bridging), IPv4 or IPv6. */
#include "bytes.h"
#include "decode_internal.h"

#define GENEVE_HEADER_LEN 8
#define PROTO_ETHERNET	  0x6558
#define PROTO_IPV4	  0x0800
#define PROTO_IPV6	  0x86dd

enum decode_result tunnel_geneve(const uint8_t *udp_payload, size_t len,
				 const struct decode_ports *ports, struct packet_info *out,
				 const uint8_t *udp)
{
	if (len < GENEVE_HEADER_LEN)
		return decode_malformed(out, MALFORMED_TUNNEL_TRUNCATED);
	if (udp_payload[0] >> 6 != 0)
		return DECODE_NOT_DNS; /* a version this decoder does not know */
	size_t header_len = GENEVE_HEADER_LEN + (size_t)(udp_payload[0] & 0x3f) * 4;
	if (len < header_len)
		return decode_malformed(out, MALFORMED_TUNNEL_TRUNCATED);
	uint16_t protocol = bytes_be16(udp_payload + 2);
	if (protocol != PROTO_ETHERNET && protocol != PROTO_IPV4 && protocol != PROTO_IPV6)
		return DECODE_NOT_DNS;
	uint32_t vni = bytes_be32(udp_payload + 4) >> 8;
	if (!tunnel_enter(out, TUNNEL_GENEVE, true, vni, true, udp, HOP_L4_UDP))
		return decode_malformed(out, MALFORMED_TUNNEL_TOO_DEEP);
	const uint8_t *inner = udp_payload + header_len;
	size_t inner_len = len - header_len;
	if (protocol == PROTO_ETHERNET)
		return decode_ethernet(inner, inner_len, ports, out);
	return decode_ip(protocol == PROTO_IPV4 ? 4 : 6, inner, inner_len, ports, out);
}
