/* Live capture from a network interface through libpcap (TPACKET_V3 ring), one handle per worker,
 * the handles of one probe joined in a PACKET_FANOUT group hashed by flow. */
#ifndef DNSPROBE_PCAP_LIVE_H
#define DNSPROBE_PCAP_LIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "../probe/capture.h"
#include "../probe/decode.h"

struct pcap_live_options {
	const char *interface;
	int buffer_mib;    /* kernel ring size per worker (-B) */
	int snaplen;
	bool promiscuous;
	const char *filter; /* BPF expression; NULL builds the default from dns_ports */
	const struct port_set *dns_ports;
	int fanout_group;   /* PACKET_FANOUT group id shared by the workers; 0 for one worker */
};

/* Opens and activates one handle; returns 0, or -1 with one line for the user in err. */
int pcap_live_open(struct capture *capture, const struct pcap_live_options *o, char *err,
		   size_t err_size);

#endif
