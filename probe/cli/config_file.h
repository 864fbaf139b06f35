/* --config FILE: the long options of a command, one per line, read before the command line so
 * the flags given there win. */
#ifndef DNSPROBE_CONFIG_FILE_H
#define DNSPROBE_CONFIG_FILE_H

#include <getopt.h>
#include <stdbool.h>

/* The command line with the file's options in front: argv[0], one "--name=value" word per line
 * of the file, then the given words without "--config FILE". */
struct config_args {
	int argc;
	char **argv;
	bool owns_argv;
	const char *path; /* NULL: no --config given */
	int first, count; /* argv[first .. first + count) came from the file */
	int *lines;	  /* the file's line of each of those words */
	char *words;	  /* the words' text; owned */
	char where[4200]; /* "FILE:LINE", for errors about a value read from the file */
};

/* Finds --config FILE (or --config=FILE) before any "--" in argv, reads the file and builds
 * out. Each line is "name value", "name=value" or "name" (for an option without a value), with
 * the name as in longopts (a leading "--" is allowed); blank lines and lines whose first
 * non-blank is '#' are skipped. A line that is not one of longopts, or gives a value to an
 * option that takes none (or none to one that needs one), is one line "FILE:LINE: ..." and
 * EXIT_USAGE. With skip_others, a line naming no option of longopts is skipped instead (check
 * reads the capture's file for the options the two share). Returns 0 with out filled (with no
 * --config, argv itself). */
int config_args_build(struct config_args *out, int argc, char **argv, const struct option *longopts,
		      const char *command, bool skip_others);

/* Call after each getopt_long: when the word it took (argv[optind - 1]) came from the file, the
 * usage errors that follow say FILE:LINE first. */
void config_args_locate(struct config_args *a, int optind);

void config_args_free(struct config_args *a);

#endif
