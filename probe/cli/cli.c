/* Small helpers shared by the subcommands. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *error_context;

void cli_set_context(const char *where)
{
	error_context = where;
}

int cli_usage_error(const char *format, ...)
{
	va_list args;
	va_start(args, format);
	fputs("dnsprobe: ", stderr);
	if (error_context)
		fprintf(stderr, "%s: ", error_context);
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

bool cli_parse_size_kib(const char *text, uint64_t max_kib, uint64_t *kib)
{
	static const struct {
		const char *unit;
		unsigned shift; /* in KiB: 2^shift KiB */
	} units[] = {{"", 10},	{"K", 0},    {"KiB", 0}, {"k", 0},
		     {"M", 10}, {"MiB", 10}, {"G", 20},	 {"GiB", 20}};
	if (!text || !isdigit((unsigned char)text[0]))
		return false;
	errno = 0;
	char *end;
	unsigned long long value = strtoull(text, &end, 10);
	if (errno || value == 0)
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (value > (max_kib >> units[i].shift))
			return false;
		*kib = (uint64_t)value << units[i].shift;
		return true;
	}
	return false;
}

int cli_bad_size(const char *option, const char *text, uint64_t max_kib)
{
	return cli_usage_error(
	    "%s: '%s' is not a size from 1KiB to %lluMiB; give MiB (a bare number, e.g. 64) or a "
	    "unit, e.g. 4096KiB (tcpdump's -B 4096 means KiB: write 4096KiB)",
	    option, text, (unsigned long long)(max_kib / 1024));
}

int cli_bad_option_near(const char *command, char **argv, int argc, int index)
{
	/* -p was --dns-port before it became tcpdump's -p: "-p5353" fails on '5' while getopt is
	 * still in that word (index), or on the next word once it has moved on (index - 1). */
	for (int i = index; i >= index - 1 && i > 0; i--) {
		const char *arg = i < argc ? argv[i] : NULL;
		if (arg && strncmp(arg, "-p", 2) == 0 && isdigit((unsigned char)arg[2]))
			return cli_usage_error("%s: '%s': -p is tcpdump's --no-promisc now; give "
					       "extra DNS ports with --dns-port %s",
					       command, arg, arg + 2);
	}
	return cli_bad_option(command, argv[index - 1]);
}

int cli_bad_option(const char *command, const char *arg)
{
	return cli_usage_error(
	    "%s: unknown option or missing value in '%s'; see 'dnsprobe %s --help'", command,
	    arg ? arg : "?", command);
}

/* Formats the message into err; returns -1. */
static int path_error(char *err, size_t err_size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static int path_error(char *err, size_t err_size, const char *format, ...)
{
	va_list args;
	va_start(args, format);
	vsnprintf(err, err_size, format, args);
	va_end(args);
	return -1;
}

int cli_output_path_error(const char *option, const char *path, char *err, size_t err_size)
{
	struct stat st;
	size_t len = strlen(path);
	if (len == 0)
		return path_error(err, err_size,
				  "%s: the path is empty; give the name of a file to write",
				  option);
	if (len >= PATH_MAX)
		return path_error(err, err_size, "%s: the path is longer than %d bytes", option,
				  PATH_MAX - 1);
	bool exists = stat(path, &st) == 0;
	if (exists && S_ISDIR(st.st_mode))
		return path_error(err, err_size,
				  "%s: %s is a folder; give the name of a file in it", option,
				  path);
	if (exists && !S_ISREG(st.st_mode)) { /* a device or a FIFO, written in place */
		if (access(path, W_OK) != 0)
			return path_error(err, err_size, "%s: cannot write %s (%s)", option, path,
					  strerror(errno));
		return 0;
	}
	char folder[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash)
		strcpy(folder, ".");
	else if (slash == path)
		strcpy(folder, "/");
	else
		snprintf(folder, sizeof(folder), "%.*s", (int)(slash - path), path);
	if (stat(folder, &st) != 0)
		return path_error(err, err_size,
				  "%s: the folder %s does not exist (%s); create it or give "
				  "another path",
				  option, folder, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return path_error(err, err_size, "%s: %s is not a folder; give another path",
				  option, folder);
	if (access(folder, W_OK | X_OK) != 0)
		return path_error(err, err_size,
				  "%s: cannot create a file in %s (%s); give a folder the probe "
				  "may write, as the --user user when given",
				  option, folder, strerror(errno));
	return 0;
}

int cli_check_output_path(const char *option, const char *path)
{
	char err[PATH_MAX + 256];
	if (cli_output_path_error(option, path, err, sizeof(err)) != 0)
		return cli_usage_error("%s", err);
	return 0;
}

int cli_check_output_paths(const char *output, const char *summary_json, const char *stats_file)
{
	if (output && strcmp(output, "-") != 0 && cli_check_output_path("--output", output) != 0)
		return EXIT_USAGE;
	if (summary_json && cli_check_output_path("--summary-json", summary_json) != 0)
		return EXIT_USAGE;
	if (stats_file && cli_check_output_path("--stats-file", stats_file) != 0)
		return EXIT_USAGE;
	return 0;
}
