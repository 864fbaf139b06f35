/* "dnsprobe capture": placeholder until the live capture and DPDK backends land. */
#include "capture_cmd.h"

#include "cli.h"

int capture_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_usage_error("capture: not built yet");
}
