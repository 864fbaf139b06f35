/* Packet accounting: names of the buckets, adding up per-worker counters, and the summary. */
#include "counters.h"

#include <inttypes.h>

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
};

const char *malformed_reason_name(enum malformed_reason reason)
{
	return reason < MALFORMED_REASON_COUNT ? malformed_names[reason] : "unknown";
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
	total->records_partial += part->records_partial;
	total->records_to_sink += part->records_to_sink;
	total->records_dropped += part->records_dropped;
	total->records_rejected += part->records_rejected;
}

int counters_balance(const struct counters *c, const struct sink_counters *s)
{
	uint64_t buckets =
	    c->records + c->not_dns + c->malformed + c->tcp + c->ip_fragments + c->unsupported_link;
	uint64_t record_ends = c->records_to_sink + c->records_dropped + c->records_rejected;
	uint64_t sink_ends = s->delivered + s->failed + s->in_flight;
	return buckets == c->packets && record_ends == c->records &&
	       sink_ends == c->records_to_sink;
}

void counters_print_summary(FILE *out, const struct counters *c, const struct sink_counters *s)
{
	fprintf(out,
		"dnsprobe: %" PRIu64 " packets: %" PRIu64 " DNS records (%" PRIu64
		" partly parsed), %" PRIu64 " not DNS, %" PRIu64 " malformed, %" PRIu64
		" TCP, %" PRIu64 " IP fragments, %" PRIu64 " unsupported link; records: %" PRIu64
		" delivered, %" PRIu64 " failed, %" PRIu64 " in flight, %" PRIu64
		" dropped (sink full)%s\n",
		c->packets, c->records, c->records_partial, c->not_dns, c->malformed, c->tcp,
		c->ip_fragments, c->unsupported_link, s->delivered, s->failed + c->records_rejected,
		s->in_flight, c->records_dropped, counters_balance(c, s) ? "" : " [UNBALANCED]");
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
		"},\"records_partial\":%" PRIu64 ",\"records_to_sink\":%" PRIu64
		",\"records_dropped\":%" PRIu64 ",\"records_rejected\":%" PRIu64
		",\"delivered\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"in_flight\":%" PRIu64
		",\"balanced\":%s}\n",
		c->records_partial, c->records_to_sink, c->records_dropped, c->records_rejected,
		s->delivered, s->failed, s->in_flight, counters_balance(c, s) ? "true" : "false");
	return ferror(out) ? -1 : 0;
}
