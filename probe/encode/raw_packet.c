/* Rebuilds one packet around a reassembled DNS message, so a raw record decodes as that message
 * (the frame that completed it holds only its last fragment or segment). */
#include "raw_packet.h"

#include <string.h>

#include "bytes.h"

#define IPV4_HEADER_LEN	  20
#define IPV6_HEADER_LEN	  40
#define UDP_HEADER_LEN	  8
#define TCP_HEADER_LEN	  20
#define TTL		  64
#define TCP_PSH_ACK	  0x18
#define IPPROTO_NUM_TCP	  6
#define IPPROTO_NUM_UDP	  17
#define GRE_FLAG_CHECKSUM 0x80

/* RFC 1071: the ones' complement sum of 16-bit words, added onto sum. */
static uint32_t sum_words(uint32_t sum, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(data[i] << 8 | data[i + 1]);
	if (len & 1)
		sum += (uint32_t)data[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The fresh IP header; returns its length. Addresses are IPv4-mapped for IPv4. */
static size_t write_ip_header(uint8_t *ip, const struct packet_info *p, size_t l4_len)
{
	if (p->ip_version == 4) {
		memset(ip, 0, IPV4_HEADER_LEN);
		ip[0] = 0x45;
		bytes_put_be16(ip + 2, (uint32_t)(IPV4_HEADER_LEN + l4_len));
		bytes_put_be16(ip + 4, p->fragment_id);
		ip[8] = TTL;
		ip[9] = p->ip_protocol;
		memcpy(ip + 12, p->src_addr + 12, 4);
		memcpy(ip + 16, p->dst_addr + 12, 4);
		bytes_put_be16(ip + 10, fold(sum_words(0, ip, IPV4_HEADER_LEN)));
		return IPV4_HEADER_LEN;
	}
	bytes_put_be32(ip, 0x60000000u);
	bytes_put_be16(ip + 4, (uint32_t)l4_len);
	ip[6] = p->ip_protocol;
	ip[7] = TTL;
	memcpy(ip + 8, p->src_addr, 16);
	memcpy(ip + 24, p->dst_addr, 16);
	return IPV6_HEADER_LEN;
}

/* A UDP or TCP checksum over the pseudo-header of RFC 768 / RFC 8200 section 8.1; src and dst
 * are 4 or 16 bytes as version says. UDP sends a computed 0 as 0xffff (0 means "none"). */
static uint16_t l4_checksum(int version, const uint8_t *src, const uint8_t *dst, uint8_t protocol,
			    const uint8_t *l4, size_t len)
{
	uint8_t pseudo[40];
	size_t pseudo_len;
	if (version == 4) {
		memcpy(pseudo, src, 4);
		memcpy(pseudo + 4, dst, 4);
		pseudo[8] = 0;
		pseudo[9] = protocol;
		bytes_put_be16(pseudo + 10, (uint32_t)len);
		pseudo_len = 12;
	} else {
		memcpy(pseudo, src, 16);
		memcpy(pseudo + 16, dst, 16);
		bytes_put_be32(pseudo + 32, (uint32_t)len);
		memset(pseudo + 36, 0, 3);
		pseudo[39] = protocol;
		pseudo_len = 40;
	}
	uint16_t sum = fold(sum_words(sum_words(0, pseudo, pseudo_len), l4, len));
	return sum == 0 && protocol != IPPROTO_NUM_TCP ? 0xffff : sum;
}

/* The checksum of the rebuilt transport header, from the packet's addresses (IPv4-mapped). */
static uint16_t transport_checksum(const struct packet_info *p, const uint8_t *l4, size_t l4_len)
{
	int skip = p->ip_version == 4 ? 12 : 0;
	return l4_checksum(p->ip_version, p->src_addr + skip, p->dst_addr + skip, p->ip_protocol,
			   l4, l4_len);
}

/* The UDP checksum of a tunnel hop, over the addresses of the IP header that carries it. */
static uint16_t hop_udp_checksum(const uint8_t *ip, int version, const uint8_t *udp, size_t len)
{
	if (version == 4)
		return l4_checksum(4, ip + 12, ip + 16, IPPROTO_NUM_UDP, udp, len);
	return l4_checksum(6, ip + 8, ip + 24, IPPROTO_NUM_UDP, udp, len);
}

/* The packet in out (len bytes) is inside the first count hops of p: sets their length fields
 * and checksums to fit it, innermost first, as each outer checksum covers what is inside. */
static void patch_hops(uint8_t *out, size_t len, const struct packet_info *p, int count)
{
	for (int i = count - 1; i >= 0; i--) {
		const struct tunnel_hop *h = &p->hops[i];
		uint8_t *ip = out + h->ip_offset;
		if (h->l4_kind == HOP_L4_UDP) {
			uint8_t *udp = out + h->l4_offset;
			size_t udp_len = len - h->l4_offset;
			bytes_put_be16(udp + 4, (uint32_t)udp_len);
			bytes_put_be16(udp + 6, 0);
			bytes_put_be16(udp + 6, hop_udp_checksum(ip, h->ip_version, udp, udp_len));
		} else if (h->l4_kind == HOP_L4_GRE && (out[h->l4_offset] & GRE_FLAG_CHECKSUM)) {
			uint8_t *gre = out + h->l4_offset;
			bytes_put_be16(gre + 4, 0);
			bytes_put_be16(gre + 4, fold(sum_words(0, gre, len - h->l4_offset)));
		}
		if (h->ip_version == 4) {
			bytes_put_be16(ip + 2, (uint32_t)(len - h->ip_offset));
			bytes_put_be16(ip + 10, 0);
			bytes_put_be16(ip + 10, fold(sum_words(0, ip, (size_t)(ip[0] & 0x0f) * 4)));
		} else if (h->ip_version == 6) {
			bytes_put_be16(ip + 4, (uint32_t)(len - h->ip_offset - IPV6_HEADER_LEN));
		}
	}
}

/* Every hop lies before the inner packet, in the prefix that is copied. */
static bool hops_fit(const struct packet_info *p, int count, size_t prefix)
{
	for (int i = 0; i < count; i++) {
		const struct tunnel_hop *h = &p->hops[i];
		size_t ip_need = h->ip_version == 6 ? IPV6_HEADER_LEN : IPV4_HEADER_LEN;
		if (h->ip_version && h->ip_offset + ip_need > prefix)
			return false;
		if (h->l4_kind != HOP_L4_NONE && h->l4_offset + 8 > prefix)
			return false;
	}
	return true;
}

size_t raw_packet_rebuild(uint8_t *out, size_t out_size, const uint8_t *frame, size_t caplen,
			  const struct packet_info *p, const uint8_t *dns, size_t dns_len)
{
	if (p->tunnel_depth > 0 &&
	    (!p->hops_in_frame || !hops_fit(p, p->tunnel_depth, p->l3_offset)))
		return 0;
	bool tcp = p->ip_protocol == IPPROTO_NUM_TCP;
	size_t ip_len = p->ip_version == 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
	size_t transport_len = tcp ? TCP_HEADER_LEN + 2 : UDP_HEADER_LEN;
	size_t l4_len = transport_len + dns_len;
	if (p->l3_offset > caplen || dns_len > 65535 || l4_len > 65535 ||
	    out_size < p->l3_offset + ip_len + l4_len)
		return 0;
	memcpy(out, frame, p->l3_offset);
	uint8_t *ip = out + p->l3_offset;
	uint8_t *l4 = ip + write_ip_header(ip, p, l4_len);
	memset(l4, 0, transport_len);
	bytes_put_be16(l4, p->src_port);
	bytes_put_be16(l4 + 2, p->dst_port);
	if (tcp) {
		bytes_put_be32(l4 + 4, p->tcp_seq);
		l4[12] = (TCP_HEADER_LEN / 4) << 4;
		l4[13] = TCP_PSH_ACK;
		bytes_put_be16(l4 + 14, 65535);
		bytes_put_be16(l4 + TCP_HEADER_LEN, (uint32_t)dns_len);
	} else {
		bytes_put_be16(l4 + 4, (uint32_t)l4_len);
	}
	memcpy(l4 + transport_len, dns, dns_len);
	bytes_put_be16(l4 + (tcp ? 16 : 6), transport_checksum(p, l4, l4_len));
	size_t len = p->l3_offset + ip_len + l4_len;
	patch_hops(out, len, p, p->tunnel_depth);
	return len;
}

size_t raw_packet_rebuild_datagram(uint8_t *out, size_t out_size, const uint8_t *frame,
				   size_t caplen, const struct packet_info *p, const uint8_t *l4,
				   size_t l4_len)
{
	size_t ip_len = p->ip_version == 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
	if (p->l3_offset > caplen || l4_len > 65535 - IPV6_HEADER_LEN ||
	    out_size < p->l3_offset + ip_len + l4_len)
		return 0;
	if (p->tunnel_depth > 0 &&
	    (!p->hops_in_frame || !hops_fit(p, p->tunnel_depth, p->l3_offset)))
		return 0;
	memcpy(out, frame, p->l3_offset);
	uint8_t *ip = out + p->l3_offset;
	memcpy(ip + write_ip_header(ip, p, l4_len), l4, l4_len);
	size_t len = p->l3_offset + ip_len + l4_len;
	patch_hops(out, len, p, p->tunnel_depth);
	return len;
}
