/* DNS message parsing: header and question read directly, answers and EDNS through ldns. */
#include "dns_parse.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"

#define TEXT_ARENA_SIZE (1024 * 1024)
#define EDNS_OPTION_ECS 8

struct dns_parser {
	ldns_buffer *rdata_text;
	struct dns_text_arena arena;
};

struct dns_parser *dns_parser_new(void)
{
	struct dns_parser *parser = calloc(1, sizeof(*parser));
	if (!parser)
		return NULL;
	parser->rdata_text = ldns_buffer_new(4096);
	parser->arena.bytes = malloc(TEXT_ARENA_SIZE);
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

/* Reads the first question; returns NULL or the reason it could not. */
static const char *parse_question(const uint8_t *msg, size_t len, struct dns_message *out)
{
	if (out->qdcount == 0)
		return NULL;
	size_t offset = DNS_HEADER_LEN;
	enum dns_name_status status = dns_name_read(msg, len, &offset, out->qname, &out->qname_len);
	if (status != DNS_NAME_OK)
		return question_problem(status);
	if (!bytes_have(len, offset, 4))
		return "question_truncated";
	out->qtype = bytes_be16(msg + offset);
	out->qclass = bytes_be16(msg + offset + 2);
	out->has_question = true;
	return NULL;
}

static const char *ldns_problem(ldns_status status)
{
	switch (status) {
	case LDNS_STATUS_WIRE_INCOMPLETE_HEADER:
	case LDNS_STATUS_WIRE_INCOMPLETE_QUESTION:
		return "question_truncated";
	case LDNS_STATUS_WIRE_INCOMPLETE_ANSWER:
		return "answer_truncated";
	case LDNS_STATUS_WIRE_INCOMPLETE_AUTHORITY:
		return "authority_truncated";
	case LDNS_STATUS_WIRE_INCOMPLETE_ADDITIONAL:
		return "additional_truncated";
	case LDNS_STATUS_PACKET_OVERFLOW:
		return "rdata_truncated";
	case LDNS_STATUS_INVALID_POINTER:
		return "bad_compression_pointer";
	case LDNS_STATUS_LABEL_OVERFLOW:
	case LDNS_STATUS_DOMAINNAME_OVERFLOW:
		return "name_too_long";
	case LDNS_STATUS_MEM_ERR:
		return "out_of_memory";
	default:
		return "unparseable";
	}
}

/* Copies text into the arena; returns false when it does not fit. */
static bool arena_put(struct dns_text_arena *arena, const char *text, size_t len, uint32_t *offset)
{
	if (len + 1 > arena->size - arena->used)
		return false;
	memcpy(arena->bytes + arena->used, text, len);
	arena->bytes[arena->used + len] = '\0';
	*offset = (uint32_t)arena->used;
	arena->used += len + 1;
	return true;
}

/* RDATA fields in presentation format, separated by spaces, as ldns prints them. */
static bool rdata_text(ldns_buffer *buf, const ldns_rr *rr)
{
	ldns_buffer_clear(buf);
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		if (i > 0)
			ldns_buffer_write_u8(buf, ' ');
		const ldns_rdf *rdf = ldns_rr_rdf(rr, i);
		if (rdf && ldns_rdf2buffer_str(buf, rdf) != LDNS_STATUS_OK)
			return false;
	}
	return ldns_buffer_status_ok(buf);
}

static bool keep_answer(struct dns_parser *parser, const ldns_rr *rr, struct dns_message *out)
{
	struct dns_answer *answer = &out->answers[out->answer_count];
	char name[DNS_NAME_TEXT_MAX];
	size_t name_len;
	const ldns_rdf *owner = ldns_rr_owner(rr);
	if (!owner || dns_name_from_labels(ldns_rdf_data(owner), ldns_rdf_size(owner), name,
					   &name_len) != DNS_NAME_OK)
		return false;
	if (!rdata_text(parser->rdata_text, rr))
		return false;
	if (!arena_put(out->arena, name, name_len, &answer->name_offset))
		return false;
	answer->name_len = (uint32_t)name_len;
	size_t data_len = ldns_buffer_position(parser->rdata_text);
	if (!arena_put(out->arena, (const char *)ldns_buffer_begin(parser->rdata_text), data_len,
		       &answer->data_offset))
		return false;
	answer->data_len = (uint32_t)data_len;
	answer->type = (uint16_t)ldns_rr_get_type(rr);
	answer->class = (uint16_t)ldns_rr_get_class(rr);
	answer->ttl = ldns_rr_ttl(rr);
	out->answer_count++;
	return true;
}

static void parse_answers(struct dns_parser *parser, const ldns_pkt *pkt, struct dns_message *out)
{
	const ldns_rr_list *answers = ldns_pkt_answer(pkt);
	size_t count = answers ? ldns_rr_list_rr_count(answers) : 0;
	for (size_t i = 0; i < count; i++) {
		if (out->answer_count == DNS_MAX_ANSWERS ||
		    !keep_answer(parser, ldns_rr_list_rr(answers, i), out)) {
			out->answers_omitted = count - i;
			return;
		}
	}
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
	char text[INET6_ADDRSTRLEN];
	if (!inet_ntop(af, addr, text, sizeof(text)))
		return;
	snprintf(out, DNS_ECS_TEXT_MAX, "%s/%u", text, prefix);
}

static void parse_edns_options(const ldns_rdf *data, struct dns_message *out)
{
	if (!data)
		return;
	const uint8_t *p = ldns_rdf_data(data);
	size_t len = ldns_rdf_size(data), offset = 0;
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

static void parse_edns(const ldns_pkt *pkt, struct dns_message *out)
{
	if (!ldns_pkt_edns(pkt))
		return;
	out->has_edns = true;
	out->edns_udp_size = ldns_pkt_edns_udp_size(pkt);
	out->edns_do = ldns_pkt_edns_do(pkt);
	out->edns_version = ldns_pkt_edns_version(pkt);
	out->rcode |= (uint16_t)(ldns_pkt_edns_extended_rcode(pkt) << 4);
	parse_edns_options(ldns_pkt_edns_data(pkt), out);
}

bool dns_parse(struct dns_parser *parser, const uint8_t *msg, size_t len, bool capture_truncated,
	       struct dns_message *out)
{
	out->has_question = false;
	out->qname[0] = '\0';
	out->qname_len = 0;
	out->qtype = out->qclass = 0;
	out->answer_count = out->answers_omitted = 0;
	out->has_edns = false;
	out->edns_do = false;
	out->edns_udp_size = 0;
	out->edns_version = 0;
	out->ecs[0] = '\0';
	out->malformed = NULL;
	out->arena = &parser->arena;
	parser->arena.used = 0;

	if (len < DNS_HEADER_LEN)
		return false;
	parse_header(msg, out);
	const char *question = parse_question(msg, len, out);

	ldns_pkt *pkt = NULL;
	ldns_status status = ldns_wire2pkt(&pkt, msg, len);
	if (status != LDNS_STATUS_OK) {
		out->malformed = capture_truncated ? "capture_truncated"
				 : question	   ? question
						   : ldns_problem(status);
		return true;
	}
	parse_answers(parser, pkt, out);
	parse_edns(pkt, out);
	ldns_pkt_free(pkt);
	if (question)
		out->malformed = question;
	return true;
}
