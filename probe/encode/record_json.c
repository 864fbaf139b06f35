/* The JSON record of one DNS message. Field order and names are documented in docs/records.md. */
#include "record_json.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dns_mnemonics.h"
#include "flow_texts.h"

#define NS_PER_SECOND 1000000000LL

void timestamp_cache_init(struct timestamp_cache *cache)
{
	cache->second = INT64_MIN;
	cache->text[0] = '\0';
}

/* Appends ,"observer":{"hostname":…,"name":…} (each at most 255 bytes) to the state. */
static void set_observer(struct record_json_state *state, const char *hostname, const char *name)
{
	char *p = state->observer;
	p = JSON_PUT(p, ",\"observer\":{\"hostname\":");
	p = json_put_string(p, hostname, strnlen(hostname, 255));
	p = JSON_PUT(p, ",\"name\":");
	p = json_put_string(p, name, strnlen(name, 255));
	*p++ = '}';
	state->observer_len = (size_t)(p - state->observer);
}

struct record_json_state *record_json_state_new(const struct encoder_settings *settings)
{
	struct record_json_state *state = calloc(1, sizeof(*state));
	if (!state)
		return NULL;
	timestamp_cache_init(&state->timestamps);
	char hostname[256] = "";
	if (gethostname(hostname, sizeof(hostname) - 1) != 0)
		hostname[0] = '\0';
	const char *name = settings && settings->observer_name ? settings->observer_name : hostname;
	set_observer(state, hostname, name);
	state->domains = domain_parts_new();
	state->flows = flow_texts_new();
	if (!state->domains || !state->flows) {
		record_json_state_free(state);
		return NULL;
	}
	return state;
}

void record_json_state_free(struct record_json_state *state)
{
	if (!state)
		return;
	domain_parts_free(state->domains);
	flow_texts_free(state->flows);
	free(state);
}

static void put_digits(char *out, uint64_t value, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		out[i] = (char)('0' + value % 10);
		value /= 10;
	}
}

void timestamp_format(struct timestamp_cache *cache, int64_t ns, char out[TIMESTAMP_TEXT_LEN + 1])
{
	if (ns < 0)
		ns = 0;
	int64_t second = ns / NS_PER_SECOND;
	if (second != cache->second) {
		time_t t = (time_t)second;
		struct tm tm;
		gmtime_r(&t, &tm);
		put_digits(cache->text, (uint64_t)tm.tm_year + 1900, 4);
		cache->text[4] = '-';
		put_digits(cache->text + 5, (uint64_t)tm.tm_mon + 1, 2);
		cache->text[7] = '-';
		put_digits(cache->text + 8, (uint64_t)tm.tm_mday, 2);
		cache->text[10] = 'T';
		put_digits(cache->text + 11, (uint64_t)tm.tm_hour, 2);
		cache->text[13] = ':';
		put_digits(cache->text + 14, (uint64_t)tm.tm_min, 2);
		cache->text[16] = ':';
		put_digits(cache->text + 17, (uint64_t)tm.tm_sec, 2);
		cache->second = second;
	}
	memcpy(out, cache->text, 19);
	out[19] = '.';
	uint32_t fraction = (uint32_t)(ns % NS_PER_SECOND);
	out[20] = (char)('0' + fraction / 100000000);
	fraction %= 100000000;
	for (int i = 0; i < 4; i++) {
		memcpy(out + 27 - 2 * i, json_two_digits + 2 * (fraction % 100), 2);
		fraction /= 100;
	}
	out[29] = 'Z';
	out[30] = '\0';
}

/* The record is written in place (json_reserve) in three kinds of pieces, each reserved at its
 * upper bound: everything but the question name and the answers, the question name, and each
 * answer. These bounds cover the literal text (under 600 bytes), two addresses, the flow key, the
 * mnemonics, the client subnet, the malformed reason and every number at its widest. Each piece
 * asserts that it stayed within its reservation (until json_commit, w->len is where it began). */
