/* Link, network and transport header decoding: turns captured frame bytes into addresses, ports,
 * VLAN tags and the transport payload, or says which accounting bucket the frame belongs to. */
#ifndef DNSPROBE_DECODE_H
#define DNSPROBE_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"

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

struct packet_info {
	uint8_t ip_version; /* 4 or 6 */
	uint8_t ip_protocol;
	uint8_t src_addr[16]; /* IPv4 as IPv4-mapped IPv6 */
	uint8_t dst_addr[16];
	uint16_t src_port;
	uint16_t dst_port;
	uint8_t vlan_count; /* tags seen, outer first; at most DECODE_MAX_VLANS are kept */
	uint16_t vlan_ids[DECODE_MAX_VLANS];
	bool truncated;	    /* the capture holds fewer bytes than the headers say */
	uint16_t l3_offset; /* where the IP header starts in the frame: the link header's length */
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
};

/* The set of transport ports on which DNS is expected. */
struct port_set {
	uint8_t bits[65536 / 8];
};

void port_set_add(struct port_set *set, uint16_t port);

static inline bool port_set_has(const struct port_set *set, uint16_t port)
{
	return set->bits[port >> 3] & (1u << (port & 7));
}

/* Decodes the transport header of a reassembled datagram whose addresses and protocol are
 * already in out; payload is set as by decode_frame. */
enum decode_result decode_transport(const uint8_t *l4, size_t len, const struct port_set *dns_ports,
				    struct packet_info *out);

enum decode_result decode_frame(int link_type, const uint8_t *frame, size_t len,
				const struct port_set *dns_ports, struct packet_info *out);

#endif
