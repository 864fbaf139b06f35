/* DNS message parsing: a direct, bounds-checked path for the common messages, and ldns, the parser
 * of record, for everything else (see dns_parse.c). */
#ifndef DNSPROBE_DNS_PARSE_H
#define DNSPROBE_DNS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns_message.h"

#define DNS_HEADER_LEN 12

struct dns_parser; /* per worker: reusable ldns buffer and text arena */

struct dns_parser *dns_parser_new(void);
void dns_parser_free(struct dns_parser *parser);

/* For checking the direct path against ldns: parse every message through ldns alone. */
void dns_parser_use_ldns_only(struct dns_parser *parser, bool ldns_only);

/* For values that do not show the answers (--format dnstap, raw): the direct path only checks
 * that each answer reads as ldns reads it, as it does for the other sections, and leaves
 * out->answers empty; header, question, EDNS and the malformed verdict are as with rendering.
 * Messages the direct path leaves to ldns still get their answers. */
void dns_parser_skip_answers(struct dns_parser *parser, bool skip);

/* Parses msg into out. Returns false when there is not even a DNS header (under 12 bytes).
 * capture_truncated says the capture holds less than the packet had. */
bool dns_parse(struct dns_parser *parser, const uint8_t *msg, size_t len, bool capture_truncated,
	       struct dns_message *out);

#endif
