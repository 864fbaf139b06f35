/* RDATA of the common RR types in presentation format, rendered straight from the wire exactly as
 * ldns prints it (the ldns path renders every other type). */
#ifndef DNSPROBE_DNS_RDATA_H
#define DNSPROBE_DNS_RDATA_H

#include <stddef.h>
#include <stdint.h>

enum dns_rdata_status {
	DNS_RDATA_OK,
	DNS_RDATA_UNSUPPORTED, /* a type rendered by the ldns path */
	DNS_RDATA_BAD,	       /* does not fit its type: leave it to ldns to judge */
	DNS_RDATA_NO_SPACE
};

/* Renders the RDATA at msg[offset, offset + rdlength) into out (NUL-terminated), following
 * compression pointers into msg; *out_len gets the length. */
enum dns_rdata_status dns_rdata_render(const uint8_t *msg, size_t msg_len, size_t offset,
				       size_t rdlength, uint16_t type, char *out, size_t out_size,
				       size_t *out_len);

#endif
