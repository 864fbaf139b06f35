/* The evidence pcap options of replay and capture, as in tcpdump: -w FILE (the frames that gave
 * records, as a pcap), -C SIZE and -G SECONDS (rotation). Their codes are the short letters. */
#ifndef DNSPROBE_EVIDENCE_OPTIONS_H
#define DNSPROBE_EVIDENCE_OPTIONS_H

#include <getopt.h>
#include <stdint.h>

#include "runner.h"

#define EVIDENCE_SHORT_OPTIONS "w:C:G:"

/* The entries to put in a command's getopt_long table. */
#define EVIDENCE_LONG_OPTIONS                                                                      \
	{"write", required_argument, NULL, 'w'}, {"file-size", required_argument, NULL, 'C'},      \
	{                                                                                          \
		"rotate-seconds", required_argument, NULL, 'G'                                     \
	}

struct evidence_options {
	const char *path;	 /* -w; NULL: no evidence file */
	uint64_t file_size;	 /* -C in bytes; 0: no limit */
	unsigned rotate_seconds; /* -G; 0: never */
};

/* The help text of these options, for a command's --help. */
extern const char evidence_options_help[];

/* Handles option c. Returns 1 when handled, 0 when c is not one of these, or EXIT_USAGE after
 * printing one line about a bad value. Start from a zeroed struct. */
int evidence_options_handle(struct evidence_options *o, int c, const char *arg);

/* After the options: -C and -G need -w, and -w's folder must be writable. Returns 0 or
 * EXIT_USAGE after one line. */
int evidence_options_finish(const struct evidence_options *o);

/* The runner's tap opener for these options (no tap without -w); o must outlive the runner. */
struct tap_opener evidence_options_opener(const struct evidence_options *o);

#endif
