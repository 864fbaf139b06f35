/* Unit tests of DNS parsing on messages built by hand from RFC 1035, RFC 6891 and RFC 7871. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dns_mnemonics.h"
#include "dns_parse.h"
#include "packet_builder.h"

static struct dns_parser *parser;
static struct dns_message message;

static int setup(void **state)
{
	(void)state;
	parser = dns_parser_new();
	return parser ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	dns_parser_free(parser);
	return 0;
}

static const char www_example_com[] = "\3www\7example\3com";

/* OPT pseudo-RR (RFC 6891 6.1.2): root owner, type 41, class = UDP size, TTL = ext-rcode,
 * version, DO|Z; then the options. */
static void put_opt(struct builder *b, uint16_t udp_size, uint8_t ext_rcode, bool dnssec_ok,
		    const uint8_t *options, uint16_t options_len)
{
	put8(b, 0);
	put16(b, 41);
	put16(b, udp_size);
	put8(b, ext_rcode);
	put8(b, 0);
	put16(b, dnssec_ok ? 0x8000 : 0);
	put16(b, options_len);
	put(b, options, options_len);
}

static void query_with_edns_and_client_subnet(void **state)
{
	(void)state;
	/* ECS (RFC 7871 6): code 8, length 7, family 1, source /24, scope 0, 192.0.2 */
	static const uint8_t ecs[] = {0, 8, 0, 7, 0, 1, 24, 0, 192, 0, 2};
	struct builder b = {0};
	put_dns_header(&b, 0xbeef, 0x0100 /* RD */, 1, 0, 0, 1);
	put_name(&b, www_example_com);
	put16(&b, 1), put16(&b, 1);
	put_opt(&b, 1232, 0, true, ecs, sizeof(ecs));
	assert_true(dns_parse(parser, b.bytes, b.len, false, &message));
	assert_null(message.malformed);
	assert_int_equal(message.id, 0xbeef);
	assert_false(message.is_response);
	assert_int_equal(message.opcode, 0);
	assert_int_equal(message.flags, DNS_FLAG_RD);
	assert_true(message.has_question);
	assert_string_equal(message.qname, "www.example.com");
	assert_int_equal(message.qtype, 1);
	assert_int_equal(message.qclass, 1);
	assert_int_equal(message.arcount, 1);
	assert_true(message.has_edns);
	assert_int_equal(message.edns_udp_size, 1232);
	assert_true(message.edns_do);
	assert_string_equal(message.ecs, "192.0.2.0/24");
}

static void response_with_compressed_answers(void **state)
{
	(void)state;
	struct builder b = {0};
	/* QR, AA, RD, RA: 1000 0101 1000 0000 */
	put_dns_header(&b, 0xbeef, 0x8580, 1, 2, 0, 0);
	put_name(&b, www_example_com); /* at offset 12 */
	put16(&b, 1), put16(&b, 1);
	/* www.example.com CNAME web.example.com (owner a pointer to 12; target "web" + pointer to
	 * "example.com" at 16) */
	put16(&b, 0xc00c), put16(&b, 5), put16(&b, 1), put32(&b, 300), put16(&b, 6);
	size_t target = b.len;
	put(&b, "\3web", 4), put16(&b, 0xc010);
	/* web.example.com A 192.0.2.1 */
	put16(&b, (uint16_t)(0xc000 | target)), put16(&b, 1), put16(&b, 1), put32(&b, 60);
	put16(&b, 4), put8(&b, 192), put8(&b, 0), put8(&b, 2), put8(&b, 1);
	assert_true(dns_parse(parser, b.bytes, b.len, false, &message));
	assert_null(message.malformed);
	assert_true(message.is_response);
	assert_int_equal(message.flags, DNS_FLAG_AA | DNS_FLAG_RD | DNS_FLAG_RA);
	assert_int_equal(message.rcode, 0);
	assert_int_equal(message.answer_count, 2);
	const struct dns_answer *cname = &message.answers[0];
	assert_string_equal(dns_arena_text(&message, cname->name_offset), "www.example.com");
	assert_int_equal(cname->type, 5);
	assert_int_equal(cname->ttl, 300);
	assert_string_equal(dns_arena_text(&message, cname->data_offset), "web.example.com.");
	const struct dns_answer *a = &message.answers[1];
	assert_string_equal(dns_arena_text(&message, a->name_offset), "web.example.com");
	assert_string_equal(dns_arena_text(&message, a->data_offset), "192.0.2.1");
}

