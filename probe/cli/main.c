/* The dnsprobe command: picks the subcommand. */
#include <stdio.h>
#include <string.h>

#include "capture_cmd.h"
#include "check_cmd.h"
#include "cli.h"
#include "listen_cmd.h"
#include "replay_cmd.h"

#ifndef DNSPROBE_VERSION
#define DNSPROBE_VERSION "unknown"
#endif

static const char usage[] =
    "Usage: dnsprobe COMMAND [options]\n"
    "\n"
    "A passive DNS sensor: reads DNS packets from capture files or the wire and publishes\n"
    "one record per DNS message, keyed by the direction-normalised 5-tuple.\n"
    "\n"
    "Commands:\n"
    "  replay FILE...   read pcap/pcapng files and publish records\n"
    "  capture          capture live from an interface (libpcap) or DPDK ports\n"
    "  listen           take dnstap from resolvers (unix or TCP sockets)\n"
    "  check -i IFACE   tell whether a capture on IFACE can be trusted (offloads, drops)\n"
    "\n"
    "Run 'dnsprobe COMMAND --help' for the options of a command. Every command takes\n"
    "--config FILE: its long options, one per line, read before the command line.\n"
    "\n"
    "Options:\n"
    "  -h, --help       show this help\n"
    "  -V, --version    show the version\n"
    "\n"
    "Exit status:\n"
    "  0  replay read its files, capture stopped as asked, check found every check OK\n"
    "  1  records could not be written or the capture broke; check: a check warns\n"
    "  2  a bad command line or config file line, an output path that cannot be written,\n"
    "     a source that cannot be opened; check: a check fails\n"
    "\n"
    "Signals:\n"
    "  SIGINT, SIGTERM, SIGHUP  stop: read no more, flush the records already read (at\n"
    "                           most --flush-timeout), print the summary and exit; a\n"
    "                           second signal exits at once\n"
    "\n"
    "Files:\n"
    "  /etc/dnsprobe/dnsprobe.conf        options for the service (--config), one per line\n"
    "  /etc/dnsprobe/IFACE.conf           options for dnsprobe@IFACE.service\n"
    "  /var/lib/dnsprobe/dnsprobe.prom    --stats-file of the service, for node_exporter\n"
    "\n"
    "Examples:\n"
    "  dnsprobe replay -r dns.pcap -o records.json\n"
    "  dnsprobe capture -i eth0 -c 1000 udp port 53\n"
    "  dnsprobe capture -i eth1 --workers 2 -b kafka1:9092 -t dns\n"
    "  dnsprobe check -i eth1 --fix\n"
    "  systemctl enable --now dnsprobe@eth1\n";

int main(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("no command given; try 'dnsprobe replay FILE' or "
				       "'dnsprobe --help'");
	const char *command = argv[1];
	if (strcmp(command, "-h") == 0 || strcmp(command, "--help") == 0 ||
	    strcmp(command, "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(command, "-V") == 0 || strcmp(command, "--version") == 0) {
		printf("dnsprobe %s\n", DNSPROBE_VERSION);
		return 0;
	}
	if (strcmp(command, "replay") == 0)
		return replay_main(argc - 1, argv + 1);
	if (strcmp(command, "capture") == 0)
		return capture_main(argc - 1, argv + 1);
	if (strcmp(command, "listen") == 0)
		return listen_main(argc - 1, argv + 1);
	if (strcmp(command, "check") == 0)
		return check_main(argc - 1, argv + 1);
	return cli_usage_error("unknown command '%s'; see 'dnsprobe --help'", command);
}
