/* A name's registered domain and public suffix by the Public Suffix List (libpsl, the list of
 * Debian's publicsuffix package), with a per-worker cache in front: a lookup in libpsl costs
 * about a microsecond, and the names of DNS traffic repeat. */
#ifndef DNSPROBE_DOMAIN_PARTS_H
#define DNSPROBE_DOMAIN_PARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the parts start in the name (offsets); absent parts are flagged. */
struct domain_parts {
	bool has_registered; /* the name is not itself a public suffix */
	bool has_suffix;
	uint16_t registered; /* offset of the registered domain */
	uint16_t suffix;     /* offset of the public suffix */
};

struct domain_parts_finder;

/* Loads the list (psl_latest: the system's file, or the one built into libpsl). NULL when out
 * of memory or without a list. */
struct domain_parts_finder *domain_parts_new(void);
void domain_parts_free(struct domain_parts_finder *f);

/* For a lower-case name (no escapes, not the root) of len bytes, NUL-terminated. */
void domain_parts_find(struct domain_parts_finder *f, const char *name, size_t len,
		       struct domain_parts *out);

#endif
