/* VXLAN (RFC 7348): an 8-byte header with the I flag and a 24-bit VNI, then an Ethernet frame. */
#include "bytes.h"
#include "decode_internal.h"

#define VXLAN_HEADER_LEN 8
#define VXLAN_FLAG_I	 0x08

enum decode_result tunnel_vxlan(const uint8_t *udp_payload, size_t len,
				const struct decode_ports *ports, struct packet_info *out,
				const uint8_t *udp)
{
	if (len < VXLAN_HEADER_LEN)
		return decode_malformed(out, MALFORMED_TUNNEL_TRUNCATED);
	if (!(udp_payload[0] & VXLAN_FLAG_I))
		return DECODE_NOT_DNS; /* no valid VNI: not a VXLAN frame we can place */
	uint32_t vni = bytes_be32(udp_payload + 4) >> 8;
	if (!tunnel_enter(out, TUNNEL_VXLAN, true, vni, true, udp, HOP_L4_UDP))
		return decode_malformed(out, MALFORMED_TUNNEL_TOO_DEEP);
	return decode_ethernet(udp_payload + VXLAN_HEADER_LEN, len - VXLAN_HEADER_LEN, ports, out);
}
