/* "dnsprobe replay": read capture files and publish one record per DNS message. */
#include "replay_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "cli.h"
#include "counters.h"
#include "option_codes.h"
#include "pcap_file.h"
#include "privileges.h"
#include "reassembly_options.h"
#include "record_options.h"
#include "signals.h"
#include "sink.h"
#include "sink_options.h"
#include "stats_report.h"
#include "tunnel_options.h"
#include "worker.h"

#define PACE_MIN_SLEEP_NS  1000000LL   /* sleep only when a record is due later than this */
#define PACE_MAX_SLEEP_NS  100000000LL /* while sleeping, wake this often for stats and signals */
#define PACE_MAX_OFFSET_NS 3.15e16     /* a record is never due more than a year after the first */
#define SPEED_MIN	   1e-6
#define SPEED_MAX	   1e9
#define PROGRESS_REDRAW_NS 100000000LL
#define PROGRESS_BAR_WIDTH 30

static const char replay_usage_head[] =
    "Usage: dnsprobe replay FILE... [options]\n"
    "\n"
    "Reads pcap or pcapng capture files and publishes one record per DNS message\n"
    "(the fields are described in docs/records.md).\n"
    "\n"
    "Options:\n"
    "  -p, --dns-port PORT      also treat UDP/TCP PORT as DNS (repeatable; 53 always is)\n"
    "      --speed X            replay in recorded time: each record is published when its\n"
    "                           capture time (counted from the first record of its file),\n"
    "                           divided by X, has passed: 1 is real time, 2 twice as fast\n"
    "                           (default: as fast as possible)\n"
    "      --loop N             replay all files N times, giving N times the records\n"
    "                           (0: until interrupted; default 1)\n"
    "      --user NAME          once the first file is open, drop root and run as user NAME\n"
    "                           (the other files, and every file of later --loop passes,\n"
    "                           are opened as NAME; checked before the first is read)\n"
    "      --summary-json PATH  write the packet accounting as JSON to PATH at exit\n"
    "  -h, --help               show this help\n"
    "\n";

static const char replay_usage_tail[] =
    "\n"
    "Link types: Ethernet (with 802.1Q/802.1ad tags, PPPoE), Linux cooked SLL and SLL2,\n"
    "raw IP, BSD loopback (NULL, LOOP) and PPP. Every packet is counted in one bucket;\n"
    "the summary on standard error shows them. Exit status: 0 when the files were read,\n"
    "1 when records could not be written (a full disk, or a reader of standard output\n"
    "that went away), 2 for a bad command line, an unreadable file or an output path that\n"
    "cannot be written. SIGINT, SIGTERM and SIGHUP stop the replay with a summary.\n"
    "A progress bar is shown on standard error when it is a terminal (and the records do\n"
    "not go to that terminal).\n";

struct replay_options {
	struct sink_options sink;
	struct stats_report_options stats;
	const char *summary_json;
	const char *user;
	double speed;	/* 0: as fast as possible */
	uint64_t loops; /* 0: until interrupted */
	char **files;
	int file_count;
	struct worker_config worker;
};

static bool parse_speed(const char *text, double *out)
{
	char *end;
	errno = 0;
	double speed = strtod(text, &end);
	if (errno || end == text || *end != '\0' || !(speed >= SPEED_MIN && speed <= SPEED_MAX))
		return false;
	*out = speed;
	return true;
}

