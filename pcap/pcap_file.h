/* Offline replay of pcap and pcapng files: through libpcap, or read in blocks (pcap_blocks.c) for
 * classic pcap files. */
#ifndef DNSPROBE_PCAP_FILE_H
#define DNSPROBE_PCAP_FILE_H

#include <stddef.h>

#include "capture.h"

/* Opens path for reading; returns 0, or -1 with one line for the user in err. */
int pcap_file_open(struct capture *capture, const char *path, char *err, size_t err_size);

#endif