#define RECORD_FIXED_MAX 2048
#define ANSWER_FIXED_MAX 256
#define REASON_MAX	 64
#define RULE_TEXT_MAX	 256 /* a category (at most 63 bytes) and a rule fit in the fixed part */
/* The dnstap sender's identity and version are cut at this many bytes. */
#define ORIGIN_TEXT_MAX 255
#define DNSTAP_JSON_MAX (2 * JSON_STRING_MAX(ORIGIN_TEXT_MAX) + 128)

/* Text known to need no escaping (mnemonics, client subnets, reasons), in quotes. */
static char *put_plain(char *p, const char *text, size_t len)
{
	*p++ = '"';
	memcpy(p, text, len);
	p += len;
	*p++ = '"';
	return p;
}

static char *put_mnemonic(char *p, const char *text)
{
	return put_plain(p, text, strlen(text));
}

static char *put_address(char *p, const uint8_t addr[16])
{
	*p++ = '"';
	p += address_text_unterminated(addr, p);
	*p++ = '"';
	return p;
}

/* "network": the ECS network field set. community_id is the key's Community ID v1 (seed 0, as
 * --key-format community-id); bytes the DNS bytes of the exchange as far as this record knows
 * them (source.bytes, plus destination.bytes on a matched answer). vlan is the outermost tag,
 * inner.vlan the innermost when there are more; both numbers (docs/records.md says why). */
static char *put_network(char *p, const struct dns_event *r, const struct flow_texts_entry *texts,
			 uint64_t bytes)
{
	const struct packet_info *p_info = r->packet;
	if (p_info->ip_protocol == 6)
		p = JSON_PUT(p, ",\"network\":{\"transport\":\"tcp\",\"iana_number\":\"6\"");
	else
		p = JSON_PUT(p, ",\"network\":{\"transport\":\"udp\",\"iana_number\":\"17\"");
	if (p_info->ip_version == 6)
		p = JSON_PUT(p, ",\"type\":\"ipv6\",\"protocol\":\"dns\",\"community_id\":\"");
	else
		p = JSON_PUT(p, ",\"type\":\"ipv4\",\"protocol\":\"dns\",\"community_id\":\"");
	memcpy(p, texts->community_id, sizeof(texts->community_id));
	p += sizeof(texts->community_id);
	p = JSON_PUT(p, "\",\"bytes\":");
	p = json_put_uint(p, bytes);
	if (p_info->vlan_count > 0) {
		p = JSON_PUT(p, ",\"vlan\":{\"id\":");
		p = json_put_uint(p, p_info->vlan_ids[0]);
		*p++ = '}';
	}
	if (p_info->vlan_count > 1) {
		p = JSON_PUT(p, ",\"inner\":{\"vlan\":{\"id\":");
		p = json_put_uint(p, p_info->vlan_ids[DECODE_MAX_VLANS - 1]);
		p = JSON_PUT(p, "}}");
	}
	*p++ = '}';
	return p;
}

/* ECS dns.header_flags: the header's flags, and DO when the OPT record sets it. */
static char *put_flags(char *p, const struct dns_message *m)
{
	static const struct {
		uint16_t bit;
		char name[4];
	} names[] = {
	    {DNS_FLAG_AA, "\"AA\""}, {DNS_FLAG_TC, "\"TC\""}, {DNS_FLAG_RD, "\"RD\""},
	    {DNS_FLAG_RA, "\"RA\""}, {DNS_FLAG_AD, "\"AD\""}, {DNS_FLAG_CD, "\"CD\""},
	};
	p = JSON_PUT(p, ",\"header_flags\":[");
	char *first = p;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (m->flags & names[i].bit) {
			if (p != first)
				*p++ = ',';
			memcpy(p, names[i].name, 4);
			p += 4;
		}
	}
	if (m->has_edns && m->edns_do) {
		if (p != first)
			*p++ = ',';
		p = JSON_PUT(p, "\"DO\"");
	}
	*p++ = ']';
	return p;
}

/* The header fields of "dns", up to where the question goes. dns.id stays a number, which
 * Elasticsearch indexes into ECS's keyword field as its text (docs/records.md). */