static int parse_options(int argc, char **argv, struct replay_options *o)
{
	static const struct option longopts[] = {
	    SINK_LONG_OPTIONS,
	    STATS_LONG_OPTIONS,
	    REASSEMBLY_LONG_OPTIONS,
	    RECORD_LONG_OPTIONS,
	    TUNNEL_LONG_OPTIONS,
	    {"dns-port", required_argument, NULL, 'p'},
	    {"speed", required_argument, NULL, OPT_SPEED},
	    {"loop", required_argument, NULL, OPT_LOOP},
	    {"user", required_argument, NULL, OPT_USER},
	    {"summary-json", required_argument, NULL, OPT_SUMMARY_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	sink_options_init(&o->sink, ON_FULL_BLOCK);
	port_set_add(&o->worker.dns_ports, 53);
	o->loops = 1;
	o->stats.source = "replay";

	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, ":p:h" SINK_SHORT_OPTIONS, longopts, NULL)) != -1) {
		int handled = sink_options_handle(&o->sink, c, optarg);
		if (handled == 1)
			continue;
		if (handled != 0)
			return handled;
		handled = stats_options_handle(&o->stats, c, optarg);
		if (handled == 1)
			continue;
		if (handled != 0)
			return handled;
		handled = reassembly_options_handle(&o->worker, c, optarg);
		if (handled == 1)
			continue;
		if (handled != 0)
			return handled;
		handled = tunnel_options_handle(&o->worker, c, optarg);
		if (handled == 1)
			continue;
		if (handled != 0)
			return handled;
		handled = record_options_handle(&o->worker, c, optarg);
		if (handled == 1)
			continue;
		if (handled != 0)
			return handled;
		uint64_t port;
		switch (c) {
		case 'p':
			if (!cli_parse_uint(optarg, 1, 65535, &port))
				return cli_usage_error(
				    "--dns-port: '%s' is not a port number; give "
				    "1 to 65535, e.g. --dns-port 5353",
				    optarg);
			port_set_add(&o->worker.dns_ports, (uint16_t)port);
			break;
		case OPT_SPEED:
			if (!parse_speed(optarg, &o->speed))
				return cli_usage_error("--speed: '%s' is not a speed factor; give "
						       "0.000001 to 1000000000, e.g. --speed 1",
						       optarg);
			break;
		case OPT_LOOP:
			if (!cli_parse_uint(optarg, 0, UINT64_MAX, &o->loops))
				return cli_usage_error("--loop: '%s' is not a number of passes; "
						       "e.g. --loop 3 (0: until interrupted)",
						       optarg);
			break;
		case OPT_USER:
			o->user = optarg;
			break;
		case OPT_SUMMARY_JSON:
			o->summary_json = optarg;
			break;
		case 'h':
			fputs(replay_usage_head, stdout);
			fputs(sink_options_help, stdout);
			fputs(stats_report_help, stdout);
			fputs(reassembly_options_help, stdout);
			fputs(record_options_help, stdout);
			fputs(tunnel_options_help, stdout);
			fputs(replay_usage_tail, stdout);
			exit(0);
		default:
			return cli_bad_option("replay", argv[optind - 1]);
		}
	}
	int rc = sink_options_finish(&o->sink);
	if (rc != 0)
		return rc;
	const char *output = o->sink.brokers || o->sink.discard ? NULL : o->sink.output;
	if (cli_check_output_paths(output, o->summary_json, o->stats.file) != 0)
		return EXIT_USAGE;
	sink_options_apply(&o->sink, &o->worker);
	o->files = argv + optind;
	o->file_count = argc - optind;
	if (o->file_count == 0)
		return cli_usage_error("replay: no capture file given; usage: dnsprobe replay "
				       "FILE... (see dnsprobe replay --help)");
	for (int i = 0; i < o->file_count; i++) {
		if (strcmp(o->files[i], "-") != 0)
			continue;
		if (o->file_count > 1)
			return cli_usage_error(
			    "replay: '-' (standard input) must be the only file; "
			    "save it to a file to replay it with others");
		if (o->loops != 1)
			return cli_usage_error("--loop: standard input can be read only once; save "
					       "it to a file to replay it more than once");
	}
	return 0;
}

/* A capture file being replayed, and where libpcap reads it from, for the progress bar. */
struct replay_input {
	struct capture capture;
	int fd; /* libpcap's descriptor of the file; -1 when not known */
	uint64_t size;
};

/* Opens one file (standard input for "-"). libpcap opens it on the lowest free descriptor, so the
 * descriptor that was free just before is the file's, when its inode says so. */
static int open_input(const char *path, struct replay_input *in, char *err, size_t err_size)
{
	int free_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (free_fd >= 0)
		close(free_fd);
	if (pcap_file_open(&in->capture, path, err, err_size) != 0)
		return -1;
	struct stat file, opened;
	in->fd = -1;
	in->size = 0;
	if (stat(path, &file) == 0) {
		in->size = (uint64_t)file.st_size;
		if (free_fd >= 0 && fstat(free_fd, &opened) == 0 && opened.st_dev == file.st_dev &&
		    opened.st_ino == file.st_ino)
			in->fd = free_fd;
	}
	return 0;
}

/* Before any output exists, every file is opened and closed again, so a bad name leaves nothing
 * behind; only the first stays open (standard input cannot be opened twice). The others are
 * opened in turn as they are read: a thousand files never hold a thousand descriptors. With
 * --user, the files read later are checked again as that user (call after the drop). */
