/* A fixed-size table of flows keyed by bytes, with keyed hash lookup, chains of bounded length and
 * least-recently-used order. */
#include "flow_table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static uint32_t bucket_of(const struct flow_table *t, const uint8_t *key)
{
	return (uint32_t)siphash13(t->hash_key, key, t->key_len) & t->bucket_mask;
}

int flow_table_init_keyed(struct flow_table *t, uint32_t capacity, size_t key_len,
			  const uint8_t hash_key[SIPHASH_KEY_LEN])
{
	memset(t, 0, sizeof(*t));
	uint32_t buckets = 1;
	while (buckets < capacity * 2)
		buckets <<= 1;
	t->slots = calloc(capacity, sizeof(*t->slots));
	t->buckets = malloc(buckets * sizeof(*t->buckets));
	if (!t->slots || !t->buckets || key_len > FLOW_TABLE_KEY_MAX) {
		flow_table_destroy(t);
		return -1;
	}
	t->capacity = capacity;
	t->bucket_mask = buckets - 1;
	t->key_len = key_len;
	memcpy(t->hash_key, hash_key, SIPHASH_KEY_LEN);
	for (uint32_t i = 0; i < buckets; i++)
		t->buckets[i] = FLOW_TABLE_NONE;
	for (uint32_t i = 0; i < capacity; i++)
		t->slots[i].hash_next = i + 1 < capacity ? i + 1 : FLOW_TABLE_NONE;
	t->free_head = 0;
	t->lru_oldest = t->lru_newest = FLOW_TABLE_NONE;
	return 0;
}

int flow_table_init(struct flow_table *t, uint32_t capacity, size_t key_len)
{
	uint8_t hash_key[SIPHASH_KEY_LEN];
	memset(t, 0, sizeof(*t));
	if (getrandom(hash_key, sizeof(hash_key), 0) != (ssize_t)sizeof(hash_key))
		return -1;
	return flow_table_init_keyed(t, capacity, key_len, hash_key);
}

void flow_table_destroy(struct flow_table *t)
{
	free(t->slots);
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

uint32_t flow_table_find(const struct flow_table *t, const uint8_t *key)
{
	uint32_t i = t->buckets[bucket_of(t, key)];
	while (i != FLOW_TABLE_NONE && memcmp(t->slots[i].key, key, t->key_len) != 0)
		i = t->slots[i].hash_next;
	return i;
}

uint32_t flow_table_victim(const struct flow_table *t, const uint8_t *key)
{
	uint32_t length = 0, stalest = FLOW_TABLE_NONE;
	for (uint32_t i = t->buckets[bucket_of(t, key)]; i != FLOW_TABLE_NONE;
	     i = t->slots[i].hash_next) {
		length++;
		if (stalest == FLOW_TABLE_NONE ||
		    t->slots[i].last_seen_ns < t->slots[stalest].last_seen_ns)
			stalest = i;
	}
	if (length >= FLOW_TABLE_CHAIN_MAX)
		return stalest;
	return t->free_head == FLOW_TABLE_NONE ? t->lru_oldest : FLOW_TABLE_NONE;
}

static void lru_unlink(struct flow_table *t, uint32_t i)
{
	struct flow_table_slot *s = &t->slots[i];
	if (s->lru_prev != FLOW_TABLE_NONE)
		t->slots[s->lru_prev].lru_next = s->lru_next;
	else
		t->lru_oldest = s->lru_next;
	if (s->lru_next != FLOW_TABLE_NONE)
		t->slots[s->lru_next].lru_prev = s->lru_prev;
	else
		t->lru_newest = s->lru_prev;
}

static void lru_append(struct flow_table *t, uint32_t i)
{
	struct flow_table_slot *s = &t->slots[i];
	s->lru_prev = t->lru_newest;
	s->lru_next = FLOW_TABLE_NONE;
	if (t->lru_newest != FLOW_TABLE_NONE)
		t->slots[t->lru_newest].lru_next = i;
	else
		t->lru_oldest = i;
	t->lru_newest = i;
}

uint32_t flow_table_insert(struct flow_table *t, const uint8_t *key, int64_t now_ns)
{
	uint32_t bucket = bucket_of(t, key), length = 0;
	for (uint32_t j = t->buckets[bucket]; j != FLOW_TABLE_NONE; j = t->slots[j].hash_next)
		length++;
	uint32_t i = t->free_head;
	if (i == FLOW_TABLE_NONE || length >= FLOW_TABLE_CHAIN_MAX)
		return FLOW_TABLE_NONE;
	struct flow_table_slot *s = &t->slots[i];
	t->free_head = s->hash_next;
	memcpy(s->key, key, t->key_len);
	s->bucket = bucket;
	s->hash_next = t->buckets[bucket];
	t->buckets[bucket] = i;
	s->used = true;
	s->last_seen_ns = now_ns;
	lru_append(t, i);
	t->used++;
	return i;
}

void flow_table_touch(struct flow_table *t, uint32_t slot, int64_t now_ns)
{
	t->slots[slot].last_seen_ns = now_ns;
	if (t->lru_newest != slot) {
		lru_unlink(t, slot);
		lru_append(t, slot);
	}
}

void flow_table_remove(struct flow_table *t, uint32_t slot)
{
	struct flow_table_slot *s = &t->slots[slot];
	uint32_t *link = &t->buckets[s->bucket];
	while (*link != slot)
		link = &t->slots[*link].hash_next;
	*link = s->hash_next;
	lru_unlink(t, slot);
	s->used = false;
	s->hash_next = t->free_head;
	t->free_head = slot;
	t->used--;
}
