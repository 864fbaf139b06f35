/* A flow key's Community ID, hex and endpoint addresses as text, cached per worker: both
 * directions of an exchange (and every message of a TCP connection) share the flow key, and SHA-1
 * for the Community ID is the dearest part of a record after the Public Suffix List. */
#ifndef DNSPROBE_FLOW_TEXTS_H
#define DNSPROBE_FLOW_TEXTS_H

#include <stddef.h>
#include <stdint.h>

#include "address_text.h"
#include "community_id.h"
#include "flow_key.h"

/* "1:" and 28 characters of base64. */
#define FLOW_TEXTS_COMMUNITY_ID_LEN (COMMUNITY_ID_TEXT_SIZE - 1)

struct flow_texts_entry {
	struct flow_key key;
	uint8_t used;
	char community_id[FLOW_TEXTS_COMMUNITY_ID_LEN]; /* seed COMMUNITY_ID_DEFAULT_SEED */
	char hex[FLOW_KEY_LEN * 2];			/* lower-case, no NUL */
	uint8_t a_len, b_len;
	char a[ADDRESS_TEXT_MAX]; /* endpoint A's address (address_text), no NUL */
	char b[ADDRESS_TEXT_MAX];
};

struct flow_texts;

/* NULL when out of memory or without random bytes for the table's key. */
struct flow_texts *flow_texts_new(void);
void flow_texts_free(struct flow_texts *t);

/* The texts of key, computed on a miss; valid until the next call. */
const struct flow_texts_entry *flow_texts_get(struct flow_texts *t, const struct flow_key *key);

#endif
