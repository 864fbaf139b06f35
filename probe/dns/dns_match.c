/* Query/response matching on a flow_table keyed by flow key and message id, with the question
 * kept as a keyed hash beside each open query. */
#include "dns_match.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "dns_mnemonics.h"
#include "flow_table.h"
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

/* What is kept of an open query beside its flow_table slot (same index). */
struct open_query {
	uint64_t question; /* keyed hash of the lower-cased name, type and class */
	uint32_t size;
	bool sender_is_a;
};

struct dns_matcher {
	struct flow_table table; /* key: flow key, then the id; last_seen_ns: the query's time */
	struct open_query *queries;
	struct match_counters *counters;
	int64_t timeout_ns;
	uint8_t question_key[SIPHASH_KEY_LEN];
};

struct dns_matcher *dns_matcher_new(const struct dns_match_limits *limits,
				    struct counters *counters)
{
	struct dns_matcher *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	uint32_t capacity = limits->max_queries ? limits->max_queries : DNS_MATCH_DEFAULT_QUERIES;
	m->timeout_ns =
	    limits->timeout_ns ? limits->timeout_ns : DNS_MATCH_DEFAULT_TIMEOUT_S * NS_PER_SECOND;
	m->counters = &counters->match;
	m->queries = calloc(capacity, sizeof(*m->queries));
	if (!m->queries || flow_table_init(&m->table, capacity, MATCH_KEY_LEN) != 0 ||
	    getrandom(m->question_key, sizeof(m->question_key), 0) !=
		(ssize_t)sizeof(m->question_key)) {
		free(m->queries);
		free(m);
		return NULL;
	}
	return m;
}

void dns_matcher_free(struct dns_matcher *m)
{
	if (!m)
		return;
	flow_table_destroy(&m->table);
	free(m->queries);
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

/* The question as a keyed hash: the name with ASCII letters lower-cased (DNS compares names so,
 * RFC 4343), then type and class. Without a question: a hash of type and class 0. */
static uint64_t question_hash(const struct dns_matcher *m, const struct dns_message *message)
{
	uint8_t buf[DNS_NAME_TEXT_MAX + 4];
	size_t len = 0;
	if (message->has_question) {
		for (; len < message->qname_len && len < DNS_NAME_TEXT_MAX; len++) {
			uint8_t c = (uint8_t)message->qname[len];
			buf[len] = c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
		}
		buf[len++] = (uint8_t)(message->qtype >> 8);
		buf[len++] = (uint8_t)message->qtype;
		buf[len++] = (uint8_t)(message->qclass >> 8);
		buf[len++] = (uint8_t)message->qclass;
	}
	return siphash13(m->question_key, buf, len);
}

static void match_key(uint8_t out[MATCH_KEY_LEN], const struct flow_key *key, uint16_t id)
{
	memcpy(out, key->bytes, FLOW_KEY_LEN);
	out[FLOW_KEY_LEN] = (uint8_t)(id >> 8);
	out[FLOW_KEY_LEN + 1] = (uint8_t)id;
}

static void hold_query(struct dns_matcher *m, const uint8_t *key, bool sender_is_a,
		       uint64_t question, size_t size, int64_t now_ns)
{
	uint32_t slot = flow_table_find(&m->table, key);
	if (slot == FLOW_TABLE_NONE) {
		uint32_t victim = flow_table_victim(&m->table, key);
		if (victim != FLOW_TABLE_NONE) {
			m->counters->match_table_full++;
			flow_table_remove(&m->table, victim);
		}
		slot = flow_table_insert(&m->table, key, now_ns);
		if (slot ==
		    FLOW_TABLE_NONE) /* a table of one slot whose chain rule still refuses */
			return;
	} else {
		flow_table_touch(&m->table, slot, now_ns);
	}
	struct open_query *q = &m->queries[slot];
	q->question = question;
	q->size = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
	q->sender_is_a = sender_is_a;
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

static void answer_query(struct dns_matcher *m, const uint8_t *key, bool sender_is_a,
			 const struct dns_message *message, int64_t now_ns,
			 struct dns_match_result *out)
{
	uint32_t slot = flow_table_find(&m->table, key);
	const struct open_query *q = slot != FLOW_TABLE_NONE ? &m->queries[slot] : NULL;
	if (q && now_ns - m->table.slots[slot].last_seen_ns > m->timeout_ns) {
		/* Too late: the query counts as unanswered, as the next expiry would have had it.
		 */
		m->counters->unanswered_queries++;
		flow_table_remove(&m->table, slot);
		q = NULL;
	}
	if (!q || q->sender_is_a == sender_is_a || q->question != question_hash(m, message)) {
		m->counters->unmatched_responses++;
		return;
	}
	int64_t query_ns = m->table.slots[slot].last_seen_ns;
	out->matched = true;
	out->query_ns = query_ns;
	out->duration_ns = now_ns > query_ns ? now_ns - query_ns : 0;
	out->query_size = q->size;
	m->counters->matched_responses++;
	count_latency(m->counters, message->rcode, out->duration_ns);
	flow_table_remove(&m->table, slot);
}

void dns_match_message(struct dns_matcher *m, const struct flow_key *key, bool sender_is_a,
		       const struct dns_message *message, size_t size, int64_t now_ns,
		       struct dns_match_result *out)
{
	memset(out, 0, sizeof(*out));
	uint8_t k[MATCH_KEY_LEN];
	match_key(k, key, message->id);
	if (message->is_response) {
		m->counters->responses_by_rcode[rcode_slot(message->rcode)]++;
		answer_query(m, k, sender_is_a, message, now_ns, out);
	} else {
		if (message->has_question)
			m->counters->queries_by_qtype[qtype_slot(message->qtype)]++;
		hold_query(m, k, sender_is_a, question_hash(m, message), size, now_ns);
	}
}

void dns_match_expire(struct dns_matcher *m, int64_t now_ns)
{
	for (;;) {
		uint32_t oldest = flow_table_oldest(&m->table);
		if (oldest == FLOW_TABLE_NONE ||
		    now_ns - m->table.slots[oldest].last_seen_ns <= m->timeout_ns)
			return;
		m->counters->unanswered_queries++;
		flow_table_remove(&m->table, oldest);
	}
}

void dns_match_abandon_all(struct dns_matcher *m)
{
	for (uint32_t oldest; (oldest = flow_table_oldest(&m->table)) != FLOW_TABLE_NONE;) {
		m->counters->unanswered_queries++;
		flow_table_remove(&m->table, oldest);
	}
}
