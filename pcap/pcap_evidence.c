/* The evidence pcap writer: frames that gave records, copied to pcap files by pcap_dump into a
 * large stdio buffer; files are opened and closed only when one is full (-C), its period is over
 * (-G) or the link type changes, never per frame. */
#include "pcap_evidence.h"

#include <errno.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EVIDENCE_BUFFER_SIZE (1024 * 1024)
#define EVIDENCE_SNAPLEN     262144
#define PCAP_FILE_HEADER     24
#define PCAP_RECORD_HEADER   16
#define NS_PER_SECOND	     1000000000LL
#define ERROR_SIZE	     (PATH_MAX + 256)

struct evidence {
	struct pcap_evidence_options options;
	char pattern[PATH_MAX];
	char name[PATH_MAX]; /* the file being written; "" before the first */
	FILE *file;	     /* open, its header not yet written (no frame yet) */
	pcap_t *dead;	     /* for the link type of the file being written */
	pcap_dumper_t *dumper;
	int link_type;
	uint64_t bytes;		/* of the file being written */
	int64_t period_start_s; /* -G: capture time of the current period's first frame */
	unsigned count;		/* -C and link-type files in this period: 0 is the name itself */
	bool failed;
	char error[ERROR_SIZE];
	char *buffer;
};

static void fail(struct evidence *e, const char *what)
{
	if (!e->failed)
		snprintf(e->error, sizeof(e->error),
			 "-w: %s %s (%s); the evidence after it is lost", what, e->name,
			 strerror(errno));
	e->failed = true;
}

/* The name of file count of the period that began at period_s, as tcpdump names them. */
static bool build_name(struct evidence *e, int64_t period_s)
{
	char base[PATH_MAX];
	if (e->options.rotate_seconds) {
		time_t t = (time_t)period_s;
		struct tm tm;
		if (!localtime_r(&t, &tm) || strftime(base, sizeof(base), e->pattern, &tm) == 0)
			return false;
	} else {
		snprintf(base, sizeof(base), "%s", e->pattern);
	}
	int n = e->count ? snprintf(e->name, sizeof(e->name), "%s%u", base, e->count)
			 : snprintf(e->name, sizeof(e->name), "%s", base);
	return n > 0 && (size_t)n < sizeof(e->name);
}

static int open_file(struct evidence *e)
{
	e->file = fopen(e->name, "wb");
	if (!e->file)
		return -1;
	setvbuf(e->file, e->buffer, _IOFBF, EVIDENCE_BUFFER_SIZE);
	e->bytes = 0;
	return 0;
}

/* Writes the header of the open file for link_type. */
static int start_dump(struct evidence *e, int link_type)
{
	if (!e->dead || link_type != e->link_type) {
		if (e->dead)
			pcap_close(e->dead);
		e->dead = pcap_open_dead_with_tstamp_precision(link_type, EVIDENCE_SNAPLEN,
							       PCAP_TSTAMP_PRECISION_NANO);
		if (!e->dead) {
			errno = ENOMEM;
			return -1;
		}
		e->link_type = link_type;
	}
	e->dumper = pcap_dump_fopen(e->dead, e->file);
	if (!e->dumper)
		return -1;
	e->file = NULL; /* the dumper owns it */
	e->bytes = PCAP_FILE_HEADER;
	return 0;
}

/* Ends the file being written; returns -1 when what it held did not reach the disk. */
static int end_file(struct evidence *e)
{
	int rc = 0;
	if (e->dumper) {
		FILE *f = pcap_dump_file(e->dumper);
		if (fflush(f) != 0 || ferror(f))
			rc = -1;
		int saved = errno;
		pcap_dump_close(e->dumper);
		errno = saved;
		e->dumper = NULL;
	}
	if (e->file && fclose(e->file) != 0)
		rc = -1;
	e->file = NULL;
	return rc;
}

