/* Link, network and transport header decoding. Every read is checked against the captured length;
 * the IP and UDP length fields bound the payload but are never trusted beyond the capture. */
#include "decode.h"

#include <string.h>

#include "bytes.h"
#include "decode_internal.h"

#define ETHERTYPE_IPV4	 0x0800
#define ETHERTYPE_IPV6	 0x86dd
#define ETHERTYPE_VLAN	 0x8100
#define ETHERTYPE_QINQ	 0x88a8
#define ETHERTYPE_QINQ_1 0x9100
#define ETHERTYPE_PPPOE	 0x8864
#define ETHERTYPE_MPLS	 0x8847
#define ETHERTYPE_MPLS_M 0x8848
#define IPPROTO_IPIP	 4
#define IPPROTO_IPV6_IN	 41
#define IPPROTO_GRE	 47
#define PPP_IPV4	 0x0021
#define PPP_IPV6	 0x0057
#define MAX_VLAN_TAGS	 8
#define MAX_IPV6_EXT	 8

enum l3_kind { L3_NONE, L3_IPV4, L3_IPV6, L3_MPLS };

bool decode_link_type_supported(int link_type)
{
	switch (link_type) {
	case LINK_NULL:
	case LINK_ETHERNET:
	case LINK_PPP:
	case LINK_RAW:
	case LINK_RAW_OPENBSD:
	case LINK_RAW_LINKTYPE:
	case LINK_LINUX_SLL:
	case LINK_LOOP:
	case LINK_IPV4:
	case LINK_IPV6:
	case LINK_LINUX_SLL2:
		return true;
	default:
		return false;
	}
}

static const char *const tunnel_names[] = {
    [TUNNEL_NONE] = "none", [TUNNEL_VXLAN] = "vxlan",	[TUNNEL_GENEVE] = "geneve",
    [TUNNEL_GRE] = "gre",   [TUNNEL_ERSPAN] = "erspan", [TUNNEL_MPLS] = "mpls",
    [TUNNEL_IPIP] = "ipip",
};

const char *tunnel_type_name(enum tunnel_type type)
{
	return type <= TUNNEL_IPIP ? tunnel_names[type] : "unknown";
}

static enum decode_result malformed(struct packet_info *out, enum malformed_reason reason)
{
	out->malformed = reason;
	return DECODE_MALFORMED;
}

enum decode_result decode_malformed(struct packet_info *out, enum malformed_reason reason)
{
	return malformed(out, reason);
}

/* Where ptr is in the frame, when it is in it. */
static bool frame_offset(const struct packet_info *out, const uint8_t *ptr, uint32_t *offset)
{
	if (!bytes_span_inside(out->frame, out->frame_len, ptr, 0))
		return false;
	*offset = (uint32_t)(ptr - out->frame);
	return true;
}

bool tunnel_enter(struct packet_info *out, enum tunnel_type type, bool has_id, uint32_t id,
		  bool over_ip, const uint8_t *l4, enum hop_l4 l4_kind)
{
	if (out->tunnel_depth == DECODE_MAX_TUNNELS)
		return false;
	if (out->tunnel_depth == 0) {
		out->tunnel_type = (uint8_t)type;
		out->tunnel_has_id = has_id;
		out->tunnel_id = id;
		out->tunnel_has_endpoints = over_ip;
		if (over_ip) {
			memcpy(out->tunnel_src, out->src_addr, 16);
			memcpy(out->tunnel_dst, out->dst_addr, 16);
		}
	}
	struct tunnel_hop *hop = &out->hops[out->tunnel_depth++];
	hop->ip_version = over_ip ? out->ip_version : 0;
	hop->ip_offset = out->l3_offset;
	hop->l4_kind = (uint8_t)l4_kind;
	hop->l4_offset = 0;
	if (l4_kind != HOP_L4_NONE && !frame_offset(out, l4, &hop->l4_offset))
		out->hops_in_frame = false;
	return true;
}

static enum l3_kind l3_from_ethertype(uint16_t ethertype)
{
	if (ethertype == ETHERTYPE_IPV4)
		return L3_IPV4;
	if (ethertype == ETHERTYPE_IPV6)
		return L3_IPV6;
	if (ethertype == ETHERTYPE_MPLS || ethertype == ETHERTYPE_MPLS_M)
		return L3_MPLS;
	return L3_NONE;
}

