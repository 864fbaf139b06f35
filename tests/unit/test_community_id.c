/* Unit tests of Community ID v1 against the published vectors of the specification
 * (corelight/community-id-spec, baseline/baseline_deflt.json and baseline_seed1.json), and of the
 * per-worker cache of a flow's Community ID and hex (encode/flow_texts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <stdio.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "community_id.h"
#include "flow_key.h"
#include "flow_texts.h"

struct vector {
	uint8_t protocol;
	const char *saddr;
	const char *daddr;
	uint16_t sport;
	uint16_t dport;
	uint16_t seed;
	const char *expected;
};

static const struct vector vectors[] = {
    {6, "128.232.110.120", "66.35.250.204", 34855, 80, 0, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
    {6, "66.35.250.204", "128.232.110.120", 80, 34855, 0, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
    {17, "192.168.1.52", "8.8.8.8", 54585, 53, 0, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
    {17, "8.8.8.8", "192.168.1.52", 53, 54585, 0, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
    {6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, 0,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
    {6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, 0,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
    {132, "192.168.170.8", "192.168.170.56", 7, 7, 0, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
    {132, "192.168.170.56", "192.168.170.8", 7, 7, 0, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
    {46, "10.1.12.1", "10.1.12.2", 0, 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="},
    {46, "10.1.12.2", "10.1.12.1", 0, 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="},
    {6, "128.232.110.120", "66.35.250.204", 34855, 80, 1, "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
    {17, "8.8.8.8", "192.168.1.52", 53, 54585, 1, "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
    {6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, 1,
     "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
    {132, "192.168.170.8", "192.168.170.56", 7, 7, 1, "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="},
    {46, "10.1.12.2", "10.1.12.1", 0, 0, 1, "1:rYir8gphR31noO9iDRQmF/BteEI="},
};

/* Fills an address the way decode does: IPv4 as IPv4-mapped IPv6. */
static uint8_t parse_address(const char *text, uint8_t out[16])
{
	if (inet_pton(AF_INET6, text, out) == 1)
		return 6;
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	assert_int_equal(inet_pton(AF_INET, text, out + 12), 1);
	return 4;
}

static void vector_key(const struct vector *v, struct flow_key *key)
{
	struct packet_info p = {
	    .ip_protocol = v->protocol, .src_port = v->sport, .dst_port = v->dport};
	p.ip_version = parse_address(v->saddr, p.src_addr);
	parse_address(v->daddr, p.dst_addr);
	flow_key_build(&p, key);
}

static void matches_published_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];
		struct flow_key key;
		vector_key(v, &key);
		char id[COMMUNITY_ID_TEXT_SIZE];
		size_t len = community_id_v1(&key, v->seed, id);
		assert_int_equal(len, strlen(v->expected));
		assert_string_equal(id, v->expected);
	}
}

/* Equal addresses: the ports decide the order, so both directions still give one ID. */
static void equal_addresses_ordered_by_port(void **state)
{
	(void)state;
	struct packet_info query = {.ip_version = 4, .ip_protocol = 17};
	parse_address("127.0.0.1", query.src_addr);
	parse_address("127.0.0.1", query.dst_addr);
	query.src_port = 40000;
	query.dst_port = 53;
	struct packet_info response = query;
	response.src_port = 53;
	response.dst_port = 40000;
	struct flow_key kq, kr;
	flow_key_build(&query, &kq);
	flow_key_build(&response, &kr);
	char a[COMMUNITY_ID_TEXT_SIZE], b[COMMUNITY_ID_TEXT_SIZE];
	size_t la = community_id_v1(&kq, COMMUNITY_ID_DEFAULT_SEED, a);
	size_t lb = community_id_v1(&kr, COMMUNITY_ID_DEFAULT_SEED, b);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
}

/* The cached texts of a key: the ID as the published vector says, the hex as printf writes it,
 * the addresses as inet_ntop does. */
static void assert_texts(struct flow_texts *t, const struct flow_key *key, const char *id)
{
	const struct flow_texts_entry *e = flow_texts_get(t, key);
	char hex[FLOW_KEY_LEN * 2 + 1];
	for (size_t i = 0; i < FLOW_KEY_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", key->bytes[i]);
	assert_memory_equal(e->hex, hex, FLOW_KEY_LEN * 2);
	if (id)
		assert_memory_equal(e->community_id, id, FLOW_TEXTS_COMMUNITY_ID_LEN);
	for (int side = 0; side < 2; side++) {
		const uint8_t *addr = key->bytes + (side ? 18 : 2);
		char text[INET6_ADDRSTRLEN];
		if (key->bytes[0] == 4)
			inet_ntop(AF_INET, addr + 12, text, sizeof(text));
		else
			inet_ntop(AF_INET6, addr, text, sizeof(text));
		assert_int_equal(side ? e->b_len : e->a_len, strlen(text));
		assert_memory_equal(side ? e->b : e->a, text, strlen(text));
	}
}

/* Many more flows than the cache holds, between lookups of the published vectors: every lookup,
 * hit or miss after an eviction, gives the key's own texts. */
static void cached_texts_stay_right_through_evictions(void **state)
{
	(void)state;
	struct flow_texts *t = flow_texts_new();
	assert_non_null(t);
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
			if (vectors[i].seed != COMMUNITY_ID_DEFAULT_SEED)
				continue;
			struct flow_key key;
			vector_key(&vectors[i], &key);
			assert_texts(t, &key, vectors[i].expected);
			assert_texts(t, &key, vectors[i].expected);
		}
		for (uint32_t n = 0; n < 20000; n++) {
			struct packet_info p = {.ip_version = 4,
						.ip_protocol = 17,
						.src_port = 53,
						.dst_port = (uint16_t)(1024 + n % 60000)};
			parse_address("192.0.2.53", p.src_addr);
			parse_address("198.51.100.1", p.dst_addr);
			p.dst_addr[15] = (uint8_t)(n >> 8);
			struct flow_key key;
			flow_key_build(&p, &key);
			assert_texts(t, &key, NULL);
		}
	}
	flow_texts_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(matches_published_vectors),
	    cmocka_unit_test(equal_addresses_ordered_by_port),
	    cmocka_unit_test(cached_texts_stay_right_through_evictions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
