/* Small helpers shared by the subcommands. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int cli_usage_error(const char *format, ...)
{
	va_list args;
	va_start(args, format);
	fputs("dnsprobe: ", stderr);
	vfprintf(stderr, format, args);
	fputc('\n', stderr);
	va_end(args);
	return EXIT_USAGE;
}

bool cli_parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	if (!text || !isdigit((unsigned char)text[0]))
		return false;
	errno = 0;
	char *end;
	unsigned long long value = strtoull(text, &end, 10);
	if (errno || *end != '\0' || value < min || value > max)
		return false;
	*out = value;
	return true;
}

int cli_bad_option(const char *command, const char *arg)
{
	return cli_usage_error(
	    "%s: unknown option or missing value in '%s'; see 'dnsprobe %s --help'", command,
	    arg ? arg : "?", command);
}
