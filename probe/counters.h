/* Packet accounting: every packet a backend hands over lands in exactly one bucket, and every
 * record handed to a sink ends delivered, failed or still in flight (docs/architecture.md,
 * "Accounting"). */
#ifndef DNSPROBE_COUNTERS_H
#define DNSPROBE_COUNTERS_H

#include <stdint.h>
#include <stdio.h>

enum malformed_reason {
	MALFORMED_NONE,
	MALFORMED_LINK_TRUNCATED,
	MALFORMED_IP_TRUNCATED,
	MALFORMED_IP_BAD_HEADER,
	MALFORMED_IPV6_EXT_TRUNCATED,
	MALFORMED_L4_TRUNCATED,
	MALFORMED_UDP_BAD_LENGTH,
	MALFORMED_DNS_TOO_SHORT,
	MALFORMED_RECORD_TOO_LARGE,
	MALFORMED_TUNNEL_TRUNCATED,  /* a tunnel header or the frame inside it cut short */
	MALFORMED_TUNNEL_TOO_DEEP,   /* tunnels nested more than DECODE_MAX_TUNNELS deep */
	MALFORMED_DNSTAP_PROTOBUF,   /* a dnstap frame that is not a Dnstap protobuf */
	MALFORMED_DNSTAP_NO_MESSAGE, /* a Dnstap protobuf without a DNS message in it */
	MALFORMED_REASON_COUNT
};

const char *malformed_reason_name(enum malformed_reason reason);

/* Why reassembly gave up on a datagram or on buffered stream bytes. Their packets are already in
 * the ip_fragments or tcp bucket; these say what became of them. */
enum abandon_reason {
	ABANDON_FRAGMENT_TIMEOUT,
	ABANDON_FRAGMENT_TABLE_FULL,
	ABANDON_FRAGMENT_OVERLAP,
	ABANDON_FRAGMENT_BAD,
	ABANDON_FRAGMENT_MEMORY,
	ABANDON_TCP_GAP,
	ABANDON_TCP_TIMEOUT,
	ABANDON_TCP_TABLE_FULL,
	ABANDON_TCP_MEMORY,
	ABANDON_TCP_CLOSED_INCOMPLETE,
	ABANDON_TCP_EMPTY_MESSAGE, /* length prefixes of 0: they frame nothing */
	ABANDON_HELD_AT_EXIT,	   /* a datagram or stream still incomplete when capture stopped */
	ABANDON_HELD_AT_PASS_END, /* still incomplete when a --loop pass ended and time went back */
	ABANDON_REASON_COUNT
};

const char *abandon_reason_name(enum abandon_reason reason);

/* Query/response matching (dns/dns_match.h): what became of queries and responses, and the figures
 * DNS operators chart first. Slot labels: dns_match_qtype_label, dns_match_rcode_label. */
#define MATCH_QTYPE_SLOTS     18 /* the common query types, then one for all others */
#define MATCH_RCODE_SLOTS     25 /* response codes 0-23, then one for all others */
#define MATCH_LATENCY_BUCKETS 15 /* finite histogram bounds; one more slot above the last */

struct match_counters {
	uint64_t matched_responses;   /* responses that answered an open query */
	uint64_t unmatched_responses; /* responses with no open query (late start, duplicate, other
				       * question: a spoofing signal) */
	uint64_t unanswered_queries;  /* queries not answered within --response-timeout, or still
				       * open at the end of a replay */
	uint64_t match_table_full;    /* queries let go unanswered to make room, or not held */
	uint64_t queries_by_qtype[MATCH_QTYPE_SLOTS];
	uint64_t responses_by_rcode[MATCH_RCODE_SLOTS];
	/* Matched responses by response code: per histogram bucket (not cumulative), sum. */
	uint64_t latency_buckets[MATCH_RCODE_SLOTS][MATCH_LATENCY_BUCKETS + 1];
	uint64_t latency_sum_ns[MATCH_RCODE_SLOTS];
};

/* The policy stage (policy/policy.h): records classified, dropped by category and rate limited.
 * Dropped and limited records are records that never reach the sink. */
#define POLICY_DROP_SLOTS 16 /* --drop-category names, one counter each */

struct policy_counters {
	uint64_t classified; /* records whose question matched a rule */
	uint64_t dropped;    /* records of a --drop-category category, not published */
	uint64_t dropped_by_category[POLICY_DROP_SLOTS]; /* by --drop-category slot */
	uint64_t rate_limited; /* records over --rate-limit or --rate-limit-per-client */
};

/* A policy is in use (the summary line gets its part), with the names of the --drop-category
 * slots (for the summary JSON and the Prometheus file). Called once, before the workers start. */
void counters_set_policy(const char *const *names, unsigned count);

struct counters {
	uint64_t packets;
	uint64_t records; /* DNS messages turned into records */
	uint64_t not_dns;
	uint64_t malformed; /* packets with no usable DNS message, by reason below */
	uint64_t tcp;	    /* TCP segments on a DNS port (not reassembled yet) */
	uint64_t ip_fragments;
	uint64_t unsupported_link;
	uint64_t malformed_by_reason[MALFORMED_REASON_COUNT];
	/* Units rebuilt from the packets above; each lands in a bucket as a packet would. */
	uint64_t reassembled_datagrams;
	uint64_t tcp_messages;
	uint64_t abandoned_by_reason[ABANDON_REASON_COUNT];
	uint64_t records_partial;  /* records of DNS messages that could only be partly parsed */
	uint64_t records_to_sink;  /* records the sink accepted */
	uint64_t records_dropped;  /* records dropped because the sink was full (--on-full=drop) */
	uint64_t records_rejected; /* records the sink refused with an error */
	struct match_counters match;
	struct policy_counters policy;
};

/* What a sink knows about the records it accepted. */
struct sink_counters {
	uint64_t delivered;
	uint64_t failed;
	uint64_t in_flight;
};

void counters_add(struct counters *total, const struct counters *part);

unsigned counters_drop_category_count(void);
const char *counters_drop_category_name(unsigned slot);

/* True when every packet is in exactly one bucket and every record is accounted for. */
int counters_balance(const struct counters *c, const struct sink_counters *s);

void counters_print_summary(FILE *out, const struct counters *c, const struct sink_counters *s);
int counters_write_json(FILE *out, const struct counters *c, const struct sink_counters *s);

#endif