static char *put_dns_header(char *p, const struct dns_message *m)
{
	char buf[DNS_MNEMONIC_MAX];
	p = JSON_PUT(p, ",\"dns\":{\"id\":");
	p = json_put_uint(p, m->id);
	if (m->is_response)
		p = JSON_PUT(p, ",\"type\":\"answer\",\"op_code\":");
	else
		p = JSON_PUT(p, ",\"type\":\"query\",\"op_code\":");
	p = put_mnemonic(p, dns_opcode_name(m->opcode, buf));
	p = put_flags(p, m);
	if (m->is_response) {
		p = JSON_PUT(p, ",\"response_code\":");
		p = put_mnemonic(p, dns_rcode_name(m->rcode, buf));
	}
	return p;
}

/* A mnemonic in quotes: its padded text is copied whole (the room is reserved), then cut. */
static char *put_quoted_mnemonic(char *p, const struct dns_mnemonic *m)
{
	*p++ = '"';
	memcpy(p, m->text, DNS_MNEMONIC_MAX);
	p += m->len;
	*p++ = '"';
	return p;
}

static char *put_type_and_class(char *p, uint16_t type, uint16_t class)
{
	struct dns_mnemonic buf;
	p = JSON_PUT(p, ",\"type\":");
	p = put_quoted_mnemonic(p, dns_type_mnemonic(type, &buf));
	p = JSON_PUT(p, ",\"class\":");
	return put_quoted_mnemonic(p, dns_class_mnemonic(class, &buf));
}

/* A name as ECS asks for dns.question.name: the presentation form (\DDD for bytes outside
 * printable ASCII, as ldns writes it), but tab, line feed and carriage return as \t, \n and \r,
 * and quotes after a backslash. Writes at most JSON_STRING_MAX(len). */
static char *put_ecs_name(char *p, const char *text, size_t len)
{
	if (!memchr(text, '\\', len) && !memchr(text, '"', len))
		return json_put_string(p, text, len);
	*p++ = '"';
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (c == '"') {
			p = JSON_PUT(p, "\\\\\\\"");
			continue;
		}
		if (c != '\\') {
			*p++ = c; /* the parser wrote printable ASCII only */
			continue;
		}
		char letter = 0;
		if (i + 3 < len && text[i + 1] == '0' && text[i + 2] == '0' && text[i + 3] == '9')
			letter = 't';
		else if (i + 3 < len && text[i + 1] == '0' && text[i + 2] == '1' &&
			 (text[i + 3] == '0' || text[i + 3] == '3'))
			letter = text[i + 3] == '0' ? 'n' : 'r';
		p = JSON_PUT(p, "\\\\");
		if (letter) {
			*p++ = letter;
			i += 3;
		} else if (i + 1 < len) {
			i++;
			if (text[i] == '"' || text[i] == '\\')
				*p++ = '\\';
			*p++ = text[i];
		}
	}
	*p++ = '"';
	return p;
}

/* dns.question.registered_domain, subdomain and top_level_domain from the Public Suffix List.
 * Left out for names libpsl cannot take: with escapes (\DDD, \.), or the root. */
static char *put_domain_parts(char *p, struct domain_parts_finder *domains, const char *name,
			      size_t len)
{
	if (len == 0 || len > DNS_NAME_TEXT_MAX || memchr(name, '\\', len) ||
	    (len == 1 && name[0] == '.'))
		return p;
	return domain_parts_json(domains, name, len, p);
}

static void write_question(struct json_writer *w, struct record_json_state *state,
			   const struct dns_message *m)
{
	size_t room = 4 * JSON_STRING_MAX(m->qname_len) + ANSWER_FIXED_MAX;
	char *p = json_reserve(w, room);
	if (!p)
		return;
	p = JSON_PUT(p, ",\"question\":{\"name\":");
	p = put_ecs_name(p, m->qname, m->qname_len);
	p = put_type_and_class(p, m->qtype, m->qclass);
	p = put_domain_parts(p, state->domains, m->qname, m->qname_len);
	*p++ = '}';
	assert((size_t)(p - (w->buf + w->len)) <= room);
	json_commit(w, p);
}

