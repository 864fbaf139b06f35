/* The replay of every file, every pass. The runner's lane thread calls next_burst; the progress
 * it reads from the main thread is kept in atomics. */
#include "pcap_replay.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pcap_file.h"

struct pcap_replay {
	struct pcap_replay_options options;
	struct capture current; /* ops NULL between files */
	unsigned next_file;	/* the one to open after current */
	uint64_t pass;		/* counted from 0 */
	uint64_t total_bytes;
	uint64_t finished_bytes; /* of the files done in this pass */
	atomic_uint_fast64_t done_bytes;
	atomic_uint file_shown; /* counted from 1 */
	atomic_uint_fast64_t pass_shown;
	char error[1024];
};

static uint64_t file_size(const char *path)
{
	struct stat st;
	if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	return (uint64_t)st.st_size;
}

static void note_progress(struct pcap_replay *r)
{
	struct capture_progress p = {0};
	if (r->current.ops && r->current.ops->progress)
		r->current.ops->progress(r->current.state, &p);
	atomic_store(&r->done_bytes, r->finished_bytes + p.done_bytes);
}

static void close_current(struct pcap_replay *r)
{
	r->current.ops->close(r->current.state);
	r->current.ops = NULL;
	r->finished_bytes += file_size(r->options.files[r->next_file - 1]);
	atomic_store(&r->done_bytes, r->finished_bytes);
}

/* Opens the next file (of the next pass after the last); returns the status that says so, or
 * CAPTURE_END after the last pass, or CAPTURE_ERROR when the file cannot be opened. */
static int open_next(struct pcap_replay *r)
{
	int status = CAPTURE_NEW_FILE;
	if (r->next_file == r->options.file_count) {
		if (r->options.passes && r->pass + 1 >= r->options.passes)
			return CAPTURE_END;
		r->pass++;
		r->next_file = 0;
		r->finished_bytes = 0;
		status = CAPTURE_NEW_PASS;
	}
	const char *path = r->options.files[r->next_file];
	char err[768];
	if (pcap_file_open(&r->current, path, err, sizeof(err)) != 0) {
		snprintf(r->error, sizeof(r->error), "pass %" PRIu64 ": %s%s", r->pass + 1, err,
			 r->options.opened_as_user ? " (opened as the --user user)" : "");
		r->current.ops = NULL;
		return CAPTURE_ERROR;
	}
	r->next_file++;
	atomic_store(&r->file_shown, r->next_file);
	atomic_store(&r->pass_shown, r->pass + 1);
	atomic_store(&r->done_bytes, r->finished_bytes);
	return status;
}

static int replay_next_burst(void *state, struct frame *frames, unsigned max)
{
	struct pcap_replay *r = state;
	if (!r->current.ops)
		return open_next(r);
	int n = r->current.ops->next_burst(r->current.state, frames, max);
	if (n >= 0) {
		note_progress(r);
		return n;
	}
	if (n == CAPTURE_ERROR) {
		snprintf(r->error, sizeof(r->error),
			 "%s: %s; the packets before that point were replayed",
			 r->options.files[r->next_file - 1],
			 r->current.ops->error(r->current.state));
		close_current(r);
		return CAPTURE_WARNING;
	}
	close_current(r);
	return open_next(r);
}

static const char *replay_error(void *state)
{
	return ((struct pcap_replay *)state)->error;
}

static void replay_close(void *state)
{
	struct pcap_replay *r = state;
	if (r->current.ops)
		r->current.ops->close(r->current.state);
	free(r);
}

static void replay_progress(void *state, struct capture_progress *out)
{
	struct pcap_replay *r = state;
	*out = (struct capture_progress){
	    .done_bytes = atomic_load(&r->done_bytes),
	    .total_bytes = r->total_bytes,
	    .file = atomic_load(&r->file_shown),
	    .files = r->options.file_count,
	    .pass = atomic_load(&r->pass_shown),
	    .passes = r->options.passes,
	};
}

static const struct capture_ops pcap_replay_ops = {
    .next_burst = replay_next_burst,
    .error = replay_error,
    .close = replay_close,
    .progress = replay_progress,
};

int pcap_replay_open(struct capture *out, const struct pcap_replay_options *o, struct capture first,
		     char *err, size_t err_size)
{
	struct pcap_replay *r = calloc(1, sizeof(*r));
	if (!r) {
		first.ops->close(first.state);
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	r->options = *o;
	r->current = first;
	r->next_file = 1;
	for (unsigned i = 0; i < o->file_count; i++)
		r->total_bytes += file_size(o->files[i]);
	atomic_init(&r->done_bytes, 0);
	atomic_init(&r->file_shown, 1);
	atomic_init(&r->pass_shown, 1);
	*out = (struct capture){.ops = &pcap_replay_ops, .state = r};
	return 0;
}
