/* The JSON record of one DNS message. Field order and names are documented in docs/records.md. */
#include "record_json.h"

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

/* Appends a string literal: the JSON around the values is written in whole pieces. */
#define LIT(w, text) json_raw((w), (text), sizeof(text) - 1)

/* Text known to need no escaping (addresses, mnemonics, reasons), in quotes. */
static void put_plain(struct json_writer *w, const char *text, size_t len)
{
	LIT(w, "\"");
	json_raw(w, text, len);
	LIT(w, "\"");
}

static void put_plain_cstring(struct json_writer *w, const char *text)
{
	put_plain(w, text, strlen(text));
}

static void write_address(struct json_writer *w, const uint8_t addr[16])
{
	char text[ADDRESS_TEXT_MAX];
	put_plain(w, text, address_text(addr, text, sizeof(text)));
}

static void write_network(struct json_writer *w, const struct packet_info *p)
{
	if (p->ip_protocol == 6)
		LIT(w, ",\"network\":{\"transport\":\"tcp\"");
	else
		LIT(w, ",\"network\":{\"transport\":\"udp\"");
	if (p->ip_version == 6)
		LIT(w, ",\"type\":\"ipv6\"");
	else
		LIT(w, ",\"type\":\"ipv4\"");
	if (p->vlan_count > 0) {
		LIT(w, ",\"vlan\":{\"id\":");
		json_uint(w, p->vlan_ids[0]);
		LIT(w, "}");
	}
	if (p->vlan_count > 1) {
		LIT(w, ",\"inner\":{\"vlan\":{\"id\":");
		json_uint(w, p->vlan_ids[1]);
		LIT(w, "}}");
	}
	LIT(w, "}");
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
	LIT(w, ",\"header_flags\":[");
	bool first = true;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (flags & names[i].bit) {
			if (!first)
				LIT(w, ",");
			json_raw(w, names[i].name, 4);
			first = false;
		}
	}
	LIT(w, "]");
}

static void write_answers(struct json_writer *w, const struct dns_message *m)
{
	char buf[DNS_MNEMONIC_MAX];
	LIT(w, ",\"answers\":[");
	for (size_t i = 0; i < m->answer_count; i++) {
		const struct dns_answer *a = &m->answers[i];
		if (i)
			LIT(w, ",");
		LIT(w, "{\"name\":");
		json_string(w, dns_arena_text(m, a->name_offset), a->name_len);
		LIT(w, ",\"type\":");
		put_plain_cstring(w, dns_type_name(a->type, buf));
		LIT(w, ",\"class\":");
		put_plain_cstring(w, dns_class_name(a->class, buf));
		LIT(w, ",\"ttl\":");
		json_uint(w, a->ttl);
		LIT(w, ",\"data\":");
		json_string(w, dns_arena_text(m, a->data_offset), a->data_len);
		LIT(w, "}");
	}
	LIT(w, "]");
}

static void write_dns(struct json_writer *w, const struct dns_message *m)
{
	char buf[DNS_MNEMONIC_MAX];
	LIT(w, ",\"dns\":{\"id\":");
	json_uint(w, m->id);
	if (m->is_response)
		LIT(w, ",\"type\":\"answer\",\"op_code\":");
	else
		LIT(w, ",\"type\":\"query\",\"op_code\":");
	put_plain_cstring(w, dns_opcode_name(m->opcode, buf));
	write_flags(w, m->flags);
	if (m->is_response) {
		LIT(w, ",\"response_code\":");
		put_plain_cstring(w, dns_rcode_name(m->rcode, buf));
	}
	if (m->has_question) {
		LIT(w, ",\"question\":{\"name\":");
		json_string(w, m->qname, m->qname_len);
		LIT(w, ",\"type\":");
		put_plain_cstring(w, dns_type_name(m->qtype, buf));
		LIT(w, ",\"class\":");
		put_plain_cstring(w, dns_class_name(m->qclass, buf));
		LIT(w, "}");
	}
	if (m->answer_count > 0)
		write_answers(w, m);
	LIT(w, "}");
}

static void write_edns(struct json_writer *w, const struct dns_message *m)
{
	LIT(w, ",\"edns\":{\"udp_size\":");
	json_uint(w, m->edns_udp_size);
	if (m->edns_do)
		LIT(w, ",\"do\":true,\"version\":");
	else
		LIT(w, ",\"do\":false,\"version\":");
	json_uint(w, m->edns_version);
	if (m->ecs[0]) {
		LIT(w, ",\"ecs\":");
		put_plain_cstring(w, m->ecs);
	}
	LIT(w, "}");
}

static void write_dnsprobe(struct json_writer *w, const struct dns_record *r)
{
	const struct dns_message *m = r->message;
	char hex[FLOW_KEY_LEN * 2 + 1];
	flow_key_hex(r->key, hex);
	LIT(w, ",\"dnsprobe\":{\"flow_key\":");
	put_plain(w, hex, FLOW_KEY_LEN * 2);
	if (r->sender_is_a)
		LIT(w, ",\"direction\":\"a_to_b\",\"size\":");
	else
		LIT(w, ",\"direction\":\"b_to_a\",\"size\":");
	json_uint(w, r->dns_size);
	LIT(w, ",\"counts\":{\"qd\":");
	json_uint(w, m->qdcount);
	LIT(w, ",\"an\":");
	json_uint(w, m->ancount);
	LIT(w, ",\"ns\":");
	json_uint(w, m->nscount);
	LIT(w, ",\"ar\":");
	json_uint(w, m->arcount);
	LIT(w, "}");
	if (m->has_edns)
		write_edns(w, m);
	if (m->answers_omitted) {
		LIT(w, ",\"answers_omitted\":");
		json_uint(w, m->answers_omitted);
	}
	if (m->malformed) {
		LIT(w, ",\"malformed\":");
		put_plain_cstring(w, m->malformed);
	}
	LIT(w, "}");
}

void record_json_encode(struct json_writer *w, struct timestamp_cache *cache,
			const struct dns_record *r)
{
	char ts[TIMESTAMP_TEXT_LEN + 1];
	timestamp_format(cache, r->timestamp_ns, ts);
	LIT(w, "{\"@timestamp\":");
	put_plain(w, ts, TIMESTAMP_TEXT_LEN);
	LIT(w, ",\"source\":{\"ip\":");
	write_address(w, r->packet->src_addr);
	LIT(w, ",\"port\":");
	json_uint(w, r->packet->src_port);
	LIT(w, "},\"destination\":{\"ip\":");
	write_address(w, r->packet->dst_addr);
	LIT(w, ",\"port\":");
	json_uint(w, r->packet->dst_port);
	LIT(w, "}");
	write_network(w, r->packet);
	write_dns(w, r->message);
	write_dnsprobe(w, r);
	LIT(w, "}");
}