static enum l3_kind l3_from_ppp(uint16_t protocol)
{
	if (protocol == PPP_IPV4)
		return L3_IPV4;
	if (protocol == PPP_IPV6)
		return L3_IPV6;
	return L3_NONE;
}

/* The first byte of a raw IP packet says its version. */
static enum l3_kind l3_from_version(const uint8_t *frame, size_t len)
{
	if (len < 1)
		return L3_NONE;
	switch (frame[0] >> 4) {
	case 4:
		return L3_IPV4;
	case 6:
		return L3_IPV6;
	default:
		return L3_NONE;
	}
}

/* BSD address families as they appear in DLT_NULL and DLT_LOOP headers. */
static enum l3_kind l3_from_bsd_family(uint32_t family)
{
	switch (family) {
	case 2:
		return L3_IPV4;
	case 10: /* Linux */
	case 24: /* NetBSD, OpenBSD */
	case 28: /* FreeBSD */
	case 30: /* macOS */
		return L3_IPV6;
	default:
		return L3_NONE;
	}
}

/* PPP in HDLC-like framing: optional address/control bytes 0xff 0x03, then the protocol. */
static enum decode_result skip_ppp(const uint8_t *frame, size_t len, size_t *offset,
				   enum l3_kind *l3, struct packet_info *out)
{
	if (bytes_have(len, *offset, 2) && frame[*offset] == 0xff && frame[*offset + 1] == 0x03)
		*offset += 2;
	if (!bytes_have(len, *offset, 2))
		return malformed(out, MALFORMED_LINK_TRUNCATED);
	*l3 = l3_from_ppp(bytes_be16(frame + *offset));
	*offset += 2;
	return DECODE_UDP;
}

static enum decode_result skip_ethernet(const uint8_t *frame, size_t len, size_t *offset,
					enum l3_kind *l3, struct packet_info *out)
{
	if (!bytes_have(len, 0, 14))
		return malformed(out, MALFORMED_LINK_TRUNCATED);
	uint16_t ethertype = bytes_be16(frame + 12);
	*offset = 14;
	for (int tags = 0; ethertype == ETHERTYPE_VLAN || ethertype == ETHERTYPE_QINQ ||
			   ethertype == ETHERTYPE_QINQ_1;
	     tags++) {
		if (tags == MAX_VLAN_TAGS || !bytes_have(len, *offset, 4))
			return malformed(out, MALFORMED_LINK_TRUNCATED);
		/* The outermost tag and the innermost one so far (ECS network.inner: the
		 * innermost). */
		unsigned slot =
		    out->vlan_count < DECODE_MAX_VLANS ? out->vlan_count : DECODE_MAX_VLANS - 1;
		out->vlan_ids[slot] = bytes_be16(frame + *offset) & 0x0fff;
		if (out->vlan_count < UINT8_MAX)
			out->vlan_count++;
		ethertype = bytes_be16(frame + *offset + 2);
		*offset += 4;
	}
	if (ethertype == ETHERTYPE_PPPOE) {
		if (!bytes_have(len, *offset, 6))
			return malformed(out, MALFORMED_LINK_TRUNCATED);
		*offset += 6;
		return skip_ppp(frame, len, offset, l3, out);
	}
	*l3 = l3_from_ethertype(ethertype);
	return DECODE_UDP;
}

