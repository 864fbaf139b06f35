/* Names of DNS codes: RR types, classes, response codes and opcodes, as DNS tools print them. */
#ifndef DNSPROBE_DNS_MNEMONICS_H
#define DNSPROBE_DNS_MNEMONICS_H

#include <stdint.h>

#define DNS_MNEMONIC_MAX 16

/* Each returns a static name, or writes "TYPE65280"-style text into buf and returns buf. */
const char *dns_type_name(uint16_t type, char buf[DNS_MNEMONIC_MAX]);
const char *dns_class_name(uint16_t class, char buf[DNS_MNEMONIC_MAX]);
const char *dns_rcode_name(uint16_t rcode, char buf[DNS_MNEMONIC_MAX]);
const char *dns_opcode_name(uint8_t opcode, char buf[DNS_MNEMONIC_MAX]);

/* A name with its length, padded with NULs to DNS_MNEMONIC_MAX bytes so that it copies whole. */
struct dns_mnemonic {
	char text[DNS_MNEMONIC_MAX];
	uint8_t len;
};

/* The same names for the record encoder: RR types below 256 and the classes below 256 are looked
 * up once, in a table; any other is written into buf. */
const struct dns_mnemonic *dns_type_mnemonic(uint16_t type, struct dns_mnemonic *buf);
const struct dns_mnemonic *dns_class_mnemonic(uint16_t class, struct dns_mnemonic *buf);

#endif
