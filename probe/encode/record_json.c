/* The JSON record of one DNS message. Field order and names are documented in docs/records.md. */
#include "record_json.h"

#include <assert.h>
#include <string.h>
#include <time.h>

#include "dns_mnemonics.h"

#define NS_PER_SECOND 1000000000LL

void timestamp_cache_init(struct timestamp_cache *cache)
{
	cache->second = INT64_MIN;
	cache->text[0] = '\0';
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

/* Copies a string literal and returns the end. */
#define PUT(p, text) (memcpy((p), (text), sizeof(text) - 1), (p) + sizeof(text) - 1)

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

static char *put_network(char *p, const struct packet_info *p_info)
{
	if (p_info->ip_protocol == 6)
		p = PUT(p, ",\"network\":{\"transport\":\"tcp\"");
	else
		p = PUT(p, ",\"network\":{\"transport\":\"udp\"");
	if (p_info->ip_version == 6)
		p = PUT(p, ",\"type\":\"ipv6\"");
	else
		p = PUT(p, ",\"type\":\"ipv4\"");
	if (p_info->vlan_count > 0) {
		p = PUT(p, ",\"vlan\":{\"id\":");
		p = json_put_uint(p, p_info->vlan_ids[0]);
		*p++ = '}';
	}
	if (p_info->vlan_count > 1) {
		p = PUT(p, ",\"inner\":{\"vlan\":{\"id\":");
		p = json_put_uint(p, p_info->vlan_ids[1]);
		p = PUT(p, "}}");
	}
	*p++ = '}';
	return p;
}

static char *put_flags(char *p, uint16_t flags)
{
	static const struct {
		uint16_t bit;
		char name[4];
	} names[] = {
	    {DNS_FLAG_AA, "\"AA\""}, {DNS_FLAG_TC, "\"TC\""}, {DNS_FLAG_RD, "\"RD\""},
	    {DNS_FLAG_RA, "\"RA\""}, {DNS_FLAG_AD, "\"AD\""}, {DNS_FLAG_CD, "\"CD\""},
	};
	p = PUT(p, ",\"header_flags\":[");
	char *first = p;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (flags & names[i].bit) {
			if (p != first)
				*p++ = ',';
			memcpy(p, names[i].name, 4);
			p += 4;
		}
	}
	*p++ = ']';
	return p;
}

