/* "dnsprobe capture": live capture from an interface through libpcap, or from DPDK ports, one
 * worker per queue. Reads the options, picks the backend (DPDK when asked for and it starts, else
 * libpcap with one warning line saying why), opens it and hands the lanes to the capture runner. */
#include "capture_cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "cli.h"
#include "option_codes.h"
#include "pcap_live.h"
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

#ifdef HAVE_DPDK
#include "dpdk_capture.h"
#endif

#define MAX_PORTS	   32
#define MAX_EAL_ARGS	   256
#define DEFAULT_BUFFER_MIB 64
#define DEFAULT_SNAPLEN	   65535

static const char capture_usage_head[] =
    "Usage: dnsprobe capture -i IFACE [options]\n"
    "       dnsprobe capture [--port N|PCI]... [options] [--eal \"EAL ARGS\"] [-- EAL ARGS]\n"
    "\n"
    "Captures DNS packets live and publishes one record per DNS message (the fields are\n"
    "described in docs/records.md), with one worker per capture queue. Stops on SIGINT,\n"
    "SIGTERM or SIGHUP (or --count, --duration, --idle-exit), flushes the output and prints\n"
    "the summary.\n"
    "\n"
    "Source:\n"
    "  -i, --interface IFACE    capture on IFACE through libpcap\n"
    "      --port N|PCI|NAME    capture from this DPDK port (repeatable; default: every\n"
    "                           port EAL finds)\n"
    "      --eal \"ARGS\"         DPDK EAL arguments, split at spaces; everything after --\n"
    "                           is passed to EAL too (e.g. -- -l 0-2 -a 0000:03:00.0)\n"
    "      --backend auto|dpdk|pcap\n"
    "                           auto (default): DPDK when ports or EAL arguments are given\n"
    "                           and EAL starts with a usable port, else libpcap on -i\n"
    "      --workers N          workers (default 1): libpcap handles in one PACKET_FANOUT\n"
    "                           group, or rx queues per DPDK port with RSS\n"
    "  -p, --dns-port PORT      also treat UDP/TCP PORT as DNS (repeatable; 53 always is)\n"
    "\n"
    "libpcap:\n"
    "  -B, --buffer-size MIB    kernel capture buffer per worker (default 64)\n"
    "      --snaplen BYTES      bytes kept of each packet (default 65535)\n"
    "      --no-promisc         do not put the interface in promiscuous mode\n"
    "  -f, --filter EXPR        BPF filter as in tcpdump (default: the DNS ports over UDP\n"
    "                           and TCP, and IP fragments)\n"
    "\n"
    "DPDK:\n"
    "      --rx-desc N          rx descriptors per queue (default: the driver's choice)\n"
    "      --mempool-size N     mbufs per port (default and minimum: twice the rx rings\n"
    "                           plus a burst and a cache per queue)\n"
    "\n"
    "Stopping and reporting:\n"
    "      --count N            stop after N packets\n"
    "      --duration SECONDS   stop after SECONDS\n"
    "      --idle-exit SECONDS  stop when no packet came for SECONDS\n"
    "      --summary-json PATH  write the packet accounting and the capture drops as JSON\n"
    "      --user NAME          once the capture is open, drop root and run as user NAME\n"
    "                           (libpcap only)\n"
    "  -h, --help               show this help\n"
    "\n";

static const char capture_usage_tail[] =
    "\n"
    "With several workers, records of all workers go to one file in whole lines; a path\n"
    "with {worker} in it (-o 'dns-{worker}.json') gives each worker a file of its own.\n"
    "The default --on-full for capture is drop: stalling would only move the loss into the\n"
    "kernel or the NIC. Exit status: 0 after a stop, 1 when the capture broke or records\n"
    "could not be written, 2 for a bad command line, an output path that cannot be written\n"
    "or a source that cannot be opened.\n"
    "docs/dpdk.md explains DPDK set-up (hugepages, binding a NIC, cores, RSS).\n";

enum backend_choice { BACKEND_AUTO, BACKEND_DPDK, BACKEND_PCAP };

struct capture_options {
	struct sink_options sink;
	struct stats_report_options stats;
	const char *user;
	struct worker_config worker;
	enum backend_choice backend;
	const char *interface;
	unsigned workers;
	bool workers_given;
	const char *summary_json;
	int buffer_mib;
	int snaplen;
	bool promiscuous;
	const char *filter;
	uint64_t count;
	unsigned duration_s;
	unsigned idle_exit_s;
	unsigned rx_desc;
	unsigned mempool_size;
	const char *ports[MAX_PORTS];
	int port_count;
	char *eal_args[MAX_EAL_ARGS];
	int eal_arg_count;
	char *eal_words[MAX_EAL_ARGS]; /* copies of --eal values, split in place */
	int eal_word_count;
};

