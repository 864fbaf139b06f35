/* "dnsprobe listen": accept dnstap (Frame Streams) from resolvers on unix and TCP sockets and
 * publish one record per DNS message they send, as replay and capture do for packets. */
#include "listen_cmd.h"

#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "cli.h"
#include "dnstap_listen.h"
#include "dnstap_message.h"
#include "option_codes.h"
#include "record_options.h"
#include "runner.h"
#include "signals.h"
#include "sink_options.h"
#include "stats_options.h"
#include "stats_report.h"
#include "worker.h"

#define STRINGIFY(x) #x
#define TEXT(x)	     STRINGIFY(x)

static const char listen_usage_head[] =
    "Usage: dnsprobe listen --dnstap unix:PATH|tcp:HOST:PORT... [options]\n"
    "\n"
    "Accepts dnstap from resolvers (Frame Streams, bidirectional or not, content type\n"
    "protobuf:dnstap.Dnstap) and publishes one record per DNS message they send, keyed\n"
    "by the addresses and ports in the message (see docs/dnstap.md). Runs until\n"
    "interrupted (SIGINT, SIGTERM).\n"
    "\n"
    "Options:\n"
    "      --dnstap unix:PATH|tcp:HOST:PORT\n"
    "                           listen there (repeatable, up to " TEXT(
	DNSTAP_LISTEN_MAX_ADDRESSES) "); a socket left at PATH\n"
				     "                           by an earlier run is replaced\n"
				     "      --max-connections N  senders connected at once, over "
				     "every listener;\n"
				     "                           more are refused (default " TEXT(
					 DNSTAP_LISTEN_DEFAULT_CONNECTIONS) ")\n"
									    "      "
									    "--max-frame-size "
									    "BYTES\n"
									    "                      "
									    "     largest data "
									    "frame taken; a larger "
									    "one closes its\n"
									    "                      "
									    "     connection; each "
									    "connection holds one "
									    "buffer this\n"
									    "                      "
									    "     large (default "
									    "131072, at most "
									    "1048576)\n"
									    "      --socket-mode "
									    "OCTAL  permissions of "
									    "unix sockets, e.g. "
									    "0660 (default: the "
									    "umask's)\n"
									    "      --socket-group "
									    "NAME  group of unix "
									    "sockets, e.g. "
									    "unbound, so that "
									    "resolver\n"
									    "                      "
									    "     can connect\n"
									    "      --summary-json "
									    "PATH  write the "
									    "accounting as JSON to "
									    "PATH at exit\n"
									    "  -h, --help          "
									    "     show this help\n"
									    "\n";

struct listen_options {
	struct sink_options sink;
	struct stats_report_options stats;
	struct dnstap_listen_options listen;
	const char *summary_json;
	struct worker_config worker;
};

static int parse_mode(const char *arg, int *out)
{
	char *end;
	long mode = strtol(arg, &end, 8);
	if (end == arg || *end != '\0' || mode < 0 || mode > 07777)
		return cli_usage_error(
		    "--socket-mode: '%s' is not a file mode; give octal, e.g. 0660", arg);
	*out = (int)mode;
	return 1;
}

static int handle_listen_option(struct listen_options *o, int c, const char *arg)
{
	uint64_t value;
	switch (c) {
	case OPT_DNSTAP:
		if (o->listen.address_count == DNSTAP_LISTEN_MAX_ADDRESSES)
			return cli_usage_error(
			    "--dnstap: more than %d listeners; that many are not "
			    "needed",
			    DNSTAP_LISTEN_MAX_ADDRESSES);
		for (unsigned i = 0; i < o->listen.address_count; i++)
			if (strcmp(o->listen.addresses[i], arg) == 0)
				return cli_usage_error(
				    "--dnstap %s: given twice; give each address "
				    "once",
				    arg);
		o->listen.addresses[o->listen.address_count++] = arg;
		return 1;
	case OPT_MAX_CONNECTIONS:
		if (!cli_parse_uint(arg, 1, 65536, &value))
			return cli_usage_error("--max-connections: '%s' is not a number of "
					       "connections; give 1 to 65536, e.g. 64",
					       arg);
		o->listen.max_connections = (unsigned)value;
		return 1;
	case OPT_MAX_FRAME_SIZE:
		if (!cli_parse_uint(arg, 512, DNSTAP_FRAME_MAX, &value))
			return cli_usage_error(
			    "--max-frame-size: '%s' is not a size in bytes; give "
			    "512 to %d, e.g. 131072",
			    arg, DNSTAP_FRAME_MAX);
		o->listen.max_frame_size = (uint32_t)value;
		return 1;
	case OPT_SOCKET_MODE:
		return parse_mode(arg, &o->listen.socket_mode);
	case OPT_SOCKET_GROUP: {
		struct group *g = getgrnam(arg);
		if (!g)
			return cli_usage_error("--socket-group: no group '%s' here; give a group "
					       "name from /etc/group, e.g. unbound",
					       arg);
		o->listen.socket_gid = g->gr_gid;
		return 1;
	}
	case OPT_SUMMARY_JSON:
		o->summary_json = arg;
		return 1;
	default:
		return 0;
	}
}