static int check_inputs(const struct replay_options *o, struct replay_input *inputs, bool as_user)
{
	char err[512];
	int first = as_user && o->loops == 1 ? 1 : 0; /* the first file's first pass is open */
	for (int i = first; i < o->file_count; i++) {
		struct replay_input probe;
		struct replay_input *in = i == 0 && !as_user ? &inputs[0] : &probe;
		if (open_input(o->files[i], in, err, sizeof(err)) != 0) {
			if (i > 0 && !as_user)
				inputs[0].capture.ops->close(inputs[0].capture.state);
			if (as_user)
				return cli_usage_error(
				    "%s (as --user %s, who reads the files after "
				    "the first)",
				    err, o->user);
			return cli_usage_error("%s", err);
		}
		inputs[i].size = in->size;
		if (in == &probe)
			probe.capture.ops->close(probe.capture.state);
	}
	return 0;
}

struct pacer;

/* One replay while it runs: what the pacer, the progress bar and the stats look at. */
struct replay_run {
	const struct replay_options *o;
	struct replay_input *inputs;
	struct sink *sink;
	struct worker *w;
	struct pacer *pacer; /* NULL: as fast as possible */
	struct stats_report *stats;
	bool progress_on;
	bool progress_drawn;
	int64_t progress_next_ns;
	uint64_t total_bytes; /* of all files, one pass */
	uint64_t done_bytes;  /* of the files finished in this pass */
	uint64_t pass;
	int file;
};

static void progress_clear(struct replay_run *run)
{
	if (run->progress_drawn) {
		fputs("\r\033[K", stderr);
		run->progress_drawn = false;
	}
}

/* "[#####-----]  45%  file 2/3  pass 1/3  12345 records", redrawn in place. */
static void progress_draw(struct replay_run *run, int64_t now_ns)
{
	if (!run->progress_on || now_ns < run->progress_next_ns)
		return;
	run->progress_next_ns = now_ns + PROGRESS_REDRAW_NS;
	const struct replay_input *in = &run->inputs[run->file];
	uint64_t position = 0;
	off_t offset = in->fd >= 0 ? lseek(in->fd, 0, SEEK_CUR) : -1;
	if (offset > 0)
		position = (uint64_t)offset < in->size ? (uint64_t)offset : in->size;
	double pass_done = 0;
	if (run->total_bytes)
		pass_done = (double)(run->done_bytes + position) / (double)run->total_bytes;
	double done = pass_done;
	if (run->o->loops)
		done = ((double)run->pass + pass_done) / (double)run->o->loops;
	int filled = (int)(done * PROGRESS_BAR_WIDTH);
	filled = filled < 0 ? 0 : filled > PROGRESS_BAR_WIDTH ? PROGRESS_BAR_WIDTH : filled;
	char bar[PROGRESS_BAR_WIDTH + 1];
	memset(bar, '#', (size_t)filled);
	memset(bar + filled, '-', (size_t)(PROGRESS_BAR_WIDTH - filled));
	bar[PROGRESS_BAR_WIDTH] = '\0';
	char passes[64] = "";
	if (run->o->loops == 0)
		snprintf(passes, sizeof(passes), "  pass %" PRIu64, run->pass + 1);
	else if (run->o->loops > 1)
		snprintf(passes, sizeof(passes), "  pass %" PRIu64 "/%" PRIu64, run->pass + 1,
			 run->o->loops);
	fprintf(stderr, "\r[%s] %3d%%  file %d/%d%s  %" PRIu64 " records\033[K", bar,
		(int)(done * 100), run->file + 1, run->o->file_count, passes,
		worker_counters(run->w)->records);
	run->progress_drawn = true;
}

/* On when stderr is a terminal, unless the records themselves go to that terminal. */
static void progress_start(struct replay_run *run)
{
	const struct sink_options *sink = &run->o->sink;
	bool records_on_terminal =
	    !sink->brokers && strcmp(sink->output, "-") == 0 && isatty(STDOUT_FILENO);
	run->progress_on = isatty(STDERR_FILENO) && !records_on_terminal;
	for (int i = 0; i < run->o->file_count; i++)
		run->total_bytes += run->inputs[i].size;
}

/* Replay has no kernel or NIC, so no drops. */
static void gather_totals(const struct replay_run *run, struct runner_totals *t)
{
	memset(t, 0, sizeof(*t));
	t->counters = *worker_counters(run->w);
	run->sink->ops->counters(run->sink->state, &t->sink);
}

/* After every burst, and while the pacer waits: the stats line and file, then the progress bar. */
static void replay_tick(struct replay_run *run)
{
	if (!run->stats && !run->progress_on)
		return;
	int64_t now = stats_report_now_ns();
	if (stats_report_due(run->stats, now)) {
		struct runner_totals totals;
		gather_totals(run, &totals);
		progress_clear(run);
		stats_report_tick(run->stats, now, &totals);
	}
	progress_draw(run, now);
}

