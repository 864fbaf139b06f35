/* GRE (RFC 2784, RFC 2890): the optional checksum, key and sequence number words, then IPv4,
 * IPv6, an Ethernet frame (transparent Ethernet bridging), MPLS, PPP or ERSPAN. Version 1, the
 * enhanced GRE of PPTP (RFC 2637), has a key (payload length and call id: the call id is the
 * tunnel id), an optional sequence and acknowledgement number, and carries PPP. */
#include "bytes.h"
#include "decode_internal.h"

#define GRE_FLAG_CHECKSUM 0x8000
#define GRE_FLAG_ROUTING  0x4000
#define GRE_FLAG_KEY	  0x2000
#define GRE_FLAG_SEQUENCE 0x1000
#define GRE_FLAG_ACK	  0x0080
#define GRE_VERSION_MASK  0x0007
#define PROTO_IPV4	  0x0800
#define PROTO_IPV6	  0x86dd
#define PROTO_ETHERNET	  0x6558
#define PROTO_MPLS	  0x8847
#define PROTO_MPLS_M	  0x8848
#define PROTO_ERSPAN_II	  0x88be
#define PROTO_ERSPAN_III  0x22eb
#define PROTO_PPP	  0x880b

enum decode_result tunnel_gre(const uint8_t *gre, size_t len, const struct decode_ports *ports,
			      struct packet_info *out)
{
	if (len < 4)
		return decode_malformed(out, MALFORMED_TUNNEL_TRUNCATED);
	uint16_t flags = bytes_be16(gre);
	uint16_t protocol = bytes_be16(gre + 2);
	int version = flags & GRE_VERSION_MASK;
	if (version > 1 || (flags & GRE_FLAG_ROUTING))
		return DECODE_NOT_DNS; /* unknown, or RFC 1701 source routing */
	if (version == 1 && (protocol != PROTO_PPP || !(flags & GRE_FLAG_KEY)))
		return DECODE_NOT_DNS;
	size_t header_len = 4;
	if (flags & GRE_FLAG_CHECKSUM)
		header_len += 4;
	bool has_key = flags & GRE_FLAG_KEY;
	size_t key_at = header_len;
	if (has_key)
		header_len += 4;
	bool has_sequence = flags & GRE_FLAG_SEQUENCE;
	if (has_sequence)
		header_len += 4;
	if (version == 1 && (flags & GRE_FLAG_ACK))
		header_len += 4;
	if (len < header_len)
		return decode_malformed(out, MALFORMED_TUNNEL_TRUNCATED);
	const uint8_t *inner = gre + header_len;
	size_t inner_len = len - header_len;
	if (protocol == PROTO_ERSPAN_II)
		return tunnel_erspan(gre, inner, inner_len, has_sequence ? 2 : 1, ports, out);
	if (protocol == PROTO_ERSPAN_III)
		return tunnel_erspan(gre, inner, inner_len, 3, ports, out);
	if (protocol != PROTO_IPV4 && protocol != PROTO_IPV6 && protocol != PROTO_ETHERNET &&
	    protocol != PROTO_MPLS && protocol != PROTO_MPLS_M && protocol != PROTO_PPP)
		return DECODE_NOT_DNS;
	uint32_t key = has_key ? bytes_be32(gre + key_at) : 0;
	if (version == 1)
		key &= 0xffff; /* the call id */
	if (!tunnel_enter(out, TUNNEL_GRE, has_key, key, true, gre, HOP_L4_GRE))
		return decode_malformed(out, MALFORMED_TUNNEL_TOO_DEEP);
	switch (protocol) {
	case PROTO_IPV4:
		return decode_ip(4, inner, inner_len, ports, out);
	case PROTO_IPV6:
		return decode_ip(6, inner, inner_len, ports, out);
	case PROTO_ETHERNET:
		return decode_ethernet(inner, inner_len, ports, out);
	case PROTO_PPP:
		return decode_ppp(inner, inner_len, ports, out);
	default:
		return tunnel_mpls(inner, inner_len, ports, out);
	}
}
