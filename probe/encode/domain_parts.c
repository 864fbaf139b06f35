/* Registered domain and public suffix through libpsl, cached per worker in a direct-mapped table
 * indexed by a keyed hash of the name (names come from the network: SipHash with a random key,
 * so no one can choose names that evict each other). */
#include "domain_parts.h"

#include <libpsl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "siphash.h"

#define CACHE_SLOTS	16384 /* 1.5 MiB per worker */
#define CACHED_NAME_MAX 87

struct cached_name {
	struct domain_parts parts;
	uint8_t len; /* 0: empty */
	char name[CACHED_NAME_MAX];
};

struct domain_parts_finder {
	psl_ctx_t *psl;
	uint8_t key[SIPHASH_KEY_LEN];
	struct cached_name slots[CACHE_SLOTS];
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

void domain_parts_find(struct domain_parts_finder *f, const char *name, size_t len,
		       struct domain_parts *out)
{
	if (len > CACHED_NAME_MAX) {
		look_up(f->psl, name, out);
		return;
	}
	struct cached_name *slot =
	    &f->slots[siphash13(f->key, (const uint8_t *)name, len) & (CACHE_SLOTS - 1)];
	if (slot->len == len && memcmp(slot->name, name, len) == 0) {
		*out = slot->parts;
		return;
	}
	look_up(f->psl, name, out);
	slot->parts = *out;
	slot->len = (uint8_t)len;
	memcpy(slot->name, name, len);
}