/* RDATA that is one domain name: written without its trailing dot, as question.name is, so a
 * CNAME's target reads like the name it is queried as. */
static bool rdata_is_one_name(uint16_t type)
{
	switch (type) {
	case 2:	 /* NS */
	case 3:	 /* MD */
	case 4:	 /* MF */
	case 5:	 /* CNAME */
	case 7:	 /* MB */
	case 8:	 /* MG */
	case 9:	 /* MR */
	case 12: /* PTR */
	case 39: /* DNAME */
		return true;
	default:
		return false;
	}
}

static void write_answer(struct json_writer *w, const struct dns_message *m,
			 const struct dns_answer *a, bool first)
{
	size_t room =
	    JSON_STRING_MAX(a->name_len) + JSON_STRING_MAX(a->data_len) + ANSWER_FIXED_MAX;
	char *p = json_reserve(w, room);
	if (!p)
		return;
	const char *data = dns_arena_text(m, a->data_offset);
	size_t data_len = a->data_len;
	if (rdata_is_one_name(a->type) && data_len > 1 && data[data_len - 1] == '.' &&
	    data[data_len - 2] != '\\')
		data_len--;
	p = first ? JSON_PUT(p, ",\"answers\":[{\"name\":") : JSON_PUT(p, ",{\"name\":");
	p = put_ecs_name(p, dns_arena_text(m, a->name_offset), a->name_len);
	p = put_type_and_class(p, a->type, a->class);
	p = JSON_PUT(p, ",\"ttl\":");
	p = json_put_uint(p, a->ttl);
	p = JSON_PUT(p, ",\"data\":");
	p = json_put_string(p, data, data_len);
	*p++ = '}';
	assert((size_t)(p - (w->buf + w->len)) <= room);
	json_commit(w, p);
}

/* An A or AAAA answer whose data is an address (not \# unknown-format RDATA). */
static bool answer_is_address(const struct dns_message *m, const struct dns_answer *a)
{
	return (a->type == 1 || a->type == 28) && a->class == 1 && a->data_len > 0 &&
	       dns_arena_text(m, a->data_offset)[0] != '\\';
}

/* Where the A and AAAA answer addresses were written in the record (dns.resolved_ip), quoted and
 * comma-separated, so that related.ip copies them. */
struct resolved_span {
	size_t at, len; /* len 0: no address */
};

/* ,"resolved_ip":[…] of the A and AAAA answer addresses, when there are any. The renderer wrote
 * them in digits, hex, dots and colons, which need no escaping. */
static void write_resolved(struct json_writer *w, const struct dns_message *m,
			   struct resolved_span *span)
{
	for (size_t i = 0; i < m->answer_count; i++) {
		const struct dns_answer *a = &m->answers[i];
		if (!answer_is_address(m, a))
			continue;
		char *p = json_reserve(w, (size_t)a->data_len + 32);
		if (!p)
			return;
		if (span->len == 0) {
			p = JSON_PUT(p, ",\"resolved_ip\":[");
			span->at = (size_t)(p - w->buf);
		} else {
			*p++ = ',';
		}
		p = put_plain(p, dns_arena_text(m, a->data_offset), a->data_len);
		json_commit(w, p);
		span->len = w->len - span->at;
	}
	if (span->len > 0)
		json_raw(w, "]", 1);
}

static char *put_edns(char *p, const struct dns_message *m)
{
	p = JSON_PUT(p, ",\"edns\":{\"udp_size\":");
	p = json_put_uint(p, m->edns_udp_size);
	if (m->edns_do)
		p = JSON_PUT(p, ",\"do\":true,\"version\":");
	else
		p = JSON_PUT(p, ",\"do\":false,\"version\":");
	p = json_put_uint(p, m->edns_version);
	if (m->ecs[0]) {
		p = JSON_PUT(p, ",\"ecs\":");
		p = put_plain(p, m->ecs, strnlen(m->ecs, DNS_ECS_TEXT_MAX));
	}
	*p++ = '}';
	return p;
}

