/* Live capture from a network interface through libpcap (TPACKET_V3 ring), one handle per worker,
 * the handles of one probe joined in a PACKET_FANOUT group hashed by flow. */
#ifndef DNSPROBE_PCAP_LIVE_H
#define DNSPROBE_PCAP_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "port_set.h"

struct pcap_live_options {
	const char *interface;
	unsigned buffer_kib; /* kernel ring size per worker (-B), in KiB */
	int snaplen;
	bool promiscuous;
	const char *filter; /* BPF expression; NULL builds the default from dns_ports */
	const struct port_set *dns_ports;
	const struct port_set *vxlan_ports; /* for the default filter; NULL: none */
	const struct port_set *geneve_ports;
	bool fanout;	  /* join a PACKET_FANOUT group hashed by flow */
	int fanout_group; /* with fanout: PCAP_LIVE_NEW_FANOUT_GROUP, or the id of a group to join
			   */
};

/* Starts a new fanout group with an id the kernel picks (see pcap_live_fanout_group). */
#define PCAP_LIVE_NEW_FANOUT_GROUP (-1)

/* Opens and activates one handle; returns 0, or -1 with one line for the user in err. */
int pcap_live_open(struct capture *capture, const struct pcap_live_options *o, char *err,
		   size_t err_size);

/* The id of the fanout group the handle is in, for the other workers' handles to join. */
int pcap_live_fanout_group(const struct capture *capture);

/* The filter used when none is given: the DNS ports over UDP and TCP, IP fragments (their later
 * pieces carry no port), and the tunnels DNS may come in: the VXLAN and Geneve ports (either may
 * be NULL), GRE (and ERSPAN in it), IP-in-IP and MPLS; also inside one VLAN tag when with_vlan. */
int pcap_live_default_filter(const struct port_set *dns_ports, const struct port_set *vxlan_ports,
			     const struct port_set *geneve_ports, bool with_vlan, char *out,
			     size_t size);

#endif
