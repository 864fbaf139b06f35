/* Whether ldns would read an RR's RDATA field by field and end exactly where RDLENGTH says, so that
 * the direct parse path can pass over records it does not render and still agree with ldns. */
#ifndef DNSPROBE_DNS_RDATA_CHECK_H
#define DNSPROBE_DNS_RDATA_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when the RDATA at msg[offset, offset + rdlength) reads, the way ldns_wire2rdf reads a record
 * of this type, to exactly its end with every name within it. False leaves the message to ldns:
 * it fails there too, reads the records differently, or has a field type this check does not
 * know (SVCB and HTTPS parameters, AMTRELAY). The caller has checked that the
 * RDATA lies inside msg. */
bool dns_rdata_reads_like_ldns(const uint8_t *msg, size_t offset, size_t rdlength, uint16_t type);

#endif
