/* Packet accounting: names of the buckets, adding up per-worker counters, and the summary. */
#include "counters.h"

#include <inttypes.h>
#include <stdbool.h>

static const char *const malformed_names[MALFORMED_REASON_COUNT] = {
    [MALFORMED_NONE] = "none",
    [MALFORMED_LINK_TRUNCATED] = "link_truncated",
    [MALFORMED_IP_TRUNCATED] = "ip_truncated",
    [MALFORMED_IP_BAD_HEADER] = "ip_bad_header",
    [MALFORMED_IPV6_EXT_TRUNCATED] = "ipv6_ext_truncated",
    [MALFORMED_L4_TRUNCATED] = "l4_truncated",
    [MALFORMED_UDP_BAD_LENGTH] = "udp_bad_length",
    [MALFORMED_DNS_TOO_SHORT] = "dns_too_short",
    [MALFORMED_RECORD_TOO_LARGE] = "record_too_large",
    [MALFORMED_TUNNEL_TRUNCATED] = "tunnel_truncated",
    [MALFORMED_TUNNEL_TOO_DEEP] = "tunnel_too_deep",
    [MALFORMED_DNSTAP_PROTOBUF] = "dnstap_protobuf",
    [MALFORMED_DNSTAP_NO_MESSAGE] = "dnstap_no_message",
};

static const char *const abandon_names[ABANDON_REASON_COUNT] = {
    [ABANDON_FRAGMENT_TIMEOUT] = "fragment_timeout",
    [ABANDON_FRAGMENT_TABLE_FULL] = "fragment_table_full",
    [ABANDON_FRAGMENT_OVERLAP] = "fragment_overlap",
    [ABANDON_FRAGMENT_BAD] = "fragment_bad",
    [ABANDON_FRAGMENT_MEMORY] = "fragment_memory",
    [ABANDON_TCP_GAP] = "tcp_gap",
    [ABANDON_TCP_TIMEOUT] = "tcp_timeout",
    [ABANDON_TCP_TABLE_FULL] = "tcp_table_full",
    [ABANDON_TCP_MEMORY] = "tcp_memory",
    [ABANDON_TCP_CLOSED_INCOMPLETE] = "tcp_closed_incomplete",
    [ABANDON_TCP_EMPTY_MESSAGE] = "tcp_empty_message",
    [ABANDON_HELD_AT_EXIT] = "held_at_exit",
    [ABANDON_HELD_AT_PASS_END] = "held_at_pass_end",
};

const char *abandon_reason_name(enum abandon_reason reason)
{
	return reason < ABANDON_REASON_COUNT ? abandon_names[reason] : "unknown";
}

const char *malformed_reason_name(enum malformed_reason reason)
{
	return reason < MALFORMED_REASON_COUNT ? malformed_names[reason] : "unknown";
}

static void match_counters_add(struct match_counters *total, const struct match_counters *part)
{
	total->matched_responses += part->matched_responses;
	total->unmatched_responses += part->unmatched_responses;
	total->unanswered_queries += part->unanswered_queries;
	total->match_table_full += part->match_table_full;
	for (int i = 0; i < MATCH_QTYPE_SLOTS; i++)
		total->queries_by_qtype[i] += part->queries_by_qtype[i];
	for (int i = 0; i < MATCH_RCODE_SLOTS; i++) {
		total->responses_by_rcode[i] += part->responses_by_rcode[i];
		total->latency_sum_ns[i] += part->latency_sum_ns[i];
		for (int b = 0; b <= MATCH_LATENCY_BUCKETS; b++)
			total->latency_buckets[i][b] += part->latency_buckets[i][b];
	}
}

static const char *drop_names[POLICY_DROP_SLOTS];
static unsigned drop_count;
static bool policy_in_use; /* the summary line has a policy part */

void counters_set_policy(const char *const *names, unsigned count)
{
	policy_in_use = true;
	drop_count = count < POLICY_DROP_SLOTS ? count : POLICY_DROP_SLOTS;
	for (unsigned i = 0; i < drop_count; i++)
		drop_names[i] = names[i];
}

unsigned counters_drop_category_count(void)
{
	return drop_count;
}

const char *counters_drop_category_name(unsigned slot)
{
	return slot < drop_count ? drop_names[slot] : "";
}

static void policy_counters_add(struct policy_counters *total, const struct policy_counters *part)
{
	total->classified += part->classified;
	total->dropped += part->dropped;
	for (int i = 0; i < POLICY_DROP_SLOTS; i++)
		total->dropped_by_category[i] += part->dropped_by_category[i];
	total->rate_limited += part->rate_limited;
}

void counters_add(struct counters *total, const struct counters *part)
{
	total->packets += part->packets;
	total->records += part->records;
	total->not_dns += part->not_dns;
	total->malformed += part->malformed;
	total->tcp += part->tcp;
	total->ip_fragments += part->ip_fragments;
	total->unsupported_link += part->unsupported_link;
	for (int i = 0; i < MALFORMED_REASON_COUNT; i++)
		total->malformed_by_reason[i] += part->malformed_by_reason[i];
	total->reassembled_datagrams += part->reassembled_datagrams;
	total->tcp_messages += part->tcp_messages;
	for (int i = 0; i < ABANDON_REASON_COUNT; i++)
		total->abandoned_by_reason[i] += part->abandoned_by_reason[i];
	total->records_partial += part->records_partial;
	total->records_to_sink += part->records_to_sink;
	total->records_dropped += part->records_dropped;
	total->records_rejected += part->records_rejected;
	match_counters_add(&total->match, &part->match);
	policy_counters_add(&total->policy, &part->policy);
}