/* How the packet came, when it came through a tunnel: the outermost one. */
static char *put_tunnel(char *p, const struct packet_info *packet)
{
	p = JSON_PUT(p, ",\"tunnel\":{\"type\":");
	p = put_mnemonic(p, tunnel_type_name((enum tunnel_type)packet->tunnel_type));
	if (packet->tunnel_has_id) {
		p = JSON_PUT(p, ",\"id\":");
		p = json_put_uint(p, packet->tunnel_id);
	}
	if (packet->tunnel_has_endpoints) {
		p = JSON_PUT(p, ",\"source\":");
		p = put_address(p, packet->tunnel_src);
		p = JSON_PUT(p, ",\"destination\":");
		p = put_address(p, packet->tunnel_dst);
	}
	*p++ = '}';
	return p;
}

/* A rule's domain (wire form without the root label, labels of letters, digits, '-' and '_':
 * nothing to escape) as dotted text. */
static size_t rule_text(const uint8_t *wire, size_t len, char out[RULE_TEXT_MAX])
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + wire[i] + 1 < RULE_TEXT_MAX; i += (size_t)wire[i] + 1) {
		if (n)
			out[n++] = '.';
		memcpy(out + n, wire + i + 1, wire[i]);
		n += wire[i];
	}
	return n;
}

static char *put_dnsprobe(char *p, const struct dns_event *r, const struct flow_texts_entry *texts)
{
	const struct dns_message *m = r->message;
	p = JSON_PUT(p, ",\"dnsprobe\":{\"flow_key\":\"");
	memcpy(p, texts->hex, sizeof(texts->hex));
	p += sizeof(texts->hex);
	if (r->sender_is_a)
		p = JSON_PUT(p, "\",\"direction\":\"a_to_b\",\"size\":");
	else
		p = JSON_PUT(p, "\",\"direction\":\"b_to_a\",\"size\":");
	p = json_put_uint(p, r->dns_len);
	p = JSON_PUT(p, ",\"counts\":{\"qd\":");
	p = json_put_uint(p, m->qdcount);
	p = JSON_PUT(p, ",\"an\":");
	p = json_put_uint(p, m->ancount);
	p = JSON_PUT(p, ",\"ns\":");
	p = json_put_uint(p, m->nscount);
	p = JSON_PUT(p, ",\"ar\":");
	p = json_put_uint(p, m->arcount);
	*p++ = '}';
	if (m->has_edns)
		p = put_edns(p, m);
	if (m->answers_omitted) {
		p = JSON_PUT(p, ",\"answers_omitted\":");
		p = json_put_uint(p, m->answers_omitted);
	}
	if (m->malformed) {
		p = JSON_PUT(p, ",\"malformed\":");
		p = put_plain(p, m->malformed, strnlen(m->malformed, REASON_MAX));
	}
	if (r->packet->tunnel_depth > 0)
		p = put_tunnel(p, r->packet);
	if (r->category) {
		p = JSON_PUT(p, ",\"category\":");
		p = put_mnemonic(p, r->category);
		char rule[RULE_TEXT_MAX];
		p = JSON_PUT(p, ",\"rule\":");
		p = put_plain(p, rule, rule_text(r->rule, r->rule_len, rule));
	}
	if (!r->dnstap)
		return JSON_PUT(p, ",\"input\":\"wire\"}}");
	const struct dnstap_origin *o = r->dnstap;
	p = JSON_PUT(p, ",\"input\":\"dnstap\",\"dnstap\":{\"type\":");
	p = put_plain(p, o->type, strnlen(o->type, REASON_MAX));
	if (o->identity) {
		p = JSON_PUT(p, ",\"identity\":");
		p = json_put_string(p, (const char *)o->identity,
				    o->identity_len < ORIGIN_TEXT_MAX ? o->identity_len
								      : ORIGIN_TEXT_MAX);
	}
	if (o->version) {
		p = JSON_PUT(p, ",\"version\":");
		p = json_put_string(p, (const char *)o->version,
				    o->version_len < ORIGIN_TEXT_MAX ? o->version_len
								     : ORIGIN_TEXT_MAX);
	}
	return JSON_PUT(p, "}}}");
}

