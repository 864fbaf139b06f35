/* FUZZ_CHECK: a property a fuzz target asserts, checked whatever NDEBUG says; a failure prints the
 * condition and aborts, which libFuzzer reports as a crash with the input that caused it. */
#ifndef DNSPROBE_FUZZ_CHECK_H
#define DNSPROBE_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