static int parse_options(int argc, char **argv, struct listen_options *o)
{
	static const struct option longopts[] = {
	    SINK_LONG_OPTIONS,
	    STATS_LONG_OPTIONS,
	    RECORD_LONG_OPTIONS,
	    {"dnstap", required_argument, NULL, OPT_DNSTAP},
	    {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
	    {"max-frame-size", required_argument, NULL, OPT_MAX_FRAME_SIZE},
	    {"socket-mode", required_argument, NULL, OPT_SOCKET_MODE},
	    {"socket-group", required_argument, NULL, OPT_SOCKET_GROUP},
	    {"summary-json", required_argument, NULL, OPT_SUMMARY_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	sink_options_init(&o->sink, ON_FULL_BLOCK);
	o->stats.source = "listen";
	o->listen.max_connections = DNSTAP_LISTEN_DEFAULT_CONNECTIONS;
	o->listen.max_frame_size = DNSTAP_LISTEN_DEFAULT_FRAME_SIZE;
	o->listen.socket_mode = -1;
	o->listen.socket_gid = (gid_t)-1;

	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, ":h" SINK_SHORT_OPTIONS, longopts, NULL)) != -1) {
		int handled = sink_options_handle(&o->sink, c, optarg);
		if (handled == 0)
			handled = stats_options_handle(&o->stats, c, optarg);
		if (handled == 0)
			handled = record_options_handle(&o->worker, c, optarg);
		if (handled == 0)
			handled = handle_listen_option(o, c, optarg);
		if (handled == 1)
			continue;
		if (handled != 0)
			return handled;
		if (c == 'h') {
			fputs(listen_usage_head, stdout);
			fputs(sink_options_help, stdout);
			fputs(stats_report_help, stdout);
			fputs(record_options_help, stdout);
			exit(0);
		}
		return cli_bad_option("listen", argv[optind - 1]);
	}
	if (optind < argc)
		return cli_usage_error("listen: '%s' is not an option; listen takes no files, give "
				       "--dnstap unix:PATH or --dnstap tcp:HOST:PORT",
				       argv[optind]);
	if (o->listen.address_count == 0)
		return cli_usage_error("listen: no --dnstap given; e.g. dnsprobe listen --dnstap "
				       "unix:/run/dnsprobe/dnstap.sock");
	int rc = sink_options_finish(&o->sink);
	if (rc != 0)
		return rc;
	const char *output = o->sink.brokers || o->sink.discard ? NULL : o->sink.output;
	if (cli_check_output_paths(output, o->summary_json, o->stats.file) != 0)
		return EXIT_USAGE;
	sink_options_apply(&o->sink, &o->worker);
	return 0;
}

static int run(struct listen_options *o)
{
	char err[512];
	struct stats_report *stats = NULL;
	if (stats_report_open(&stats, &o->stats, err, sizeof(err)) != 0)
		return cli_usage_error("%s", err);
	struct runner_options ro = {
	    .worker_config = &o->worker,
	    .sinks = sink_options_opener(&o->sink),
	    .lanes = 1,
	    .summary_json = o->summary_json,
	    .interval_ms = stats_report_interval_ms(stats),
	    .on_interval = stats_report_runner_hook,
	    .on_final = stats_report_final_hook,
	    .interval_ctx = stats,
	};
	struct runner *runner;
	struct capture input;
	/* From the moment the socket exists a stop is a clean one: the socket is removed. */
	signals_install();
	if (dnstap_listen_open(&input, &o->listen, err, sizeof(err)) != 0) {
		stats_report_finish(stats, 0);
		return cli_usage_error("%s", err);
	}
	if (runner_open(&runner, &ro, err, sizeof(err)) != 0) {
		input.ops->close(input.state);
		stats_report_finish(stats, 0);
		return cli_usage_error("%s", err);
	}
	runner_set_capture(runner, 0, input);
	return stats_report_finish(stats, runner_run(runner, NULL));
}

int listen_main(int argc, char **argv)
{
	struct listen_options *o = malloc(sizeof(*o));
	if (!o)
		return cli_usage_error("out of memory");
	int rc = parse_options(argc, argv, o);
	if (rc == 0)
		rc = run(o);
	free(o);
	return rc;
}
