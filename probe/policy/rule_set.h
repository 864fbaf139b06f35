/* A built set of classification rules: domain names in wire form (lower case, without the root
 * label), each with a category. A rule matches its domain and every name below it; the longest
 * matching rule wins. Lookup hashes each label suffix of the name once with a keyed SipHash and
 * probes one open-addressing table: no text is rendered and nothing is allocated. A set is built
 * once and then only read, so several workers may look up in it at the same time. */
#ifndef DNSPROBE_RULE_SET_H
#define DNSPROBE_RULE_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RULE_NAME_WIRE_MAX  255 /* a name's wire form, root label included */
#define RULE_CATEGORY_MAX   63	/* bytes of a category name */
#define RULE_CATEGORIES_MAX 4096

struct rule_set;

/* What a lookup found: the category's index and name, and the rule's domain in wire form
 * (pointing into the set). */
struct rule_match {
	unsigned category;
	const char *category_name;
	const uint8_t *rule;
	size_t rule_len;
};

/* NULL when out of memory or without a random hash key. */
struct rule_set *rule_set_new(void);
void rule_set_free(struct rule_set *s);

/* The index of a category, added when new; -1 when RULE_CATEGORIES_MAX are taken or out of
 * memory. */
int rule_set_category(struct rule_set *s, const char *name);

/* Adds a rule (wire form, lower case, no root label). Returns 1 when added, 2 when the domain
 * already had a rule of another category (the new one replaces it), 3 when it had this category,
 * 0 when out of memory. */
int rule_set_add(struct rule_set *s, const uint8_t *wire, size_t len, unsigned category);

/* Builds the lookup filter once every rule is added; lookups need it. False when out of memory. */
bool rule_set_seal(struct rule_set *s);

size_t rule_set_rules(const struct rule_set *s);
unsigned rule_set_categories(const struct rule_set *s);
const char *rule_set_category_name(const struct rule_set *s, unsigned category);
/* Bytes the set holds: table, names and categories. */
size_t rule_set_memory(const struct rule_set *s);

/* The longest rule that matches name (wire form, lower case, no root label). The set must be
 * sealed. */
bool rule_set_lookup(const struct rule_set *s, const uint8_t *name, size_t len,
		     struct rule_match *out);

#endif
