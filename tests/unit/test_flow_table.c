/* Unit tests of the reassembly flow table against hash flooding, and of its SipHash-1-3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "flow_table.h"
#include "siphash.h"

/* The layout of a TCP stream key in tcp_reassembly.c: version, source, destination (IPv4-mapped
 * IPv6), source port, destination port. */
#define TCP_KEY_LEN 37
#define FLOOD_KEYS  4096
/* A table of 4,096 flows has 8,192 buckets: the low 13 bits of the hash pick one. */
#define BUCKET_BITS 13
/* What the table promises: a chain never holds more flows than this (FLOW_TABLE_CHAIN_MAX). */
#define CHAIN_BOUND 8

static uint32_t fnv1a_step(uint32_t h, uint8_t byte)
{
	return (h ^ byte) * 16777619u;
}

static uint32_t fnv1a(const uint8_t *key, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = fnv1a_step(h, key[i]);
	return h;
}

/* Keys of TCP segments from 10.x.y.z to 192.0.2.53 port 53 whose FNV-1a hashes, as the tables
 * used before, share their low 13 bits. FNV-1a modulo 2^13 only depends on its state modulo 2^13,
 * and the bytes after the source port are fixed (a bijection of that state), so it is enough that
 * the state after the source port is the same: for a source address and a first port byte a, the
 * second port byte b = state(a) works when state(a) < 256 (then state ^ b = 0). The same method
 * is in scripts/make-hash-flood. */
static size_t fnv_colliding_keys(uint8_t (*keys)[TCP_KEY_LEN], size_t want)
{
	const uint32_t mask = (1u << BUCKET_BITS) - 1;
	size_t n = 0;
	for (uint32_t host = 1; n < want; host++) {
		uint8_t key[TCP_KEY_LEN] = {4};
		key[11] = key[12] = key[27] = key[28] = 0xff;
		key[13] = 10;
		key[14] = (uint8_t)(host >> 16);
		key[15] = (uint8_t)(host >> 8);
		key[16] = (uint8_t)host;
		key[29] = 192;
		key[30] = 0;
		key[31] = 2;
		key[32] = 53;
		key[35] = 0;
		key[36] = 53;
		uint32_t h = fnv1a(key, 33);
		for (unsigned a = 4; a < 256 && n < want; a++) {
			uint32_t state = fnv1a_step(h, (uint8_t)a) & mask;
			if (state >= 256)
				continue;
			key[33] = (uint8_t)a;
			key[34] = (uint8_t)state;
			memcpy(keys[n++], key, TCP_KEY_LEN);
		}
	}
	return n;
}

static uint32_t chain_length(const struct flow_table *t, uint32_t bucket)
{
	uint32_t n = 0;
	for (uint32_t i = t->buckets[bucket]; i != FLOW_TABLE_NONE; i = t->slots[i].hash_next)
		n++;
	return n;
}

static uint32_t longest_chain(const struct flow_table *t)
{
	uint32_t longest = 0;
	for (uint32_t b = 0; b <= t->bucket_mask; b++) {
		uint32_t n = chain_length(t, b);
		if (n > longest)
			longest = n;
	}
	return longest;
}

static uint8_t flood[FLOOD_KEYS][TCP_KEY_LEN];

/* 4,096 keys that all fall into one bucket under FNV-1a (checked here) spread over the buckets of
 * a table as the reassemblers make it, and all of them are found. */
static void fnv_collisions_spread(void **state)
{
	(void)state;
	assert_int_equal(fnv_colliding_keys(flood, FLOOD_KEYS), FLOOD_KEYS);
	uint32_t bucket = fnv1a(flood[0], TCP_KEY_LEN) & ((1u << BUCKET_BITS) - 1);
	for (size_t i = 1; i < FLOOD_KEYS; i++) {
		assert_int_equal(fnv1a(flood[i], TCP_KEY_LEN) & ((1u << BUCKET_BITS) - 1), bucket);
		assert_memory_not_equal(flood[i], flood[i - 1], TCP_KEY_LEN);
	}

	struct flow_table t;
	assert_int_equal(flow_table_init(&t, FLOOD_KEYS, TCP_KEY_LEN), 0);
	size_t refused = 0;
	for (size_t i = 0; i < FLOOD_KEYS; i++)
		refused += flow_table_insert(&t, flood[i], (int64_t)i) == FLOW_TABLE_NONE;
	/* A random key gives a chain of 9 about once in 35,000 tables; two of them never. */
	assert_true(refused <= 1);
	assert_true(longest_chain(&t) <= CHAIN_BOUND);
	size_t found = 0;
	for (size_t i = 0; i < FLOOD_KEYS; i++)
		found += flow_table_find(&t, flood[i]) != FLOW_TABLE_NONE;
	assert_int_equal(found, FLOOD_KEYS - refused);
	flow_table_destroy(&t);
}

/* Keys that collide under the table's own hash (found by trying, with a known hash key) still
 * make no chain longer than the bound: the least recently seen flow of the bucket is named for
 * eviction, the newest CHAIN_BOUND are found. */