/* RFC 6891 6.1.3: the OPT TTL's upper 8 bits extend the 4-bit RCODE; 1<<4 = 16 = BADVERS. */
static void extended_rcode(void **state)
{
	(void)state;
	struct builder b = {0};
	put_dns_header(&b, 1, 0x8000, 1, 0, 0, 1);
	put_name(&b, www_example_com);
	put16(&b, 1), put16(&b, 1);
	put_opt(&b, 4096, 1, false, NULL, 0);
	assert_true(dns_parse(parser, b.bytes, b.len, false, &message));
	assert_int_equal(message.rcode, 16);
	char buf[DNS_MNEMONIC_MAX];
	assert_string_equal(dns_rcode_name(message.rcode, buf), "BADVERS");
	assert_string_equal(dns_rcode_name(3, buf), "NXDOMAIN");
	assert_string_equal(dns_rcode_name(4000, buf), "RCODE4000");
}

static void compression_loop_is_malformed_not_endless(void **state)
{
	(void)state;
	struct builder b = {0};
	put_dns_header(&b, 2, 0, 1, 0, 0, 0);
	put16(&b, 0xc00c); /* the question name points at itself */
	put16(&b, 1), put16(&b, 1);
	assert_true(dns_parse(parser, b.bytes, b.len, false, &message));
	assert_string_equal(message.malformed, "question_bad_pointer");
	assert_false(message.has_question);
	assert_int_equal(message.id, 2);
}

/* A name inside the RDATA of an authority record whose pointer leads past the message (RFC 1035
 * 4.1.4 lets a pointer name only an earlier occurrence): the message is malformed even though the
 * answer section is empty and the record is never rendered. */
static void bad_pointer_in_authority_rdata(void **state)
{
	(void)state;
	struct builder b = {0};
	put_dns_header(&b, 7, 0x8583, 1, 0, 1, 0);
	put_name(&b, www_example_com);
	put16(&b, 1), put16(&b, 1);
	put8(&b, 0);		       /* owner: the root */
	put16(&b, 6), put16(&b, 1);    /* SOA IN */
	put16(&b, 0), put16(&b, 3600); /* TTL */
	put16(&b, 2 + 1 + 20);	       /* RDLENGTH: MNAME pointer, RNAME root, five numbers */
	put16(&b, 0xffff);	       /* MNAME: pointer to offset 0x3fff */
	put8(&b, 0);
	for (int i = 0; i < 5; i++)
		put16(&b, 0), put16(&b, 1);
	assert_true(dns_parse(parser, b.bytes, b.len, false, &message));
	assert_string_equal(message.malformed, "bad_compression_pointer");
	assert_string_equal(message.qname, "www.example.com");
	assert_int_equal(message.rcode, 3);

	b.bytes[b.len - 23] = 0xc0, b.bytes[b.len - 22] = 12; /* MNAME: the question name */
	assert_true(dns_parse(parser, b.bytes, b.len, false, &message));
	assert_null(message.malformed);
}

/* Answers beyond what a record keeps are counted as omitted, but a broken one among them still
 * makes the message malformed (ldns, the parser of record, refuses the whole message). */
static void broken_answer_past_the_kept_ones(void **state)
{
	(void)state;
	static struct builder b;
	memset(&b, 0, sizeof(b));
	put_dns_header(&b, 8, 0x8180, 1, DNS_MAX_ANSWERS + 1, 0, 0);
	put8(&b, 1), put8(&b, 'a'), put8(&b, 0);
	put16(&b, 1), put16(&b, 1);
	for (int i = 0; i <= DNS_MAX_ANSWERS; i++) {
		bool last = i == DNS_MAX_ANSWERS;
		put16(&b, 0xc00c), put16(&b, 1), put16(&b, 1), put16(&b, 0), put16(&b, 60);
		put16(&b, last ? 3 : 4); /* an A record of three bytes */
		put(&b, "\xc0\x00\x02\x01", last ? 3 : 4);
	}
	assert_true(dns_parse(parser, b.bytes, b.len, false, &message));
	assert_string_equal(message.malformed, "answer_truncated");

	b.bytes[b.len - 4] = 4; /* the last RDLENGTH, low byte */
	put8(&b, 1);
	assert_true(dns_parse(parser, b.bytes, b.len, false, &message));
	assert_null(message.malformed);
	assert_int_equal(message.answer_count, DNS_MAX_ANSWERS);
	assert_int_equal(message.answers_omitted, 1);
}

static void shorter_than_a_header(void **state)
{
	(void)state;
	static const uint8_t short_message[11] = {0};
	assert_false(dns_parse(parser, short_message, sizeof(short_message), false, &message));
}

