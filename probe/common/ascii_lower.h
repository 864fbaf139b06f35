/* ASCII lower-casing eight bytes at a time, as DNS compares names (RFC 4343: only A-Z change;
 * bytes 0x80 and up are left alone). */
#ifndef DNSPROBE_ASCII_LOWER_H
#define DNSPROBE_ASCII_LOWER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Each byte's low seven bits plus a constant carry into its top bit exactly when they are above
 * a bound (no byte overflows into the next: 0x7f + 0x3f < 0x100); a byte is upper case when it is
 * ASCII, at least 'A' and not above 'Z', and then 0x20 (its top bit shifted by two) is added. */
static inline uint64_t ascii_lower_word(uint64_t v)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t low7 = v & ~highs;
	uint64_t at_least_a = low7 + ones * (0x80 - 'A');
	uint64_t above_z = low7 + ones * (0x7f - 'Z');
	uint64_t upper = ~v & (at_least_a ^ above_z) & highs;
	return v | upper >> 2;
}

/* Writes the lower-case form of len bytes of text to out (which may not overlap it). */
static inline void ascii_lower(uint8_t *out, const uint8_t *text, size_t len)
{
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t v;
		memcpy(&v, text + i, 8);
		v = ascii_lower_word(v);
		memcpy(out + i, &v, 8);
	}
	for (; i < len; i++)
		out[i] = text[i] >= 'A' && text[i] <= 'Z' ? (uint8_t)(text[i] + 32) : text[i];
}

#endif
