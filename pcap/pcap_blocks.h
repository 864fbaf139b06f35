/* Replay of classic pcap files in regular files: read(2) in blocks of a mebibyte, records handed
 * to the worker straight from the buffer, with libpcap's rules for lengths and timestamps. */
#ifndef DNSPROBE_PCAP_BLOCKS_H
#define DNSPROBE_PCAP_BLOCKS_H

#include <pcap/pcap.h>
#include <stdbool.h>

#include "capture.h"

/* handle is a file libpcap has just opened (it has judged the file header). When the file is a
 * classic pcap file in a regular file and libpcap would hand its records out unchanged, takes
 * over handle and sets capture up to read the records from handle's descriptor in blocks;
 * returns true. Otherwise (pcapng, a pipe, a link type libpcap rewrites, out of memory) returns
 * false and leaves handle to the caller, to read through libpcap. Frames handed to the worker
 * stay valid until the worker returns. */
bool pcap_blocks_open(struct capture *capture, pcap_t *handle);

#endif
