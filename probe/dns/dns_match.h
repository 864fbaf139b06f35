/* Query/response matching, the stage between parse and encode: per worker, a bounded table of the
 * queries still open. A response matches a query when the flow (normalised 5-tuple), the id and
 * the question (name case-insensitively, type, class) agree and it went the other way; the answer
 * record then carries the response time. Matching never holds a record back: the query's record
 * is published when the query is seen. Flows stay on one worker (symmetric RSS, fanout by flow
 * hash), so a per-worker table sees both sides of every exchange. */
#ifndef DNSPROBE_DNS_MATCH_H
#define DNSPROBE_DNS_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "dns_message.h"
#include "flow_key.h"

#define DNS_MATCH_DEFAULT_QUERIES   65536
#define DNS_MATCH_DEFAULT_TIMEOUT_S 5

struct dns_match_limits {
	uint32_t max_queries; /* open queries held per worker; 0: the default */
	int64_t timeout_ns;   /* --response-timeout on the capture clock; 0: the default */
};

/* What matching found for one message. */
struct dns_match_result {
	bool matched;	     /* a response that answered an open query */
	int64_t query_ns;    /* capture time of the query's latest copy */
	int64_t duration_ns; /* response time minus query time (0 if the clock went back) */
	size_t query_size;   /* the query's DNS message size */
	uint8_t query_mark;  /* what dns_match_mark_query recorded for the query */
};

struct dns_matcher;

/* Counts into counters->match. NULL when out of memory or without a random hash key. */
struct dns_matcher *dns_matcher_new(const struct dns_match_limits *limits,
				    struct counters *counters);
void dns_matcher_free(struct dns_matcher *m);

/* One parsed message at capture time now_ns: a query is held (a copy with the same flow, id and
 * question restarts its clock); a response is looked up and, when it matches, the query is let go.
 */
void dns_match_message(struct dns_matcher *m, const struct flow_key *key, bool sender_is_a,
		       const struct dns_message *message, size_t size, int64_t now_ns,
		       struct dns_match_result *out);

/* Records mark with the query the last dns_match_message held (nothing when it held none), for
 * the stages after matching: the policy stage keeps or limits a response as it did its query. */
void dns_match_mark_query(struct dns_matcher *m, uint8_t mark);

/* Counts the queries open longer than the timeout as unanswered and lets them go. */
void dns_match_expire(struct dns_matcher *m, int64_t now_ns);

/* Counts every open query as unanswered (end of a replay, end of a --loop pass, exit). */
void dns_match_abandon_all(struct dns_matcher *m);

/* The Prometheus label of a slot of match_counters.queries_by_qtype ("A", ..., "other"). */
const char *dns_match_qtype_label(unsigned slot);
/* ... and of responses_by_rcode and the latency rows ("NOERROR", ..., "other"). */
const char *dns_match_rcode_label(unsigned slot);

/* Upper bounds (seconds) of the response-time histogram buckets, MATCH_LATENCY_BUCKETS of them. */
extern const double dns_match_latency_bounds_s[];

#endif
