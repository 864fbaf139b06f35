/* Offline replay of pcap and pcapng files, with nanosecond timestamps. libpcap opens every file;
 * classic pcap files in regular files are then read in blocks (pcap_blocks.c), the rest through
 * libpcap. */
#include "pcap_file.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capture_time.h"
#include "frame_arena.h"
#include "pcap_blocks.h"

#define TYPICAL_BURST_BYTES (CAPTURE_BURST * 2048)

struct pcap_file {
	pcap_t *handle;
	int link_type;
	struct frame_arena arena; /* libpcap keeps a record only until the next is read */
	bool failed;		  /* error holds why; said at the next call */
	char error[PCAP_ERRBUF_SIZE + 64];
};

/* Classic pcap stores seconds as 32 bits, which libpcap reads as signed: times from 2038 on come
 * out negative. No capture predates 1970, so read them as unsigned. */
static int64_t file_time_ns(const struct pcap_pkthdr *header)
{
	int64_t seconds = header->ts.tv_sec;
	if (seconds < 0)
		seconds = (int64_t)(uint32_t)seconds;
	return capture_time_ns(seconds, header->ts.tv_usec);
}

static int file_next_burst(void *state, struct frame *frames, unsigned max)
{
	struct pcap_file *f = state;
	if (f->failed)
		return CAPTURE_ERROR;
	frame_arena_reset(&f->arena);
	unsigned n = 0;
	while (n < max && frame_arena_has_room(&f->arena)) {
		struct pcap_pkthdr *header;
		const u_char *data;
		int rc = pcap_next_ex(f->handle, &header, &data);
		if (rc == PCAP_ERROR_BREAK)
			return n > 0 ? (int)n : CAPTURE_END;
		if (rc != 1) {
			snprintf(f->error, sizeof(f->error), "%s", pcap_geterr(f->handle));
			f->failed = true;
			return n > 0 ? (int)n : CAPTURE_ERROR;
		}
		uint32_t caplen =
		    header->caplen < FRAME_ARENA_MAX_FRAME ? header->caplen : FRAME_ARENA_MAX_FRAME;
		frames[n++] = (struct frame){
		    .data = frame_arena_copy(&f->arena, data, caplen),
		    .caplen = caplen,
		    .wirelen = header->len,
		    .ts_ns = file_time_ns(header),
		    .link_type = f->link_type,
		};
	}
	return (int)n;
}

static const char *file_error(void *state)
{
	return ((struct pcap_file *)state)->error;
}

static void file_close(void *state)
{
	struct pcap_file *f = state;
	pcap_close(f->handle);
	frame_arena_free(&f->arena);
	free(f);
}

static void file_progress(void *state, struct capture_progress *out)
{
	struct pcap_file *f = state;
	FILE *file = pcap_file(f->handle);
	off_t at = file ? ftello(file) : -1;
	out->done_bytes = at > 0 ? (uint64_t)at : 0;
}

static const struct capture_ops pcap_file_ops = {
    .next_burst = file_next_burst,
    .error = file_error,
    .close = file_close,
    .progress = file_progress,
};

/* libpcap's own text for a bad file is terse; say what it means and what to do. */
static void explain_open_failure(const char *path, const char *pcap_error, char *err,
				 size_t err_size)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(err, err_size, "cannot read %s: %s; check the path", path,
			 strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		snprintf(err, err_size, "%s is a folder; give capture files (pcap or pcapng)",
			 path);
	} else if (strstr(pcap_error, "unknown file format") || strstr(pcap_error, "truncated") ||
		   st.st_size == 0) {
		snprintf(err, err_size,
			 "%s is not a pcap or pcapng capture file (%s); give a capture file, e.g. "
			 "one written by tcpdump -w",
			 path, pcap_error);
	} else {
		/* libpcap's text often starts with the path already: say it once */
		size_t path_len = strlen(path);
		const char *reason = pcap_error;
		if (strncmp(reason, path, path_len) == 0 &&
		    strncmp(reason + path_len, ": ", 2) == 0)
			reason += path_len + 2;
		snprintf(err, err_size, "cannot read %s: %s", path, reason);
	}
}

int pcap_file_open(struct capture *capture, const char *path, char *err, size_t err_size)
{
	char pcap_error[PCAP_ERRBUF_SIZE] = "";
	pcap_t *handle =
	    pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, pcap_error);
	if (!handle) {
		explain_open_failure(path, pcap_error, err, err_size);
		return -1;
	}
	if (pcap_blocks_open(capture, handle))
		return 0;
	struct pcap_file *f = calloc(1, sizeof(*f));
	if (f && !frame_arena_init(&f->arena, TYPICAL_BURST_BYTES)) {
		free(f);
		f = NULL;
	}
	if (!f) {
		pcap_close(handle);
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	f->handle = handle;
	f->link_type = pcap_datalink(handle);
	capture->ops = &pcap_file_ops;
	capture->state = f;
	return 0;
}