static int add_eal_arg(struct capture_options *o, char *arg)
{
	if (o->eal_arg_count >= MAX_EAL_ARGS)
		return cli_usage_error("too many EAL arguments; at most %d", MAX_EAL_ARGS);
	o->eal_args[o->eal_arg_count++] = arg;
	return 0;
}

static int add_eal_words(struct capture_options *o, const char *text)
{
	if (o->eal_word_count >= MAX_EAL_ARGS)
		return cli_usage_error("--eal given too often");
	char *copy = strdup(text);
	if (!copy)
		return cli_usage_error("out of memory");
	o->eal_words[o->eal_word_count++] = copy;
	char *save = NULL;
	for (char *word = strtok_r(copy, " \t\n", &save); word;
	     word = strtok_r(NULL, " \t\n", &save))
		if (add_eal_arg(o, word) != 0)
			return EXIT_USAGE;
	return 0;
}

static bool parse_count(const char *arg, const char *option, uint64_t min, uint64_t max,
			uint64_t *out)
{
	if (cli_parse_uint(arg, min, max, out))
		return true;
	cli_usage_error("%s: '%s' is not a number from %llu to %llu", option, arg,
			(unsigned long long)min, (unsigned long long)max);
	return false;
}

/* Handles one option of the capture command itself; EXIT_USAGE after printing, or 0. */
static int handle_option(struct capture_options *o, int c, char *arg, char **argv)
{
	uint64_t v;
	switch (c) {
	case 'i':
		o->interface = arg;
		return 0;
	case OPT_PORT:
		if (o->port_count >= MAX_PORTS)
			return cli_usage_error("--port: at most %d ports", MAX_PORTS);
		o->ports[o->port_count++] = arg;
		return 0;
	case OPT_EAL:
		return add_eal_words(o, arg);
	case OPT_BACKEND:
		if (strcmp(arg, "auto") == 0)
			o->backend = BACKEND_AUTO;
		else if (strcmp(arg, "dpdk") == 0)
			o->backend = BACKEND_DPDK;
		else if (strcmp(arg, "pcap") == 0)
			o->backend = BACKEND_PCAP;
		else
			return cli_usage_error(
			    "--backend: '%s' is not a backend; use auto, dpdk or "
			    "pcap",
			    arg);
		return 0;
	case OPT_WORKERS:
		if (!parse_count(arg, "--workers", 1, RUNNER_MAX_LANES, &v))
			return EXIT_USAGE;
		o->workers = (unsigned)v;
		o->workers_given = true;
		return 0;
	case 'p':
		if (!cli_parse_uint(arg, 1, 65535, &v))
			return cli_usage_error("--dns-port: '%s' is not a port number; give 1 to "
					       "65535, e.g. --dns-port 5353",
					       arg);
		port_set_add(&o->worker.dns_ports, (uint16_t)v);
		return 0;
	case OPT_SUMMARY_JSON:
		o->summary_json = arg;
		return 0;
	case 'B':
		if (!parse_count(arg, "--buffer-size (MiB)", 1, 2047, &v))
			return EXIT_USAGE;
		o->buffer_mib = (int)v;
		return 0;
	case OPT_SNAPLEN:
		if (!parse_count(arg, "--snaplen", 64, 262144, &v))
			return EXIT_USAGE;
		o->snaplen = (int)v;
		return 0;
	case OPT_NO_PROMISC:
		o->promiscuous = false;
		return 0;
	case 'f':
		o->filter = arg;
		return 0;
	case OPT_COUNT:
		return parse_count(arg, "--count", 1, UINT64_MAX, &o->count) ? 0 : EXIT_USAGE;
	case OPT_DURATION:
		if (!parse_count(arg, "--duration (seconds)", 1, 100000000, &v))
			return EXIT_USAGE;
		o->duration_s = (unsigned)v;
		return 0;
	case OPT_IDLE_EXIT:
		if (!parse_count(arg, "--idle-exit (seconds)", 1, 100000000, &v))
			return EXIT_USAGE;
		o->idle_exit_s = (unsigned)v;
		return 0;
	case OPT_RX_DESC:
		if (!parse_count(arg, "--rx-desc", 1, 32768, &v))
			return EXIT_USAGE;
		o->rx_desc = (unsigned)v;
		return 0;
	case OPT_MEMPOOL_SIZE:
		if (!parse_count(arg, "--mempool-size", 1, 1u << 30, &v))
			return EXIT_USAGE;
		o->mempool_size = (unsigned)v;
		return 0;
	case OPT_USER:
		o->user = arg;
		return 0;
	case 'h':
		fputs(capture_usage_head, stdout);
		fputs(sink_options_help, stdout);
		fputs(stats_report_help, stdout);
		fputs(reassembly_options_help, stdout);
		fputs(record_options_help, stdout);
		fputs(tunnel_options_help, stdout);
		fputs(capture_usage_tail, stdout);
		exit(0);
	default:
		return cli_bad_option("capture", argv[optind - 1]);
	}
}

