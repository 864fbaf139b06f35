/* Shared between the two DNS parse paths (the direct one and the ldns one); not a public API. */
#ifndef DNSPROBE_DNS_PARSE_INTERNAL_H
#define DNSPROBE_DNS_PARSE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns_message.h"

struct ldns_struct_buffer;

/* Copies text into the arena; false when it does not fit. */
bool dns_arena_put(struct dns_text_arena *arena, const char *text, size_t len, uint32_t *offset);

/* Reads the EDNS options (RFC 6891 6.1.2) and keeps the client subnet (RFC 7871). */
void dns_edns_options(const uint8_t *options, size_t len, struct dns_message *out);

/* The ldns path: answers and EDNS of a message whose header and question are already in out.
 * Sets out->malformed when ldns cannot parse it. */
void dns_parse_with_ldns(struct ldns_struct_buffer *rdata_text, const uint8_t *msg, size_t len,
			 bool capture_truncated, const char *question_problem,
			 struct dns_message *out);

#endif
