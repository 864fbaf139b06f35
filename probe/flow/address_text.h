/* IP addresses as text and bytes as hex, for records and keys. */
#ifndef DNSPROBE_ADDRESS_TEXT_H
#define DNSPROBE_ADDRESS_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" and a NUL. */
#define ADDRESS_TEXT_MAX 46

/* An IPv4 or IPv6 address as text, without a NUL; out has room for ADDRESS_TEXT_MAX, and up to
 * three bytes past the text may be written (copies of fixed size are quicker). */
size_t ipv4_text(const uint8_t a[4], char *out);
size_t ipv6_text(const uint8_t a[16], char *out);

/* The same without a NUL; out has room for ADDRESS_TEXT_MAX. */
size_t address_text_unterminated(const uint8_t addr[16], char *out);

/* Presentation form of a 16-byte address: dotted quad for IPv4-mapped, RFC 5952 otherwise. */
size_t address_text(const uint8_t addr[16], char *out, size_t size);

/* 16 bytes as 32 lower-case hex digits (no NUL). */
void hex_of_16_bytes(const uint8_t *in, char *out);

#endif
