/* DNS message parsing. The direct path reads the header, the questions, every resource record,
 * the common RDATA types and EDNS straight from the wire, bounds-checked, with no allocation.
 * Anything it does not render or finds malformed goes to the ldns path (dns_parse_ldns.c), so
 * ldns stays the judge of every message the direct path does not fully understand. */
#include "dns_parse.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address_text.h"
#include "bytes.h"
#include "cache_line.h"
#include "dns_parse_internal.h"
#include "dns_rdata.h"
#include "dns_rdata_check.h"

#define TEXT_ARENA_SIZE (1024 * 1024)
#define EDNS_OPTION_ECS 8
#define TYPE_OPT	41
#define RR_FIXED_LEN	10 /* type, class, TTL, RDLENGTH */

struct dns_parser {
	ldns_buffer *rdata_text;
	struct dns_text_arena arena;
	bool ldns_only;
	bool skip_answers;
};

struct dns_parser *dns_parser_new(void)
{
	struct dns_parser *parser = cache_line_calloc(sizeof(*parser));
	if (!parser)
		return NULL;
	parser->rdata_text = ldns_buffer_new(4096);
	parser->arena.bytes = cache_line_calloc(TEXT_ARENA_SIZE);
	parser->arena.size = TEXT_ARENA_SIZE;
	if (!parser->rdata_text || !parser->arena.bytes) {
		dns_parser_free(parser);
		return NULL;
	}
	return parser;
}

void dns_parser_free(struct dns_parser *parser)
{
	if (!parser)
		return;
	if (parser->rdata_text)
		ldns_buffer_free(parser->rdata_text);
	free(parser->arena.bytes);
	free(parser);
}

void dns_parser_use_ldns_only(struct dns_parser *parser, bool ldns_only)
{
	parser->ldns_only = ldns_only;
}

void dns_parser_skip_answers(struct dns_parser *parser, bool skip)
{
	parser->skip_answers = skip;
}

bool dns_arena_put(struct dns_text_arena *arena, const char *text, size_t len, uint32_t *offset)
{
	if (len + 1 > arena->size - arena->used)
		return false;
	memcpy(arena->bytes + arena->used, text, len);
	arena->bytes[arena->used + len] = '\0';
	*offset = (uint32_t)arena->used;
	arena->used += len + 1;
	return true;
}

static void parse_header(const uint8_t *msg, struct dns_message *out)
{
	uint16_t flags = bytes_be16(msg + 2);
	out->id = bytes_be16(msg);
	out->is_response = flags & 0x8000;
	out->opcode = (flags >> 11) & 0x0f;
	out->flags = flags & (DNS_FLAG_AA | DNS_FLAG_TC | DNS_FLAG_RD | DNS_FLAG_RA | DNS_FLAG_AD |
			      DNS_FLAG_CD);
	out->rcode = flags & 0x0f;
	out->qdcount = bytes_be16(msg + 4);
	out->ancount = bytes_be16(msg + 6);
	out->nscount = bytes_be16(msg + 8);
	out->arcount = bytes_be16(msg + 10);
}

static const char *question_problem(enum dns_name_status status)
{
	switch (status) {
	case DNS_NAME_BAD_POINTER:
		return "question_bad_pointer";
	case DNS_NAME_BAD_LABEL:
		return "question_bad_label";
	case DNS_NAME_TOO_LONG:
		return "question_name_too_long";
	default:
		return "question_truncated";
	}
}

/* Reads the first question; *offset ends just past it. Returns NULL or the reason it could not. */
static const char *parse_question(const uint8_t *msg, size_t len, size_t *offset,
				  struct dns_message *out)
{
	*offset = DNS_HEADER_LEN;
	if (out->qdcount == 0)
		return NULL;
	enum dns_name_status status = dns_name_read(msg, len, offset, out->qname, &out->qname_len);
	if (status != DNS_NAME_OK)
		return question_problem(status);
	if (!bytes_have(len, *offset, 4))
		return "question_truncated";
	out->qtype = bytes_be16(msg + *offset);
	out->qclass = bytes_be16(msg + *offset + 2);
	out->has_question = true;
	*offset += 4;
	return NULL;
}

/* Client subnet (RFC 7871): family, source prefix, scope prefix, then the address bytes. */
static void format_ecs(const uint8_t *opt, size_t len, char out[DNS_ECS_TEXT_MAX])
{
	if (len < 4)
		return;
	uint16_t family = bytes_be16(opt);
	unsigned prefix = opt[2];
	size_t addr_len = len - 4;
	uint8_t addr[16] = {0};
	int af;
	if (family == 1 && prefix <= 32 && addr_len <= 4)
		af = AF_INET;
	else if (family == 2 && prefix <= 128 && addr_len <= 16)
		af = AF_INET6;
	else
		return;
	memcpy(addr, opt + 4, addr_len);
	size_t n = af == AF_INET ? ipv4_text(addr, out) : ipv6_text(addr, out);
	out[n++] = '/';
	if (prefix >= 100)
		out[n++] = (char)('0' + prefix / 100);
	if (prefix >= 10)
		out[n++] = (char)('0' + prefix / 10 % 10);
	out[n++] = (char)('0' + prefix % 10);
	out[n] = '\0';
}

void dns_edns_options(const uint8_t *p, size_t len, struct dns_message *out)
{
	size_t offset = 0;
	while (bytes_have(len, offset, 4)) {
		uint16_t code = bytes_be16(p + offset);
		size_t opt_len = bytes_be16(p + offset + 2);
		offset += 4;
		if (!bytes_have(len, offset, opt_len))
			return;
		if (code == EDNS_OPTION_ECS)
			format_ecs(p + offset, opt_len, out->ecs);
		offset += opt_len;
	}
}

