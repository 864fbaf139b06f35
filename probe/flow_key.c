/* The direction-normalised 5-tuple flow key and its text and hex forms. */
#include "flow_key.h"

#include <stdio.h>
#include <string.h>

static const uint8_t ipv4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static int endpoint_compare(const uint8_t *addr_a, uint16_t port_a, const uint8_t *addr_b,
			    uint16_t port_b)
{
	int c = memcmp(addr_a, addr_b, 16);
	if (c)
		return c;
	return (port_a > port_b) - (port_a < port_b);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

bool flow_key_build(const struct packet_info *p, struct flow_key *key)
{
	bool sender_is_a =
	    endpoint_compare(p->src_addr, p->src_port, p->dst_addr, p->dst_port) <= 0;
	const uint8_t *addr_a = sender_is_a ? p->src_addr : p->dst_addr;
	const uint8_t *addr_b = sender_is_a ? p->dst_addr : p->src_addr;
	key->bytes[0] = p->ip_version;
	key->bytes[1] = p->ip_protocol;
	memcpy(key->bytes + 2, addr_a, 16);
	memcpy(key->bytes + 18, addr_b, 16);
	put_be16(key->bytes + 34, sender_is_a ? p->src_port : p->dst_port);
	put_be16(key->bytes + 36, sender_is_a ? p->dst_port : p->src_port);
	return sender_is_a;
}

static size_t put_decimal_octet(char *out, uint8_t v)
{
	size_t n = 0;
	if (v >= 100)
		out[n++] = (char)('0' + v / 100);
	if (v >= 10)
		out[n++] = (char)('0' + v / 10 % 10);
	out[n++] = (char)('0' + v % 10);
	return n;
}

size_t ipv4_text(const uint8_t a[4], char *out)
{
	size_t n = put_decimal_octet(out, a[0]);
	for (int i = 1; i < 4; i++) {
		out[n++] = '.';
		n += put_decimal_octet(out + n, a[i]);
	}
	return n;
}

/* RFC 5952 text, as glibc's inet_ntop writes it (including its "::a.b.c.d" for IPv4-compatible
 * addresses), without the formatted printing inet_ntop does for each group. */
size_t ipv6_text(const uint8_t a[16], char *out)
{
	static const char hex[] = "0123456789abcdef";
	uint16_t words[8];
	for (int i = 0; i < 8; i++)
		words[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
	int best = -1, best_len = 0;
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && words[j] == 0)
			j++;
		if (j - i > best_len && j - i >= 2) {
			best = i;
			best_len = j - i;
		}
		i = j > i ? j : i + 1;
	}
	size_t n = 0;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				out[n++] = ':';
			continue;
		}
		if (i)
			out[n++] = ':';
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff)))
			return n + ipv4_text(a + 12, out + n);
		bool started = false;
		for (int shift = 12; shift >= 0; shift -= 4) {
			unsigned nibble = (words[i] >> shift) & 0xf;
			if (nibble || started || shift == 0) {
				out[n++] = hex[nibble];
				started = true;
			}
		}
	}
	if (best >= 0 && best + best_len == 8)
		out[n++] = ':';
	return n;
}

size_t address_text(const uint8_t addr[16], char *out, size_t size)
{
	char text[ADDRESS_TEXT_MAX];
	size_t n = memcmp(addr, ipv4_mapped_prefix, 12) == 0 ? ipv4_text(addr + 12, text)
							     : ipv6_text(addr, text);
	if (n >= size) {
		if (size)
			out[0] = '\0';
		return 0;
	}
	memcpy(out, text, n);
	out[n] = '\0';
	return n;
}

static const char *protocol_name(uint8_t protocol)
{
	return protocol == 6 ? "tcp" : protocol == 17 ? "udp" : "ip";
}

size_t flow_key_text(const struct flow_key *key, char *out, size_t size)
{
	char a[ADDRESS_TEXT_MAX], b[ADDRESS_TEXT_MAX];
	address_text(key->bytes + 2, a, sizeof(a));
	address_text(key->bytes + 18, b, sizeof(b));
	bool v6 = key->bytes[0] == 6;
	int n = snprintf(out, size, v6 ? "%s [%s]:%u [%s]:%u" : "%s %s:%u %s:%u",
			 protocol_name(key->bytes[1]), a,
			 (unsigned)(key->bytes[34] << 8 | key->bytes[35]), b,
			 (unsigned)(key->bytes[36] << 8 | key->bytes[37]));
	return n < 0 ? 0 : (size_t)n;
}

/* Two hex digits for every byte value. */
static const char hex_pairs[513] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

void flow_key_hex(const struct flow_key *key, char out[FLOW_KEY_LEN * 2 + 1])
{
	for (size_t i = 0; i < FLOW_KEY_LEN; i++)
		memcpy(out + 2 * i, hex_pairs + 2 * key->bytes[i], 2);
	out[FLOW_KEY_LEN * 2] = '\0';
}