/* The ECS event field set; a matched answer adds when the exchange started (the query's capture
 * time) and ended (this response's), and the response time in nanoseconds. */
static char *put_event(char *p, struct timestamp_cache *cache, const char *timestamp,
		       const struct dns_event *r)
{
	p = JSON_PUT(p, ",\"event\":{\"kind\":\"event\",\"category\":[\"network\"],"
			"\"type\":[\"connection\",\"protocol\"],\"dataset\":\"dnsprobe.dns\"");
	if (r->match && r->match->matched) {
		p = JSON_PUT(p, ",\"start\":\"");
		timestamp_format(cache, r->match->query_ns, p);
		p += TIMESTAMP_TEXT_LEN;
		p = JSON_PUT(p, "\",\"end\":\"");
		memcpy(p, timestamp, TIMESTAMP_TEXT_LEN); /* the answer's time: @timestamp */
		p += TIMESTAMP_TEXT_LEN;
		p = JSON_PUT(p, "\",\"duration\":");
		p = json_put_uint(p, (uint64_t)r->match->duration_ns);
	}
	*p++ = '}';
	return p;
}

/* Where the source and destination addresses were written (quoted) in the record, so that
 * client, server and related.ip copy them instead of formatting them again. */
struct address_spans {
	size_t source, source_len, destination, destination_len;
	size_t source_port, source_port_len, destination_port, destination_port_len;
};

static char *copy_span(char *p, const struct json_writer *w, size_t at, size_t len)
{
	memcpy(p, w->buf + at, len);
	return p + len;
}

/* The ECS client and server field sets: the sender of a query is the client, of a response the
 * server. */
static char *put_roles(char *p, const struct json_writer *w, const struct address_spans *a,
		       const struct dns_event *r)
{
	bool response = r->message->is_response;
	p = JSON_PUT(p, ",\"client\":{\"ip\":");
	p = response ? copy_span(p, w, a->destination, a->destination_len)
		     : copy_span(p, w, a->source, a->source_len);
	p = JSON_PUT(p, ",\"port\":");
	p = response ? copy_span(p, w, a->destination_port, a->destination_port_len)
		     : copy_span(p, w, a->source_port, a->source_port_len);
	p = JSON_PUT(p, "},\"server\":{\"ip\":");
	p = response ? copy_span(p, w, a->source, a->source_len)
		     : copy_span(p, w, a->destination, a->destination_len);
	p = JSON_PUT(p, ",\"port\":");
	p = response ? copy_span(p, w, a->source_port, a->source_port_len)
		     : copy_span(p, w, a->destination_port, a->destination_port_len);
	*p++ = '}';
	return p;
}

/* Everything before the question: time, the ECS event, observer, endpoints, network, DNS
 * header. source.bytes is this message's DNS size; on a matched answer destination.bytes is the
 * query's. */
