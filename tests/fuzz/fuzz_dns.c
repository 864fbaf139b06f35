/* Fuzz target: one DNS message (the UDP payload) through dns_parse() and record_json_encode(), the
 * way the worker does it. Whatever the bytes, the parse must stay in bounds and terminate, and the
 * record must be one valid JSON object of printable ASCII (unless it overflowed the buffer, which
 * the worker counts as record_too_large). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_parse.h"
#include "fuzz_check.h"
#include "fuzz_record.h"
#include "json_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dns_parser *parser;
static struct dns_message *message;
static char *value;

static void set_up(void)
{
	parser = dns_parser_new();
	message = malloc(sizeof(*message));
	value = malloc(FUZZ_RECORD_MAX);
	FUZZ_CHECK(parser && message && value);
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
	uint8_t *msg = fuzz_exact_copy(data, size);

	bool parsed = dns_parse(parser, msg, size, false, message);
	FUZZ_CHECK(parsed == (size >= DNS_HEADER_LEN));
	if (parsed) {
		check_message(msg, message);
		bool overflow;
		size_t len = fuzz_record_encode(message, size, value, &overflow);
		FUZZ_CHECK(len <= FUZZ_RECORD_MAX);
		if (!overflow)
			FUZZ_CHECK(json_check_object(value, len));
	}
	free(msg);
	return 0;
}