/* The worker's wait hook: while it waits for a full sink, the stats and the bar go on. */
static void replay_wait_tick(void *run)
{
	replay_tick(run);
}

/* Replay in recorded time: a sink in front of the real one that holds each record until its
 * capture time, counted from the first record of its file and divided by the speed, has come.
 * It flushes the real sink before waiting, so what was due is out when it was due. */
struct pacer {
	struct sink inner;
	double speed;
	bool started;
	int64_t first_capture_ns;
	int64_t first_emit_ns;
	struct replay_run *run;
};

static void pacer_restart(struct pacer *p)
{
	if (p)
		p->started = false;
}

static void pacer_wait_until(struct pacer *p, int64_t due_ns)
{
	p->inner.ops->flush(p->inner.state, 0);
	while (!signals_stop_requested()) {
		int64_t now = stats_report_now_ns();
		if (now >= due_ns)
			return;
		int64_t wake = due_ns - now > PACE_MAX_SLEEP_NS ? now + PACE_MAX_SLEEP_NS : due_ns;
		struct timespec until = {.tv_sec = wake / 1000000000LL,
					 .tv_nsec = wake % 1000000000LL};
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
		replay_tick(p->run);
	}
}

static enum sink_status paced_emit(void *state, const struct sink_record *record)
{
	struct pacer *p = state;
	int64_t now = stats_report_now_ns();
	if (!p->started) {
		p->started = true;
		p->first_capture_ns = record->timestamp_ns;
		p->first_emit_ns = now;
	}
	/* in floating point, saturated: capture times may be far apart (or damaged), and a slow
	 * speed stretches them further; a year ahead is as good as never */
	double offset_ns = ((double)record->timestamp_ns - (double)p->first_capture_ns) / p->speed;
	if (offset_ns > PACE_MAX_OFFSET_NS)
		offset_ns = PACE_MAX_OFFSET_NS;
	int64_t due = p->first_emit_ns + (int64_t)offset_ns;
	if (due - now > PACE_MIN_SLEEP_NS)
		pacer_wait_until(p, due);
	return p->inner.ops->emit(p->inner.state, record);
}

static void paced_poll(void *state, int timeout_ms)
{
	struct pacer *p = state;
	p->inner.ops->poll(p->inner.state, timeout_ms);
}

static int paced_flush(void *state, int timeout_ms)
{
	struct pacer *p = state;
	return p->inner.ops->flush(p->inner.state, timeout_ms);
}

static void paced_counters(void *state, struct sink_counters *out)
{
	struct pacer *p = state;
	p->inner.ops->counters(p->inner.state, out);
}

static int paced_close(void *state, bool complete, char *err, size_t err_size)
{
	struct pacer *p = state;
	return p->inner.ops->close(p->inner.state, complete, err, err_size);
}

static const struct sink_ops pacer_ops = {
    .emit = paced_emit,
    .poll = paced_poll,
    .flush = paced_flush,
    .counters = paced_counters,
    .close = paced_close,
};

/* Reads one capture to its end, or until a stop is requested. */
static void replay_capture(struct replay_run *run, struct capture *capture, const char *path)
{
	while (!signals_stop_requested()) {
		int n = capture->ops->receive(capture->state, run->w, CAPTURE_BURST);
		worker_end_burst(run->w);
		replay_tick(run);
		if (n == CAPTURE_END)
			return;
		if (n == CAPTURE_ERROR) {
			progress_clear(run);
			fprintf(stderr,
				"dnsprobe: warning: %s: %s; the packets before that point were "
				"replayed\n",
				path, capture->ops->error(capture->state));
			return;
		}
	}
}

/* Reads every file, o->loops times, opening each in turn (the first of the first pass was opened
 * at start). Returns 0, or 1 when a file could not be opened again. */
static int replay_passes(struct replay_run *run)
{
	const struct replay_options *o = run->o;
	char err[512];
	for (run->pass = 0; o->loops == 0 || run->pass < o->loops; run->pass++) {
		run->done_bytes = 0;
		if (run->pass > 0)
			worker_restart_clock(run->w);
		for (run->file = 0; run->file < o->file_count; run->file++) {
			struct replay_input *in = &run->inputs[run->file];
			const char *path = o->files[run->file];
			bool opened_at_start = run->pass == 0 && run->file == 0;
			if (!opened_at_start && signals_stop_requested())
				return 0;
			if (!opened_at_start && open_input(path, in, err, sizeof(err)) != 0) {
				const char *why = "";
				if (o->user)
					why = " (opened as the --user user)";
				progress_clear(run);
				fprintf(stderr, "dnsprobe: pass %" PRIu64 ": %s%s\n", run->pass + 1,
					err, why);
				return 1;
			}
			if (!signals_stop_requested()) {
				pacer_restart(run->pacer);
				replay_capture(run, &in->capture, path);
			}
			in->capture.ops->close(in->capture.state);
			run->done_bytes += in->size;
		}
		if (signals_stop_requested())
			break;
	}
	return 0;
}

