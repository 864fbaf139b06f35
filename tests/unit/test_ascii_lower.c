/* Unit tests of ascii_lower (common/ascii_lower.h) against the rule of RFC 4343, byte by byte:
 * every byte value, in every position of a word and in the tail, next to every other. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ascii_lower.h"

static uint8_t rfc4343_lower(uint8_t c)
{
	return c >= 0x41 && c <= 0x5a ? (uint8_t)(c | 0x20) : c;
}

static void every_byte_in_every_position(void **state)
{
	(void)state;
	uint8_t text[19], out[19];
	for (unsigned value = 0; value < 256; value++)
		for (unsigned other = 0; other < 256; other++) {
			for (size_t i = 0; i < sizeof(text); i++)
				text[i] = (uint8_t)(i % 2 ? value : other);
			ascii_lower(out, text, sizeof(text));
			for (size_t i = 0; i < sizeof(text); i++)
				assert_int_equal(out[i], rfc4343_lower(text[i]));
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_byte_in_every_position),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
