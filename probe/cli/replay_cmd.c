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
#include "option_codes.h"
#include "pcap_file.h"
#include "pcap_replay.h"
#include "privileges.h"
#include "reassembly_options.h"
#include "record_options.h"
#include "runner.h"
#include "signals.h"
#include "sink_options.h"
#include "stats_options.h"
#include "stats_report.h"
#include "tunnel_options.h"
#include "worker.h"

#define SPEED_MIN 1e-6
#define SPEED_MAX 1e9

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

/* Before any output exists, every file is opened and closed again, so a bad name leaves nothing
 * behind; only the first stays open (standard input cannot be opened twice). The others are
 * opened in turn as they are read (pcap_replay.c). With --user, the files read later are checked
 * again as that user (call after the drop). */
static int check_inputs(const struct replay_options *o, struct capture *first, bool as_user)
{
	char err[512];
	int start = as_user && o->loops == 1 ? 1 : 0; /* the first file's first pass is open */
	for (int i = start; i < o->file_count; i++) {
		struct capture probe;
		struct capture *in = i == 0 && !as_user ? first : &probe;
		if (pcap_file_open(in, o->files[i], err, sizeof(err)) != 0) {
			if (i > 0 && !as_user)
				first->ops->close(first->state);
			if (as_user)
				return cli_usage_error(
				    "%s (as --user %s, who reads the files after "
				    "the first)",
				    err, o->user);
			return cli_usage_error("%s", err);
		}
		if (in == &probe)
			probe.ops->close(probe.state);
	}
	return 0;
}

/* On when stderr is a terminal, unless the records themselves go to that terminal. */
static bool progress_bar_wanted(const struct sink_options *sink)
{
	bool records_on_terminal = !sink->brokers && !sink->discard &&
				   strcmp(sink->output, "-") == 0 && isatty(STDOUT_FILENO);
	return isatty(STDERR_FILENO) && !records_on_terminal;
}

/* The first file is open; from here on root is not needed, so --user takes effect before any
 * output is created. */
static int run(struct replay_options *o, struct capture first)
{
	char err[512];
	if (o->user && privileges_drop(o->user, err, sizeof(err)) != 0) {
		first.ops->close(first.state);
		return cli_usage_error("%s", err);
	}
	int checked = o->user ? check_inputs(o, &first, true) : 0;
	struct stats_report *stats = NULL;
	/* The summary is written at exit, as the --user user: its folder is checked now. */
	if (checked == 0 &&
	    ((o->user && o->summary_json &&
	      cli_output_path_error("--summary-json", o->summary_json, err, sizeof(err)) != 0) ||
	     stats_report_open(&stats, &o->stats, err, sizeof(err)) != 0))
		checked = cli_usage_error("%s", err);
	if (checked != 0) {
		first.ops->close(first.state);
		return checked;
	}
	struct runner_options ro = {
	    .worker_config = &o->worker,
	    .sinks = sink_options_opener(&o->sink),
	    .lanes = 1,
	    .speed = o->speed,
	    .progress_bar = progress_bar_wanted(&o->sink),
	    .summary_json = o->summary_json,
	    .interval_ms = stats_report_interval_ms(stats),
	    .on_interval = stats_report_runner_hook,
	    .on_final = stats_report_final_hook,
	    .interval_ctx = stats,
	};
	struct pcap_replay_options files = {
	    .files = o->files,
	    .file_count = (unsigned)o->file_count,
	    .passes = o->loops,
	    .opened_as_user = o->user != NULL,
	};
	struct runner *runner;
	struct capture replay;
	if (runner_open(&runner, &ro, err, sizeof(err)) != 0) {
		first.ops->close(first.state);
		stats_report_finish(stats, 0);
		return cli_usage_error("%s", err);
	}
	if (pcap_replay_open(&replay, &files, first, err, sizeof(err)) != 0) {
		runner_abandon(runner);
		stats_report_finish(stats, 0);
		return cli_usage_error("%s", err);
	}
	runner_set_capture(runner, 0, replay);
	signals_install();
	return stats_report_finish(stats, runner_run(runner, NULL));
}

int replay_main(int argc, char **argv)
{
	struct replay_options *o = malloc(sizeof(*o));
	if (!o)
		return cli_usage_error("out of memory");
	int rc = parse_options(argc, argv, o);
	struct capture first;
	if (rc == 0 && (rc = check_inputs(o, &first, false)) == 0)
		rc = run(o, first);
	free(o);
	return rc;
}
