/* The JSON record of one DNS message. Field order and names are documented in docs/records.md. */
#include "record_json.h"

#include <arpa/inet.h>
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
	put_digits(out + 20, (uint64_t)(ns % NS_PER_SECOND), 9);
	out[29] = 'Z';
	out[30] = '\0';
}

static void write_endpoint(struct json_writer *w, const char *name, const uint8_t addr[16],
			   uint16_t port)
{
	char text[INET6_ADDRSTRLEN];
	size_t len = address_text(addr, text, sizeof(text));
	json_key(w, name);
	json_open(w, '{');
	json_key(w, "ip");
	json_string(w, text, len);
	json_key(w, "port");
	json_uint(w, port);
	json_close(w, '}');
}

static void write_network(struct json_writer *w, const struct packet_info *p)
{
	json_key(w, "network");
	json_open(w, '{');
	json_key(w, "transport");
	json_literal(w, p->ip_protocol == 6 ? "\"tcp\"" : "\"udp\"");
	json_key(w, "type");
	json_literal(w, p->ip_version == 6 ? "\"ipv6\"" : "\"ipv4\"");
	if (p->vlan_count > 0) {
		json_key(w, "vlan");
		json_open(w, '{');
		json_key(w, "id");
		json_uint(w, p->vlan_ids[0]);
		json_close(w, '}');
	}
	if (p->vlan_count > 1) {
		json_literal(w, ",\"inner\":{\"vlan\":{\"id\":");
		json_uint(w, p->vlan_ids[1]);
		json_literal(w, "}}");
	}
	json_close(w, '}');
}

static void write_flags(struct json_writer *w, uint16_t flags)
{
	static const struct {
		uint16_t bit;
		const char *name;
	} names[] = {
	    {DNS_FLAG_AA, "\"AA\""}, {DNS_FLAG_TC, "\"TC\""}, {DNS_FLAG_RD, "\"RD\""},
	    {DNS_FLAG_RA, "\"RA\""}, {DNS_FLAG_AD, "\"AD\""}, {DNS_FLAG_CD, "\"CD\""},
	};
	json_key(w, "header_flags");
	json_open(w, '[');
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (flags & names[i].bit) {
			json_comma(w);
			json_literal(w, names[i].name);
		}
	}
	json_close(w, ']');
}

static void write_answers(struct json_writer *w, const struct dns_message *m)
{
	char buf[DNS_MNEMONIC_MAX];
	json_key(w, "answers");
	json_open(w, '[');
	for (size_t i = 0; i < m->answer_count; i++) {
		const struct dns_answer *a = &m->answers[i];
		json_comma(w);
		json_open(w, '{');
		json_key(w, "name");
		json_string(w, dns_arena_text(m, a->name_offset), a->name_len);
		json_key(w, "type");
		json_cstring(w, dns_type_name(a->type, buf));
		json_key(w, "class");
		json_cstring(w, dns_class_name(a->class, buf));
		json_key(w, "ttl");
		json_uint(w, a->ttl);
		json_key(w, "data");
		json_string(w, dns_arena_text(m, a->data_offset), a->data_len);
		json_close(w, '}');
	}
	json_close(w, ']');
}

static void write_dns(struct json_writer *w, const struct dns_message *m)
{
	char buf[DNS_MNEMONIC_MAX];
	json_key(w, "dns");
	json_open(w, '{');
	json_key(w, "id");
	json_uint(w, m->id);
	json_key(w, "type");
	json_literal(w, m->is_response ? "\"answer\"" : "\"query\"");
	json_key(w, "op_code");
	json_cstring(w, dns_opcode_name(m->opcode, buf));
	write_flags(w, m->flags);
	if (m->is_response) {
		json_key(w, "response_code");
		json_cstring(w, dns_rcode_name(m->rcode, buf));
	}
	if (m->has_question) {
		json_key(w, "question");
		json_open(w, '{');
		json_key(w, "name");
		json_string(w, m->qname, m->qname_len);
		json_key(w, "type");
		json_cstring(w, dns_type_name(m->qtype, buf));
		json_key(w, "class");
		json_cstring(w, dns_class_name(m->qclass, buf));
		json_close(w, '}');
	}
	if (m->answer_count > 0)
		write_answers(w, m);
	json_close(w, '}');
}

static void write_edns(struct json_writer *w, const struct dns_message *m)
{
	json_key(w, "edns");
	json_open(w, '{');
	json_key(w, "udp_size");
	json_uint(w, m->edns_udp_size);
	json_key(w, "do");
	json_literal(w, m->edns_do ? "true" : "false");
	json_key(w, "version");
	json_uint(w, m->edns_version);
	if (m->ecs[0]) {
		json_key(w, "ecs");
		json_cstring(w, m->ecs);
	}
	json_close(w, '}');
}

static void write_counts(struct json_writer *w, const struct dns_message *m)
{
	json_key(w, "counts");
	json_literal(w, "{\"qd\":");
	json_uint(w, m->qdcount);
	json_literal(w, ",\"an\":");
	json_uint(w, m->ancount);
	json_literal(w, ",\"ns\":");
	json_uint(w, m->nscount);
	json_literal(w, ",\"ar\":");
	json_uint(w, m->arcount);
	json_close(w, '}');
}

static void write_dnsprobe(struct json_writer *w, const struct dns_record *r)
{
	const struct dns_message *m = r->message;
	char hex[FLOW_KEY_LEN * 2 + 1];
	flow_key_hex(r->key, hex);
	json_key(w, "dnsprobe");
	json_open(w, '{');
	json_key(w, "flow_key");
	json_string(w, hex, FLOW_KEY_LEN * 2);
	json_key(w, "direction");
	json_literal(w, r->sender_is_a ? "\"a_to_b\"" : "\"b_to_a\"");
	json_key(w, "size");
	json_uint(w, r->dns_size);
	write_counts(w, m);
	if (m->has_edns)
		write_edns(w, m);
	if (m->answers_omitted) {
		json_key(w, "answers_omitted");
		json_uint(w, m->answers_omitted);
	}
	if (m->malformed) {
		json_key(w, "malformed");
		json_cstring(w, m->malformed);
	}
	json_close(w, '}');
}

void record_json_encode(struct json_writer *w, struct timestamp_cache *cache,
			const struct dns_record *r)
{
	char ts[TIMESTAMP_TEXT_LEN + 1];
	timestamp_format(cache, r->timestamp_ns, ts);
	json_open(w, '{');
	json_key(w, "@timestamp");
	json_string(w, ts, TIMESTAMP_TEXT_LEN);
	write_endpoint(w, "source", r->packet->src_addr, r->packet->src_port);
	write_endpoint(w, "destination", r->packet->dst_addr, r->packet->dst_port);
	write_network(w, r->packet);
	write_dns(w, r->message);
	write_dnsprobe(w, r);
	json_close(w, '}');
}
