/* The rule table: open addressing over keyed hashes of wire names, names in one arena. */
#include "rule_set.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "siphash.h"

#define INITIAL_SLOTS 1024
#define INITIAL_NAMES 16384
/* The filter in front of the table: a bit per rule at a cheap hash of its name (FNV-1a over the
 * bytes from the end, so one pass over a name gives the hash of every suffix; a random offset
 * basis, then a 64-bit finaliser), FILTER_BITS_PER_RULE bits a rule, so about one suffix in 16
 * that no rule has costs a SipHash and a probe of the large table; the rest stop at a small
 * array that stays in cache. The table itself is placed by the keyed SipHash, so what passes the
 * filter cannot be made to collide there. */
#define FILTER_BITS_PER_RULE 16
#define FILTER_MIN_BITS	     4096

/* One rule: 16 bytes, four to a cache line. */
struct rule_entry {
	uint64_t hash;
	uint32_t name_off; /* into names */
	uint16_t category;
	uint8_t name_len;
	uint8_t used;
};

struct rule_set {
	struct rule_entry *slots;
	size_t mask; /* slots - 1; the table is at most half full */
	size_t rules;
	uint8_t *names;
	size_t names_len, names_cap;
	char **categories;
	unsigned category_count;
	uint64_t depths;  /* bit d-1: some rule has d labels (d up to 64; bit 63 for all deeper) */
	uint64_t *filter; /* built by rule_set_seal; NULL before */
	uint64_t filter_mask; /* filter bits - 1 */
	uint64_t filter_basis;
	uint8_t key[SIPHASH_KEY_LEN];
};

struct rule_set *rule_set_new(void)
{
	struct rule_set *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->slots = calloc(INITIAL_SLOTS, sizeof(*s->slots));
	s->mask = INITIAL_SLOTS - 1;
	s->names = malloc(INITIAL_NAMES);
	s->names_cap = INITIAL_NAMES;
	s->categories = calloc(RULE_CATEGORIES_MAX, sizeof(*s->categories));
	if (!s->slots || !s->names || !s->categories ||
	    getrandom(s->key, sizeof(s->key), 0) != (ssize_t)sizeof(s->key) ||
	    getrandom(&s->filter_basis, sizeof(s->filter_basis), 0) !=
		(ssize_t)sizeof(s->filter_basis)) {
		rule_set_free(s);
		return NULL;
	}
	return s;
}

void rule_set_free(struct rule_set *s)
{
	if (!s)
		return;
	if (s->categories)
		for (unsigned i = 0; i < s->category_count; i++)
			free(s->categories[i]);
	free(s->categories);
	free(s->slots);
	free(s->names);
	free(s->filter);
	free(s);
}

int rule_set_category(struct rule_set *s, const char *name)
{
	for (unsigned i = 0; i < s->category_count; i++)
		if (strcmp(s->categories[i], name) == 0)
			return (int)i;
	if (s->category_count == RULE_CATEGORIES_MAX)
		return -1;
	char *copy = strdup(name);
	if (!copy)
		return -1;
	s->categories[s->category_count] = copy;
	return (int)s->category_count++;
}

static unsigned depth_bit(const uint8_t *wire, size_t len)
{
	unsigned labels = 0;
	for (size_t i = 0; i < len; i += (size_t)wire[i] + 1)
		labels++;
	return labels > 64 ? 63 : labels - 1;
}

/* The slot of name: where it is, or the free slot where it belongs. */
static struct rule_entry *find(const struct rule_set *s, const uint8_t *wire, size_t len,
			       uint64_t hash)
{
	for (size_t i = hash & s->mask;; i = (i + 1) & s->mask) {
		struct rule_entry *e = &s->slots[i];
		if (!e->used)
			return e;
		if (e->hash == hash && e->name_len == len &&
		    memcmp(s->names + e->name_off, wire, len) == 0)
			return e;
	}
}

static bool grow_table(struct rule_set *s)
{
	size_t slots = (s->mask + 1) * 2;
	struct rule_entry *table = calloc(slots, sizeof(*table));
	if (!table)
		return false;
	for (size_t i = 0; i <= s->mask; i++) {
		if (!s->slots[i].used)
			continue;
		size_t j = s->slots[i].hash & (slots - 1);
		while (table[j].used)
			j = (j + 1) & (slots - 1);
		table[j] = s->slots[i];
	}
	free(s->slots);
	s->slots = table;
	s->mask = slots - 1;
	return true;
}

static bool grow_names(struct rule_set *s, size_t len)
{
	if (s->names_len + len <= s->names_cap)
		return true;
	size_t cap = s->names_cap * 2;
	if (cap > UINT32_MAX)
		return false;
	uint8_t *names = realloc(s->names, cap);
	if (!names)
		return false;
	s->names = names;
	s->names_cap = cap;
	return true;
}