/* The header fields of "dns", up to where the question goes. */
static char *put_dns_header(char *p, const struct dns_message *m)
{
	char buf[DNS_MNEMONIC_MAX];
	p = PUT(p, ",\"dns\":{\"id\":");
	p = json_put_uint(p, m->id);
	if (m->is_response)
		p = PUT(p, ",\"type\":\"answer\",\"op_code\":");
	else
		p = PUT(p, ",\"type\":\"query\",\"op_code\":");
	p = put_mnemonic(p, dns_opcode_name(m->opcode, buf));
	p = put_flags(p, m->flags);
	if (m->is_response) {
		p = PUT(p, ",\"response_code\":");
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
	p = PUT(p, ",\"type\":");
	p = put_quoted_mnemonic(p, dns_type_mnemonic(type, &buf));
	p = PUT(p, ",\"class\":");
	return put_quoted_mnemonic(p, dns_class_mnemonic(class, &buf));
}

static void write_question(struct json_writer *w, const struct dns_message *m)
{
	char *p = json_reserve(w, JSON_STRING_MAX(m->qname_len) + ANSWER_FIXED_MAX);
	if (!p)
		return;
	p = PUT(p, ",\"question\":{\"name\":");
	p = json_put_string(p, m->qname, m->qname_len);
	p = put_type_and_class(p, m->qtype, m->qclass);
	*p++ = '}';
	assert((size_t)(p - (w->buf + w->len)) <= JSON_STRING_MAX(m->qname_len) + ANSWER_FIXED_MAX);
	json_commit(w, p);
}

static void write_answer(struct json_writer *w, const struct dns_message *m,
			 const struct dns_answer *a, bool first)
{
	size_t room =
	    JSON_STRING_MAX(a->name_len) + JSON_STRING_MAX(a->data_len) + ANSWER_FIXED_MAX;
	char *p = json_reserve(w, room);
	if (!p)
		return;
	p = first ? PUT(p, ",\"answers\":[{\"name\":") : PUT(p, ",{\"name\":");
	p = json_put_string(p, dns_arena_text(m, a->name_offset), a->name_len);
	p = put_type_and_class(p, a->type, a->class);
	p = PUT(p, ",\"ttl\":");
	p = json_put_uint(p, a->ttl);
	p = PUT(p, ",\"data\":");
	p = json_put_string(p, dns_arena_text(m, a->data_offset), a->data_len);
	*p++ = '}';
	assert((size_t)(p - (w->buf + w->len)) <= room);
	json_commit(w, p);
}

static char *put_edns(char *p, const struct dns_message *m)
{
	p = PUT(p, ",\"edns\":{\"udp_size\":");
	p = json_put_uint(p, m->edns_udp_size);
	if (m->edns_do)
		p = PUT(p, ",\"do\":true,\"version\":");
	else
		p = PUT(p, ",\"do\":false,\"version\":");
	p = json_put_uint(p, m->edns_version);
	if (m->ecs[0]) {
		p = PUT(p, ",\"ecs\":");
		p = put_plain(p, m->ecs, strnlen(m->ecs, DNS_ECS_TEXT_MAX));
	}
	*p++ = '}';
	return p;
}

/* How the packet came, when it came through a tunnel: the outermost one. */
static char *put_tunnel(char *p, const struct packet_info *packet)
{
	p = PUT(p, ",\"tunnel\":{\"type\":");
	p = put_mnemonic(p, tunnel_type_name((enum tunnel_type)packet->tunnel_type));
	if (packet->tunnel_has_id) {
		p = PUT(p, ",\"id\":");
		p = json_put_uint(p, packet->tunnel_id);
	}
	if (packet->tunnel_has_endpoints) {
		p = PUT(p, ",\"source\":");
		p = put_address(p, packet->tunnel_src);
		p = PUT(p, ",\"destination\":");
		p = put_address(p, packet->tunnel_dst);
	}
	*p++ = '}';
	return p;
}

static char *put_dnsprobe(char *p, const struct dns_event *r)
{
	const struct dns_message *m = r->message;
	p = PUT(p, ",\"dnsprobe\":{\"flow_key\":\"");
	flow_key_hex(r->key, p);
	p += FLOW_KEY_LEN * 2;
	if (r->sender_is_a)
		p = PUT(p, "\",\"direction\":\"a_to_b\",\"size\":");
	else
		p = PUT(p, "\",\"direction\":\"b_to_a\",\"size\":");
	p = json_put_uint(p, r->dns_len);
	p = PUT(p, ",\"counts\":{\"qd\":");
	p = json_put_uint(p, m->qdcount);
	p = PUT(p, ",\"an\":");
	p = json_put_uint(p, m->ancount);
	p = PUT(p, ",\"ns\":");
	p = json_put_uint(p, m->nscount);
	p = PUT(p, ",\"ar\":");
	p = json_put_uint(p, m->arcount);
	*p++ = '}';
	if (m->has_edns)
		p = put_edns(p, m);
	if (m->answers_omitted) {
		p = PUT(p, ",\"answers_omitted\":");
		p = json_put_uint(p, m->answers_omitted);
	}
	if (m->malformed) {
		p = PUT(p, ",\"malformed\":");
		p = put_plain(p, m->malformed, strnlen(m->malformed, REASON_MAX));
	}
	if (r->packet->tunnel_depth > 0)
		p = put_tunnel(p, r->packet);
	return PUT(p, "}}");
}

/* Everything before the question: time, endpoints, network, DNS header. */
static void write_head(struct json_writer *w, struct timestamp_cache *cache,
		       const struct dns_event *r)
{
	char *p = json_reserve(w, RECORD_FIXED_MAX);
	if (!p)
		return;
	p = PUT(p, "{\"@timestamp\":\"");
	timestamp_format(cache, r->timestamp_ns, p);
	p += TIMESTAMP_TEXT_LEN;
	p = PUT(p, "\",\"source\":{\"ip\":");
	p = put_address(p, r->packet->src_addr);
	p = PUT(p, ",\"port\":");
	p = json_put_uint(p, r->packet->src_port);
	p = PUT(p, "},\"destination\":{\"ip\":");
	p = put_address(p, r->packet->dst_addr);
	p = PUT(p, ",\"port\":");
	p = json_put_uint(p, r->packet->dst_port);
	*p++ = '}';
	p = put_network(p, r->packet);
	p = put_dns_header(p, r->message);
	assert((size_t)(p - (w->buf + w->len)) <= RECORD_FIXED_MAX);
	json_commit(w, p);
}

/* What follows the answers: the end of "dns" and the "dnsprobe" object. */
static void write_tail(struct json_writer *w, const struct dns_event *r)
{
	char *p = json_reserve(w, RECORD_FIXED_MAX);
	if (!p)
		return;
	if (r->message->answer_count > 0)
		*p++ = ']';
	*p++ = '}';
	p = put_dnsprobe(p, r);
	assert((size_t)(p - (w->buf + w->len)) <= RECORD_FIXED_MAX);
	json_commit(w, p);
}

void record_json_encode(struct json_writer *w, struct timestamp_cache *cache,
			const struct dns_event *r)
{
	const struct dns_message *m = r->message;
	write_head(w, cache, r);
	if (m->has_question)
		write_question(w, m);
	for (size_t i = 0; i < m->answer_count; i++)
		write_answer(w, m, &m->answers[i], i == 0);
	write_tail(w, r);
}
