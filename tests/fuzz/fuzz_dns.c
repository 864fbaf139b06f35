/* Fuzz target: one DNS message (the UDP payload) through dns_parse() and record_json_encode(), the
 * way the worker does it. Whatever the bytes, the parse must stay in bounds and terminate, and the
 * record must be one valid JSON object of printable ASCII (unless it overflowed the buffer, which
 * the worker counts as record_too_large). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_parse.h"
#include "flow_key.h"
#include "fuzz_check.h"
#include "json_check.h"
#include "record_json.h"

/* The same size as the worker's record buffer. */
#define VALUE_BUFFER_SIZE (4 * 1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dns_parser *parser;
static struct dns_message *message;
static char *value;

static void set_up(void)
{
	parser = dns_parser_new();
	message = malloc(sizeof(*message));
	value = malloc(VALUE_BUFFER_SIZE);
	FUZZ_CHECK(parser && message && value);
}

/* A client -> server UDP packet over IPv4, as decode would describe it. */
static void fixed_packet(struct packet_info *p, size_t payload_len)
{
	static const uint8_t client[16] = {0, 0, 0,    0,    0,	  0,  0,   0,
					   0, 0, 0xff, 0xff, 198, 51, 100, 7};
	static const uint8_t server[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 53};
	memset(p, 0, sizeof(*p));
	p->ip_version = 4;
	p->ip_protocol = 17;
	memcpy(p->src_addr, client, 16);
	memcpy(p->dst_addr, server, 16);
	p->src_port = 40000;
	p->dst_port = 53;
	p->payload_len = payload_len;
}

/* What the parsed message says must be consistent with itself and with the input. */
static void check_message(const uint8_t *data, const struct dns_message *m)
{
	FUZZ_CHECK(m->id == (uint16_t)(data[0] << 8 | data[1]));
	if (m->has_question) {
		FUZZ_CHECK(m->qdcount > 0);
		FUZZ_CHECK(m->qname_len < DNS_NAME_TEXT_MAX && strlen(m->qname) == m->qname_len);
	}
	FUZZ_CHECK(m->answer_count <= DNS_MAX_ANSWERS && m->answer_count <= m->ancount);
	FUZZ_CHECK(m->answer_count + m->answers_omitted <= m->ancount);
	for (size_t i = 0; i < m->answer_count; i++) {
		const struct dns_answer *a = &m->answers[i];
		FUZZ_CHECK(a->name_offset + a->name_len < m->arena->used);
		FUZZ_CHECK(a->data_offset + a->data_len < m->arena->used);
	}
	FUZZ_CHECK(strlen(m->ecs) < DNS_ECS_TEXT_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!parser)
		set_up();
	/* An exact-size copy, so AddressSanitizer sees any read past the message. */
	uint8_t *msg = malloc(size ? size : 1);
	FUZZ_CHECK(msg);
	memcpy(msg, data, size);

	bool parsed = dns_parse(parser, msg, size, false, message);
	FUZZ_CHECK(parsed == (size >= DNS_HEADER_LEN));
	if (parsed) {
		check_message(msg, message);
		struct packet_info packet;
		fixed_packet(&packet, size);
		struct flow_key key;
		bool sender_is_a = flow_key_build(&packet, &key);
		struct dns_record record = {
		    .timestamp_ns = 1700000000123456789LL,
		    .packet = &packet,
		    .key = &key,
		    .sender_is_a = sender_is_a,
		    .dns_size = size,
		    .message = message,
		};
		struct timestamp_cache cache;
		timestamp_cache_init(&cache);
		struct json_writer w;
		json_init(&w, value, VALUE_BUFFER_SIZE);
		record_json_encode(&w, &cache, &record);
		FUZZ_CHECK(w.len <= VALUE_BUFFER_SIZE);
		if (!w.overflow)
			FUZZ_CHECK(json_check_object(value, w.len));
	}
	free(msg);
	return 0;
}