static void init_options(struct capture_options *o)
{
	memset(o, 0, sizeof(*o));
	sink_options_init(&o->sink, ON_FULL_DROP);
	port_set_add(&o->worker.dns_ports, 53);
	o->backend = BACKEND_AUTO;
	o->workers = 1;
	o->buffer_mib = DEFAULT_BUFFER_MIB;
	o->snaplen = DEFAULT_SNAPLEN;
	o->promiscuous = true;
}

static int parse_options(int argc, char **argv, struct capture_options *o)
{
	static const struct option longopts[] = {
	    SINK_LONG_OPTIONS,
	    STATS_LONG_OPTIONS,
	    REASSEMBLY_LONG_OPTIONS,
	    RECORD_LONG_OPTIONS,
	    TUNNEL_LONG_OPTIONS,
	    {"user", required_argument, NULL, OPT_USER},
	    {"interface", required_argument, NULL, 'i'},
	    {"port", required_argument, NULL, OPT_PORT},
	    {"eal", required_argument, NULL, OPT_EAL},
	    {"backend", required_argument, NULL, OPT_BACKEND},
	    {"workers", required_argument, NULL, OPT_WORKERS},
	    {"dns-port", required_argument, NULL, 'p'},
	    {"summary-json", required_argument, NULL, OPT_SUMMARY_JSON},
	    {"buffer-size", required_argument, NULL, 'B'},
	    {"snaplen", required_argument, NULL, OPT_SNAPLEN},
	    {"no-promisc", no_argument, NULL, OPT_NO_PROMISC},
	    {"filter", required_argument, NULL, 'f'},
	    {"count", required_argument, NULL, OPT_COUNT},
	    {"duration", required_argument, NULL, OPT_DURATION},
	    {"idle-exit", required_argument, NULL, OPT_IDLE_EXIT},
	    {"rx-desc", required_argument, NULL, OPT_RX_DESC},
	    {"mempool-size", required_argument, NULL, OPT_MEMPOOL_SIZE},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	init_options(o);
	/* Everything after "--" belongs to EAL; getopt sees only what comes before. */
	int own_argc = argc;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			own_argc = i;
			break;
		}
	}
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(own_argc, argv, ":i:p:B:f:h" SINK_SHORT_OPTIONS, longopts, NULL)) !=
	       -1) {
		int handled = sink_options_handle(&o->sink, c, optarg);
		if (handled == 0)
			handled = stats_options_handle(&o->stats, c, optarg);
		if (handled == 0)
			handled = reassembly_options_handle(&o->worker, c, optarg);
		if (handled == 0)
			handled = tunnel_options_handle(&o->worker, c, optarg);
		if (handled == 0)
			handled = record_options_handle(&o->worker, c, optarg);
		if (handled == 1)
			continue;
		if (handled != 0)
			return handled;
		int rc = handle_option(o, c, optarg, argv);
		if (rc != 0)
			return rc;
	}
	if (optind < own_argc)
		return cli_usage_error("capture: unexpected argument '%s'; EAL arguments go after "
				       "-- or in --eal (see dnsprobe capture --help)",
				       argv[optind]);
	for (int i = own_argc + 1; i < argc; i++)
		if (add_eal_arg(o, argv[i]) != 0)
			return EXIT_USAGE;
	int rc = sink_options_finish(&o->sink);
	if (rc != 0)
		return rc;
	const char *output = o->sink.brokers || o->sink.discard ? NULL : o->sink.output;
	if (cli_check_output_paths(output, o->summary_json, o->stats.file) != 0)
		return EXIT_USAGE;
	sink_options_apply(&o->sink, &o->worker);
	o->stats.source = o->interface ? o->interface : "dpdk";
	return 0;
}