int rule_set_add(struct rule_set *s, const uint8_t *wire, size_t len, unsigned category)
{
	if ((s->rules + 1) * 2 > s->mask + 1 && !grow_table(s))
		return 0;
	uint64_t hash = siphash13(s->key, wire, len);
	struct rule_entry *e = find(s, wire, len, hash);
	if (e->used) {
		int result = e->category == category ? 3 : 2;
		e->category = (uint16_t)category;
		return result;
	}
	if (!grow_names(s, len))
		return 0;
	memcpy(s->names + s->names_len, wire, len);
	*e = (struct rule_entry){.hash = hash,
				 .name_off = (uint32_t)s->names_len,
				 .category = (uint16_t)category,
				 .name_len = (uint8_t)len,
				 .used = 1};
	s->names_len += len;
	s->rules++;
	s->depths |= 1ULL << depth_bit(wire, len);
	return 1;
}

#define FNV_PRIME 0x100000001b3ULL

static uint64_t fnv_byte(uint64_t h, uint8_t byte)
{
	return (h ^ byte) * FNV_PRIME;
}

/* MurmurHash3's 64-bit finaliser: every bit of h moves the filter bit. */
static uint64_t filter_bit(const struct rule_set *s, uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h & s->filter_mask;
}

static bool filter_has(const struct rule_set *s, uint64_t h)
{
	uint64_t bit = filter_bit(s, h);
	return s->filter[bit / 64] & (1ULL << (bit % 64));
}

bool rule_set_seal(struct rule_set *s)
{
	uint64_t bits = FILTER_MIN_BITS;
	while (bits < (uint64_t)s->rules * FILTER_BITS_PER_RULE)
		bits <<= 1;
	free(s->filter);
	s->filter = calloc(bits / 64, sizeof(*s->filter));
	if (!s->filter)
		return false;
	s->filter_mask = bits - 1;
	uint8_t *names = s->names_len ? realloc(s->names, s->names_len) : NULL;
	if (names) { /* no more rules come: the arena keeps only what it holds */
		s->names = names;
		s->names_cap = s->names_len;
	}
	for (size_t i = 0; i <= s->mask; i++) {
		const struct rule_entry *e = &s->slots[i];
		if (!e->used)
			continue;
		uint64_t h = s->filter_basis;
		for (size_t b = e->name_len; b-- > 0;)
			h = fnv_byte(h, s->names[e->name_off + b]);
		uint64_t bit = filter_bit(s, h);
		s->filter[bit / 64] |= 1ULL << (bit % 64);
	}
	return true;
}

size_t rule_set_rules(const struct rule_set *s)
{
	return s->rules;
}

unsigned rule_set_categories(const struct rule_set *s)
{
	return s->category_count;
}

const char *rule_set_category_name(const struct rule_set *s, unsigned category)
{
	return category < s->category_count ? s->categories[category] : "";
}

size_t rule_set_memory(const struct rule_set *s)
{
	size_t bytes = sizeof(*s) + (s->mask + 1) * sizeof(*s->slots) + s->names_cap +
		       RULE_CATEGORIES_MAX * sizeof(*s->categories) +
		       (s->filter ? (s->filter_mask + 1) / 8 : 0);
	for (unsigned i = 0; i < s->category_count; i++)
		bytes += strlen(s->categories[i]) + 1;
	return bytes;
}

bool rule_set_lookup(const struct rule_set *s, const uint8_t *name, size_t len,
		     struct rule_match *out)
{
	/* Label starts, so suffixes can be tried longest first. */
	size_t starts[RULE_NAME_WIRE_MAX / 2 + 1];
	unsigned labels = 0;
	for (size_t i = 0; i < len; i += (size_t)name[i] + 1)
		starts[labels++] = i;
	/* The filter hash of every suffix, in one pass from the end. */
	uint64_t suffix_hash[RULE_NAME_WIRE_MAX / 2 + 1];
	uint64_t h = s->filter_basis;
	unsigned next = labels;
	for (size_t i = len; i-- > 0;) {
		h = fnv_byte(h, name[i]);
		if (next > 0 && i == starts[next - 1])
			suffix_hash[--next] = h;
	}
	for (unsigned k = 0; k < labels; k++) {
		unsigned depth = labels - k;
		if (!(s->depths & (1ULL << (depth > 64 ? 63 : depth - 1))))
			continue;
		if (!filter_has(s, suffix_hash[k]))
			continue;
		const uint8_t *suffix = name + starts[k];
		size_t suffix_len = len - starts[k];
		const struct rule_entry *e =
		    find(s, suffix, suffix_len, siphash13(s->key, suffix, suffix_len));
		if (!e->used)
			continue;
		out->category = e->category;
		out->category_name = s->categories[e->category];
		out->rule = s->names + e->name_off;
		out->rule_len = e->name_len;
		return true;
	}
	return false;
}
