/* fuzz_record: the JSON record of a bare DNS message, as if a client at 198.51.100.7:40000 sent it
 * to 192.0.2.53:53 over IPv4/UDP at a fixed time. */
#include "fuzz_record.h"

#include <string.h>

#include "flow_key.h"
#include "record_json.h"

static void fixed_packet(struct packet_info *p, size_t payload_len)
{
	static const uint8_t client[16] = {0, 0, 0,    0,    0,	  0,  0,   0,
					   0, 0, 0xff, 0xff, 198, 51, 100, 7};
	static const uint8_t server[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 53};
	memset(p, 0, sizeof(*p));
	p->ip_version = 4;
	p->ip_protocol = 17;
	memcpy(p->src_addr, client, 16);
	memcpy(p->dst_addr, server, 16);
	p->src_port = 40000;
	p->dst_port = 53;
	p->payload_len = payload_len;
}

size_t fuzz_record_encode(const struct dns_message *message, size_t dns_size, char *out,
			  bool *overflow)
{
	struct packet_info packet;
	fixed_packet(&packet, dns_size);
	struct flow_key key;
	bool sender_is_a = flow_key_build(&packet, &key);
	struct dns_event record = {
	    .timestamp_ns = 1700000000123456789LL,
	    .packet = &packet,
	    .key = &key,
	    .sender_is_a = sender_is_a,
	    .dns_len = dns_size,
	    .message = message,
	};
	static struct record_json_state *state;
	if (!state)
		state = record_json_state_new(NULL);
	struct json_writer w;
	json_init(&w, out, FUZZ_RECORD_MAX);
	record_json_encode(&w, state, &record);
	*overflow = w.overflow;
	return w.len;
}
