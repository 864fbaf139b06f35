/* A name's registered domain, subdomain and public suffix by the Public Suffix List (libpsl, the
 * list of Debian's publicsuffix package), as the record's JSON fields, with a per-worker cache in
 * front: a lookup in libpsl costs several thousand instructions, and the names of DNS traffic
 * repeat, so the cache keeps the finished JSON text of each name. */
#ifndef DNSPROBE_DOMAIN_PARTS_H
#define DNSPROBE_DOMAIN_PARTS_H

#include <stddef.h>

#include "json_writer.h"

struct domain_parts_finder;

/* Loads the list (psl_latest: the system's file, or the one built into libpsl). NULL when out
 * of memory or without a list. */
struct domain_parts_finder *domain_parts_new(void);
void domain_parts_free(struct domain_parts_finder *f);

/* The most domain_parts_json writes for a name of len bytes: three strings of at most len bytes
 * and their field names. */
#define DOMAIN_PARTS_JSON_MAX(len) (3 * JSON_STRING_MAX(len) + 64)

/* For a name as the parser wrote it (printable ASCII, any case, no escapes, not the root):
 * ,"registered_domain":…,"subdomain":…,"top_level_domain":… of its lower-case form, each when
 * the list gives it (docs/records.md), at out; returns the end. */
char *domain_parts_json(struct domain_parts_finder *f, const char *name, size_t len, char *out);

#endif