static void chains_stay_bounded(void **state)
{
	(void)state;
	static const uint8_t hash_key[SIPHASH_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	struct flow_table t;
	assert_int_equal(flow_table_init_keyed(&t, 64, TCP_KEY_LEN, hash_key), 0);
	assert_int_equal(t.bucket_mask, 127);
	enum { COLLIDING = 3 * CHAIN_BOUND };
	uint8_t keys[COLLIDING][TCP_KEY_LEN];
	uint8_t key[TCP_KEY_LEN] = {4};
	uint32_t target = (uint32_t)siphash13(hash_key, key, TCP_KEY_LEN) & t.bucket_mask;
	size_t n = 0;
	for (uint32_t port = 0; n < COLLIDING; port++) {
		key[33] = (uint8_t)(port >> 8);
		key[34] = (uint8_t)port;
		if (((uint32_t)siphash13(hash_key, key, TCP_KEY_LEN) & t.bucket_mask) == target)
			memcpy(keys[n++], key, TCP_KEY_LEN);
	}

	for (size_t i = 0; i < COLLIDING; i++) {
		uint32_t victim = flow_table_victim(&t, keys[i]);
		if (i < CHAIN_BOUND) {
			assert_int_equal(victim, FLOW_TABLE_NONE);
		} else {
			assert_int_equal(flow_table_insert(&t, keys[i], (int64_t)i),
					 FLOW_TABLE_NONE);
			assert_memory_equal(t.slots[victim].key, keys[i - CHAIN_BOUND],
					    TCP_KEY_LEN);
			flow_table_remove(&t, victim);
		}
		assert_int_not_equal(flow_table_insert(&t, keys[i], (int64_t)i), FLOW_TABLE_NONE);
		assert_true(chain_length(&t, target) <= CHAIN_BOUND);
	}
	for (size_t i = 0; i < COLLIDING; i++)
		assert_int_equal(flow_table_find(&t, keys[i]) != FLOW_TABLE_NONE,
				 i >= COLLIDING - CHAIN_BOUND);
	assert_int_equal(t.used, CHAIN_BOUND);
	flow_table_destroy(&t);
}

/* A touched flow is seen again, so the stalest of the bucket is another. */
static void victim_is_least_recently_seen(void **state)
{
	(void)state;
	static const uint8_t hash_key[SIPHASH_KEY_LEN] = {42};
	struct flow_table t;
	assert_int_equal(flow_table_init_keyed(&t, 16, TCP_KEY_LEN, hash_key), 0);
	uint8_t keys[CHAIN_BOUND + 1][TCP_KEY_LEN];
	uint8_t key[TCP_KEY_LEN] = {6};
	uint32_t target = (uint32_t)siphash13(hash_key, key, TCP_KEY_LEN) & t.bucket_mask;
	size_t n = 0;
	for (uint32_t port = 0; n < CHAIN_BOUND + 1; port++) {
		key[35] = (uint8_t)(port >> 8);
		key[36] = (uint8_t)port;
		if (((uint32_t)siphash13(hash_key, key, TCP_KEY_LEN) & t.bucket_mask) == target)
			memcpy(keys[n++], key, TCP_KEY_LEN);
	}
	uint32_t first = FLOW_TABLE_NONE;
	for (size_t i = 0; i < CHAIN_BOUND; i++) {
		uint32_t slot = flow_table_insert(&t, keys[i], 100 + (int64_t)i);
		if (i == 0)
			first = slot;
	}
	flow_table_touch(&t, first, 200);
	uint32_t victim = flow_table_victim(&t, keys[CHAIN_BOUND]);
	assert_memory_equal(t.slots[victim].key, keys[1], TCP_KEY_LEN);
	flow_table_destroy(&t);
}

/* Each table draws its own hash key. */
static void tables_draw_their_own_keys(void **state)
{
	(void)state;
	struct flow_table a, b;
	assert_int_equal(flow_table_init(&a, 16, TCP_KEY_LEN), 0);
	assert_int_equal(flow_table_init(&b, 16, TCP_KEY_LEN), 0);
	assert_memory_not_equal(a.hash_key, b.hash_key, SIPHASH_KEY_LEN);
	flow_table_destroy(&a);
	flow_table_destroy(&b);
}

/* SipHash-1-3 against CPython 3.11 (Debian 12), whose hash of bytes is SipHash-1-3 keyed by
 * _Py_HashSecret: with PYTHONHASHSEED=0 the key is all zeros, with PYTHONHASHSEED=1 it is the
 * bytes of CPython's lcg_urandom(1), 29 23 be 84 e1 6c d6 ae 52 90 49 f1 f1 bb e9 eb. Values from
 *   PYTHONHASHSEED=N python3 -c 'print(hex(hash(bytes(range(LEN))) & (2**64 - 1)))'
 * for messages 00 01 02 ... of lengths across the block boundaries. */
static void siphash13_matches_cpython(void **state)
{
	(void)state;
	static const uint8_t zero[SIPHASH_KEY_LEN];
	static const uint8_t seed1[SIPHASH_KEY_LEN] = {0x29, 0x23, 0xbe, 0x84, 0xe1, 0x6c,
						       0xd6, 0xae, 0x52, 0x90, 0x49, 0xf1,
						       0xf1, 0xbb, 0xe9, 0xeb};
	static const struct {
		const uint8_t *key;
		size_t len;
		uint64_t hash;
	} vectors[] = {
	    {zero, 1, 0x68a914128e01e473ull},	{zero, 2, 0x010bac45c41e3669ull},
	    {seed1, 1, 0xecd3e5afcecda4b9ull},	{seed1, 8, 0xc0b5739e7e28dd01ull},
	    {seed1, 15, 0xfa87985f39e97a53ull}, {seed1, 16, 0x12e9d283f9f37002ull},
	    {seed1, 38, 0xabd250c1d59c6915ull}, {seed1, 63, 0x542052345bc68274ull},
	};
	uint8_t message[64];
	for (size_t i = 0; i < sizeof(message); i++)
		message[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
		assert_int_equal(siphash13(vectors[i].key, message, vectors[i].len),
				 vectors[i].hash);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fnv_collisions_spread),
	    cmocka_unit_test(chains_stay_bounded),
	    cmocka_unit_test(victim_is_least_recently_seen),
	    cmocka_unit_test(tables_draw_their_own_keys),
	    cmocka_unit_test(siphash13_matches_cpython),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