/* Finds where the IP header starts. Returns DECODE_UDP to mean "go on". */
static enum decode_result skip_link(int link_type, const uint8_t *frame, size_t len, size_t *offset,
				    enum l3_kind *l3, struct packet_info *out)
{
	*offset = 0;
	*l3 = L3_NONE;
	switch (link_type) {
	case LINK_ETHERNET:
		return skip_ethernet(frame, len, offset, l3, out);
	case LINK_LINUX_SLL:
		if (!bytes_have(len, 0, 16))
			return malformed(out, MALFORMED_LINK_TRUNCATED);
		*l3 = l3_from_ethertype(bytes_be16(frame + 14));
		*offset = 16;
		return DECODE_UDP;
	case LINK_LINUX_SLL2:
		if (!bytes_have(len, 0, 20))
			return malformed(out, MALFORMED_LINK_TRUNCATED);
		*l3 = l3_from_ethertype(bytes_be16(frame));
		*offset = 20;
		return DECODE_UDP;
	case LINK_NULL:
		if (!bytes_have(len, 0, 4))
			return malformed(out, MALFORMED_LINK_TRUNCATED);
		/* Host byte order of the machine that captured: accept both. */
		*l3 = l3_from_bsd_family(bytes_le32(frame));
		if (*l3 == L3_NONE)
			*l3 = l3_from_bsd_family(bytes_be32(frame));
		*offset = 4;
		return DECODE_UDP;
	case LINK_LOOP:
		if (!bytes_have(len, 0, 4))
			return malformed(out, MALFORMED_LINK_TRUNCATED);
		*l3 = l3_from_bsd_family(bytes_be32(frame));
		*offset = 4;
		return DECODE_UDP;
	case LINK_PPP:
		return skip_ppp(frame, len, offset, l3, out);
	case LINK_RAW:
	case LINK_RAW_OPENBSD:
	case LINK_RAW_LINKTYPE:
		*l3 = l3_from_version(frame, len);
		return DECODE_UDP;
	case LINK_IPV4:
		*l3 = L3_IPV4;
		return DECODE_UDP;
	case LINK_IPV6:
		*l3 = L3_IPV6;
		return DECODE_UDP;
	default:
		return DECODE_NOT_DNS;
	}
}

/* On success *l4 and *l4_len delimit the transport header and payload. */
static enum decode_result decode_ipv4(const uint8_t *ip, size_t len, const uint8_t **l4,
				      size_t *l4_len, struct packet_info *out)
{
	if (len < 20)
		return malformed(out, MALFORMED_IP_TRUNCATED);
	size_t header_len = (size_t)(ip[0] & 0x0f) * 4;
	size_t total_len = bytes_be16(ip + 2);
	if ((ip[0] >> 4) != 4 || header_len < 20 || total_len < header_len)
		return malformed(out, MALFORMED_IP_BAD_HEADER);
	if (len < header_len)
		return malformed(out, MALFORMED_IP_TRUNCATED);
	if (total_len > len) {
		out->truncated = true;
		total_len = len;
	}
	out->ip_version = 4;
	out->ip_protocol = ip[9];
	decode_map_ipv4(out->src_addr, ip + 12);
	decode_map_ipv4(out->dst_addr, ip + 16);
	*l4 = ip + header_len;
	*l4_len = total_len - header_len;
	uint16_t fragment = bytes_be16(ip + 6);
	if (fragment & 0x3fff) { /* more-fragments flag or a non-zero offset */
		out->fragment_id = bytes_be16(ip + 4);
		out->fragment_offset = (uint32_t)(fragment & 0x1fff) * 8;
		out->more_fragments = fragment & 0x2000;
		out->payload = *l4;
		out->payload_len = *l4_len;
		return DECODE_FRAGMENT;
	}
	return DECODE_UDP;
}

static bool is_ipv6_extension(uint8_t next)
{
	return next == 0 || next == 43 || next == 60 || next == 51 || next == 135 || next == 139 ||
	       next == 140;
}

