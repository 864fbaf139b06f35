/* ERSPAN, carried in GRE (draft-foschiano-erspan): type I (GRE protocol 0x88be without a
 * sequence number: the mirrored Ethernet frame follows GRE directly), type II (0x88be, an 8-byte
 * header) and type III (0x22eb, a 12-byte header and an optional 8-byte platform subheader).
 * The session id is the tunnel id. */
#include "bytes.h"
#include "decode_internal.h"

#define ERSPAN_II_LEN	     8
#define ERSPAN_III_LEN	     12
#define ERSPAN_PLATFORM_LEN  8
#define ERSPAN_III_FLAG_O    0x01 /* an optional platform-specific subheader follows */
#define ERSPAN_FRAME_TYPE_IP 0x02 /* ERSPAN III "ft": 0 Ethernet, 2 IP */

enum decode_result tunnel_erspan(const uint8_t *gre, const uint8_t *header, size_t len, int version,
				 const struct decode_ports *ports, struct packet_info *out)
{
	size_t header_len = 0;
	uint32_t session = 0;
	bool ip_frame = false;
	if (version == 2) {
		header_len = ERSPAN_II_LEN;
		if (len < header_len)
			return decode_malformed(out, MALFORMED_TUNNEL_TRUNCATED);
		if (header[0] >> 4 != 1)
			return DECODE_NOT_DNS;
	} else if (version == 3) {
		header_len = ERSPAN_III_LEN;
		if (len < header_len)
			return decode_malformed(out, MALFORMED_TUNNEL_TRUNCATED);
		if (header[0] >> 4 != 2)
			return DECODE_NOT_DNS;
		if (header[11] & ERSPAN_III_FLAG_O)
			header_len += ERSPAN_PLATFORM_LEN;
		ip_frame = ((header[10] >> 2) & 0x1f) == ERSPAN_FRAME_TYPE_IP;
		if (len < header_len)
			return decode_malformed(out, MALFORMED_TUNNEL_TRUNCATED);
	}
	if (version != 1)
		session = bytes_be16(header + 2) & 0x03ff;
	if (!tunnel_enter(out, TUNNEL_ERSPAN, version != 1, session, true, gre, HOP_L4_GRE))
		return decode_malformed(out, MALFORMED_TUNNEL_TOO_DEEP);
	if (ip_frame)
		return decode_ip(0, header + header_len, len - header_len, ports, out);
	return decode_ethernet(header + header_len, len - header_len, ports, out);
}
