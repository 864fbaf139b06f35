/* Unit tests of dns_ldns_read: it reads a message as ldns_wire2pkt does (the same status, the
 * same packet, printed by ldns), and a message with two TSIG records leaks nothing (this test
 * runs under LeakSanitizer in scripts/test; ldns_wire2pkt leaks the first TSIG there). The TSIG
 * layout is RFC 8945 4.2; the OPT one RFC 6891 6.1.2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns_ldns_read.h"
#include "dns_parse.h"
#include "packet_builder.h"

static const char example_com[] = "\7example\3com";

static void put_question(struct builder *b)
{
	put_name(b, example_com);
	put16(b, 1); /* A */
	put16(b, 1); /* IN */
}

static void put_a(struct builder *b)
{
	put16(b, 0xc00c); /* the question's name */
	put16(b, 1);
	put16(b, 1);
	put32(b, 300);
	put16(b, 4);
	put32(b, 0x0a630001); /* 10.99.0.1 */
}

static void put_opt(struct builder *b)
{
	put8(b, 0);
	put16(b, 41);
	put16(b, 1232);
	put32(b, 0x00008000); /* DO */
	put16(b, 0);
}

/* A TSIG record whose four-byte MAC is mac. */
static void put_tsig(struct builder *b, uint32_t mac)
{
	static const char algorithm[] = "\13hmac-sha256";
	put_name(b, "\3key");
	put16(b, 250);
	put16(b, 255); /* ANY */
	put32(b, 0);
	put16(b, (uint16_t)(sizeof(algorithm) + 6 + 2 + 2 + 4 + 2 + 2 + 2));
	put_name(b, algorithm);
	put16(b, 0); /* time signed, 48 bits */
	put32(b, 1700000000);
	put16(b, 300); /* fudge */
	put16(b, 4);
	put32(b, mac);
	put16(b, 0x1234); /* original id */
	put16(b, 0);	  /* error */
	put16(b, 0);	  /* other length */
}

static char *packet_text(ldns_status status, ldns_pkt *pkt)
{
	char *text = NULL;
	if (status == LDNS_STATUS_OK) {
		char *body = ldns_pkt2str(pkt);
		char *tsig = ldns_pkt_tsig(pkt) ? ldns_rr2str(ldns_pkt_tsig(pkt)) : NULL;
		size_t len = strlen(body) + (tsig ? strlen(tsig) : 0) + 2;
		text = malloc(len);
		snprintf(text, len, "%s\n%s", body, tsig ? tsig : "");
		free(body);
		free(tsig);
		ldns_pkt_free(pkt);
	} else {
		text = strdup(ldns_get_errorstr_by_id(status));
	}
	return text;
}

/* dns_ldns_read and ldns_wire2pkt give the same status and print the same packet. */
static void assert_reads_like_ldns(const struct builder *b)
{
	ldns_pkt *ours = NULL, *theirs = NULL;
	ldns_status ours_status = dns_ldns_read(&ours, b->bytes, b->len);
	ldns_status theirs_status = ldns_wire2pkt(&theirs, b->bytes, b->len);
	char *ours_text = packet_text(ours_status, ours);
	char *theirs_text = packet_text(theirs_status, theirs);
	assert_string_equal(ours_text, theirs_text);
	free(ours_text);
	free(theirs_text);
}

static void test_a_response_with_edns_reads_like_ldns(void **state)
{
	(void)state;
	struct builder b = {0};
	put_dns_header(&b, 0x1234, 0x8180, 1, 1, 0, 1);
	put_question(&b);
	put_a(&b);
	put_opt(&b);
	assert_reads_like_ldns(&b);
}

/* ldns takes a TSIG out of the additional section and counts the section one lower, so the
 * record after it is never read: the same here. */
static void test_a_record_after_a_tsig_is_not_read_like_ldns(void **state)
{
	(void)state;
	struct builder b = {0};
	put_dns_header(&b, 0x1234, 0x8180, 1, 0, 0, 2);
	put_question(&b);
	put_tsig(&b, 0x01020304);
	put_a(&b);
	assert_reads_like_ldns(&b);
	ldns_pkt *pkt = NULL;
	assert_int_equal(dns_ldns_read(&pkt, b.bytes, b.len), LDNS_STATUS_OK);
	assert_non_null(ldns_pkt_tsig(pkt));
	assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_additional(pkt)), 0);
	ldns_pkt_free(pkt);
}

static void test_every_truncation_reads_like_ldns(void **state)
{
	(void)state;
	struct builder whole = {0};
	put_dns_header(&whole, 0x1234, 0x8180, 1, 1, 1, 3);
	put_question(&whole);
	put_a(&whole);
	put_a(&whole);
	put_opt(&whole);
	put_tsig(&whole, 0x01020304);
	put_a(&whole);
	for (size_t len = 0; len <= whole.len; len++) {
		struct builder cut = whole;
		cut.len = len;
		assert_reads_like_ldns(&cut);
	}
}

static void test_a_bad_pointer_reads_like_ldns(void **state)
{
	(void)state;
	struct builder b = {0};
	put_dns_header(&b, 0x1234, 0x8180, 1, 1, 0, 0);
	put_question(&b);
	put16(&b, 0xc0ff); /* points past the end */
	put16(&b, 1);
	assert_reads_like_ldns(&b);
}

/* Two TSIG records: the last is kept, as ldns keeps it, and the first is freed (LeakSanitizer
 * fails this test if it is not). Read again through the parser's ldns path, the way the probe
 * meets such a message. */
static void test_two_tsigs_keep_the_last_and_leak_nothing(void **state)
{
	(void)state;
	struct builder b = {0};
	put_dns_header(&b, 0x1234, 0x8180, 1, 0, 0, 3);
	put_question(&b);
	put_tsig(&b, 0x01020304);
	put_tsig(&b, 0x0a0b0c0d);
	put_a(&b);
	ldns_pkt *pkt = NULL;
	assert_int_equal(dns_ldns_read(&pkt, b.bytes, b.len), LDNS_STATUS_OK);
	char *tsig = ldns_rr2str(ldns_pkt_tsig(pkt));
	assert_non_null(strstr(tsig, "CgsMDQ==")); /* base64 of 0a0b0c0d */
	free(tsig);
	ldns_pkt_free(pkt);

	struct dns_parser *parser = dns_parser_new();
	assert_non_null(parser);
	dns_parser_use_ldns_only(parser, true);
	struct dns_message message;
	for (int i = 0; i < 3; i++)
		assert_true(dns_parse(parser, b.bytes, b.len, false, &message));
	assert_null(message.malformed);
	dns_parser_free(parser);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_response_with_edns_reads_like_ldns),
	    cmocka_unit_test(test_a_record_after_a_tsig_is_not_read_like_ldns),
	    cmocka_unit_test(test_every_truncation_reads_like_ldns),
	    cmocka_unit_test(test_a_bad_pointer_reads_like_ldns),
	    cmocka_unit_test(test_two_tsigs_keep_the_last_and_leak_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
