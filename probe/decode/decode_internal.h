/* What the tunnel decoders (probe/tunnel_*.c) share with decode.c: re-entering the link and IP
 * decoders for an inner packet, and the bookkeeping of entering a tunnel. */
#ifndef DNSPROBE_DECODE_INTERNAL_H
#define DNSPROBE_DECODE_INTERNAL_H

#include <string.h>

#include "decode.h"

/* An IPv4 address as packet_info keeps it: IPv4-mapped IPv6 (::ffff:a.b.c.d). */
static inline void decode_map_ipv4(uint8_t dst[16], const uint8_t ipv4[4])
{
	memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	memcpy(dst + 12, ipv4, 4);
}

enum decode_result decode_malformed(struct packet_info *out, enum malformed_reason reason);

/* An inner Ethernet frame (VXLAN, Geneve, GRE bridging, ERSPAN, MPLS pseudowires). */
enum decode_result decode_ethernet(const uint8_t *frame, size_t len,
				   const struct decode_ports *ports, struct packet_info *out);

/* An inner PPP frame (in GRE), with or without the HDLC address and control bytes. */
enum decode_result decode_ppp(const uint8_t *frame, size_t len, const struct decode_ports *ports,
			      struct packet_info *out);

/* An inner IP packet; version 4 or 6, or 0 to take it from the first nibble. */
enum decode_result decode_ip(int version, const uint8_t *ip, size_t len,
			     const struct decode_ports *ports, struct packet_info *out);

/* Inner MPLS label stack (probe/decode/tunnel_mpls.c), from an Ethertype or a GRE protocol. */
enum decode_result tunnel_mpls(const uint8_t *stack, size_t len, const struct decode_ports *ports,
			       struct packet_info *out);

/* The transport-level entries: each is handed what follows its outer header. */
enum decode_result tunnel_vxlan(const uint8_t *udp_payload, size_t len,
				const struct decode_ports *ports, struct packet_info *out,
				const uint8_t *udp);
enum decode_result tunnel_geneve(const uint8_t *udp_payload, size_t len,
				 const struct decode_ports *ports, struct packet_info *out,
				 const uint8_t *udp);
enum decode_result tunnel_gre(const uint8_t *gre, size_t len, const struct decode_ports *ports,
			      struct packet_info *out);
/* version 1 (type I: no ERSPAN header), 2 (type II) or 3 (type III); gre is its GRE header. */
enum decode_result tunnel_erspan(const uint8_t *gre, const uint8_t *header, size_t len, int version,
				 const struct decode_ports *ports, struct packet_info *out);
enum decode_result tunnel_ipip(int inner_version, const uint8_t *ip, size_t len,
			       const struct decode_ports *ports, struct packet_info *out);

/* Records that the packet enters a tunnel of this type: the outermost one's type, id and outer
 * IP endpoints, and the hop (the current IP header when over_ip, and l4 of kind l4_kind).
 * Returns false when that would be more than DECODE_MAX_TUNNELS. */
bool tunnel_enter(struct packet_info *out, enum tunnel_type type, bool has_id, uint32_t id,
		  bool over_ip, const uint8_t *l4, enum hop_l4 l4_kind);

#endif