static bool skip_name(const uint8_t *msg, size_t len, size_t *offset)
{
	return dns_name_skip(msg, len, offset) == DNS_NAME_OK;
}

/* The OPT pseudo-RR (RFC 6891 6.1.2): owner root, CLASS = UDP size, TTL = extended RCODE,
 * version and flags. Returns false for anything the ldns path should judge. */
static bool read_opt(const uint8_t *msg, size_t owner, const uint8_t *rr, size_t rdlength,
		     struct dns_message *out)
{
	if (out->has_edns || msg[owner] != 0)
		return false;
	out->has_edns = true;
	out->edns_udp_size = bytes_be16(rr + 2);
	out->rcode |= (uint16_t)(rr[4] << 4);
	out->edns_version = rr[5];
	out->edns_do = rr[6] & 0x80;
	dns_edns_options(rr + RR_FIXED_LEN, rdlength, out);
	return true;
}

static bool keep_answer(const uint8_t *msg, size_t len, size_t owner, size_t rdata,
			const uint8_t *rr, struct dns_message *out)
{
	size_t rdlength = bytes_be16(rr + 8);
	/* An answer left out of the record must still read as ldns reads it. */
	if (out->answer_count == DNS_MAX_ANSWERS) {
		out->answers_omitted++;
		return dns_rdata_reads_like_ldns(msg, rdata, rdlength, bytes_be16(rr));
	}
	struct dns_answer *a = &out->answers[out->answer_count];
	struct dns_text_arena *arena = out->arena;
	char name[DNS_NAME_TEXT_MAX];
	const char *name_text = name;
	size_t name_len, data_len;
	if (out->has_question && bytes_have(len, owner, 2) && msg[owner] == 0xc0 &&
	    msg[owner + 1] == DNS_HEADER_LEN) {
		/* A pointer to the question's name, as most answers are: its text is at hand. */
		name_text = out->qname;
		name_len = out->qname_len;
	} else if (dns_name_read(msg, len, &owner, name, &name_len) != DNS_NAME_OK) {
		return false;
	}
	a->type = bytes_be16(rr);
	a->class = bytes_be16(rr + 2);
	a->ttl = bytes_be32(rr + 4);
	if (!dns_arena_put(arena, name_text, name_len, &a->name_offset)) {
		out->answers_omitted++;
		return dns_rdata_reads_like_ldns(msg, rdata, rdlength, a->type);
	}
	a->name_len = (uint32_t)name_len;
	enum dns_rdata_status status =
	    dns_rdata_render(msg, len, rdata, rdlength, a->type, arena->bytes + arena->used,
			     arena->size - arena->used, &data_len);
	if (status == DNS_RDATA_NO_SPACE) {
		out->answers_omitted++;
		return true;
	}
	if (status != DNS_RDATA_OK)
		return false;
	a->data_offset = (uint32_t)arena->used;
	a->data_len = (uint32_t)data_len;
	arena->used += data_len + 1;
	out->answer_count++;
	return true;
}

/* Walks every question and record; answers are rendered unless skip_answers. Returns false when
 * the ldns path must take the message. */
static bool parse_direct(const uint8_t *msg, size_t len, size_t offset, bool skip_answers,
			 struct dns_message *out)
{
	for (unsigned q = 1; q < out->qdcount; q++) {
		if (!skip_name(msg, len, &offset) || !bytes_have(len, offset, 4))
			return false;
		offset += 4;
	}
	unsigned sections[3] = {out->ancount, out->nscount, out->arcount};
	for (int section = 0; section < 3; section++) {
		for (unsigned i = 0; i < sections[section]; i++) {
			size_t owner = offset;
			if (!skip_name(msg, len, &offset) || !bytes_have(len, offset, RR_FIXED_LEN))
				return false;
			const uint8_t *rr = msg + offset;
			size_t rdlength = bytes_be16(rr + 8);
			size_t rdata = offset + RR_FIXED_LEN;
			if (!bytes_have(len, rdata, rdlength))
				return false;
			uint16_t type = bytes_be16(rr);
			if (type == TYPE_OPT &&
			    (section != 2 || !read_opt(msg, owner, rr, rdlength, out)))
				return false;
			if (section == 0 && !skip_answers
				? !keep_answer(msg, len, owner, rdata, rr, out)
				: !dns_rdata_reads_like_ldns(msg, rdata, rdlength, type))
				return false;
			offset = rdata + rdlength;
		}
	}
	return true;
}

static void reset(struct dns_parser *parser, struct dns_message *out)
{
	out->answer_count = out->answers_omitted = 0;
	out->has_edns = false;
	out->edns_do = false;
	out->edns_udp_size = 0;
	out->edns_version = 0;
	out->ecs[0] = '\0';
	out->malformed = NULL;
	out->arena = &parser->arena;
	parser->arena.used = 0;
}

bool dns_parse(struct dns_parser *parser, const uint8_t *msg, size_t len, bool capture_truncated,
	       struct dns_message *out)
{
	out->has_question = false;
	out->qname[0] = '\0';
	out->qname_len = 0;
	out->qtype = out->qclass = 0;
	reset(parser, out);
	if (len < DNS_HEADER_LEN)
		return false;
	parse_header(msg, out);
	size_t offset;
	const char *question = parse_question(msg, len, &offset, out);
	if (!question && !parser->ldns_only &&
	    parse_direct(msg, len, offset, parser->skip_answers, out))
		return true;
	uint16_t header_rcode = out->rcode;
	reset(parser, out);
	out->rcode = header_rcode & 0x0f;
	dns_parse_with_ldns((struct ldns_struct_buffer *)parser->rdata_text, msg, len,
			    capture_truncated, question, out);
	return true;
}
