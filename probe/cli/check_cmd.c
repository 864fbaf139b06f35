/* "dnsprobe check": runs the interface checks and shows them as one line each, or as JSON; the
 * exit status is the worst result (0 OK, 1 WARN, 2 FAIL). */
#include "check_cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config_file.h"
#include "iface_check.h"
#include "json_writer.h"
#include "option_codes.h"

#define DEFAULT_BUFFER_KIB (64 * 1024)
#define MAX_BUFFER_KIB	   (1024ull * 1024 * 1024) /* 1 TiB */
#define JSON_BUFFER_SIZE   (64 * 1024)

static const char check_usage[] =
    "Usage: dnsprobe check -i IFACE [options]\n"
    "\n"
    "Tells whether a capture on IFACE can be trusted: the interface is up, offloads that\n"
    "merge or change packets (GRO, LRO, GSO/TSO, VLAN stripping) are off, rings, channels\n"
    "and memory fit the capture, and, for DPDK, hugepages and the NIC's driver and NUMA node.\n"
    "Prints one line per check: OK, WARN or FAIL, the check, what was found, and the command\n"
    "that fixes it.\n"
    "\n"
    "Options:\n"
    "  -i, --interface IFACE    the interface to check, or a PCI address (0000:03:00.0) to\n"
    "                           check a NIC for DPDK\n"
    "      --fix                turn GRO and LRO off (needs root) and say what changed\n"
    "      --json               print the results as one JSON document\n"
    "  -B, --buffer-size SIZE   the capture's ring size per worker, as capture's -B: MiB,\n"
    "                           or with a unit (4096KiB, 64MiB, 1GiB); default 64 (MiB)\n"
    "  -w, --workers N          the capture's number of workers (default 1)\n"
    "      --dpdk               check DPDK readiness in full (hugepages, driver, NUMA node)\n"
    "      --config FILE        the capture's config file (see dnsprobe capture --help):\n"
    "                           its interface, buffer-size and workers are checked, its\n"
    "                           other lines skipped; the command line wins\n"
    "  -h, --help               show this help\n"
    "\n"
    "Exit status: 0 when every check is OK, 1 when one warns, 2 when one fails (or the\n"
    "command line is wrong).\n";

struct check_options {
	struct config_args config;
	struct iface_check_options checks;
	bool json;
};

static int parse_options(int argc, char **argv, struct check_options *o)
{
	static const struct option longopts[] = {
	    {"interface", required_argument, NULL, 'i'},
	    {"fix", no_argument, NULL, OPT_FIX},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"buffer-size", required_argument, NULL, 'B'},
	    {"workers", required_argument, NULL, 'w'},
	    {"dpdk", no_argument, NULL, OPT_DPDK},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	o->checks.buffer_kib = DEFAULT_BUFFER_KIB;
	o->checks.workers = 1;
	int built = config_args_build(&o->config, argc, argv, longopts, "check", true);
	if (built != 0)
		return built;
	argc = o->config.argc;
	argv = o->config.argv;
	opterr = 0;
	optind = 1;
	int c;
	uint64_t value;
	while ((c = getopt_long(argc, argv, ":i:B:w:h", longopts, NULL)) != -1) {
		config_args_locate(&o->config, optind);
		switch (c) {
		case 'i':
			o->checks.target = optarg;
			break;
		case OPT_FIX:
			o->checks.fix = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_DPDK:
			o->checks.dpdk = true;
			break;
		case 'B':
			if (!cli_parse_size_kib(optarg, MAX_BUFFER_KIB, &value))
				return cli_bad_size("-B/--buffer-size", optarg, MAX_BUFFER_KIB);
			o->checks.buffer_kib = value;
			break;
		case 'w':
			if (!cli_parse_uint(optarg, 1, 1024, &value))
				return cli_usage_error(
				    "--workers: '%s' is not a number of workers; "
				    "give 1 to 1024",
				    optarg);
			o->checks.workers = (unsigned)value;
			break;
		case 'h':
			fputs(check_usage, stdout);
			exit(0);
		default:
			return cli_bad_option("check", argv[optind - 1]);
		}
	}
	cli_set_context(NULL);
	if (optind < argc)
		return cli_usage_error("check: unexpected argument '%s'; give the interface with "
				       "-i, e.g. dnsprobe check -i eth0",
				       argv[optind]);
	if (!o->checks.target)
		return cli_usage_error("check: which interface? give it with -i, e.g. dnsprobe "
				       "check -i eth0");
	return 0;
}

static void print_text(const struct check_report *report)
{
	for (int i = 0; i < report->count; i++) {
		const struct check_result *r = &report->results[i];
		printf("%-4s  %-14s  %s", check_status_name(r->status), r->name, r->detail);
		if (r->fix[0])
			printf("  fix: %s", r->fix);
		putchar('\n');
	}
}

static int print_json(const struct check_options *o, const struct check_report *report,
		      enum check_status worst)
{
	char *buf = malloc(JSON_BUFFER_SIZE);
	if (!buf)
		return -1;
	struct json_writer w;
	json_init(&w, buf, JSON_BUFFER_SIZE);
	json_open(&w, '{');
	json_key(&w, "interface");
	json_cstring(&w, o->checks.target);
	json_key(&w, "status");
	json_cstring(&w, check_status_name(worst));
	json_key(&w, "exit_code");
	json_uint(&w, (uint64_t)worst);
	json_key(&w, "checks");
	json_open(&w, '[');
	for (int i = 0; i < report->count; i++) {
		const struct check_result *r = &report->results[i];
		if (i > 0)
			json_comma(&w);
		json_open(&w, '{');
		json_key(&w, "check");
		json_cstring(&w, r->name);
		json_key(&w, "status");
		json_cstring(&w, check_status_name(r->status));
		json_key(&w, "detail");
		json_cstring(&w, r->detail);
		json_key(&w, "fix");
		if (r->fix[0])
			json_cstring(&w, r->fix);
		else
			json_literal(&w, "null");
		json_key(&w, "changed");
		json_literal(&w, r->changed ? "true" : "false");
		json_close(&w, '}');
	}
	json_close(&w, ']');
	json_close(&w, '}');
	int rc = w.overflow ? -1 : 0;
	if (rc == 0)
		printf("%.*s\n", (int)w.len, w.buf);
	free(buf);
	return rc;
}

int check_main(int argc, char **argv)
{
	struct check_options o;
	int rc = parse_options(argc, argv, &o);
	struct check_report *report = rc == 0 ? malloc(sizeof(*report)) : NULL;
	if (!report) {
		config_args_free(&o.config);
		return rc != 0 ? rc : cli_usage_error("out of memory");
	}
	iface_check_run(&o.checks, report);
	enum check_status worst = check_report_worst(report);
	if (o.json) {
		if (print_json(&o, report, worst) != 0) {
			free(report);
			config_args_free(&o.config);
			return cli_usage_error("check: the results did not fit the JSON buffer");
		}
	} else {
		print_text(report);
	}
	free(report);
	config_args_free(&o.config);
	return (int)worst;
}
