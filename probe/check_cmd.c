/* "dnsprobe check": placeholder until the interface checks land. */
#include "check_cmd.h"

#include "cli.h"

int check_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_usage_error("check: not built yet");
}
