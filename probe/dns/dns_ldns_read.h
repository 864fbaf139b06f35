/* A DNS message read into an ldns_pkt as ldns_wire2pkt reads it, without its TSIG leak
 * (dns_ldns_read.c). */
#ifndef DNSPROBE_DNS_LDNS_READ_H
#define DNSPROBE_DNS_LDNS_READ_H

#include <ldns/ldns.h>

/* As ldns_wire2pkt(out, wire, len): LDNS_STATUS_OK and a packet to ldns_pkt_free, or the
 * status ldns_wire2pkt gives and no packet. */
ldns_status dns_ldns_read(ldns_pkt **out, const uint8_t *wire, size_t len);

#endif