static struct runner_options runner_options_for(const struct capture_options *o, unsigned lanes,
						struct stats_report *stats)
{
	return (struct runner_options){
	    .worker_config = &o->worker,
	    .sinks = sink_options_opener(&o->sink),
	    .lanes = lanes,
	    .count = o->count,
	    .duration_s = o->duration_s,
	    .idle_exit_s = o->idle_exit_s,
	    .summary_json = o->summary_json,
	    .interval_ms = stats_report_interval_ms(stats),
	    .on_interval = stats_report_runner_hook,
	    .on_final = stats_report_final_hook,
	    .interval_ctx = stats,
	};
}

/* Once the capture is open: drop privileges, then create the stats file as that user. */
static int start_reporting(const struct capture_options *o, struct stats_report **stats, char *err,
			   size_t err_size)
{
	*stats = NULL;
	if (o->user && privileges_drop(o->user, err, err_size) != 0)
		return -1;
	/* The summary is written at exit, as that user: its folder is checked now. */
	if (o->user && o->summary_json &&
	    cli_output_path_error("--summary-json", o->summary_json, err, err_size) != 0)
		return -1;
	return stats_report_open(stats, &o->stats, err, err_size);
}

static void close_captures(struct capture *captures, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		captures[i].ops->close(captures[i].state);
}

/* Opens one handle per worker; the first starts the fanout group the others join. */
static int open_pcap_handles(const struct capture_options *o, struct capture *captures,
			     int *fanout_group, char *err, size_t err_size)
{
	struct port_set vxlan, geneve;
	tunnel_options_ports(&o->worker, &vxlan, &geneve);
	struct pcap_live_options live = {
	    .interface = o->interface,
	    .buffer_mib = o->buffer_mib,
	    .snaplen = o->snaplen,
	    .promiscuous = o->promiscuous,
	    .filter = o->filter,
	    .dns_ports = &o->worker.dns_ports,
	    .vxlan_ports = &vxlan,
	    .geneve_ports = &geneve,
	    .fanout = true,
	    .fanout_group = PCAP_LIVE_NEW_FANOUT_GROUP,
	};
	for (unsigned i = 0; i < o->workers; i++) {
		if (pcap_live_open(&captures[i], &live, err, err_size) != 0) {
			close_captures(captures, i);
			return -1;
		}
		if (i == 0)
			live.fanout_group = *fanout_group = pcap_live_fanout_group(&captures[0]);
	}
	return 0;
}

static int run_pcap(const struct capture_options *o)
{
	if (!o->interface)
		return cli_usage_error("capture: give an interface with -i IFACE, or DPDK ports "
				       "with --port/--eal; see 'dnsprobe capture --help'");
	char err[1024];
	struct capture *captures = calloc(o->workers, sizeof(*captures));
	if (!captures)
		return cli_usage_error("out of memory");
	int fanout_group = 0;
	if (open_pcap_handles(o, captures, &fanout_group, err, sizeof(err)) != 0) {
		free(captures);
		return cli_usage_error("%s", err);
	}
	fprintf(stderr,
		"dnsprobe: capturing on %s through libpcap: %u worker%s, one handle each in "
		"PACKET_FANOUT group %d (kernel flow hash, IPv4 fragments reassembled); %d MiB "
		"buffer per handle, snaplen %d%s; filter: %s\n",
		o->interface, o->workers, o->workers == 1 ? "" : "s", fanout_group, o->buffer_mib,
		o->snaplen, o->promiscuous ? ", promiscuous" : "",
		o->filter ? o->filter : "DNS ports and IP fragments (default)");

	struct stats_report *stats;
	if (start_reporting(o, &stats, err, sizeof(err)) != 0) {
		close_captures(captures, o->workers);
		free(captures);
		return cli_usage_error("%s", err);
	}
	struct runner *runner;
	struct runner_options ro = runner_options_for(o, o->workers, stats);
	if (runner_open(&runner, &ro, err, sizeof(err)) != 0) {
		close_captures(captures, o->workers);
		free(captures);
		stats_report_finish(stats, 0);
		return cli_usage_error("%s", err);
	}
	for (unsigned i = 0; i < o->workers; i++)
		runner_set_capture(runner, i, captures[i]);
	free(captures);
	return stats_report_finish(stats, runner_run(runner, NULL));
}

