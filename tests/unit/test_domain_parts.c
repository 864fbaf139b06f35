/* Unit tests of the per-worker Public Suffix List cache (encode/domain_parts): every answer, from
 * libpsl or from the cache, in any letter case, for short and long names, is what libpsl itself
 * says for the lower-case name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <libpsl.h>

#include "domain_parts.h"

/* The fields as libpsl's own answers give them, written with printf. */
static void expected_json(const psl_ctx_t *psl, const char *lower, char *out, size_t size)
{
	const char *registered = psl_registrable_domain(psl, lower);
	const char *suffix = NULL;
	size_t n = 0;
	out[0] = '\0';
	if (registered) {
		n += (size_t)snprintf(out + n, size - n, ",\"registered_domain\":\"%s\"",
				      registered);
		if (registered > lower + 1)
			n += (size_t)snprintf(out + n, size - n, ",\"subdomain\":\"%.*s\"",
					      (int)(registered - lower - 1), lower);
		suffix = strchr(registered, '.');
		suffix = suffix ? suffix + 1 : NULL;
	} else {
		suffix = psl_unregistrable_domain(psl, lower);
	}
	if (suffix && *suffix)
		snprintf(out + n, size - n, ",\"top_level_domain\":\"%s\"", suffix);
}

static void check(struct domain_parts_finder *f, const psl_ctx_t *psl, const char *name)
{
	char lower[1100], want[4000], got[4000];
	size_t len = strlen(name);
	for (size_t i = 0; i <= len; i++)
		lower[i] = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] + 32) : name[i];
	expected_json(psl, lower, want, sizeof(want));
	char *end = domain_parts_json(f, name, len, got);
	assert_true((size_t)(end - got) <= DOMAIN_PARTS_JSON_MAX(len));
	*end = '\0';
	assert_string_equal(got, want);
}

static void answers_match_libpsl_hit_or_miss(void **state)
{
	(void)state;
	psl_ctx_t *psl = psl_latest(NULL);
	struct domain_parts_finder *f = domain_parts_new();
	assert_non_null(psl);
	assert_non_null(f);
	static const char *const names[] = {
	    "www.example.com",
	    "WWW.Example.COM",
	    "example.com",
	    "com",
	    "co.uk",
	    "bbc.co.uk",
	    "news.bbc.CO.UK",
	    "localhost",
	    "a.b.c.d.e.f.example.org",
	    "foo.github.io",
	    "github.io",
	    "x.invalid-tld-zz",
	    "www.ck",
	    "a.b.ck",
	    "kawasaki.jp",
	    "city.kawasaki.jp",
	    "a.city.kawasaki.jp",
	    /* longer than the cached name limit, and with fields too long for the cached text */
	    "a-label-of-sixty-three-characters-aaaaaaaaaaaaaaaaaaaaaaaaaaaaa.another-label-of-"
	    "forty-characters-bbbbbbbbbbb.example.net",
	    "a-label-of-fifty-characters-ccccccccccccccccccccccc.second-label-ddddddddd.example."
	    "net",
	};
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			check(f, psl, names[i]);
	/* Many more names than slots: evictions give the right answers too. */
	char name[64];
	for (int round = 0; round < 2; round++)
		for (unsigned n = 0; n < 200000; n += 7) {
			snprintf(name, sizeof(name), "h%u.D%u.%s", n, n % 97,
				 n % 3 ? "co.uk" : "com");
			check(f, psl, name);
		}
	domain_parts_free(f);
	psl_free(psl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(answers_match_libpsl_hit_or_miss),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
