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

#endif
