/* IP in IP: IPv4-in-IPv4 (RFC 2003), IPv6-in-IPv4 (6in4, RFC 4213), IPv6-in-IPv6 and
 * IPv4-in-IPv6 (RFC 2473): the inner packet follows the outer IP header directly. */
#include "decode_internal.h"

enum decode_result tunnel_ipip(int inner_version, const uint8_t *ip, size_t len,
			       const struct decode_ports *ports, struct packet_info *out)
{
	if (!tunnel_enter(out, TUNNEL_IPIP, false, 0, true, NULL, HOP_L4_NONE))
		return decode_malformed(out, MALFORMED_TUNNEL_TOO_DEEP);
	return decode_ip(inner_version, ip, len, ports, out);
}
