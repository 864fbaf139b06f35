/* A fixed-size table of flows keyed by bytes, with hash lookup and least-recently-used order. */
#include "flow_table.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a: the keys come from packets, but the table is bounded and chains are short. */
static uint32_t key_hash(const uint8_t *key, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

int flow_table_init(struct flow_table *t, uint32_t capacity, size_t key_len)
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
	for (uint32_t i = 0; i < buckets; i++)
		t->buckets[i] = FLOW_TABLE_NONE;
	for (uint32_t i = 0; i < capacity; i++)
		t->slots[i].hash_next = i + 1 < capacity ? i + 1 : FLOW_TABLE_NONE;
	t->free_head = 0;
	t->lru_oldest = t->lru_newest = FLOW_TABLE_NONE;
	return 0;
}

void flow_table_destroy(struct flow_table *t)
{
	free(t->slots);
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

uint32_t flow_table_find(const struct flow_table *t, const uint8_t *key)
{
	uint32_t i = t->buckets[key_hash(key, t->key_len) & t->bucket_mask];
	while (i != FLOW_TABLE_NONE && memcmp(t->slots[i].key, key, t->key_len) != 0)
		i = t->slots[i].hash_next;
	return i;
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
	uint32_t i = t->free_head;
	if (i == FLOW_TABLE_NONE)
		return FLOW_TABLE_NONE;
	struct flow_table_slot *s = &t->slots[i];
	t->free_head = s->hash_next;
	memcpy(s->key, key, t->key_len);
	uint32_t *bucket = &t->buckets[key_hash(key, t->key_len) & t->bucket_mask];
	s->hash_next = *bucket;
	*bucket = i;
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
	uint32_t *link = &t->buckets[key_hash(s->key, t->key_len) & t->bucket_mask];
	while (*link != slot)
		link = &t->slots[*link].hash_next;
	*link = s->hash_next;
	lru_unlink(t, slot);
	s->used = false;
	s->hash_next = t->free_head;
	t->free_head = slot;
	t->used--;
}
