/* The file sink: one record per line, or a Frame Streams file (libfstrm's writer over this
 * sink's buffer), to stdout or to a file that appears only when complete. Records collect in a
 * buffer that goes out with write(2); they count delivered only once written, and failed when
 * the write, the sync or the rename fails. */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <fstrm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache_line.h"
#include "signals.h"

#define FILE_BUFFER_SIZE (1 << 20)
#define TMP_SUFFIX	 ".tmp.XXXXXX"

struct file_sink {
	int fd;
	char *path;	/* final name, NULL for stdout */
	char *tmp_path; /* where a regular file is written until complete */
	int tracked;	/* the temporary file's slot in signals.c; -1: none */
	char *buffer;
	size_t used;
	uint64_t buffered;  /* records in buffer */
	uint64_t delivered; /* records written */
	uint64_t failed;    /* records accepted whose write failed */
	int write_errno;    /* the first error; 0 while there is none */
	bool finished;
	struct fstrm_writer *frames; /* Frame Streams output; NULL: one record per line */
};

static void note_failure(struct file_sink *s, int err)
{
	if (s->write_errno)
		return;
	s->write_errno = err;
	if (err == EPIPE) /* nobody reads the output any more: reading on would only lose */
		signals_request_stop();
}

/* Writes len bytes; returns how many went out before an error (then errno says which). */
static size_t write_all(int fd, const char *data, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return done;
		}
		done += (size_t)n;
	}
	return done;
}

static uint64_t count_lines(const char *data, size_t len)
{
	uint64_t lines = 0;
	const char *end = data + len;
	for (const char *at = data; (at = memchr(at, '\n', (size_t)(end - at))) != NULL; at++)
		lines++;
	return lines;
}

/* The buffered records are delivered when all went out; those cut short by an error failed
 * (for Frame Streams, every buffered one: a cut stream is not read past the cut). */
static void write_buffer(struct file_sink *s)
{
	if (s->used == 0)
		return;
	size_t done = write_all(s->fd, s->buffer, s->used);
	if (done == s->used) {
		s->delivered += s->buffered;
	} else {
		int err = errno;
		uint64_t whole = s->frames ? 0 : count_lines(s->buffer, done);
		s->delivered += whole;
		s->failed += s->buffered - whole;
		note_failure(s, err);
	}
	s->used = 0;
	s->buffered = 0;
}

/* Where libfstrm's writer puts its bytes (frames and control frames): the buffer, or straight
 * out what is larger than it. */
static fstrm_res frames_write(void *state, const struct iovec *iov, int iovcnt)
{
	struct file_sink *s = state;
	if (s->fd < 0) /* abandoned: the STOP frame of destroying the writer goes nowhere */
		return fstrm_res_failure;
	for (int i = 0; i < iovcnt && !s->write_errno; i++) {
		if (s->used + iov[i].iov_len > FILE_BUFFER_SIZE)
			write_buffer(s);
		if (iov[i].iov_len > FILE_BUFFER_SIZE) {
			if (write_all(s->fd, iov[i].iov_base, iov[i].iov_len) != iov[i].iov_len)
				note_failure(s, errno);
		} else if (!s->write_errno) {
			memcpy(s->buffer + s->used, iov[i].iov_base, iov[i].iov_len);
			s->used += iov[i].iov_len;
		}
	}
	return s->write_errno ? fstrm_res_failure : fstrm_res_success;
}

static fstrm_res frames_nothing_to_do(void *state)
{
	(void)state;
	return fstrm_res_success;
}

static enum sink_status frame_emit(struct file_sink *s, const struct sink_record *record)
{
	bool large = record->value_len + sizeof(uint32_t) > FILE_BUFFER_SIZE;
	if (fstrm_writer_write(s->frames, record->value, record->value_len) != fstrm_res_success) {
		s->failed++;
		return SINK_OK;
	}
	if (large) /* already written through */
		s->delivered++;
	else
		s->buffered++;
	return SINK_OK;
}

