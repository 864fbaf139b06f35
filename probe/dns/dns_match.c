/* Query/response matching: an open-addressing table of open queries placed by a keyed hash of
 * flow key, message id and question, the hash kept in each entry to tell questions apart. */
#include "dns_match.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ascii_lower.h"
#include "dns_mnemonics.h"
#include "siphash.h"

#define NS_PER_SECOND 1000000000LL
#define MATCH_KEY_LEN (FLOW_KEY_LEN + 2)

const double dns_match_latency_bounds_s[MATCH_LATENCY_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
};

/* The query types the counters name; the last slot takes all others. */
static const uint16_t counted_qtypes[MATCH_QTYPE_SLOTS - 1] = {
    1 /* A */,	     2 /* NS */,    5 /* CNAME */,  6 /* SOA */,    12 /* PTR */,  15 /* MX */,
    16 /* TXT */,    28 /* AAAA */, 33 /* SRV */,   35 /* NAPTR */, 43 /* DS */,   46 /* RRSIG */,
    48 /* DNSKEY */, 64 /* SVCB */, 65 /* HTTPS */, 252 /* AXFR */, 255 /* ANY */,
};

/* An open query: one cache line, so a lookup costs about one memory access. */
struct open_query {
	uint8_t key[MATCH_KEY_LEN]; /* the flow key, then the id */
	uint64_t hash;		    /* keyed hash of the key and the question (lookup below) */
	int64_t query_ns;	    /* capture time of the latest copy */
	uint32_t size;
	bool used;
	bool sender_is_a;
	uint8_t mark; /* what a later stage decided for the query (dns_match_mark_query) */
};

_Static_assert(sizeof(struct open_query) == 64, "an open query fills one cache line");

/* Open addressing: a key lives in the PROBE_MAX slots from its hash on, so a lookup compares at
 * most that many keys whatever the traffic. The table has max_queries slots (rounded up to a
 * power of two); a full window lets its oldest query go, counted as match_table_full. */
#define PROBE_MAX 8
/* Slots the expiry looks at per call (after every burst): a timed-out query is counted within
 * one sweep of the table. */
#define SWEEP_PER_CALL 256

struct dns_matcher {
	struct open_query *slots;
	uint32_t mask; /* slots - 1 */
	uint32_t max_queries, used;
	uint32_t sweep; /* where the expiry goes on */
	struct match_counters *counters;
	struct open_query *last_held; /* the query the last message held; NULL: none */
	int64_t timeout_ns;
	uint8_t key[SIPHASH_KEY_LEN];
};

struct dns_matcher *dns_matcher_new(const struct dns_match_limits *limits,
				    struct counters *counters)
{
	struct dns_matcher *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->max_queries = limits->max_queries ? limits->max_queries : DNS_MATCH_DEFAULT_QUERIES;
	m->timeout_ns =
	    limits->timeout_ns ? limits->timeout_ns : DNS_MATCH_DEFAULT_TIMEOUT_S * NS_PER_SECOND;
	m->counters = &counters->match;
	uint32_t slots = PROBE_MAX;
	while (slots < m->max_queries)
		slots <<= 1;
	m->mask = slots - 1;
	m->slots = aligned_alloc(sizeof(struct open_query), (size_t)slots * sizeof(*m->slots));
	if (!m->slots || getrandom(m->key, sizeof(m->key), 0) != (ssize_t)sizeof(m->key)) {
		dns_matcher_free(m);
		return NULL;
	}
	memset(m->slots, 0, (size_t)slots * sizeof(*m->slots));
	return m;
}

