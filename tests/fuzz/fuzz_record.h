/* fuzz_record: encodes a parsed DNS message as the worker's JSON record would, for the fuzz
 * targets that start from a bare DNS message (a fixed IPv4/UDP client -> server packet around it).
 */
#ifndef DNSPROBE_FUZZ_RECORD_H
#define DNSPROBE_FUZZ_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "dns_parse.h"

/* The same size as the worker's record buffer. */
#define FUZZ_RECORD_MAX (4 * 1024 * 1024)

/* Writes the record of a message of dns_size bytes into out (FUZZ_RECORD_MAX bytes); returns its
 * length and sets *overflow when it did not fit. */
size_t fuzz_record_encode(const struct dns_message *message, size_t dns_size, char *out,
			  bool *overflow);

#endif
