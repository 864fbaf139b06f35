/* Replay of classic pcap files in regular files: read(2) in blocks of a mebibyte into one buffer,
 * records handed to the worker straight from it, with libpcap's rules for lengths, timestamps and
 * errors. Not a memory mapping: its pages would count in the resident set (the whole file by the
 * end), and a file cut short while it is read would kill the probe with SIGBUS. */
#include "pcap_blocks.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "capture_time.h"

#define MAGIC_MICROSECONDS 0xa1b2c3d4u
#define MAGIC_NANOSECONDS  0xa1b23c4du
/* MAXIMUM_SNAPLEN in libpcap: it rejects longer records for every link type read here. */
#define LIBPCAP_MAX_SNAPLEN 262144u
/* Holds the largest record (header and LIBPCAP_MAX_SNAPLEN bytes) several times over. */
#define BUFFER_SIZE (1024 * 1024)

enum { FILE_HEADER_SIZE = 24, RECORD_HEADER_SIZE = 16 };

struct pcap_blocks {
	pcap_t *handle; /* owns the descriptor, which stays open for replay's progress bar */
	int fd;
	size_t next;	    /* in buffer: the next record header */
	size_t filled;	    /* in buffer: the end of what was read */
	uint64_t buffer_at; /* the file offset of the buffer's first byte */
	bool big_endian;
	bool fraction_signed; /* see next_record */
	uint32_t fraction_ns; /* nanoseconds per unit of a timestamp's fraction: 1000 or 1 */
	uint32_t snapshot;    /* libpcap's snapshot length for the file */
	int link_type;
	char error[160];
	uint8_t buffer[BUFFER_SIZE];
};

enum record_result {
	RECORD_READ,
	RECORD_END,
	RECORD_BAD,
	RECORD_LATER /* not all in the buffer, which may not be refilled in this burst */
};

static uint32_t read_u32(const struct pcap_blocks *b, const uint8_t *p)
{
	return b->big_endian ? bytes_be32(p) : bytes_le32(p);
}

/* Moves the unread bytes to the front of the buffer and reads until it is full or the file
 * ends. Frames handed out before are no longer valid. Returns false on a read error. */
static bool refill(struct pcap_blocks *b)
{
	size_t unread = b->filled - b->next;
	memmove(b->buffer, b->buffer + b->next, unread);
	b->buffer_at += b->next;
	b->next = 0;
	b->filled = unread;
	while (b->filled < BUFFER_SIZE) {
		ssize_t got = read(b->fd, b->buffer + b->filled, BUFFER_SIZE - b->filled);
		if (got > 0) {
			b->filled += (size_t)got;
		} else if (got == 0) {
			return true;
		} else if (errno != EINTR) {
			snprintf(b->error, sizeof(b->error), "error reading dump file: %s",
				 strerror(errno));
			return false;
		}
	}
	return true;
}

/* Makes wanted bytes from the next record header on readable in the buffer, reading more when
 * they are not all there. Returns false on a read error; at the end of the file, fewer bytes
 * than wanted may be there. */
static bool have_bytes(struct pcap_blocks *b, size_t wanted)
{
	return b->filled - b->next >= wanted || refill(b);
}

/* True when the next record is whole in the buffer, as a record libpcap accepts. */
static bool record_in_buffer(const struct pcap_blocks *b)
{
	size_t left = b->filled - b->next;
	if (left < RECORD_HEADER_SIZE)
		return false;
	uint32_t caplen = read_u32(b, b->buffer + b->next + 8);
	return caplen <= LIBPCAP_MAX_SNAPLEN && left - RECORD_HEADER_SIZE >= caplen;
}

/* The next record, checked against the end of the file the way libpcap checks it, with
 * libpcap's wording for what is wrong. Unless may_refill (no frame of this burst points into the
 * buffer yet), only a record whole in the buffer is read. */
static enum record_result next_record(struct pcap_blocks *b, struct frame *frame, bool may_refill)
{
	if (!may_refill && !record_in_buffer(b))
		return RECORD_LATER;
	if (!have_bytes(b, RECORD_HEADER_SIZE))
		return RECORD_BAD;
	size_t left = b->filled - b->next;
	if (left == 0)
		return RECORD_END;
	if (left < RECORD_HEADER_SIZE) {
		snprintf(b->error, sizeof(b->error),
			 "truncated dump file; tried to read %d header bytes, only got %zu",
			 RECORD_HEADER_SIZE, left);
		return RECORD_BAD;
	}
	uint32_t caplen = read_u32(b, b->buffer + b->next + 8);
	if (caplen > LIBPCAP_MAX_SNAPLEN) {
		/* The snapshot length is at most the maximum, so libpcap names it. */
		snprintf(b->error, sizeof(b->error),
			 "invalid packet capture length %u, bigger than snaplen of %u", caplen,
			 b->snapshot);
		return RECORD_BAD;
	}
	if (!have_bytes(b, RECORD_HEADER_SIZE + (size_t)caplen))
		return RECORD_BAD;
	size_t data_left = b->filled - b->next - RECORD_HEADER_SIZE;
	if (caplen > data_left) {
		/* libpcap reads a record longer than the snapshot length in two steps: the first
		 * snapshot bytes, then the rest. */
		uint32_t wanted =
		    caplen > b->snapshot && data_left < b->snapshot ? b->snapshot : caplen;
		snprintf(b->error, sizeof(b->error),
			 "truncated dump file; tried to read %u captured bytes, only got %zu",
			 wanted, data_left);
		return RECORD_BAD;
	}
	const uint8_t *header = b->buffer + b->next;
	uint32_t seconds = read_u32(b, header);
	uint32_t fraction = read_u32(b, header + 4);
	frame->data = header + RECORD_HEADER_SIZE;
	/* libpcap cuts a record longer than the file's snapshot length down to it. */
	frame->caplen = caplen < b->snapshot ? caplen : b->snapshot;
	frame->wirelen = read_u32(b, header + 12);
	/* As libpcap 1.10 reads them: seconds unsigned (see file_time_ns in pcap_file.c); the
	 * fraction signed in a file in this host's byte order, unsigned in a byte-swapped one. Only
	 * a damaged file has a fraction of 2^31 or more. */
	int64_t fraction_units =
	    b->fraction_signed ? (int64_t)(int32_t)fraction : (int64_t)fraction;
	frame->ts_ns = capture_time_ns(seconds, fraction_units * b->fraction_ns);
	b->next += RECORD_HEADER_SIZE + (size_t)caplen;
	return RECORD_READ;
}