static void write_head(struct json_writer *w, struct record_json_state *state,
		       const struct dns_event *r, const struct flow_texts_entry *texts,
		       struct address_spans *a)
{
	char *p = json_reserve(w, RECORD_FIXED_MAX + RECORD_OBSERVER_JSON_MAX);
	if (!p)
		return;
	bool matched = r->match && r->match->matched;
	uint64_t bytes = r->dns_len + (matched ? r->match->query_size : 0);
	p = JSON_PUT(p, "{\"@timestamp\":\"");
	const char *timestamp = p;
	timestamp_format(&state->timestamps, r->timestamp_ns, p);
	p += TIMESTAMP_TEXT_LEN;
	p = JSON_PUT(p, "\",\"ecs\":{\"version\":\"" RECORD_ECS_VERSION "\"}");
	p = put_event(p, &state->timestamps, timestamp, r);
	memcpy(p, state->observer, state->observer_len);
	p += state->observer_len;
	p = JSON_PUT(p, ",\"source\":{\"ip\":");
	a->source = (size_t)(p - w->buf);
	p = r->sender_is_a ? put_plain(p, texts->a, texts->a_len)
			   : put_plain(p, texts->b, texts->b_len);
	a->source_len = (size_t)(p - w->buf) - a->source;
	p = JSON_PUT(p, ",\"port\":");
	a->source_port = (size_t)(p - w->buf);
	p = json_put_uint(p, r->packet->src_port);
	a->source_port_len = (size_t)(p - w->buf) - a->source_port;
	p = JSON_PUT(p, ",\"bytes\":");
	p = json_put_uint(p, r->dns_len);
	p = JSON_PUT(p, "},\"destination\":{\"ip\":");
	a->destination = (size_t)(p - w->buf);
	p = r->sender_is_a ? put_plain(p, texts->b, texts->b_len)
			   : put_plain(p, texts->a, texts->a_len);
	a->destination_len = (size_t)(p - w->buf) - a->destination;
	p = JSON_PUT(p, ",\"port\":");
	a->destination_port = (size_t)(p - w->buf);
	p = json_put_uint(p, r->packet->dst_port);
	a->destination_port_len = (size_t)(p - w->buf) - a->destination_port;
	if (matched) {
		p = JSON_PUT(p, ",\"bytes\":");
		p = json_put_uint(p, r->match->query_size);
	}
	*p++ = '}';
	p = put_roles(p, w, a, r);
	p = put_network(p, r, texts, bytes);
	p = put_dns_header(p, r->message);
	assert((size_t)(p - (w->buf + w->len)) <= RECORD_FIXED_MAX + RECORD_OBSERVER_JSON_MAX);
	json_commit(w, p);
}

/* The ECS related.ip: the two endpoints and every resolved address. */
static void write_related(struct json_writer *w, const struct dns_event *r,
			  const struct address_spans *a, const struct resolved_span *resolved)
{
	char *p = json_reserve(w, 2 * (ADDRESS_TEXT_MAX + 2) + resolved->len + 32);
	if (!p)
		return;
	p = JSON_PUT(p, ",\"related\":{\"ip\":[");
	p = copy_span(p, w, a->source, a->source_len);
	if (memcmp(r->packet->src_addr, r->packet->dst_addr, 16) != 0) {
		*p++ = ',';
		p = copy_span(p, w, a->destination, a->destination_len);
	}
	if (resolved->len > 0) {
		*p++ = ',';
		p = copy_span(p, w, resolved->at, resolved->len);
	}
	p = JSON_PUT(p, "]}");
	json_commit(w, p);
}

/* What follows the answers: dns.resolved_ip, the end of "dns", related and "dnsprobe". */
static void write_tail(struct json_writer *w, const struct dns_event *r,
		       const struct flow_texts_entry *texts, const struct address_spans *a)
{
	const struct dns_message *m = r->message;
	struct resolved_span resolved = {0};
	if (m->answer_count > 0) {
		json_raw(w, "]", 1);
		write_resolved(w, m, &resolved);
	}
	json_raw(w, "}", 1);
	write_related(w, r, a, &resolved);
	char *p = json_reserve(w, RECORD_FIXED_MAX + DNSTAP_JSON_MAX);
	if (!p)
		return;
	p = put_dnsprobe(p, r, texts);
	assert((size_t)(p - (w->buf + w->len)) <= RECORD_FIXED_MAX + DNSTAP_JSON_MAX);
	json_commit(w, p);
}

void record_json_encode(struct json_writer *w, struct record_json_state *state,
			const struct dns_event *r)
{
	const struct dns_message *m = r->message;
	struct address_spans spans = {0};
	const struct flow_texts_entry *texts = flow_texts_get(state->flows, r->key);
	write_head(w, state, r, texts, &spans);
	if (w->overflow)
		return;
	if (m->has_question)
		write_question(w, state, m);
	for (size_t i = 0; i < m->answer_count; i++)
		write_answer(w, m, &m->answers[i], i == 0);
	write_tail(w, r, texts, &spans);
}
