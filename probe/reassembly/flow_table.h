/* A fixed-size table of flows keyed by bytes, with hash lookup and least-recently-used order.
 * The reassemblers keep their per-flow state in arrays indexed like this table's slots. The keys
 * come from the network, so the hash is keyed (SipHash-1-3, a random key per table) and no chain
 * grows past FLOW_TABLE_CHAIN_MAX: a lookup compares at most that many keys whatever the traffic.
 */
#ifndef DNSPROBE_FLOW_TABLE_H
#define DNSPROBE_FLOW_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "siphash.h"

#define FLOW_TABLE_KEY_MAX 40
#define FLOW_TABLE_NONE	   UINT32_MAX
/* The most keys a lookup compares. At a load of one half (Poisson, mean 0.5) a ninth flow for
 * one bucket comes by chance about once in 35,000 full tables of 4,096 flows. */
#define FLOW_TABLE_CHAIN_MAX 8

struct flow_table_slot {
	uint8_t key[FLOW_TABLE_KEY_MAX];
	uint32_t bucket;
	uint32_t hash_next;
	uint32_t lru_prev, lru_next;
	int64_t last_seen_ns;
	bool used;
};

struct flow_table {
	struct flow_table_slot *slots;
	uint32_t *buckets;
	uint32_t capacity, bucket_mask, used;
	uint32_t free_head; /* chained through hash_next */
	uint32_t lru_oldest, lru_newest;
	size_t key_len;
	uint8_t hash_key[SIPHASH_KEY_LEN];
};

/* The hash key comes from getrandom(2); -1 when it or memory cannot be had. */
int flow_table_init(struct flow_table *t, uint32_t capacity, size_t key_len);

/* The same with a given hash key (for tests). */
int flow_table_init_keyed(struct flow_table *t, uint32_t capacity, size_t key_len,
			  const uint8_t hash_key[SIPHASH_KEY_LEN]);
void flow_table_destroy(struct flow_table *t);

uint32_t flow_table_find(const struct flow_table *t, const uint8_t *key);

/* The flow to remove before key can be inserted: the least recently seen of its bucket when that
 * holds FLOW_TABLE_CHAIN_MAX flows already, else the oldest when the table is full; FLOW_TABLE_NONE
 * when key fits. */
uint32_t flow_table_victim(const struct flow_table *t, const uint8_t *key);

/* Takes a free slot for key (not in the table); FLOW_TABLE_NONE when flow_table_victim() names a
 * flow to remove first. */
uint32_t flow_table_insert(struct flow_table *t, const uint8_t *key, int64_t now_ns);

/* Marks a slot as just used. */
void flow_table_touch(struct flow_table *t, uint32_t slot, int64_t now_ns);

void flow_table_remove(struct flow_table *t, uint32_t slot);

static inline uint32_t flow_table_oldest(const struct flow_table *t)
{
	return t->lru_oldest;
}

#endif
