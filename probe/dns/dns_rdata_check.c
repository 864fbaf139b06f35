/* RDATA checked field by field with ldns's own descriptor of each RR type, the way ldns_wire2rdf
 * walks it (ldns 1.8: fixed-size fields, length-prefixed fields, names, and fields that run to the
 * end). Only the answer is kept; nothing is allocated. */
#include "dns_rdata_check.h"

#include <ldns/ldns.h>

#include "bytes.h"
#include "dns_name.h"

/* How many bytes the field of this type at pos takes; 0 for a name (walked separately) and
 * SIZE_MAX for a field this check does not know, which leaves the message to ldns. */
static size_t field_length(ldns_rdf_type type, const uint8_t *msg, size_t pos, size_t end)
{
	switch (type) {
	case LDNS_RDF_TYPE_DNAME:
		return 0;
	case LDNS_RDF_TYPE_CLASS:
	case LDNS_RDF_TYPE_ALG:
	case LDNS_RDF_TYPE_CERTIFICATE_USAGE:
	case LDNS_RDF_TYPE_SELECTOR:
	case LDNS_RDF_TYPE_MATCHING_TYPE:
	case LDNS_RDF_TYPE_INT8:
		return 1;
	case LDNS_RDF_TYPE_TYPE:
	case LDNS_RDF_TYPE_INT16:
	case LDNS_RDF_TYPE_CERT_ALG:
		return 2;
	case LDNS_RDF_TYPE_TIME:
	case LDNS_RDF_TYPE_INT32:
	case LDNS_RDF_TYPE_A:
	case LDNS_RDF_TYPE_PERIOD:
		return 4;
	case LDNS_RDF_TYPE_TSIGTIME:
	case LDNS_RDF_TYPE_EUI48:
		return 6;
	case LDNS_RDF_TYPE_ILNP64:
	case LDNS_RDF_TYPE_EUI64:
		return 8;
	case LDNS_RDF_TYPE_AAAA:
		return 16;
	case LDNS_RDF_TYPE_STR:
	case LDNS_RDF_TYPE_NSEC3_SALT:
	case LDNS_RDF_TYPE_TAG:
	case LDNS_RDF_TYPE_B32_EXT:
	case LDNS_RDF_TYPE_NSEC3_NEXT_OWNER:
		return (size_t)msg[pos] + 1;
	case LDNS_RDF_TYPE_INT16_DATA:
		return end - pos < 2 ? SIZE_MAX : (size_t)bytes_be16(msg + pos) + 2;
	case LDNS_RDF_TYPE_HIP:
		return end - pos < 4 ? SIZE_MAX : (size_t)msg[pos] + bytes_be16(msg + pos + 2) + 4;
	case LDNS_RDF_TYPE_APL:
	case LDNS_RDF_TYPE_B64:
	case LDNS_RDF_TYPE_HEX:
	case LDNS_RDF_TYPE_NSEC:
	case LDNS_RDF_TYPE_UNKNOWN:
	case LDNS_RDF_TYPE_SERVICE:
	case LDNS_RDF_TYPE_LOC:
	case LDNS_RDF_TYPE_WKS:
	case LDNS_RDF_TYPE_NSAP:
	case LDNS_RDF_TYPE_ATMA:
	case LDNS_RDF_TYPE_IPSECKEY:
	case LDNS_RDF_TYPE_LONG_STR:
	case LDNS_RDF_TYPE_NONE:
		return end - pos;
	default:
		return SIZE_MAX;
	}
}

bool dns_rdata_reads_like_ldns(const uint8_t *msg, size_t offset, size_t rdlength, uint16_t type)
{
	const ldns_rr_descriptor *descriptor = ldns_rr_descript(type);
	size_t fields = ldns_rr_descriptor_maximum(descriptor);
	size_t end = offset + rdlength, pos = offset;
	/* ldns counts fields in a uint8_t, so a long run of variable fields starts over at 0. */
	for (uint8_t index = 0; pos < end && index < fields; index++) {
		ldns_rdf_type field = ldns_rr_descriptor_field_type(descriptor, index);
		if (field == LDNS_RDF_TYPE_DNAME) {
			/* Read against the RDATA end: a name must not run past it. */
			if (dns_name_skip(msg, end, &pos) != DNS_NAME_OK)
				return false;
			continue;
		}
		size_t length = field_length(field, msg, pos, end);
		if (length > end - pos)
			return false;
		pos += length;
	}
	return pos == end;
}
