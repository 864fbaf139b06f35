/* Link, network and transport header decoding: turns captured frame bytes into addresses, ports,
 * VLAN tags and the transport payload, or says which accounting bucket the frame belongs to. */
#ifndef DNSPROBE_DECODE_H
#define DNSPROBE_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "port_set.h"

/* Link types, numbered as LINKTYPE_* / DLT_* of libpcap on Linux. */
enum link_type {
	LINK_NULL = 0,
	LINK_ETHERNET = 1,
	LINK_PPP = 9,
	LINK_RAW = 12,
	LINK_RAW_OPENBSD = 14,
	LINK_LINUX_SLL = 113,
	LINK_RAW_LINKTYPE = 101,
	LINK_LOOP = 108,
	LINK_IPV4 = 228,
	LINK_IPV6 = 229,
	LINK_LINUX_SLL2 = 276,
};

bool decode_link_type_supported(int link_type);

enum decode_result {
	DECODE_UDP,	 /* UDP datagram with a port of interest: payload is set */
	DECODE_TCP,	 /* TCP segment with a port of interest: payload is set */
	DECODE_FRAGMENT, /* an IPv4 or IPv6 fragment: payload is the fragment's data */
	DECODE_NOT_DNS,	 /* well-formed but not for us */
	DECODE_MALFORMED /* see packet_info.malformed */
};

#define DECODE_MAX_VLANS 2
/* Tunnels decapsulated inside one another, at most; one more is MALFORMED_TUNNEL_TOO_DEEP. */
#define DECODE_MAX_TUNNELS 4

/* The tunnel kinds of dnsprobe.tunnel.type (probe/tunnel_*.c). */
enum tunnel_type {
	TUNNEL_NONE,
	TUNNEL_VXLAN,
	TUNNEL_GENEVE,
	TUNNEL_GRE,
	TUNNEL_ERSPAN,
	TUNNEL_MPLS,
	TUNNEL_IPIP,
};

const char *tunnel_type_name(enum tunnel_type type);

/* The headers with a length or checksum around an inner packet, as offsets in the frame, so that
 * raw_packet.c can rebuild a tunnelled packet; l4_kind says what is at l4_offset. */
enum hop_l4 { HOP_L4_NONE, HOP_L4_UDP, HOP_L4_GRE };

struct tunnel_hop {
	uint32_t ip_offset; /* the IP header that carries the tunnel */
	uint32_t l4_offset; /* its UDP or GRE header */
	uint8_t ip_version; /* 0: the tunnel is not carried by IP (MPLS over Ethernet) */
	uint8_t l4_kind;
};

struct packet_info {
	uint8_t ip_version; /* 4 or 6 */
	uint8_t ip_protocol;
	uint8_t src_addr[16]; /* IPv4 as IPv4-mapped IPv6 */
	uint8_t dst_addr[16];
	uint16_t src_port;
	uint16_t dst_port;
	uint8_t vlan_count; /* tags seen; kept: the outermost, then the innermost */
	uint16_t vlan_ids[DECODE_MAX_VLANS];
	bool truncated;	    /* the capture holds fewer bytes than the headers say */
	uint16_t l3_offset; /* where the IP header starts in the frame: the link header's length */
	/* Tunnels: the outermost one the packet came through (dnsprobe.tunnel), and the hops of
	 * every one, outer first. hops_in_frame is false when the inner headers are not at their
	 * offsets in the frame (they came out of a reassembled datagram). */
	uint8_t tunnel_depth;
	uint8_t tunnel_type; /* enum tunnel_type */
	bool tunnel_has_id;
	bool tunnel_has_endpoints;
	uint32_t tunnel_id;
	uint8_t tunnel_src[16]; /* outer IP endpoints of the outermost tunnel, IPv4-mapped */
	uint8_t tunnel_dst[16];
	bool hops_in_frame;
	struct tunnel_hop hops[DECODE_MAX_TUNNELS];
	/* For DECODE_FRAGMENT: the fragment's place in its datagram; payload is its data. */
	uint32_t fragment_id;
	uint32_t fragment_offset; /* bytes */
	bool more_fragments;
	/* For DECODE_TCP. */
	uint32_t tcp_seq;
	uint8_t tcp_flags;
	const uint8_t *payload;
	size_t payload_len;
	enum malformed_reason malformed;
	const uint8_t *frame; /* the frame the offsets above count from; NULL when there is none */
	size_t frame_len;
};

/* The ports that mean DNS, VXLAN (RFC 7348) and Geneve (RFC 8926). */
struct decode_ports {
	struct port_set dns;
	struct port_set vxlan;
	struct port_set geneve;
};

#define VXLAN_STANDARD_PORT  4789
#define GENEVE_STANDARD_PORT 6081

/* Decodes the transport header of a reassembled datagram whose addresses and protocol are
 * already in out; payload is set as by decode_frame. A tunnel inside it is decapsulated; its
 * inner headers are then not in the frame (hops_in_frame false). */
enum decode_result decode_transport(const uint8_t *l4, size_t len, const struct decode_ports *ports,
				    struct packet_info *out);

/* Decodes a frame down to its DNS payload, decapsulating tunnels on the way: out then describes
 * the innermost packet, and its tunnel fields the way it came. */
enum decode_result decode_frame(int link_type, const uint8_t *frame, size_t len,
				const struct decode_ports *ports, struct packet_info *out);

#endif
