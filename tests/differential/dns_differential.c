/* Checks the direct DNS parse path against ldns: every DNS message over UDP in the given capture
 * files is parsed both ways and encoded as a record; the two records must be identical. Prints
 * each difference and a summary; exits 1 when any differ. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_parse.h"
#include "record_json.h"

#define RECORD_MAX (4 * 1024 * 1024)

struct side {
	struct dns_parser *parser;
	struct dns_message message;
	char *record;
	size_t record_len;
};

static void encode(struct side *s, const struct packet_info *p, const struct pcap_pkthdr *h)
{
	struct flow_key key;
	bool sender_is_a = flow_key_build(p, &key);
	struct dns_event r = {.timestamp_ns = (int64_t)h->ts.tv_sec * 1000000000LL,
			      .packet = p,
			      .key = &key,
			      .sender_is_a = sender_is_a,
			      .dns_len = p->payload_len,
			      .message = &s->message};
	static struct record_json_state *state;
	if (!state)
		state = record_json_state_new(NULL);
	struct json_writer w;
	json_init(&w, s->record, RECORD_MAX);
	record_json_encode(&w, state, &r);
	s->record_len = w.len;
}

int main(int argc, char **argv)
{
	struct side direct = {.parser = dns_parser_new(), .record = malloc(RECORD_MAX)};
	struct side ldns = {.parser = dns_parser_new(), .record = malloc(RECORD_MAX)};
	if (!direct.parser || !ldns.parser || !direct.record || !ldns.record)
		return 2;
	dns_parser_use_ldns_only(ldns.parser, true);
	struct decode_ports ports;
	memset(&ports, 0, sizeof(ports));
	port_set_add(&ports.dns, 53);
	unsigned long messages = 0, differ = 0;
	for (int i = 1; i < argc; i++) {
		char err[PCAP_ERRBUF_SIZE];
		pcap_t *pcap = pcap_open_offline(argv[i], err);
		if (!pcap)
			continue;
		int link = pcap_datalink(pcap);
		struct pcap_pkthdr *h;
		const u_char *data;
		while (pcap_next_ex(pcap, &h, &data) == 1) {
			struct packet_info p;
			if (decode_frame(link, data, h->caplen, &ports, &p) != DECODE_UDP)
				continue;
			bool truncated = p.truncated || h->caplen < h->len;
			if (!dns_parse(direct.parser, p.payload, p.payload_len, truncated,
				       &direct.message))
				continue;
			dns_parse(ldns.parser, p.payload, p.payload_len, truncated, &ldns.message);
			encode(&direct, &p, h);
			encode(&ldns, &p, h);
			messages++;
			if (direct.record_len != ldns.record_len ||
			    memcmp(direct.record, ldns.record, direct.record_len) != 0) {
				differ++;
				printf("%s: direct: %.*s\n%s: ldns:   %.*s\n", argv[i],
				       (int)direct.record_len, direct.record, argv[i],
				       (int)ldns.record_len, ldns.record);
			}
		}
		pcap_close(pcap);
	}
	printf("%lu DNS messages, %lu differ between the direct path and ldns\n", messages, differ);
	dns_parser_free(direct.parser);
	dns_parser_free(ldns.parser);
	free(direct.record);
	free(ldns.record);
	return differ ? 1 : 0;
}
