/* Reading -w, -C and -G, and opening one evidence pcap writer per worker. */
#include "evidence_options.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pcap_evidence.h"

#define WORKER_PLACEHOLDER "{worker}"
#define SIZE_MAX_BYTES	   (1ULL << 40)
#define ROTATE_MAX_SECONDS (366U * 24 * 3600)

const char evidence_options_help[] =
    "Evidence pcap (as in tcpdump):\n"
    "  -w, --write FILE         write every frame that gave at least one DNS record to FILE\n"
    "                           as a pcap (nanosecond timestamps, the capture's link type),\n"
    "                           so the evidence behind a record opens in Wireshark; for a\n"
    "                           message rebuilt from TCP segments or IP fragments, the frame\n"
    "                           that completed it. Several workers need {worker} in FILE,\n"
    "                           followed by more of the name (-w 'dns-{worker}.pcap')\n"
    "  -C, --file-size SIZE     start a new file FILE1, FILE2... rather than let one grow\n"
    "                           past SIZE: millions of bytes, or with a suffix k, m or g\n"
    "                           (KiB, MiB, GiB), as tcpdump's -C\n"
    "  -G, --rotate-seconds S   start a new file every S seconds of capture time; FILE is\n"
    "                           then a strftime(3) pattern of the local time of each file's\n"
    "                           first frame (-w 'dns-%Y%m%d-%H%M%S.pcap'), as tcpdump's -G\n";

/* tcpdump's -C: a whole number of millions of bytes, or of KiB, MiB, GiB with k, m, g. */
static bool parse_file_size(const char *text, uint64_t *bytes)
{
	char number[32];
	size_t len = strlen(text);
	if (len == 0 || len >= sizeof(number))
		return false;
	uint64_t unit = 1000000;
	memcpy(number, text, len + 1);
	switch (number[len - 1]) {
	case 'k':
	case 'K':
		unit = 1024;
		break;
	case 'm':
	case 'M':
		unit = 1024 * 1024;
		break;
	case 'g':
	case 'G':
		unit = 1024 * 1024 * 1024;
		break;
	default:
		len++;
		break;
	}
	number[len - 1] = '\0';
	uint64_t n;
	if (!cli_parse_uint(number, 1, SIZE_MAX_BYTES / unit, &n))
		return false;
	*bytes = n * unit;
	return true;
}

int evidence_options_handle(struct evidence_options *o, int c, const char *arg)
{
	uint64_t v;
	switch (c) {
	case 'w':
		if (arg[0] == '\0' || strcmp(arg, "-") == 0)
			return cli_usage_error("-w: give the name of a pcap file to write, e.g. -w "
					       "evidence.pcap (standard output is for records)");
		o->path = arg;
		return 1;
	case 'C':
		if (!parse_file_size(arg, &o->file_size))
			return cli_usage_error(
			    "-C: '%s' is not a file size; give millions of bytes "
			    "or a number with k, m or g (KiB, MiB, GiB), e.g. "
			    "-C 100 or -C 512m",
			    arg);
		return 1;
	case 'G':
		if (!cli_parse_uint(arg, 1, ROTATE_MAX_SECONDS, &v))
			return cli_usage_error("-G: '%s' is not a number of seconds; give 1 to %u, "
					       "e.g. -G 3600",
					       arg, ROTATE_MAX_SECONDS);
		o->rotate_seconds = (unsigned)v;
		return 1;
	default:
		return 0;
	}
}

int evidence_options_finish(const struct evidence_options *o)
{
	if (!o->path && (o->file_size || o->rotate_seconds))
		return cli_usage_error("%s rotates the evidence pcap, which -w FILE names; add -w",
				       o->file_size ? "-C" : "-G");
	if (!o->path)
		return 0;
	/* The folder is checked: a name that strftime or {worker} fills in is not a file yet. */
	return cli_check_output_path("-w", o->path);
}

/* FILE for worker index: {worker} replaced by its number. */
static int worker_path(const char *path, unsigned index, unsigned lanes, char *out, size_t out_size,
		       char *err, size_t err_size)
{
	const char *at = strstr(path, WORKER_PLACEHOLDER);
	if (!at && lanes > 1) {
		snprintf(err, err_size,
			 "-w: %u workers cannot share one pcap file; put {worker} in the name, "
			 "e.g. -w 'dns-{worker}.pcap'",
			 lanes);
		return -1;
	}
	if (at && lanes > 1 && at[strlen(WORKER_PLACEHOLDER)] == '\0') {
		snprintf(err, err_size,
			 "-w: put more of the name after {worker} (e.g. 'dns-{worker}.pcap'), so a "
			 "rotation's number cannot run into a worker's");
		return -1;
	}
	int n = at ? snprintf(out, out_size, "%.*s%u%s", (int)(at - path), path, index,
			      at + strlen(WORKER_PLACEHOLDER))
		   : snprintf(out, out_size, "%s", path);
	if (n < 0 || (size_t)n >= out_size) {
		snprintf(err, err_size, "-w: the path is too long");
		return -1;
	}
	return 0;
}

static int open_tap(void *ctx, unsigned index, unsigned lanes, struct frame_tap *out, char *err,
		    size_t err_size)
{
	const struct evidence_options *o = ctx;
	char path[PATH_MAX];
	if (worker_path(o->path, index, lanes, path, sizeof(path), err, err_size) != 0)
		return -1;
	struct pcap_evidence_options p = {
	    .path = path,
	    .file_size = o->file_size,
	    .rotate_seconds = o->rotate_seconds,
	};
	return pcap_evidence_open(out, &p, err, err_size);
}

struct tap_opener evidence_options_opener(const struct evidence_options *o)
{
	return (struct tap_opener){.open = o->path ? open_tap : NULL, .ctx = (void *)o};
}