static enum decode_result decode_ipv6(const uint8_t *ip, size_t len, const uint8_t **l4,
				      size_t *l4_len, struct packet_info *out)
{
	if (len < 40)
		return malformed(out, MALFORMED_IP_TRUNCATED);
	if ((ip[0] >> 4) != 6)
		return malformed(out, MALFORMED_IP_BAD_HEADER);
	size_t end = 40 + (size_t)bytes_be16(ip + 4);
	if (end > len) {
		out->truncated = true;
		end = len;
	}
	out->ip_version = 6;
	memcpy(out->src_addr, ip + 8, 16);
	memcpy(out->dst_addr, ip + 24, 16);
	uint8_t next = ip[6];
	size_t offset = 40;
	for (int n = 0; is_ipv6_extension(next); n++) {
		if (n == MAX_IPV6_EXT || !bytes_have(end, offset, 8))
			return malformed(out, MALFORMED_IPV6_EXT_TRUNCATED);
		size_t ext_len = next == 51 ? ((size_t)ip[offset + 1] + 2) * 4
					    : ((size_t)ip[offset + 1] + 1) * 8;
		if (!bytes_have(end, offset, ext_len))
			return malformed(out, MALFORMED_IPV6_EXT_TRUNCATED);
		next = ip[offset];
		offset += ext_len;
	}
	out->ip_protocol = next;
	if (next == 44) {
		if (!bytes_have(end, offset, 8))
			return malformed(out, MALFORMED_IPV6_EXT_TRUNCATED);
		uint16_t fragment = bytes_be16(ip + offset + 2);
		out->ip_protocol = ip[offset];
		out->fragment_id = bytes_be32(ip + offset + 4);
		out->fragment_offset = (uint32_t)(fragment >> 3) * 8;
		out->more_fragments = fragment & 1;
		out->payload = ip + offset + 8;
		out->payload_len = end - offset - 8;
		return DECODE_FRAGMENT;
	}
	*l4 = ip + offset;
	*l4_len = end - offset;
	return DECODE_UDP;
}

static bool on_dns_port(const struct port_set *ports, const struct packet_info *p)
{
	return port_set_has(ports, p->src_port) || port_set_has(ports, p->dst_port);
}

/* The UDP payload as the length field bounds it; MALFORMED when that length is wrong. */
static enum decode_result udp_payload(const uint8_t *l4, size_t len, struct packet_info *out,
				      const uint8_t **payload, size_t *payload_len)
{
	size_t udp_len = bytes_be16(l4 + 4);
	if (udp_len == 0 && out->ip_version == 6)
		udp_len = len; /* jumbogram: the length lives in a hop-by-hop option */
	if (udp_len < 8)
		return malformed(out, MALFORMED_UDP_BAD_LENGTH);
	if (udp_len > len) {
		if (!out->truncated)
			return malformed(out, MALFORMED_UDP_BAD_LENGTH);
		udp_len = len;
	}
	*payload = l4 + 8;
	*payload_len = udp_len - 8;
	return DECODE_UDP;
}

/* A UDP tunnel is recognised by its destination port, as RFC 7348 and RFC 8926 assign it. */
static enum decode_result decode_udp_tunnel(const uint8_t *l4, size_t len,
					    const struct decode_ports *ports,
					    struct packet_info *out, bool vxlan)
{
	const uint8_t *payload;
	size_t payload_len;
	enum decode_result result = udp_payload(l4, len, out, &payload, &payload_len);
	if (result != DECODE_UDP)
		return result;
	if (vxlan)
		return tunnel_vxlan(payload, payload_len, ports, out, l4);
	return tunnel_geneve(payload, payload_len, ports, out, l4);
}

static enum decode_result decode_udp(const uint8_t *l4, size_t len,
				     const struct decode_ports *ports, struct packet_info *out)
{
	if (len < 8)
		return malformed(out, out->truncated ? MALFORMED_L4_TRUNCATED
						     : MALFORMED_UDP_BAD_LENGTH);
	out->src_port = bytes_be16(l4);
	out->dst_port = bytes_be16(l4 + 2);
	if (!on_dns_port(&ports->dns, out)) {
		if (port_set_has(&ports->vxlan, out->dst_port))
			return decode_udp_tunnel(l4, len, ports, out, true);
		if (port_set_has(&ports->geneve, out->dst_port))
			return decode_udp_tunnel(l4, len, ports, out, false);
		return DECODE_NOT_DNS;
	}
	return udp_payload(l4, len, out, &out->payload, &out->payload_len);
}

static enum decode_result decode_tcp(const uint8_t *l4, size_t len, const struct port_set *ports,
				     struct packet_info *out)
{
	if (len < 20)
		return malformed(out, MALFORMED_L4_TRUNCATED);
	out->src_port = bytes_be16(l4);
	out->dst_port = bytes_be16(l4 + 2);
	if (!on_dns_port(ports, out))
		return DECODE_NOT_DNS;
	size_t header_len = (size_t)(l4[12] >> 4) * 4;
	if (header_len < 20 || header_len > len)
		return malformed(out, MALFORMED_L4_TRUNCATED);
	out->tcp_seq = bytes_be32(l4 + 4);
	out->tcp_flags = l4[13];
	out->payload = l4 + header_len;
	out->payload_len = len - header_len;
	return DECODE_TCP;
}