/* The result of trying DPDK when it could not start: the caller may fall back to libpcap. */
#define DPDK_NOT_STARTED (-1)

#ifdef HAVE_DPDK
/* The runner's lanes on DPDK's lcores. */
static int launch_on_lcores(void *dc, int (*lane_main)(void *lane), void *const *lanes,
			    unsigned count, char *err, size_t err_size)
{
	(void)count; /* one lane per rx queue, as dpdk_capture_lane_count said */
	return dpdk_capture_launch(dc, lane_main, lanes, err, err_size);
}

static void wait_for_lcores(void *dc)
{
	dpdk_capture_wait(dc);
}

static void read_port_drops(void *dc, struct capture_drops *out)
{
	dpdk_capture_read_drops(dc, out);
}

static int run_dpdk(const struct capture_options *o, int *failure, char *why, size_t why_size)
{
	struct dpdk_capture_options d = {
	    .eal_args = (char **)o->eal_args,
	    .eal_arg_count = o->eal_arg_count,
	    .port_count = o->port_count,
	    .workers = o->workers,
	    .workers_given = o->workers_given,
	    .rx_desc = o->rx_desc,
	    .mempool_size = o->mempool_size,
	    .promiscuous = o->promiscuous,
	};
	memcpy(d.ports, o->ports, sizeof(d.ports[0]) * (size_t)o->port_count);
	struct dpdk_capture *dc;
	*failure = dpdk_capture_start(&dc, &d, why, why_size);
	if (*failure != 0)
		return DPDK_NOT_STARTED;

	char err[1024];
	struct stats_report *stats;
	if (stats_report_open(&stats, &o->stats, err, sizeof(err)) != 0) {
		dpdk_capture_close(dc);
		return cli_usage_error("%s", err);
	}
	struct runner *runner;
	unsigned lanes = dpdk_capture_lane_count(dc);
	struct runner_options ro = runner_options_for(o, lanes, stats);
	if (runner_open(&runner, &ro, err, sizeof(err)) != 0) {
		dpdk_capture_close(dc);
		stats_report_finish(stats, 0);
		return cli_usage_error("%s", err);
	}
	for (unsigned i = 0; i < lanes; i++)
		runner_set_capture(runner, i, dpdk_capture_lane(dc, i));
	dpdk_capture_print_startup(dc, stderr);
	struct lane_executor lcores = {
	    .launch = launch_on_lcores,
	    .wait = wait_for_lcores,
	    .read_drops = read_port_drops,
	    .ctx = dc,
	};
	int status = runner_run(runner, &lcores);
	dpdk_capture_close(dc);
	return stats_report_finish(stats, status);
}
#else
static int run_dpdk(const struct capture_options *o, int *failure, char *why, size_t why_size)
{
	(void)o;
	*failure = EXIT_USAGE;
	snprintf(why, why_size,
		 "this dnsprobe is built without DPDK (rebuild with -Ddpdk=enabled, which needs "
		 "libdpdk-dev)");
	return DPDK_NOT_STARTED;
}
#endif

static int run_capture(const struct capture_options *o)
{
	bool dpdk_asked =
	    o->backend == BACKEND_DPDK ||
	    (o->backend == BACKEND_AUTO && (o->port_count > 0 || o->eal_arg_count > 0));
	if (!dpdk_asked)
		return run_pcap(o);
	if (o->user)
		return cli_usage_error("--user is for libpcap capture; a DPDK probe keeps the "
				       "privileges EAL needs (run it under a dedicated service "
				       "account instead)");
	char why[1024];
	int failure = 0;
	int status = run_dpdk(o, &failure, why, sizeof(why));
	if (status != DPDK_NOT_STARTED)
		return status;
	if (o->backend == BACKEND_AUTO && o->interface) {
		fprintf(stderr, "dnsprobe: warning: %s; capturing on %s through libpcap instead\n",
			why, o->interface);
		return run_pcap(o);
	}
	fprintf(stderr, "dnsprobe: %s\n", why);
	return failure;
}

int capture_main(int argc, char **argv)
{
	struct capture_options *o = malloc(sizeof(*o));
	if (!o)
		return cli_usage_error("out of memory");
	int rc = parse_options(argc, argv, o);
	if (rc == 0) {
		signals_install();
		rc = run_capture(o);
	}
	for (int i = 0; i < o->eal_word_count; i++)
		free(o->eal_words[i]);
	free(o);
	return rc;
}
