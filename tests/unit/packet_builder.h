/* Hand-building frames for the unit tests: each helper appends one header, laid out as its RFC
 * draws it, so the expected values in the tests come from the layout, not from the code. */
#ifndef DNSPROBE_TEST_PACKET_BUILDER_H
#define DNSPROBE_TEST_PACKET_BUILDER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct builder {
	uint8_t bytes[8192];
	size_t len;
};

static inline void put(struct builder *b, const void *data, size_t len)
{
	if (len > 0) /* data may be NULL then */
		memcpy(b->bytes + b->len, data, len);
	b->len += len;
}

static inline void put8(struct builder *b, uint8_t v)
{
	b->bytes[b->len++] = v;
}

static inline void put16(struct builder *b, uint16_t v)
{
	put8(b, (uint8_t)(v >> 8));
	put8(b, (uint8_t)v);
}

static inline void put32(struct builder *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b, (uint16_t)v);
}

/* Ethernet II: destination, source, ethertype (IEEE 802.3 clause 3). */
static inline void put_ethernet(struct builder *b, uint16_t ethertype)
{
	static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
	put(b, macs, sizeof(macs));
	put16(b, ethertype);
}

/* An 802.1Q/802.1ad tag: TCI (PCP 0, DEI 0, VID), then the next ethertype. */
static inline void put_vlan(struct builder *b, uint16_t vid, uint16_t next_ethertype)
{
	put16(b, vid & 0x0fff);
	put16(b, next_ethertype);
}

/* IPv4 (RFC 791) with option_words extra 32-bit words of NOP options; checksum left zero. */
static inline void put_ipv4(struct builder *b, const uint8_t src[4], const uint8_t dst[4],
			    uint8_t protocol, uint16_t payload_len, uint16_t frag_field,
			    int option_words)
{
	put8(b, (uint8_t)(0x40 | (5 + option_words)));
	put8(b, 0);
	put16(b, (uint16_t)(20 + 4 * option_words + payload_len));
	put16(b, 0x1234);
	put16(b, frag_field);
	put8(b, 64);
	put8(b, protocol);
	put16(b, 0);
	put(b, src, 4);
	put(b, dst, 4);
	for (int i = 0; i < 4 * option_words; i++)
		put8(b, 1); /* NOP */
}

/* IPv6 (RFC 8200) fixed header. */
static inline void put_ipv6(struct builder *b, const uint8_t src[16], const uint8_t dst[16],
			    uint8_t next, uint16_t payload_len)
{
	put32(b, 0x60000000);
	put16(b, payload_len);
	put8(b, next);
	put8(b, 64);
	put(b, src, 16);
	put(b, dst, 16);
}

/* UDP (RFC 768): length covers header and payload; checksum left zero. */
static inline void put_udp(struct builder *b, uint16_t sport, uint16_t dport, uint16_t payload_len)
{
	put16(b, sport);
	put16(b, dport);
	put16(b, (uint16_t)(8 + payload_len));
	put16(b, 0);
}

/* A DNS header (RFC 1035 4.1.1). */
static inline void put_dns_header(struct builder *b, uint16_t id, uint16_t flags, uint16_t qd,
				  uint16_t an, uint16_t ns, uint16_t ar)
{
	put16(b, id);
	put16(b, flags);
	put16(b, qd);
	put16(b, an);
	put16(b, ns);
	put16(b, ar);
}

/* A name as length-prefixed labels ending in the root: "\3www\7example\3com". */
static inline void put_name(struct builder *b, const char *labels_with_root)
{
	size_t len = strlen(labels_with_root) + 1; /* includes the root's zero byte */
	put(b, labels_with_root, len);
}

#endif
