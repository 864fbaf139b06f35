/* Replay of several capture files, several times (--loop): one input over all of them that opens
 * each file in turn, so a thousand files never hold a thousand descriptors. It says where a new
 * file and a new pass begin (CAPTURE_NEW_FILE, CAPTURE_NEW_PASS), turns a damaged file into a
 * warning (the packets before the damage were replayed) and tells its progress. */
#ifndef DNSPROBE_PCAP_REPLAY_H
#define DNSPROBE_PCAP_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"

struct pcap_replay_options {
	char *const *files; /* "-": standard input, alone and read once */
	unsigned file_count;
	uint64_t passes;     /* 0: until stopped */
	bool opened_as_user; /* the files after the first are opened as the --user user */
};

/* first is files[0], already opened with pcap_file_open; the replay owns it from now on.
 * Returns 0, or -1 with one line for the user in err (first is closed). */
int pcap_replay_open(struct capture *out, const struct pcap_replay_options *o, struct capture first,
		     char *err, size_t err_size);

#endif
