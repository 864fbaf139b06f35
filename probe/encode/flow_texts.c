/* The per-worker cache of a flow key's texts: a direct-mapped table indexed by a keyed hash of
 * the key (flow keys come from the network: SipHash with a random key, so no one can choose flows
 * that evict each other), filled on a miss. No allocation after flow_texts_new. */
#include "flow_texts.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "siphash.h"

/* 4096 entries of 248 bytes: 992 KiB per worker, about as many flows as a busy resolver has
 * waiting for an answer at once (100 k queries/s, answers within 40 ms). */
#define FLOW_TEXTS_SLOTS 4096

struct flow_texts {
	uint8_t key[SIPHASH_KEY_LEN];
	struct flow_texts_entry slots[FLOW_TEXTS_SLOTS];
};

struct flow_texts *flow_texts_new(void)
{
	struct flow_texts *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (getrandom(t->key, sizeof(t->key), 0) != (ssize_t)sizeof(t->key)) {
		free(t);
		return NULL;
	}
	return t;
}

void flow_texts_free(struct flow_texts *t)
{
	free(t);
}

const struct flow_texts_entry *flow_texts_get(struct flow_texts *t, const struct flow_key *key)
{
	struct flow_texts_entry *e =
	    &t->slots[siphash13(t->key, key->bytes, FLOW_KEY_LEN) & (FLOW_TEXTS_SLOTS - 1)];
	if (e->used && memcmp(e->key.bytes, key->bytes, FLOW_KEY_LEN) == 0)
		return e;
	char id[COMMUNITY_ID_TEXT_SIZE];
	char hex[FLOW_KEY_LEN * 2 + 1];
	community_id_v1(key, COMMUNITY_ID_DEFAULT_SEED, id);
	flow_key_hex(key, hex);
	e->key = *key;
	e->used = 1;
	memcpy(e->community_id, id, sizeof(e->community_id));
	memcpy(e->hex, hex, sizeof(e->hex));
	e->a_len = (uint8_t)address_text_unterminated(key->bytes + FLOW_KEY_ADDRESS_A, e->a);
	e->b_len = (uint8_t)address_text_unterminated(key->bytes + FLOW_KEY_ADDRESS_B, e->b);
	return e;
}
