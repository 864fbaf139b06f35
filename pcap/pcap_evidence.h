/* The evidence pcap behind -w: one writer per worker, writing the frames that gave records to a
 * classic pcap file through libpcap's pcap_dump (nanosecond timestamps, one link type per file),
 * rotated as tcpdump's -C and -G do. A frame_tap (probe/frame_tap.h). */
#ifndef DNSPROBE_PCAP_EVIDENCE_H
#define DNSPROBE_PCAP_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "frame_tap.h"

struct pcap_evidence_options {
	/* The worker's file name; with rotate_seconds, a strftime(3) pattern of the local time. */
	const char *path;
	/* -C: a frame that would take a file past this many bytes goes to the next file, named
	 * path1, path2... (tcpdump's naming); 0: no limit. */
	uint64_t file_size;
	/* -G: a frame this many seconds (capture time) after the current file's first begins a
	 * new file named by its own time; 0: never. */
	unsigned rotate_seconds;
};

/* Without rotate_seconds the first file is created now; with it, at the first frame. Returns 0,
 * or -1 with one line for the user in err. */
int pcap_evidence_open(struct frame_tap *out, const struct pcap_evidence_options *o, char *err,
		       size_t err_size);

#endif
