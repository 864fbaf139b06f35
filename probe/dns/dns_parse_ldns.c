/* The ldns path of DNS parsing: ldns_wire2pkt's reading (dns_ldns_read.c) for messages the direct
 * path leaves to it (RR types it does not render, anything malformed), and the reference the
 * direct path is checked against. */
#include <ldns/ldns.h>

#include "dns_ldns_read.h"
#include "dns_name.h"
#include "dns_parse_internal.h"

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

static bool keep_answer(ldns_buffer *text, const ldns_rr *rr, struct dns_message *out)
{
	struct dns_answer *answer = &out->answers[out->answer_count];
	char name[DNS_NAME_TEXT_MAX];
	size_t name_len;
	const ldns_rdf *owner = ldns_rr_owner(rr);
	if (!owner || dns_name_from_labels(ldns_rdf_data(owner), ldns_rdf_size(owner), name,
					   &name_len) != DNS_NAME_OK)
		return false;
	if (!rdata_text(text, rr))
		return false;
	if (!dns_arena_put(out->arena, name, name_len, &answer->name_offset))
		return false;
	answer->name_len = (uint32_t)name_len;
	size_t data_len = ldns_buffer_position(text);
	if (!dns_arena_put(out->arena, (const char *)ldns_buffer_begin(text), data_len,
			   &answer->data_offset))
		return false;
	answer->data_len = (uint32_t)data_len;
	answer->type = (uint16_t)ldns_rr_get_type(rr);
	answer->class = (uint16_t)ldns_rr_get_class(rr);
	answer->ttl = ldns_rr_ttl(rr);
	out->answer_count++;
	return true;
}

static void parse_answers(ldns_buffer *text, const ldns_pkt *pkt, struct dns_message *out)
{
	const ldns_rr_list *answers = ldns_pkt_answer(pkt);
	size_t count = answers ? ldns_rr_list_rr_count(answers) : 0;
	for (size_t i = 0; i < count; i++) {
		if (out->answer_count == DNS_MAX_ANSWERS ||
		    !keep_answer(text, ldns_rr_list_rr(answers, i), out)) {
			out->answers_omitted = count - i;
			return;
		}
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
	const ldns_rdf *data = ldns_pkt_edns_data(pkt);
	if (data)
		dns_edns_options(ldns_rdf_data(data), ldns_rdf_size(data), out);
}

void dns_parse_with_ldns(struct ldns_struct_buffer *rdata_buffer, const uint8_t *msg, size_t len,
			 bool capture_truncated, const char *question_problem,
			 struct dns_message *out)
{
	ldns_pkt *pkt = NULL;
	ldns_status status = dns_ldns_read(&pkt, msg, len);
	if (status != LDNS_STATUS_OK) {
		out->malformed = capture_truncated  ? "capture_truncated"
				 : question_problem ? question_problem
						    : ldns_problem(status);
		return;
	}
	parse_answers(rdata_buffer, pkt, out);
	parse_edns(pkt, out);
	ldns_pkt_free(pkt);
	if (question_problem)
		out->malformed = question_problem;
}
