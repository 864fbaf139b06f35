/* A parsed DNS message: the fields a record carries, with names and RDATA already in presentation
 * format. Text lives in a caller-owned arena so parsing allocates nothing of its own. */
#ifndef DNSPROBE_DNS_MESSAGE_H
#define DNSPROBE_DNS_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns_name.h"

#define DNS_MAX_ANSWERS	 256
#define DNS_ECS_TEXT_MAX 64

#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_FLAG_RA 0x0080
#define DNS_FLAG_AD 0x0020
#define DNS_FLAG_CD 0x0010

struct dns_answer {
	uint32_t name_offset; /* into the arena */
	uint32_t name_len;
	uint32_t data_offset;
	uint32_t data_len;
	uint16_t type;
	uint16_t class;
	uint32_t ttl;
};

struct dns_text_arena {
	char *bytes;
	size_t size;
	size_t used;
};

struct dns_message {
	uint16_t id;
	bool is_response;
	uint8_t opcode;
	uint16_t flags; /* DNS_FLAG_* bits of the header */
	uint16_t rcode; /* with the upper 8 bits from OPT when present */
	uint16_t qdcount, ancount, nscount, arcount;

	bool has_question;
	char qname[DNS_NAME_TEXT_MAX];
	size_t qname_len;
	uint16_t qtype, qclass;

	size_t answer_count;
	size_t answers_omitted; /* answers present but not kept (over DNS_MAX_ANSWERS or arena) */
	struct dns_answer answers[DNS_MAX_ANSWERS];

	bool has_edns;
	uint16_t edns_udp_size;
	bool edns_do;
	uint8_t edns_version;
	char ecs[DNS_ECS_TEXT_MAX]; /* "a.b.c.0/24", empty when absent */

	const char *malformed; /* NULL, or why the message could only be partly parsed */
	struct dns_text_arena *arena;
};

static inline const char *dns_arena_text(const struct dns_message *m, uint32_t offset)
{
	return m->arena->bytes + offset;
}

#endif
