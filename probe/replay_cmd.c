/* "dnsprobe replay": read capture files and publish one record per DNS message. */
#include "replay_cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "cli.h"
#include "counters.h"
#include "pcap_file.h"
#include "signals.h"
#include "sink.h"
#include "sink_options.h"
#include "worker.h"

static const char replay_usage_head[] =
	"Usage: dnsprobe replay FILE... [options]\n"
	"\n"
	"Reads pcap or pcapng capture files and publishes one record per DNS message\n"
	"(the fields are described in docs/records.md).\n"
	"\n"
	"Options:\n"
	"  -p, --dns-port PORT      also treat UDP/TCP PORT as DNS (repeatable; 53 always is)\n"
	"      --summary-json PATH  write the packet accounting as JSON to PATH at exit\n"
	"  -h, --help               show this help\n"
	"\n";

static const char replay_usage_tail[] =
	"\n"
	"Link types: Ethernet (with 802.1Q/802.1ad tags, PPPoE), Linux cooked SLL and SLL2,\n"
	"raw IP, BSD loopback (NULL, LOOP) and PPP. Every packet is counted in one bucket;\n"
	"the summary on standard error shows them. Exit status: 0 when the files were read,\n"
	"1 when records could not be written, 2 for a bad command line or an unreadable file.\n";

struct replay_options {
	struct sink_options sink;
	const char *summary_json;
	char **files;
	int file_count;
	struct worker_config worker;
};

static int parse_options(int argc, char **argv, struct replay_options *o)
{
	static const struct option longopts[] = {
		SINK_LONG_OPTIONS,
		{"dns-port", required_argument, NULL, 'p'},
		{"summary-json", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	sink_options_init(&o->sink, ON_FULL_BLOCK);
	port_set_add(&o->worker.dns_ports, 53);

	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, ":p:h" SINK_SHORT_OPTIONS, longopts, NULL)) != -1) {
		int handled = sink_options_handle(&o->sink, c, optarg);
		if (handled == 1)
			continue;
		if (handled != 0)
			return handled;
		uint64_t port;
		switch (c) {
		case 'p':
			if (!cli_parse_uint(optarg, 1, 65535, &port))
				return cli_usage_error("--dns-port: '%s' is not a port number; give "
						       "1 to 65535, e.g. --dns-port 5353",
						       optarg);
			port_set_add(&o->worker.dns_ports, (uint16_t)port);
			break;
		case 'S':
			o->summary_json = optarg;
			break;
		case 'h':
			fputs(replay_usage_head, stdout);
			fputs(sink_options_help, stdout);
			fputs(replay_usage_tail, stdout);
			exit(0);
		default:
			return cli_bad_option("replay", argv[optind - 1]);
		}
	}
	int rc = sink_options_finish(&o->sink);
	if (rc != 0)
		return rc;
	sink_options_apply(&o->sink, &o->worker);
	o->files = argv + optind;
	o->file_count = argc - optind;
	if (o->file_count == 0)
		return cli_usage_error("replay: no capture file given; usage: dnsprobe replay "
				       "FILE... (see dnsprobe replay --help)");
	return 0;
}

/* Opens every file before any output exists, so a bad name leaves nothing behind. */
static int open_captures(const struct replay_options *o, struct capture *captures)
{
	char err[512];
	for (int i = 0; i < o->file_count; i++) {
		if (pcap_file_open(&captures[i], o->files[i], err, sizeof(err)) != 0) {
			for (int j = 0; j < i; j++)
				captures[j].ops->close(captures[j].state);
			return cli_usage_error("%s", err);
		}
	}
	return 0;
}

/* Reads one capture to its end, or until a stop is requested. */
static void replay_capture(struct capture *capture, const char *path, struct worker *w)
{
	while (!signals_stop_requested()) {
		int n = capture->ops->receive(capture->state, w, CAPTURE_BURST);
		worker_end_burst(w);
		if (n == CAPTURE_END)
			return;
		if (n == CAPTURE_ERROR) {
			fprintf(stderr,
				"dnsprobe: warning: %s: %s; the packets before that point were "
				"replayed\n",
				path, capture->ops->error(capture->state));
			return;
		}
	}
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

static int run(struct replay_options *o, struct capture *captures)
{
	char err[512];
	struct sink sink;
	if (sink_options_open(&o->sink, &sink, err, sizeof(err)) != 0) {
		for (int i = 0; i < o->file_count; i++)
			captures[i].ops->close(captures[i].state);
		return cli_usage_error("%s", err);
	}
	struct worker *w = worker_new(&o->worker, &sink);
	if (!w) {
		sink.ops->close(sink.state, false, err, sizeof(err));
		return cli_usage_error("out of memory");
	}
	signals_install();
	signals_watch_worker(w);
	for (int i = 0; i < o->file_count; i++) {
		if (!signals_stop_requested())
			replay_capture(&captures[i], o->files[i], w);
		captures[i].ops->close(captures[i].state);
	}

	int status = 0;
	sink.ops->flush(sink.state, o->sink.flush_timeout_ms);
	struct sink_counters sc;
	sink.ops->counters(sink.state, &sc);
	const struct counters *c = worker_counters(w);
	counters_print_summary(stderr, c, &sc);
	if (o->summary_json && write_summary_json(o->summary_json, c, &sc) != 0)
		status = 1;
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
		struct capture *captures = calloc((size_t)o->file_count, sizeof(*captures));
		if (!captures)
			rc = cli_usage_error("out of memory");
		else if ((rc = open_captures(o, captures)) == 0)
			rc = run(o, captures);
		free(captures);
	}
	free(o);
	return rc;
}
