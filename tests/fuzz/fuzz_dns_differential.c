/* Fuzz target: the direct DNS parse path against ldns, the parser of record. One DNS message is
 * parsed both ways and encoded as a record; the two records must be byte-for-byte the same
 * (tests/differential does the same over every capture we have; this looks for inputs none of
 * them holds). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_parse.h"
#include "fuzz_check.h"
#include "fuzz_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct side {
	struct dns_parser *parser;
	struct dns_message *message;
	char *record;
	size_t record_len;
	bool overflow;
};

static struct side direct, ldns;

static void set_up(struct side *s, bool ldns_only)
{
	s->parser = dns_parser_new();
	s->message = malloc(sizeof(*s->message));
	s->record = malloc(FUZZ_RECORD_MAX);
	FUZZ_CHECK(s->parser && s->message && s->record);
	dns_parser_use_ldns_only(s->parser, ldns_only);
}

static bool parse_and_encode(struct side *s, const uint8_t *msg, size_t size)
{
	if (!dns_parse(s->parser, msg, size, false, s->message))
		return false;
	s->record_len = fuzz_record_encode(s->message, size, s->record, &s->overflow);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!direct.parser) {
		set_up(&direct, false);
		set_up(&ldns, true);
	}
	uint8_t *msg = fuzz_exact_copy(data, size);

	bool parsed = parse_and_encode(&direct, msg, size);
	FUZZ_CHECK(parsed == parse_and_encode(&ldns, msg, size));
	if (parsed && (direct.record_len != ldns.record_len || direct.overflow != ldns.overflow ||
		       memcmp(direct.record, ldns.record, direct.record_len) != 0)) {
		fprintf(stderr, "direct: %.*s\nldns:   %.*s\n", (int)direct.record_len,
			direct.record, (int)ldns.record_len, ldns.record);
		FUZZ_CHECK(!"the direct path and ldns give different records");
	}
	free(msg);
	return 0;
}
