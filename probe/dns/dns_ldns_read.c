/* A DNS message read into an ldns_pkt the way ldns 1.8.3's ldns_wire2pkt reads it: the same
 * ldns_wire2rr walk of every section, the same statuses, the same EDNS and TSIG handling (a TSIG
 * record is taken out of the additional section, and the section's count drops by one, so the
 * walk ends one record sooner). One difference: ldns_wire2pkt keeps only the last TSIG and
 * leaks the ones before it (about 250 bytes each; found by fuzz_policy); here they are freed. */
#include "dns_ldns_read.h"

/* ldns_wire2rr reports running off the end as a packet overflow; the message reports which
 * section ran off. */
static ldns_status section_status(ldns_status status, ldns_pkt_section section)
{
	static const ldns_status incomplete[] = {
	    [LDNS_SECTION_QUESTION] = LDNS_STATUS_WIRE_INCOMPLETE_QUESTION,
	    [LDNS_SECTION_ANSWER] = LDNS_STATUS_WIRE_INCOMPLETE_ANSWER,
	    [LDNS_SECTION_AUTHORITY] = LDNS_STATUS_WIRE_INCOMPLETE_AUTHORITY,
	    [LDNS_SECTION_ADDITIONAL] = LDNS_STATUS_WIRE_INCOMPLETE_ADDITIONAL,
	};
	return status == LDNS_STATUS_PACKET_OVERFLOW ? incomplete[section] : status;
}

static void read_header(ldns_pkt *pkt, const uint8_t *wire)
{
	ldns_pkt_set_id(pkt, LDNS_ID_WIRE(wire));
	ldns_pkt_set_qr(pkt, LDNS_QR_WIRE(wire));
	ldns_pkt_set_opcode(pkt, LDNS_OPCODE_WIRE(wire));
	ldns_pkt_set_aa(pkt, LDNS_AA_WIRE(wire));
	ldns_pkt_set_tc(pkt, LDNS_TC_WIRE(wire));
	ldns_pkt_set_rd(pkt, LDNS_RD_WIRE(wire));
	ldns_pkt_set_ra(pkt, LDNS_RA_WIRE(wire));
	ldns_pkt_set_ad(pkt, LDNS_AD_WIRE(wire));
	ldns_pkt_set_cd(pkt, LDNS_CD_WIRE(wire));
	ldns_pkt_set_rcode(pkt, LDNS_RCODE_WIRE(wire));
	ldns_pkt_set_qdcount(pkt, LDNS_QDCOUNT(wire));
	ldns_pkt_set_ancount(pkt, LDNS_ANCOUNT(wire));
	ldns_pkt_set_nscount(pkt, LDNS_NSCOUNT(wire));
	ldns_pkt_set_arcount(pkt, LDNS_ARCOUNT(wire));
}

/* The OPT pseudo-record's fields become the packet's EDNS fields; the record itself is dropped. */
static void take_opt(ldns_pkt *pkt, ldns_rr *rr)
{
	uint32_t ttl = ldns_rr_ttl(rr);
	ldns_pkt_set_edns_udp_size(pkt, (uint16_t)ldns_rr_get_class(rr));
	ldns_pkt_set_edns_extended_rcode(pkt, (uint8_t)(ttl >> 24));
	ldns_pkt_set_edns_version(pkt, (uint8_t)(ttl >> 16));
	ldns_pkt_set_edns_z(pkt, (uint16_t)ttl);
	if (ldns_rr_rdf(rr, 0)) {
		ldns_rdf_deep_free(ldns_pkt_edns_data(pkt));
		ldns_pkt_set_edns_data(pkt, ldns_rdf_clone(ldns_rr_rdf(rr, 0)));
	}
	ldns_rr_free(rr);
}

/* The section's list (ldns_pkt_push_rr would also raise the section's count). */
static ldns_rr_list *section_list(const ldns_pkt *pkt, ldns_pkt_section section)
{
	switch (section) {
	case LDNS_SECTION_QUESTION:
		return ldns_pkt_question(pkt);
	case LDNS_SECTION_ANSWER:
		return ldns_pkt_answer(pkt);
	case LDNS_SECTION_AUTHORITY:
		return ldns_pkt_authority(pkt);
	default:
		return ldns_pkt_additional(pkt);
	}
}

/* Where a record of the section goes; false when ldns could not keep it. */
static bool keep_record(ldns_pkt *pkt, ldns_pkt_section section, ldns_rr *rr, unsigned *opts)
{
	bool additional = section == LDNS_SECTION_ADDITIONAL;
	if (additional && ldns_rr_get_type(rr) == LDNS_RR_TYPE_OPT) {
		take_opt(pkt, rr);
		(*opts)++;
		return true;
	}
	if (additional && ldns_rr_get_type(rr) == LDNS_RR_TYPE_TSIG) {
		ldns_rr_free(ldns_pkt_tsig(pkt));
		ldns_pkt_set_tsig(pkt, rr);
		ldns_pkt_set_arcount(pkt, ldns_pkt_arcount(pkt) - 1);
		return true;
	}
	return ldns_rr_list_push_rr(section_list(pkt, section), rr);
}

ldns_status dns_ldns_read(ldns_pkt **out, const uint8_t *wire, size_t len)
{
	if (len < LDNS_HEADER_SIZE)
		return LDNS_STATUS_WIRE_INCOMPLETE_HEADER;
	ldns_pkt *pkt = ldns_pkt_new();
	if (!pkt)
		return LDNS_STATUS_MEM_ERR;
	read_header(pkt, wire);
	size_t pos = LDNS_HEADER_SIZE;
	unsigned opts = 0;
	/* Each section's count is read again at every step: a TSIG lowers the additional one. */
	uint16_t (*const counts[])(const ldns_pkt *) = {
	    [LDNS_SECTION_QUESTION] = ldns_pkt_qdcount,
	    [LDNS_SECTION_ANSWER] = ldns_pkt_ancount,
	    [LDNS_SECTION_AUTHORITY] = ldns_pkt_nscount,
	    [LDNS_SECTION_ADDITIONAL] = ldns_pkt_arcount,
	};
	for (ldns_pkt_section section = LDNS_SECTION_QUESTION; section <= LDNS_SECTION_ADDITIONAL;
	     section++) {
		for (uint16_t i = 0; i < counts[section](pkt); i++) {
			ldns_rr *rr = NULL;
			ldns_status status = ldns_wire2rr(&rr, wire, len, &pos, section);
			if (status != LDNS_STATUS_OK) {
				ldns_pkt_free(pkt);
				return section_status(status, section);
			}
			if (!keep_record(pkt, section, rr, &opts)) {
				ldns_rr_free(rr);
				ldns_pkt_free(pkt);
				return LDNS_STATUS_INTERNAL_ERR;
			}
		}
	}
	ldns_pkt_set_size(pkt, len);
	if (opts) {
		ldns_pkt_set_arcount(pkt, (uint16_t)(ldns_pkt_arcount(pkt) - opts));
		pkt->_edns_present = (uint8_t)opts;
	}
	*out = pkt;
	return LDNS_STATUS_OK;
}
