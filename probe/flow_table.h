/* A fixed-size table of flows keyed by bytes, with hash lookup and least-recently-used order.
 * The reassemblers keep their per-flow state in arrays indexed like this table's slots. */
#ifndef DNSPROBE_FLOW_TABLE_H
#define DNSPROBE_FLOW_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLOW_TABLE_KEY_MAX 40
#define FLOW_TABLE_NONE	   UINT32_MAX

struct flow_table_slot {
	uint8_t key[FLOW_TABLE_KEY_MAX];
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
};

int flow_table_init(struct flow_table *t, uint32_t capacity, size_t key_len);
void flow_table_destroy(struct flow_table *t);

uint32_t flow_table_find(const struct flow_table *t, const uint8_t *key);

/* Takes a free slot for key; FLOW_TABLE_NONE when full (evict the oldest first). */
uint32_t flow_table_insert(struct flow_table *t, const uint8_t *key, int64_t now_ns);

/* Marks a slot as just used. */
void flow_table_touch(struct flow_table *t, uint32_t slot, int64_t now_ns);

void flow_table_remove(struct flow_table *t, uint32_t slot);

static inline uint32_t flow_table_oldest(const struct flow_table *t)
{
	return t->lru_oldest;
}

#endif
