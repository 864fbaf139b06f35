/* For --format raw: one packet that holds a whole reassembled DNS message. */
#ifndef DNSPROBE_RAW_PACKET_H
#define DNSPROBE_RAW_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"

/* Writes into out the link header of the frame that completed the message (its first
 * p->l3_offset bytes, as captured), a fresh IPv4 or IPv6 header without fragmentation or
 * extension headers, a UDP header (or, for TCP, a 20-byte TCP header and the 2-byte length
 * prefix), and the message: a packet any decoder reads as that one message, lengths and
 * checksums right. Returns its length, or 0 when it does not fit in out_size. */
size_t raw_packet_rebuild(uint8_t *out, size_t out_size, const uint8_t *frame, size_t caplen,
			  const struct packet_info *p, const uint8_t *dns, size_t dns_len);

/* Tunnels: when p came through tunnels (p->tunnel_depth), the bytes before p->l3_offset hold
 * their headers; the rebuilt packet keeps them, with their IP, UDP lengths and IP, UDP, GRE
 * checksums set to fit, so it decodes as the same tunnel around the rebuilt inner packet.
 * Returns 0 when those headers are not in the frame (an outer datagram was reassembled). */

/* For a message in an IP datagram reassembled from fragments that carried a tunnel: the frame's
 * first p->l3_offset bytes (with its tunnel hops set to fit), a fresh IP header as above for the
 * datagram p describes, and the datagram's transport bytes l4 as reassembled. */
size_t raw_packet_rebuild_datagram(uint8_t *out, size_t out_size, const uint8_t *frame,
				   size_t caplen, const struct packet_info *p, const uint8_t *l4,
				   size_t l4_len);

#endif
