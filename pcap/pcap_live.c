/* Live capture through libpcap: placeholder until the live capture backend lands. */
#include "pcap_live.h"

#include <stdio.h>

int pcap_live_open(struct capture *capture, const struct pcap_live_options *o, char *err,
		   size_t err_size)
{
	(void)capture;
	snprintf(err, err_size, "live capture on %s is not built yet", o->interface);
	return -1;
}