static void counts_larger_than_the_message(void **state)
{
	(void)state;
	struct builder b = {0};
	put_dns_header(&b, 3, 0x8180, 1, 5, 0, 0);
	put_name(&b, www_example_com);
	put16(&b, 1), put16(&b, 1);
	assert_true(dns_parse(parser, b.bytes, b.len, false, &message));
	assert_string_equal(message.malformed, "answer_truncated");
	assert_true(message.has_question);
	assert_string_equal(message.qname, "www.example.com");
	assert_int_equal(message.ancount, 5);
	assert_true(dns_parse(parser, b.bytes, b.len, true, &message));
	assert_string_equal(message.malformed, "capture_truncated");
}

/* RFC 1035 5.1: "\." for a dot inside a label, "\DDD" for other bytes; the root is ".". */
static void names_are_escaped(void **state)
{
	(void)state;
	struct builder b = {0};
	put_dns_header(&b, 4, 0, 1, 0, 0, 0);
	put(&b, "\7a.b\0 \\\xff", 8), put8(&b, 0);
	put16(&b, 65280), put16(&b, 3);
	assert_true(dns_parse(parser, b.bytes, b.len, false, &message));
	assert_string_equal(message.qname, "a\\.b\\000\\032\\\\\\255");
	char buf[DNS_MNEMONIC_MAX];
	assert_string_equal(dns_type_name(message.qtype, buf), "TYPE65280");
	assert_string_equal(dns_class_name(message.qclass, buf), "CH");
	assert_string_equal(dns_type_name(28, buf), "AAAA");

	/* Labels of eight bytes or more are checked a word at a time: escapes in the first word, in
	 * the overlapping tail, and none at all. */
	struct builder long_labels = {0};
	put_dns_header(&long_labels, 5, 0, 1, 0, 0, 0);
	put(&long_labels,
	    "\x0b"
	    "a;cdefghijk",
	    12);
	put(&long_labels,
	    "\x11"
	    "abcdefghijklmnop(",
	    18);
	put(&long_labels,
	    "\x08"
	    "abcdefgh",
	    9),
	    put8(&long_labels, 0);
	put16(&long_labels, 1), put16(&long_labels, 1);
	assert_true(dns_parse(parser, long_labels.bytes, long_labels.len, false, &message));
	assert_string_equal(message.qname, "a\\;cdefghijk.abcdefghijklmnop\\(.abcdefgh");

	/* Short labels with sixteen bytes readable after them are checked in one piece: with and
	 * without escapes, a label of exactly sixteen, and escapes at either end. */
	struct builder padded = {0};
	put_dns_header(&padded, 5, 0, 1, 0, 0, 0);
	put(&padded,
	    "\x05"
	    "a\\b.c",
	    6);
	put(&padded,
	    "\x10"
	    "abcdefghijklmnop",
	    17);
	put(&padded,
	    "\x03"
	    "(x)",
	    4);
	put(&padded,
	    "\x03"
	    "com",
	    4),
	    put8(&padded, 0);
	put16(&padded, 1), put16(&padded, 1);
	put(&padded, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_true(dns_parse(parser, padded.bytes, padded.len, false, &message));
	assert_string_equal(message.qname, "a\\\\b\\.c.abcdefghijklmnop.\\(x\\).com");

	struct builder root = {0};
	put_dns_header(&root, 5, 0, 1, 0, 0, 0);
	put8(&root, 0), put16(&root, 2), put16(&root, 1);
	assert_true(dns_parse(parser, root.bytes, root.len, false, &message));
	assert_string_equal(message.qname, ".");
}

static void opcodes(void **state)
{
	(void)state;
	char buf[DNS_MNEMONIC_MAX];
	assert_string_equal(dns_opcode_name(4, buf), "NOTIFY");
	assert_string_equal(dns_opcode_name(5, buf), "UPDATE");
	assert_string_equal(dns_opcode_name(9, buf), "OPCODE9");
	struct builder b = {0};
	put_dns_header(&b, 6, 5 << 11, 0, 0, 0, 0);
	assert_true(dns_parse(parser, b.bytes, b.len, false, &message));
	assert_int_equal(message.opcode, 5);
	assert_false(message.has_question);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(query_with_edns_and_client_subnet),
	    cmocka_unit_test(response_with_compressed_answers),
	    cmocka_unit_test(extended_rcode),
	    cmocka_unit_test(compression_loop_is_malformed_not_endless),
	    cmocka_unit_test(bad_pointer_in_authority_rdata),
	    cmocka_unit_test(broken_answer_past_the_kept_ones),
	    cmocka_unit_test(shorter_than_a_header),
	    cmocka_unit_test(counts_larger_than_the_message),
	    cmocka_unit_test(names_are_escaped),
	    cmocka_unit_test(opcodes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
