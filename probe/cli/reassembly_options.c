/* Command-line options bounding IP fragment and TCP stream reassembly. */
#include "reassembly_options.h"

#include "cli.h"
#include "ip_reassembly.h"
#include "tcp_reassembly.h"

#define NS_PER_SECOND 1000000000LL
#define MIB	      (1024 * 1024)

#define STRINGIFY(x) #x
#define TEXT(x)	     STRINGIFY(x)

const char reassembly_options_help[] =
    "Reassembly (per worker; memory stays within these bounds whatever arrives):\n"
    "      --fragment-datagrams N  IP datagrams held while their fragments arrive\n"
    "                              (default " TEXT(
	IP_REASSEMBLY_DEFAULT_DATAGRAMS) ")\n"
					 "      --fragment-memory MIB   memory for held fragments "
					 "(default 4)\n"
					 "      --fragment-timeout S    abandon a datagram not "
					 "complete after S seconds\n"
					 "                              (default " TEXT(
					     IP_REASSEMBLY_DEFAULT_TIMEOUT_S) ")\n"
									      "      --tcp-streams "
									      "N         TCP "
									      "streams followed at "
									      "once (default " TEXT(
										  TCP_REASSEMBLY_DEFAULT_STREAMS) ")\n"
														  "      --tcp-memory MIB        memory for stream bytes not yet delivered (default 16)\n"
														  "      --tcp-timeout S         forget a stream idle for S seconds (default " TEXT(
														      TCP_REASSEMBLY_DEFAULT_TIMEOUT_S) ")\n";

static int bad(const char *option, const char *arg, const char *what)
{
	return cli_usage_error("--%s: '%s' is not %s", option, arg, what);
}

int reassembly_options_handle(struct worker_config *config, int c, const char *arg)
{
	uint64_t v;
	switch (c) {
	case REASSEMBLY_OPT_FRAGMENT_DATAGRAMS:
		if (!cli_parse_uint(arg, 1, 1000000, &v))
			return bad("fragment-datagrams", arg, "a count from 1 to 1000000");
		config->fragments.max_flows = (uint32_t)v;
		return 1;
	case REASSEMBLY_OPT_FRAGMENT_MEMORY:
		if (!cli_parse_uint(arg, 1, 65536, &v))
			return bad("fragment-memory", arg, "a size in MiB from 1 to 65536");
		config->fragments.max_bytes = (size_t)v * MIB;
		return 1;
	case REASSEMBLY_OPT_FRAGMENT_TIMEOUT:
		if (!cli_parse_uint(arg, 1, 3600, &v))
			return bad("fragment-timeout", arg, "a number of seconds from 1 to 3600");
		config->fragments.timeout_ns = (int64_t)v * NS_PER_SECOND;
		return 1;
	case REASSEMBLY_OPT_TCP_STREAMS:
		if (!cli_parse_uint(arg, 1, 10000000, &v))
			return bad("tcp-streams", arg, "a count from 1 to 10000000");
		config->streams.max_flows = (uint32_t)v;
		return 1;
	case REASSEMBLY_OPT_TCP_MEMORY:
		if (!cli_parse_uint(arg, 1, 65536, &v))
			return bad("tcp-memory", arg, "a size in MiB from 1 to 65536");
		config->streams.max_bytes = (size_t)v * MIB;
		return 1;
	case REASSEMBLY_OPT_TCP_TIMEOUT:
		if (!cli_parse_uint(arg, 1, 86400, &v))
			return bad("tcp-timeout", arg, "a number of seconds from 1 to 86400");
		config->streams.timeout_ns = (int64_t)v * NS_PER_SECOND;
		return 1;
	default:
		return 0;
	}
}