static int write_summary_json(const char *path, const struct counters *c,
			      const struct sink_counters *s)
{
	FILE *out = fopen(path, "w");
	if (!out) {
		fprintf(stderr, "dnsprobe: cannot write the summary to %s; check the path\n", path);
		return -1;
	}
	int rc = counters_write_json(out, c, s);
	if (fclose(out) != 0)
		rc = -1;
	if (rc != 0)
		fprintf(stderr, "dnsprobe: cannot write the summary to %s\n", path);
	return rc;
}

/* The files are open; from here on root is not needed, so --user takes effect before any output
 * is created. */
static int run(struct replay_options *o, struct replay_input *inputs)
{
	char err[512];
	struct sink sink;
	if (o->user && privileges_drop(o->user, err, sizeof(err)) != 0) {
		inputs[0].capture.ops->close(inputs[0].capture.state);
		return cli_usage_error("%s", err);
	}
	int checked = o->user ? check_inputs(o, inputs, true) : 0;
	if (checked != 0) {
		inputs[0].capture.ops->close(inputs[0].capture.state);
		return checked;
	}
	/* The summary is written at exit, as the --user user: its folder is checked now. */
	if ((o->user && o->summary_json &&
	     cli_output_path_error("--summary-json", o->summary_json, err, sizeof(err)) != 0) ||
	    sink_options_open(&o->sink, &sink, err, sizeof(err)) != 0) {
		inputs[0].capture.ops->close(inputs[0].capture.state);
		return cli_usage_error("%s", err);
	}
	struct replay_run run = {.o = o, .inputs = inputs, .sink = &sink};
	struct pacer pacer = {.inner = sink, .speed = o->speed, .run = &run};
	struct sink paced = {.ops = &pacer_ops, .state = &pacer};
	if (o->speed > 0)
		run.pacer = &pacer;
	struct worker *w = worker_new(&o->worker, run.pacer ? &paced : &sink);
	if (!w) {
		inputs[0].capture.ops->close(inputs[0].capture.state);
		sink.ops->close(sink.state, false, err, sizeof(err));
		return cli_usage_error("out of memory");
	}
	run.w = w;
	worker_set_wait_hook(w, replay_wait_tick, &run);
	if (stats_report_open(&run.stats, &o->stats, err, sizeof(err)) != 0) {
		inputs[0].capture.ops->close(inputs[0].capture.state);
		worker_free(w);
		sink.ops->close(sink.state, false, err, sizeof(err));
		return cli_usage_error("%s", err);
	}
	progress_start(&run);
	signals_install();
	signals_watch_worker(w);
	int status = replay_passes(&run);
	progress_clear(&run);
	worker_finish(w);

	/* The summary comes from the counters of the finished sink: a file counts its records
	 * delivered once written, synced and in place. */
	sink.ops->flush(sink.state, worker_flush_budget_ms(w));
	if (sink_finish(&sink, err, sizeof(err)) != 0) {
		fprintf(stderr, "dnsprobe: %s\n", err);
		status = 1;
	}
	struct runner_totals totals;
	gather_totals(&run, &totals);
	counters_print_summary(stderr, &totals.counters, &totals.sink);
	if (o->summary_json &&
	    write_summary_json(o->summary_json, &totals.counters, &totals.sink) != 0)
		status = 1;
	if (stats_report_close(run.stats, &totals, err, sizeof(err)) != 0) {
		fprintf(stderr, "dnsprobe: %s\n", err);
		status = 1;
	}
	if (sink.ops->close(sink.state, true, err, sizeof(err)) != 0) {
		fprintf(stderr, "dnsprobe: %s\n", err);
		status = 1;
	}
	worker_free(w);
	return status;
}

int replay_main(int argc, char **argv)
{
	struct replay_options *o = malloc(sizeof(*o));
	if (!o)
		return cli_usage_error("out of memory");
	int rc = parse_options(argc, argv, o);
	if (rc == 0) {
		struct replay_input *inputs = calloc((size_t)o->file_count, sizeof(*inputs));
		if (!inputs)
			rc = cli_usage_error("out of memory");
		else if ((rc = check_inputs(o, inputs, false)) == 0)
			rc = run(o, inputs);
		free(inputs);
	}
	free(o);
	return rc;
}