int counters_balance(const struct counters *c, const struct sink_counters *s)
{
	uint64_t buckets =
	    c->records + c->not_dns + c->malformed + c->tcp + c->ip_fragments + c->unsupported_link;
	uint64_t record_ends = c->records_to_sink + c->records_dropped + c->records_rejected +
			       c->policy.dropped + c->policy.rate_limited;
	uint64_t sink_ends = s->delivered + s->failed + s->in_flight;
	return buckets == c->packets + c->reassembled_datagrams + c->tcp_messages &&
	       record_ends == c->records && sink_ends == c->records_to_sink;
}

static uint64_t abandoned_total(const struct counters *c)
{
	uint64_t total = 0;
	for (int i = 0; i < ABANDON_REASON_COUNT; i++)
		total += c->abandoned_by_reason[i];
	return total;
}

void counters_print_summary(FILE *out, const struct counters *c, const struct sink_counters *s)
{
	char policy[160] = "";
	if (policy_in_use)
		snprintf(policy, sizeof(policy),
			 "; policy: %" PRIu64 " classified, %" PRIu64 " policy_dropped, %" PRIu64
			 " rate_limited",
			 c->policy.classified, c->policy.dropped, c->policy.rate_limited);
	fprintf(
	    out,
	    "dnsprobe: %" PRIu64 " packets: %" PRIu64 " DNS records (%" PRIu64
	    " partly parsed), %" PRIu64 " not DNS, %" PRIu64 " malformed, %" PRIu64
	    " TCP segments, %" PRIu64 " IP fragments, %" PRIu64
	    " unsupported link; rebuilt: %" PRIu64 " datagrams, %" PRIu64 " TCP messages, %" PRIu64
	    " abandoned; records: %" PRIu64 " delivered, %" PRIu64 " failed, %" PRIu64
	    " in flight, %" PRIu64 " dropped (sink full); matching: %" PRIu64 " answered, %" PRIu64
	    " unmatched responses, %" PRIu64 " unanswered queries, %" PRIu64 " table full%s%s\n",
	    c->packets, c->records, c->records_partial, c->not_dns, c->malformed, c->tcp,
	    c->ip_fragments, c->unsupported_link, c->reassembled_datagrams, c->tcp_messages,
	    abandoned_total(c), s->delivered, s->failed + c->records_rejected, s->in_flight,
	    c->records_dropped, c->match.matched_responses, c->match.unmatched_responses,
	    c->match.unanswered_queries, c->match.match_table_full, policy,
	    counters_balance(c, s) ? "" : " [UNBALANCED]");
}

int counters_write_json(FILE *out, const struct counters *c, const struct sink_counters *s)
{
	fprintf(out,
		"{\"packets\":%" PRIu64 ",\"records\":%" PRIu64 ",\"not_dns\":%" PRIu64
		",\"malformed\":%" PRIu64 ",\"tcp\":%" PRIu64 ",\"ip_fragments\":%" PRIu64
		",\"unsupported_link\":%" PRIu64 ",\"malformed_reasons\":{",
		c->packets, c->records, c->not_dns, c->malformed, c->tcp, c->ip_fragments,
		c->unsupported_link);
	const char *sep = "";
	for (int i = MALFORMED_NONE + 1; i < MALFORMED_REASON_COUNT; i++) {
		if (!c->malformed_by_reason[i])
			continue;
		fprintf(out, "%s\"%s\":%" PRIu64, sep, malformed_names[i],
			c->malformed_by_reason[i]);
		sep = ",";
	}
	fprintf(out,
		"},\"reassembled_datagrams\":%" PRIu64 ",\"tcp_messages\":%" PRIu64
		",\"abandoned_reasons\":{",
		c->reassembled_datagrams, c->tcp_messages);
	sep = "";
	for (int i = 0; i < ABANDON_REASON_COUNT; i++) {
		if (!c->abandoned_by_reason[i])
			continue;
		fprintf(out, "%s\"%s\":%" PRIu64, sep, abandon_names[i], c->abandoned_by_reason[i]);
		sep = ",";
	}
	fprintf(out,
		"},\"records_partial\":%" PRIu64 ",\"records_to_sink\":%" PRIu64
		",\"records_dropped\":%" PRIu64 ",\"records_rejected\":%" PRIu64
		",\"delivered\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"in_flight\":%" PRIu64
		",\"matched_responses\":%" PRIu64 ",\"unmatched_responses\":%" PRIu64
		",\"unanswered_queries\":%" PRIu64 ",\"match_table_full\":%" PRIu64
		",\"classified\":%" PRIu64 ",\"policy_dropped\":%" PRIu64
		",\"rate_limited\":%" PRIu64 ",\"policy_dropped_categories\":{",
		c->records_partial, c->records_to_sink, c->records_dropped, c->records_rejected,
		s->delivered, s->failed, s->in_flight, c->match.matched_responses,
		c->match.unmatched_responses, c->match.unanswered_queries,
		c->match.match_table_full, c->policy.classified, c->policy.dropped,
		c->policy.rate_limited);
	sep = "";
	for (unsigned i = 0; i < drop_count; i++) {
		fprintf(out, "%s\"%s\":%" PRIu64, sep, drop_names[i],
			c->policy.dropped_by_category[i]);
		sep = ",";
	}
	fprintf(out, "},\"balanced\":%s}\n", counters_balance(c, s) ? "true" : "false");
	return ferror(out) ? -1 : 0;
}
