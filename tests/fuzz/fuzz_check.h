/* FUZZ_CHECK: a property a fuzz target asserts, checked whatever NDEBUG says; a failure prints the
 * condition and aborts, which libFuzzer reports as a crash with the input that caused it. */
#ifndef DNSPROBE_FUZZ_CHECK_H
#define DNSPROBE_FUZZ_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* An exact-size copy of a fuzz input (free it after use), so that AddressSanitizer sees any read
 * past its end. */
static inline uint8_t *fuzz_exact_copy(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	FUZZ_CHECK(copy);
	memcpy(copy, data, size);
	return copy;
}

#endif