static enum decode_result transport(const uint8_t *l4, size_t len, const struct decode_ports *ports,
				    struct packet_info *out)
{
	switch (out->ip_protocol) {
	case 17:
		return decode_udp(l4, len, ports, out);
	case 6:
		return decode_tcp(l4, len, &ports->dns, out);
	case IPPROTO_GRE:
		return tunnel_gre(l4, len, ports, out);
	case IPPROTO_IPIP:
		return tunnel_ipip(4, l4, len, ports, out);
	case IPPROTO_IPV6_IN:
		return tunnel_ipip(6, l4, len, ports, out);
	default:
		return DECODE_NOT_DNS;
	}
}

enum decode_result decode_ip(int version, const uint8_t *ip, size_t len,
			     const struct decode_ports *ports, struct packet_info *out)
{
	if (version == 0)
		version = len ? ip[0] >> 4 : 0;
	uint32_t offset;
	if (frame_offset(out, ip, &offset) && offset <= UINT16_MAX)
		out->l3_offset = (uint16_t)offset;
	else
		out->hops_in_frame = false;
	const uint8_t *l4 = NULL;
	size_t l4_len = 0;
	enum decode_result result;
	if (version == 4)
		result = decode_ipv4(ip, len, &l4, &l4_len, out);
	else if (version == 6)
		result = decode_ipv6(ip, len, &l4, &l4_len, out);
	else
		return len ? DECODE_NOT_DNS : malformed(out, MALFORMED_IP_TRUNCATED);
	if (result != DECODE_UDP)
		return result;
	return transport(l4, l4_len, ports, out);
}

static enum decode_result decode_link(int link_type, const uint8_t *frame, size_t len,
				      const struct decode_ports *ports, struct packet_info *out)
{
	size_t offset;
	enum l3_kind l3;
	enum decode_result result = skip_link(link_type, frame, len, &offset, &l3, out);
	if (result != DECODE_UDP)
		return result;
	switch (l3) {
	case L3_IPV4:
		return decode_ip(4, frame + offset, len - offset, ports, out);
	case L3_IPV6:
		return decode_ip(6, frame + offset, len - offset, ports, out);
	case L3_MPLS:
		return tunnel_mpls(frame + offset, len - offset, ports, out);
	default:
		return DECODE_NOT_DNS;
	}
}

enum decode_result decode_ethernet(const uint8_t *frame, size_t len,
				   const struct decode_ports *ports, struct packet_info *out)
{
	return decode_link(LINK_ETHERNET, frame, len, ports, out);
}

enum decode_result decode_ppp(const uint8_t *frame, size_t len, const struct decode_ports *ports,
			      struct packet_info *out)
{
	return decode_link(LINK_PPP, frame, len, ports, out);
}

/* Inside a tunnel, a frame cut short is the tunnel's: its own reason. */
static enum decode_result finish(enum decode_result result, struct packet_info *out)
{
	if (result != DECODE_MALFORMED || out->tunnel_depth == 0)
		return result;
	switch (out->malformed) {
	case MALFORMED_LINK_TRUNCATED:
	case MALFORMED_IP_TRUNCATED:
	case MALFORMED_IPV6_EXT_TRUNCATED:
	case MALFORMED_L4_TRUNCATED:
		out->malformed = MALFORMED_TUNNEL_TRUNCATED;
		break;
	default:
		break;
	}
	return result;
}

enum decode_result decode_transport(const uint8_t *l4, size_t len, const struct decode_ports *ports,
				    struct packet_info *out)
{
	return finish(transport(l4, len, ports, out), out);
}

enum decode_result decode_frame(int link_type, const uint8_t *frame, size_t len,
				const struct decode_ports *ports, struct packet_info *out)
{
	memset(out, 0, offsetof(struct packet_info, payload));
	out->payload = NULL;
	out->payload_len = 0;
	out->malformed = MALFORMED_NONE;
	out->frame = frame;
	out->frame_len = len;
	out->hops_in_frame = true;
	return finish(decode_link(link_type, frame, len, ports, out), out);
}