static enum sink_status file_emit(void *state, const struct sink_record *record)
{
	struct file_sink *s = state;
	if (s->write_errno || s->finished)
		return SINK_FAILED;
	size_t need = record->value_len + (s->frames ? sizeof(uint32_t) : 1);
	if (s->used + need > FILE_BUFFER_SIZE) {
		write_buffer(s);
		if (s->write_errno)
			return SINK_FAILED;
	}
	if (s->frames)
		return frame_emit(s, record);
	if (need > FILE_BUFFER_SIZE) { /* larger than the buffer: written at once */
		if (write_all(s->fd, record->value, record->value_len) == record->value_len &&
		    write_all(s->fd, "\n", 1) == 1) {
			s->delivered++;
		} else {
			s->failed++;
			note_failure(s, errno);
		}
		return SINK_OK;
	}
	memcpy(s->buffer + s->used, record->value, record->value_len);
	s->buffer[s->used + record->value_len] = '\n';
	s->used += need;
	s->buffered++;
	return SINK_OK;
}

static int file_flush(void *state, int timeout_ms)
{
	struct file_sink *s = state;
	(void)timeout_ms;
	write_buffer(s);
	return s->write_errno ? -1 : 0;
}

static void file_counters(void *state, struct sink_counters *out)
{
	struct file_sink *s = state;
	out->delivered = s->delivered;
	out->failed = s->failed;
	out->in_flight = s->buffered;
}

/* Writes what is left; a regular file is synced (fsync) and a temporary one renamed into place.
 * A temporary file that cannot be finished is removed, and a file whose sync failed may not
 * hold its records: then every record counts failed. */
static int file_finish(void *state, char *err, size_t err_size)
{
	struct file_sink *s = state;
	if (s->finished)
		return 0;
	s->finished = true;
	if (s->frames && fstrm_writer_close(s->frames) != fstrm_res_success && !s->write_errno)
		note_failure(s, EIO);
	write_buffer(s);
	struct stat st;
	bool regular = fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode);
	bool synced = true;
	if (regular && !(s->tmp_path && s->write_errno) && fsync(s->fd) != 0) {
		note_failure(s, errno);
		synced = false;
	}
	if (s->fd != STDOUT_FILENO && close(s->fd) != 0)
		note_failure(s, errno);
	s->fd = -1;
	if (s->tmp_path) {
		if (!s->write_errno && rename(s->tmp_path, s->path) != 0)
			note_failure(s, errno);
		if (s->write_errno)
			unlink(s->tmp_path);
		signals_forget_file(s->tracked);
	}
	if (!s->write_errno)
		return 0;
	if (s->tmp_path || !synced) {
		s->failed += s->delivered;
		s->delivered = 0;
	}
	const char *name = s->path ? s->path : "standard output";
	if (s->write_errno == EPIPE)
		snprintf(err, err_size,
			 "%s was closed by its reader (broken pipe); stopped reading, and the "
			 "records not written count as failed",
			 name);
	else
		snprintf(err, err_size, "cannot write %s: %s; check the disk and the path", name,
			 strerror(s->write_errno));
	return -1;
}

static void file_free(struct file_sink *s)
{
	if (s->frames)
		fstrm_writer_destroy(&s->frames);
	free(s->path);
	free(s->tmp_path);
	free(s->buffer);
	free(s);
}

static int file_close(void *state, bool complete, char *err, size_t err_size)
{
	struct file_sink *s = state;
	int rc = 0;
	if (complete) {
		rc = file_finish(s, err, err_size);
	} else if (!s->finished) {
		if (s->fd != STDOUT_FILENO)
			close(s->fd);
		s->fd = -1;
		if (s->tmp_path) {
			unlink(s->tmp_path);
			signals_forget_file(s->tracked);
		}
	}
	file_free(s);
	return rc;
}

static const struct sink_ops file_sink_ops = {
    .emit = file_emit,
    .flush = file_flush,
    .counters = file_counters,
    .finish = file_finish,
    .close = file_close,
};

