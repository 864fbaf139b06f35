/* The key encoders (docs/kafka.md, "Keys"). */
#include "key_encoders.h"

#include <string.h>

#include "community_id.h"
#include "flow_key.h"

_Static_assert(FLOW_KEY_LEN <= KEY_ENCODED_MAX, "the binary key must fit");
_Static_assert(FLOW_KEY_TEXT_MAX <= KEY_ENCODED_MAX, "the text key must fit");
_Static_assert(COMMUNITY_ID_TEXT_SIZE <= KEY_ENCODED_MAX, "the Community ID must fit");

static size_t binary_encode(const struct flow_key *key, uint8_t out[KEY_ENCODED_MAX])
{
	memcpy(out, key->bytes, FLOW_KEY_LEN);
	return FLOW_KEY_LEN;
}

static size_t text_encode(const struct flow_key *key, uint8_t out[KEY_ENCODED_MAX])
{
	return flow_key_text(key, (char *)out, KEY_ENCODED_MAX);
}

static size_t community_id_encode(const struct flow_key *key, uint8_t out[KEY_ENCODED_MAX])
{
	return community_id_v1(key, COMMUNITY_ID_DEFAULT_SEED, (char *)out);
}

const struct key_encoder key_binary = {.name = "binary", .encode = binary_encode};
const struct key_encoder key_text = {.name = "text", .encode = text_encode};
const struct key_encoder key_community_id = {.name = "community-id", .encode = community_id_encode};
