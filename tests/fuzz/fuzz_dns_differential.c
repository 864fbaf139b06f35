/* Fuzz target: the direct DNS parse path against ldns, the parser of record. One DNS message is
 * parsed both ways and encoded as a record; the two records must be byte-for-byte the same
 * (tests/differential does the same over every capture we have; this looks for inputs none of
 * them holds). A third parse skips the answers, as for --format dnstap: its record must be the
 * direct one without answers (or the same, when it left the message to ldns). */
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

static struct side direct, ldns, skip;

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
		set_up(&skip, false);
		dns_parser_skip_answers(skip.parser, true);
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
	FUZZ_CHECK(parsed == parse_and_encode(&skip, msg, size));
	if (parsed && skip.message->answer_count == 0 && skip.message->answers_omitted == 0) {
		/* The direct path took it: the same message, answers left out. */
		direct.message->answer_count = direct.message->answers_omitted = 0;
		direct.record_len =
		    fuzz_record_encode(direct.message, size, direct.record, &direct.overflow);
	}
	if (parsed && (direct.record_len != skip.record_len ||
		       memcmp(direct.record, skip.record, direct.record_len) != 0)) {
		fprintf(stderr, "direct: %.*s\nskip:   %.*s\n", (int)direct.record_len,
			direct.record, (int)skip.record_len, skip.record);
		FUZZ_CHECK(!"skipping the answers changes more than the answers");
	}
	free(msg);
	return 0;
}
