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

#endif