/* Frames point into the buffer: it is refilled only before the first frame of a burst, so a
 * burst ends early when the next record is not all in it. */
static int blocks_next_burst(void *state, struct frame *frames, unsigned max)
{
	struct pcap_blocks *b = state;
	enum record_result result = RECORD_READ;
	unsigned n = 0;
	while (n < max && (result = next_record(b, &frames[n], n == 0)) == RECORD_READ)
		frames[n++].link_type = b->link_type;
	if (result == RECORD_LATER || (result == RECORD_BAD && n > 0))
		return (int)n; /* the rest, or the error, on the next call */
	if (result == RECORD_BAD)
		return CAPTURE_ERROR;
	if (result == RECORD_END && n == 0)
		return CAPTURE_END;
	return (int)n;
}

static void blocks_progress(void *state, struct capture_progress *out)
{
	const struct pcap_blocks *b = state;
	out->done_bytes = b->buffer_at + b->next;
}

static const char *blocks_error(void *state)
{
	return ((struct pcap_blocks *)state)->error;
}

static void blocks_close(void *state)
{
	struct pcap_blocks *b = state;
	pcap_close(b->handle);
	free(b);
}

static const struct capture_ops pcap_blocks_ops = {
    .next_burst = blocks_next_burst,
    .error = blocks_error,
    .close = blocks_close,
    .progress = blocks_progress,
};

/* Link types whose records libpcap 1.10 changes on the way (pseudo-headers in the byte order of
 * the capturing host, USB lengths) or bounds by a maximum other than LIBPCAP_MAX_SNAPLEN. */
static bool link_type_needs_libpcap(int link_type, bool swapped)
{
	switch (link_type) {
	case DLT_USB_LINUX_MMAPPED:
	case DLT_DBUS:
	case DLT_EBHSCR:
	case DLT_USBPCAP:
		return true;
	case DLT_PFLOG:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_USB_LINUX:
	case DLT_NFLOG:
		return swapped;
	default:
		return false;
	}
}

/* The byte order and timestamp unit of a classic pcap file; false for anything else (the
 * modified formats libpcap also reads). */
static bool read_magic(const uint8_t *p, bool *big_endian, uint32_t *fraction_ns)
{
	uint32_t big = bytes_be32(p), little = bytes_le32(p);
	if (big == MAGIC_MICROSECONDS || little == MAGIC_MICROSECONDS)
		*fraction_ns = 1000;
	else if (big == MAGIC_NANOSECONDS || little == MAGIC_NANOSECONDS)
		*fraction_ns = 1;
	else
		return false;
	*big_endian = big == MAGIC_MICROSECONDS || big == MAGIC_NANOSECONDS;
	return true;
}

bool pcap_blocks_open(struct capture *capture, pcap_t *handle)
{
	/* libpcap has judged the header. Take version 2.4 only (older files may have caplen and
	 * len the other way round), and only records libpcap would hand out unchanged. */
	int snapshot = pcap_snapshot(handle);
	int link_type = pcap_datalink(handle);
	bool swapped = pcap_is_swapped(handle);
	if (pcap_major_version(handle) != 2 || pcap_minor_version(handle) != 4 || snapshot <= 0 ||
	    (unsigned)snapshot > LIBPCAP_MAX_SNAPLEN || link_type_needs_libpcap(link_type, swapped))
		return false;

	/* libpcap has read the file header; the records start where its stream stands. */
	FILE *file = pcap_file(handle);
	if (!file)
		return false;
	int fd = fileno(file);
	off_t records_start = ftello(file);
	struct stat st;
	uint8_t file_header[FILE_HEADER_SIZE];
	bool big_endian;
	uint32_t fraction_ns;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || records_start < FILE_HEADER_SIZE ||
	    st.st_size < records_start ||
	    pread(fd, file_header, sizeof(file_header), records_start - FILE_HEADER_SIZE) !=
		FILE_HEADER_SIZE ||
	    !read_magic(file_header, &big_endian, &fraction_ns))
		return false;

	struct pcap_blocks *b = malloc(sizeof(*b));
	if (!b)
		return false;
	/* libpcap's stream has read ahead of the records' start on the descriptor. Seek last:
	 * until then libpcap can still read the file on its own. */
	if (lseek(fd, records_start, SEEK_SET) != records_start) {
		free(b);
		return false;
	}
	b->handle = handle;
	b->fd = fd;
	b->next = 0;
	b->filled = 0;
	b->buffer_at = (uint64_t)records_start;
	b->big_endian = big_endian;
	b->fraction_signed = !swapped;
	b->fraction_ns = fraction_ns;
	b->snapshot = (uint32_t)snapshot;
	b->link_type = link_type;
	b->error[0] = '\0';
	capture->ops = &pcap_blocks_ops;
	capture->state = b;
	return true;
}