void dns_matcher_free(struct dns_matcher *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

static unsigned qtype_slot(uint16_t qtype)
{
	for (unsigned i = 0; i < MATCH_QTYPE_SLOTS - 1; i++)
		if (counted_qtypes[i] == qtype)
			return i;
	return MATCH_QTYPE_SLOTS - 1;
}

static unsigned rcode_slot(uint16_t rcode)
{
	return rcode < MATCH_RCODE_SLOTS - 1 ? rcode : MATCH_RCODE_SLOTS - 1;
}

const char *dns_match_qtype_label(unsigned slot)
{
	char buf[DNS_MNEMONIC_MAX];
	if (slot >= MATCH_QTYPE_SLOTS - 1)
		return "other";
	return dns_type_name(counted_qtypes[slot], buf); /* all counted types have static names */
}

const char *dns_match_rcode_label(unsigned slot)
{
	static const char *const unassigned[] = {"RCODE12", "RCODE13", "RCODE14", "RCODE15"};
	char buf[DNS_MNEMONIC_MAX];
	if (slot >= MATCH_RCODE_SLOTS - 1)
		return "other";
	if (slot >= 12 && slot <= 15)
		return unassigned[slot - 12];
	return dns_rcode_name((uint16_t)slot, buf);
}

/* One keyed hash of what must agree: the flow key, the id, and the question (the name with
 * ASCII letters lower-cased, as DNS compares names, RFC 4343; type; class). It places the entry
 * and, kept in it, tells the question apart: two questions of one flow and id agree by chance
 * once in 2^64, and no one can choose them to without the key. */
static uint64_t exchange_hash(const struct dns_matcher *m, const struct flow_key *key,
			      const struct dns_message *message, uint8_t out_key[MATCH_KEY_LEN])
{
	uint8_t buf[MATCH_KEY_LEN + 4 + DNS_NAME_TEXT_MAX];
	memcpy(buf, key->bytes, FLOW_KEY_LEN);
	buf[FLOW_KEY_LEN] = (uint8_t)(message->id >> 8);
	buf[FLOW_KEY_LEN + 1] = (uint8_t)message->id;
	memcpy(out_key, buf, MATCH_KEY_LEN);
	size_t len = MATCH_KEY_LEN;
	if (message->has_question) {
		buf[len++] = (uint8_t)(message->qtype >> 8);
		buf[len++] = (uint8_t)message->qtype;
		buf[len++] = (uint8_t)(message->qclass >> 8);
		buf[len++] = (uint8_t)message->qclass;
		size_t name_len =
		    message->qname_len < DNS_NAME_TEXT_MAX ? message->qname_len : DNS_NAME_TEXT_MAX;
		ascii_lower(buf + len, (const uint8_t *)message->qname, name_len);
		len += name_len;
	}
	return siphash13(m->key, buf, len);
}

/* The entry of this flow, id and question, or NULL; *home is where its window starts. */
static struct open_query *find(struct dns_matcher *m, const uint8_t *key, uint64_t hash,
			       uint32_t *home)
{
	*home = (uint32_t)hash & m->mask;
	for (uint32_t i = 0; i < PROBE_MAX; i++) {
		struct open_query *q = &m->slots[(*home + i) & m->mask];
		if (q->used && q->hash == hash && memcmp(q->key, key, MATCH_KEY_LEN) == 0)
			return q;
	}
	return NULL;
}

static void let_go(struct dns_matcher *m, struct open_query *q)
{
	q->used = false;
	m->used--;
}

/* The next held query from the sweep position on (there is one: the table is not empty). */
static struct open_query *next_held(struct dns_matcher *m)
{
	for (;;) {
		struct open_query *q = &m->slots[m->sweep];
		m->sweep = (m->sweep + 1) & m->mask;
		if (q->used)
			return q;
	}
}

/* A slot for a new query in the window at home: a free one, or the oldest of the window when
 * it is full; when the table holds max_queries already, one query goes first (the oldest of the
 * window, or the next the sweep finds). What goes counts as match_table_full. */
static struct open_query *take_slot(struct dns_matcher *m, uint32_t home)
{
	struct open_query *free_slot = NULL, *oldest = NULL;
	for (uint32_t i = 0; i < PROBE_MAX; i++) {
		struct open_query *q = &m->slots[(home + i) & m->mask];
		if (!q->used) {
			if (!free_slot)
				free_slot = q;
		} else if (!oldest || q->query_ns < oldest->query_ns) {
			oldest = q;
		}
	}
	if (free_slot && m->used < m->max_queries)
		return free_slot;
	m->counters->match_table_full++;
	if (!free_slot) {
		let_go(m, oldest);
		return oldest;
	}
	let_go(m, oldest ? oldest : next_held(m));
	return free_slot;
}

static void hold_query(struct dns_matcher *m, const uint8_t *key, uint64_t hash, bool sender_is_a,
		       size_t size, int64_t now_ns)
{
	uint32_t home;
	struct open_query *q = find(m, key, hash, &home);
	if (!q) {
		q = take_slot(m, home);
		memcpy(q->key, key, MATCH_KEY_LEN);
		q->hash = hash;
		q->used = true;
		m->used++;
	}
	q->query_ns = now_ns;
	q->size = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
	q->sender_is_a = sender_is_a;
	q->mark = 0;
	m->last_held = q;
}

static void count_latency(struct match_counters *c, uint16_t rcode, int64_t duration_ns)
{
	unsigned row = rcode_slot(rcode), bucket = 0;
	double seconds = (double)duration_ns / 1e9;
	while (bucket < MATCH_LATENCY_BUCKETS && seconds > dns_match_latency_bounds_s[bucket])
		bucket++;
	c->latency_buckets[row][bucket]++;
	c->latency_sum_ns[row] += (uint64_t)duration_ns;
}

static void answer_query(struct dns_matcher *m, const uint8_t *key, uint64_t hash, bool sender_is_a,
			 const struct dns_message *message, int64_t now_ns,
			 struct dns_match_result *out)
{
	uint32_t home;
	struct open_query *q = find(m, key, hash, &home);
	if (q && now_ns - q->query_ns > m->timeout_ns) {
		/* Too late: the query counts as unanswered, as the expiry would have had it. */
		m->counters->unanswered_queries++;
		let_go(m, q);
		q = NULL;
	}
	if (!q || q->sender_is_a == sender_is_a) {
		m->counters->unmatched_responses++;
		return;
	}
	out->matched = true;
	out->query_ns = q->query_ns;
	out->duration_ns = now_ns > q->query_ns ? now_ns - q->query_ns : 0;
	out->query_size = q->size;
	out->query_mark = q->mark;
	m->counters->matched_responses++;
	count_latency(m->counters, message->rcode, out->duration_ns);
	let_go(m, q);
}

void dns_match_message(struct dns_matcher *m, const struct flow_key *key, bool sender_is_a,
		       const struct dns_message *message, size_t size, int64_t now_ns,
		       struct dns_match_result *out)
{
	memset(out, 0, sizeof(*out));
	m->last_held = NULL;
	uint8_t k[MATCH_KEY_LEN];
	uint64_t hash = exchange_hash(m, key, message, k);
	if (message->is_response) {
		m->counters->responses_by_rcode[rcode_slot(message->rcode)]++;
		answer_query(m, k, hash, sender_is_a, message, now_ns, out);
	} else {
		if (message->has_question)
			m->counters->queries_by_qtype[qtype_slot(message->qtype)]++;
		hold_query(m, k, hash, sender_is_a, size, now_ns);
	}
}

void dns_match_expire(struct dns_matcher *m, int64_t now_ns)
{
	for (uint32_t n = 0; n < SWEEP_PER_CALL && n <= m->mask; n++) {
		struct open_query *q = &m->slots[m->sweep];
		m->sweep = (m->sweep + 1) & m->mask;
		if (q->used && now_ns - q->query_ns > m->timeout_ns) {
			m->counters->unanswered_queries++;
			let_go(m, q);
		}
	}
}

void dns_match_abandon_all(struct dns_matcher *m)
{
	for (uint32_t i = 0; i <= m->mask; i++) {
		if (m->slots[i].used) {
			m->counters->unanswered_queries++;
			let_go(m, &m->slots[i]);
		}
	}
}

void dns_match_mark_query(struct dns_matcher *m, uint8_t mark)
{
	if (m->last_held)
		m->last_held->mark = mark;
}
