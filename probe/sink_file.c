/* The file sink: one record per line, to stdout or to a file that appears only when complete. */
#include "sink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache_line.h"

#define FILE_BUFFER_SIZE (1 << 20)

struct file_sink {
	FILE *out;
	char *path;	/* final name, NULL for stdout */
	char *tmp_path; /* where a regular file is written until complete */
	char *buffer;
	uint64_t written;
	bool write_failed;
	int write_errno;
};

static void note_failure(struct file_sink *s)
{
	if (!s->write_failed) {
		s->write_failed = true;
		s->write_errno = errno;
	}
}

static enum sink_status file_emit(void *state, const struct sink_record *record)
{
	struct file_sink *s = state;
	if (s->write_failed)
		return SINK_FAILED;
	if (fwrite(record->value, 1, record->value_len, s->out) != record->value_len ||
	    putc('\n', s->out) == EOF) {
		note_failure(s);
		return SINK_FAILED;
	}
	s->written++;
	return SINK_OK;
}

static void file_poll(void *state, int timeout_ms)
{
	(void)state;
	(void)timeout_ms;
}

static int file_flush(void *state, int timeout_ms)
{
	struct file_sink *s = state;
	(void)timeout_ms;
	if (fflush(s->out) != 0)
		note_failure(s);
	return s->write_failed ? -1 : 0;
}

static void file_counters(void *state, struct sink_counters *out)
{
	struct file_sink *s = state;
	out->delivered = s->written;
	out->failed = 0;
	out->in_flight = 0;
}

static void file_free(struct file_sink *s)
{
	free(s->path);
	free(s->tmp_path);
	free(s->buffer);
	free(s);
}

static int file_close(void *state, bool complete, char *err, size_t err_size)
{
	struct file_sink *s = state;
	int rc = 0;
	if (fflush(s->out) != 0)
		note_failure(s);
	if (s->out != stdout && fclose(s->out) != 0)
		note_failure(s);
	if (s->tmp_path) {
		if (complete && !s->write_failed && rename(s->tmp_path, s->path) != 0)
			note_failure(s);
		if (!complete || s->write_failed)
			unlink(s->tmp_path);
	}
	if (s->write_failed) {
		snprintf(err, err_size, "cannot write %s: %s; check the disk and the path",
			 s->path ? s->path : "standard output", strerror(s->write_errno));
		rc = -1;
	}
	file_free(s);
	return rc;
}

static const struct sink_ops file_sink_ops = {
    .emit = file_emit,
    .poll = file_poll,
    .flush = file_flush,
    .counters = file_counters,
    .close = file_close,
};

static int open_temporary(struct file_sink *s, const char *path, char *err, size_t err_size)
{
	size_t len = strlen(path);
	s->path = strdup(path);
	s->tmp_path = malloc(len + sizeof(".tmp.XXXXXX"));
	if (!s->path || !s->tmp_path) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	memcpy(s->tmp_path, path, len);
	memcpy(s->tmp_path + len, ".tmp.XXXXXX", sizeof(".tmp.XXXXXX"));
	int fd = mkstemp(s->tmp_path);
	if (fd < 0) {
		snprintf(err, err_size,
			 "cannot create %s: %s; check that its folder exists and is writable", path,
			 strerror(errno));
		return -1;
	}
	mode_t mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask); /* as fopen would have created it */
	s->out = fdopen(fd, "w");
	if (!s->out) {
		close(fd);
		unlink(s->tmp_path);
		snprintf(err, err_size, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Devices and pipes (/dev/null, a FIFO) are written in place: renaming onto them would replace
 * them with a regular file. */
static bool is_special_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

static int open_in_place(struct file_sink *s, const char *path, char *err, size_t err_size)
{
	s->path = strdup(path);
	s->out = fopen(path, "w");
	if (!s->path || !s->out) {
		snprintf(err, err_size, "cannot open %s: %s", path, strerror(errno));
		if (s->out)
			fclose(s->out);
		return -1;
	}
	return 0;
}

int sink_file_open(struct sink *sink, const char *path, char *err, size_t err_size)
{
	struct file_sink *s = cache_line_calloc(sizeof(*s));
	if (!s) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	int rc = 0;
	if (strcmp(path, "-") == 0)
		s->out = stdout;
	else if (is_special_file(path))
		rc = open_in_place(s, path, err, err_size);
	else
		rc = open_temporary(s, path, err, err_size);
	if (rc != 0) {
		file_free(s);
		return -1;
	}
	s->buffer = cache_line_calloc(FILE_BUFFER_SIZE);
	if (s->buffer)
		setvbuf(s->out, s->buffer, _IOFBF, FILE_BUFFER_SIZE);
	sink->ops = &file_sink_ops;
	sink->state = s;
	return 0;
}