/* The next file: of a new -G period (period_s), or the next number of this one. */
static void next_file(struct evidence *e, bool new_period, int64_t period_s, int link_type)
{
	if (e->name[0] && end_file(e) != 0) {
		fail(e, "could not write");
		return;
	}
	if (new_period) {
		e->period_start_s = period_s;
		e->count = 0;
	} else {
		e->count++;
	}
	if (!build_name(e, e->period_start_s)) {
		errno = ENAMETOOLONG;
		fail(e, "could not name the file after");
		return;
	}
	if (open_file(e) != 0) {
		fail(e, "could not create");
		return;
	}
	if (start_dump(e, link_type) != 0)
		fail(e, "could not write");
}

static void evidence_write(void *state, const struct frame *frame)
{
	struct evidence *e = state;
	if (e->failed || frame->link_type == FRAME_LINK_DNSTAP)
		return;
	int64_t second = frame->ts_ns / NS_PER_SECOND;
	uint64_t size = PCAP_RECORD_HEADER + (uint64_t)frame->caplen;
	unsigned every = e->options.rotate_seconds;
	if (!e->dumper && e->file) {
		/* The first file, created at open: the first frame gives its link type. */
		if (start_dump(e, frame->link_type) != 0)
			fail(e, "could not write");
	} else if (!e->dumper) {
		next_file(e, true, second, frame->link_type);
	} else if (every && second - e->period_start_s >= (int64_t)every) {
		next_file(e, true, second, frame->link_type);
	} else if (frame->link_type != e->link_type ||
		   (e->options.file_size && e->bytes > PCAP_FILE_HEADER &&
		    e->bytes + size > e->options.file_size)) {
		next_file(e, false, e->period_start_s, frame->link_type);
	}
	if (e->failed)
		return;
	struct pcap_pkthdr header = {
	    .ts = {.tv_sec = (time_t)second,
		   .tv_usec = (suseconds_t)(frame->ts_ns % NS_PER_SECOND)}, /* nanoseconds */
	    .caplen = frame->caplen,
	    .len = frame->wirelen,
	};
	pcap_dump((u_char *)e->dumper, &header, frame->data);
	e->bytes += size;
}

static void evidence_free(struct evidence *e)
{
	if (e->dead)
		pcap_close(e->dead);
	free(e->buffer);
	free(e);
}

static int evidence_close(void *state, bool keep, char *err, size_t err_size)
{
	struct evidence *e = state;
	int rc = 0;
	/* A file no frame went into still gets a header, so tools read it as empty. */
	if (keep && !e->dumper && e->file && start_dump(e, DLT_EN10MB) != 0)
		fail(e, "could not write");
	if (end_file(e) != 0)
		fail(e, "could not write");
	if (!keep && e->name[0])
		unlink(e->name);
	else if (e->failed) {
		snprintf(err, err_size, "%s", e->error);
		rc = -1;
	}
	evidence_free(e);
	return rc;
}

static const struct frame_tap_ops evidence_ops = {
    .write = evidence_write,
    .close = evidence_close,
};

int pcap_evidence_open(struct frame_tap *out, const struct pcap_evidence_options *o, char *err,
		       size_t err_size)
{
	struct evidence *e = calloc(1, sizeof(*e));
	if (e)
		e->buffer = malloc(EVIDENCE_BUFFER_SIZE);
	if (!e || !e->buffer) {
		if (e)
			evidence_free(e);
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	e->options = *o;
	if (strlen(o->path) >= sizeof(e->pattern)) {
		evidence_free(e);
		snprintf(err, err_size, "-w: the path is too long");
		return -1;
	}
	strcpy(e->pattern, o->path);
	if (!o->rotate_seconds) {
		build_name(e, 0);
		if (open_file(e) != 0) {
			snprintf(err, err_size, "-w: cannot create %s (%s)", e->name,
				 strerror(errno));
			e->name[0] = '\0';
			evidence_free(e);
			return -1;
		}
	}
	out->ops = &evidence_ops;
	out->state = e;
	return 0;
}
