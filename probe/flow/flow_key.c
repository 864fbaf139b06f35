/* The direction-normalised 5-tuple flow key and its text and hex forms. */
#include "flow_key.h"

#include <stdio.h>
#include <string.h>

#include "bytes.h"

static int endpoint_compare(const uint8_t *addr_a, uint16_t port_a, const uint8_t *addr_b,
			    uint16_t port_b)
{
	int c = memcmp(addr_a, addr_b, 16);
	if (c)
		return c;
	return (port_a > port_b) - (port_a < port_b);
}

bool flow_key_build(const struct packet_info *p, struct flow_key *key)
{
	bool sender_is_a =
	    endpoint_compare(p->src_addr, p->src_port, p->dst_addr, p->dst_port) <= 0;
	const uint8_t *addr_a = sender_is_a ? p->src_addr : p->dst_addr;
	const uint8_t *addr_b = sender_is_a ? p->dst_addr : p->src_addr;
	key->bytes[FLOW_KEY_VERSION] = p->ip_version;
	key->bytes[FLOW_KEY_PROTOCOL] = p->ip_protocol;
	memcpy(key->bytes + FLOW_KEY_ADDRESS_A, addr_a, 16);
	memcpy(key->bytes + FLOW_KEY_ADDRESS_B, addr_b, 16);
	bytes_put_be16(key->bytes + FLOW_KEY_PORT_A, sender_is_a ? p->src_port : p->dst_port);
	bytes_put_be16(key->bytes + FLOW_KEY_PORT_B, sender_is_a ? p->dst_port : p->src_port);
	return sender_is_a;
}

static const char *protocol_name(uint8_t protocol)
{
	return protocol == 6 ? "tcp" : protocol == 17 ? "udp" : "ip";
}

size_t flow_key_text(const struct flow_key *key, char *out, size_t size)
{
	char a[ADDRESS_TEXT_MAX], b[ADDRESS_TEXT_MAX];
	address_text(key->bytes + FLOW_KEY_ADDRESS_A, a, sizeof(a));
	address_text(key->bytes + FLOW_KEY_ADDRESS_B, b, sizeof(b));
	bool v6 = key->bytes[FLOW_KEY_VERSION] == 6;
	int n = snprintf(out, size, v6 ? "%s [%s]:%u [%s]:%u" : "%s %s:%u %s:%u",
			 protocol_name(key->bytes[FLOW_KEY_PROTOCOL]), a,
			 (unsigned)bytes_be16(key->bytes + FLOW_KEY_PORT_A), b,
			 (unsigned)bytes_be16(key->bytes + FLOW_KEY_PORT_B));
	return n < 0 ? 0 : (size_t)n;
}

void flow_key_hex(const struct flow_key *key, char out[FLOW_KEY_LEN * 2 + 1])
{
	uint8_t padded[48] = {0};
	char text[96];
	memcpy(padded, key->bytes, FLOW_KEY_LEN);
	for (int i = 0; i < 3; i++)
		hex_of_16_bytes(padded + 16 * i, text + 32 * i);
	memcpy(out, text, FLOW_KEY_LEN * 2);
	out[FLOW_KEY_LEN * 2] = '\0';
}
