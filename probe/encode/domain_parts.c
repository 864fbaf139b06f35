/* Registered domain and public suffix through libpsl, cached per worker as finished JSON text in
 * a two-way set-associative table indexed by a keyed hash of the name as it came (names come from
 * the network: SipHash with a random key, so no one can choose names that evict each other). A
 * miss replaces the way of its set used less recently. An entry keeps the name's 64-bit hash and
 * length instead of the name: 128 bytes, so 4 MiB hold 32 768 names (the benchmark draws from
 * 20 000), each of which costs libpsl several thousand instructions to look up again. Two names
 * of one set share the hash's 14 set bits, so they pass for each other once in 2^50 lookups at
 * worst; without the key no one can choose such names, as for the match table (docs/records.md). */
#include "domain_parts.h"

#include <libpsl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ascii_lower.h"
#include "dns_name.h"
#include "siphash.h"

#define CACHE_SETS	16384 /* of two 128-byte ways: 4 MiB per worker */
#define CACHED_JSON_MAX 110

/* Where the parts start in the lower-case name; absent parts are flagged. */
struct domain_parts {
	bool has_registered; /* the name is not itself a public suffix */
	bool has_suffix;
	uint16_t registered; /* offset of the registered domain */
	uint16_t suffix;     /* offset of the public suffix */
};

/* A name's JSON text when it fits (json_len > 0, which most do), else its parts. */
struct cached_name {
	uint64_t hash;
	uint16_t len; /* 0: empty */
	uint8_t json_len;
	struct domain_parts parts;
	char json[CACHED_JSON_MAX];
};

_Static_assert(sizeof(struct cached_name) == 128, "two ways of a set in two cache lines");

struct domain_parts_finder {
	psl_ctx_t *psl;
	uint8_t key[SIPHASH_KEY_LEN];
	struct cached_name slots[CACHE_SETS][2];
	uint8_t recent[CACHE_SETS]; /* the way of each set used last */
};

struct domain_parts_finder *domain_parts_new(void)
{
	struct domain_parts_finder *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	/* psl_latest reads the list libpsl was built to use (Debian: the publicsuffix package's
	 * file) when it is newer than the one built in, which Debian also takes from it. */
	f->psl = psl_latest(NULL);
	if (!f->psl || getrandom(f->key, sizeof(f->key), 0) != (ssize_t)sizeof(f->key)) {
		domain_parts_free(f);
		return NULL;
	}
	return f;
}

void domain_parts_free(struct domain_parts_finder *f)
{
	if (!f)
		return;
	psl_free(f->psl);
	free(f);
}

/* One libpsl lookup: the registered domain is one label and the public suffix, so the suffix
 * needs a second lookup only when the name has no registered domain. */
static void look_up(const psl_ctx_t *psl, const char *name, struct domain_parts *out)
{
	memset(out, 0, sizeof(*out));
	const char *registered = psl_registrable_domain(psl, name);
	const char *suffix = NULL;
	if (registered) {
		out->has_registered = true;
		out->registered = (uint16_t)(registered - name);
		suffix = strchr(registered, '.');
		suffix = suffix ? suffix + 1 : NULL;
	} else {
		suffix = psl_unregistrable_domain(psl, name);
	}
	if (suffix && *suffix) {
		out->has_suffix = true;
		out->suffix = (uint16_t)(suffix - name);
	}
}

static void lower_case(const char *name, size_t len, char lower[DNS_NAME_TEXT_MAX + 1])
{
	ascii_lower((uint8_t *)lower, (const uint8_t *)name, len);
	lower[len] = '\0';
}

static char *put_parts(char *p, const char *lower, size_t len, const struct domain_parts *parts)
{
	if (parts->has_registered) {
		const char *registered = lower + parts->registered;
		p = JSON_PUT(p, ",\"registered_domain\":");
		p = json_put_string(p, registered, len - parts->registered);
		if (registered > lower + 1) {
			p = JSON_PUT(p, ",\"subdomain\":");
			p = json_put_string(p, lower, (size_t)parts->registered - 1);
		}
	}
	if (parts->has_suffix) {
		p = JSON_PUT(p, ",\"top_level_domain\":");
		p = json_put_string(p, lower + parts->suffix, len - parts->suffix);
	}
	return p;
}

char *domain_parts_json(struct domain_parts_finder *f, const char *name, size_t len, char *out)
{
	char lower[DNS_NAME_TEXT_MAX + 1];
	struct domain_parts parts;
	if (len > DNS_NAME_TEXT_MAX)
		return out;
	uint64_t hash = siphash13(f->key, (const uint8_t *)name, len);
	size_t set = hash & (CACHE_SETS - 1);
	struct cached_name *slot = NULL;
	for (uint8_t way = 0; way < 2; way++) {
		struct cached_name *c = &f->slots[set][way];
		if (c->hash == hash && c->len == len) {
			slot = c;
			f->recent[set] = way;
			break;
		}
	}
	if (slot) {
		if (slot->json_len > 0) {
			memcpy(out, slot->json, slot->json_len);
			return out + slot->json_len;
		}
		lower_case(name, len, lower);
		return put_parts(out, lower, len, &slot->parts);
	}
	lower_case(name, len, lower);
	look_up(f->psl, lower, &parts);
	char *end = put_parts(out, lower, len, &parts);
	size_t json_len = (size_t)(end - out);
	f->recent[set] ^= 1;
	slot = &f->slots[set][f->recent[set]];
	slot->hash = hash;
	slot->len = (uint16_t)len;
	slot->parts = parts;
	slot->json_len = json_len <= CACHED_JSON_MAX ? (uint8_t)json_len : 0;
	if (slot->json_len > 0)
		memcpy(slot->json, out, json_len);
	return end;
}
