/* Community ID v1: SHA-1 over seed, ordered addresses, protocol, a pad byte and ordered ports. */

/* OpenSSL 3.0's EVP digest interface allocates a context on every digest init (measured: one
 * malloc per call); SHA1_Init/Update/Final hash on the stack. They are deprecated in 3.0 but kept
 * through 3.x; asking for the 1.1.1 API keeps them declared without deprecation warnings. */
#define OPENSSL_API_COMPAT 10101

#include "community_id.h"

#include <stdbool.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#define IPPROTO_NUMBER_TCP  6
#define IPPROTO_NUMBER_UDP  17
#define IPPROTO_NUMBER_SCTP 132

/* seed(2) + two IPv6 addresses(32) + protocol(1) + pad(1) + ports(4) */
#define HASH_INPUT_MAX 40

static bool has_ports(uint8_t protocol)
{
	return protocol == IPPROTO_NUMBER_TCP || protocol == IPPROTO_NUMBER_UDP ||
	       protocol == IPPROTO_NUMBER_SCTP;
}

/* The flow key already puts the lower (address, port) endpoint first, which is the order the
 * spec asks for: IPv4-mapped addresses compare like the bare 4-byte ones. */
static size_t hash_input(const struct flow_key *key, uint16_t seed, uint8_t in[HASH_INPUT_MAX])
{
	const uint8_t *k = key->bytes;
	size_t addr_offset = k[FLOW_KEY_VERSION] == 4 ? 12 : 0; /* skip the ::ffff: prefix */
	size_t addr_len = 16 - addr_offset;
	size_t n = 0;
	in[n++] = (uint8_t)(seed >> 8);
	in[n++] = (uint8_t)seed;
	memcpy(in + n, k + FLOW_KEY_ADDRESS_A + addr_offset, addr_len);
	n += addr_len;
	memcpy(in + n, k + FLOW_KEY_ADDRESS_B + addr_offset, addr_len);
	n += addr_len;
	in[n++] = k[FLOW_KEY_PROTOCOL];
	in[n++] = 0;
	if (has_ports(k[FLOW_KEY_PROTOCOL])) {
		memcpy(in + n, k + FLOW_KEY_PORT_A, 4); /* port A, port B, both big-endian */
		n += 4;
	}
	return n;
}

size_t community_id_v1(const struct flow_key *key, uint16_t seed, char out[COMMUNITY_ID_TEXT_SIZE])
{
	uint8_t in[HASH_INPUT_MAX];
	size_t len = hash_input(key, seed, in);
	uint8_t digest[SHA_DIGEST_LENGTH];
	SHA_CTX sha;
	SHA1_Init(&sha);
	SHA1_Update(&sha, in, len);
	SHA1_Final(digest, &sha);
	out[0] = '1';
	out[1] = ':';
	int encoded = EVP_EncodeBlock((unsigned char *)out + 2, digest, SHA_DIGEST_LENGTH);
	return 2 + (size_t)encoded;
}