static int open_temporary(struct file_sink *s, const char *path, char *err, size_t err_size)
{
	size_t len = strlen(path);
	s->path = strdup(path);
	s->tmp_path = malloc(len + sizeof(TMP_SUFFIX));
	if (!s->path || !s->tmp_path) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	memcpy(s->tmp_path, path, len);
	memcpy(s->tmp_path + len, TMP_SUFFIX, sizeof(TMP_SUFFIX));
	s->fd = mkostemp(s->tmp_path, O_CLOEXEC);
	if (s->fd < 0) {
		snprintf(err, err_size,
			 "cannot create %s: %s; check that its folder exists and is writable", path,
			 strerror(errno));
		return -1;
	}
	s->tracked = signals_track_file(s->tmp_path);
	mode_t mask = umask(0);
	umask(mask);
	fchmod(s->fd, 0666 & ~mask); /* as open would have created it */
	return 0;
}

/* Devices and pipes (/dev/null, a FIFO) are written in place: renaming onto them would replace
 * them with a regular file. */
static bool is_special_file(const struct stat *st)
{
	return !S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode);
}

static int open_in_place(struct file_sink *s, const char *path, char *err, size_t err_size)
{
	s->path = strdup(path);
	s->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (!s->path || s->fd < 0) {
		snprintf(err, err_size, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int open_output(struct file_sink *s, const char *path, char *err, size_t err_size)
{
	struct stat st;
	if (strcmp(path, "-") == 0) {
		s->fd = STDOUT_FILENO;
		return 0;
	}
	if (path[0] == '\0') {
		snprintf(err, err_size,
			 "the output path is empty; give a file name, or - for "
			 "standard output");
		return -1;
	}
	if (stat(path, &st) != 0)
		return open_temporary(s, path, err, err_size);
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, err_size, "%s is a folder; give the name of a file in it", path);
		return -1;
	}
	if (is_special_file(&st))
		return open_in_place(s, path, err, err_size);
	return open_temporary(s, path, err, err_size);
}

/* A unidirectional Frame Streams writer (no read method: no handshake) over the buffer; the
 * START control frame goes into the buffer at once. */
static int open_frames(struct file_sink *s, const char *content_type, char *err, size_t err_size)
{
	struct fstrm_writer_options *options = fstrm_writer_options_init();
	struct fstrm_rdwr *rdwr = fstrm_rdwr_init(s);
	if (options && rdwr) {
		fstrm_writer_options_add_content_type(options, content_type, strlen(content_type));
		fstrm_rdwr_set_open(rdwr, frames_nothing_to_do);
		fstrm_rdwr_set_close(rdwr, frames_nothing_to_do);
		fstrm_rdwr_set_write(rdwr, frames_write);
		s->frames = fstrm_writer_init(options, &rdwr);
	}
	if (rdwr)
		fstrm_rdwr_destroy(&rdwr);
	if (options)
		fstrm_writer_options_destroy(&options);
	if (!s->frames || fstrm_writer_open(s->frames) != fstrm_res_success) {
		snprintf(err, err_size, "cannot start the Frame Streams output: out of memory");
		return -1;
	}
	return 0;
}

int sink_file_open(struct sink *sink, const char *path, const char *frame_stream_type, char *err,
		   size_t err_size)
{
	struct file_sink *s = cache_line_calloc(sizeof(*s));
	if (!s) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	s->fd = -1;
	s->tracked = -1;
	s->buffer = cache_line_calloc(FILE_BUFFER_SIZE);
	if (!s->buffer) {
		snprintf(err, err_size, "out of memory");
		file_free(s);
		return -1;
	}
	if (open_output(s, path, err, err_size) != 0 ||
	    (frame_stream_type && open_frames(s, frame_stream_type, err, err_size) != 0)) {
		if (s->fd >= 0)
			close(s->fd);
		file_free(s);
		return -1;
	}
	sink->ops = &file_sink_ops;
	sink->state = s;
	return 0;
}
