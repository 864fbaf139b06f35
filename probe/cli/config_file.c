/* --config FILE: reads a command's long options from a file (one per line) and puts them in
 * front of the command line's words, so the flags given on the command line win. */
#include "config_file.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CONFIG_MAX_BYTES (1024 * 1024)

/* Reads the whole file, NUL-terminated; NULL after printing one line. */
static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		cli_usage_error("--config: cannot read %s (%s); check the path", path,
				strerror(errno));
		return NULL;
	}
	char *text = malloc(CONFIG_MAX_BYTES + 1);
	size_t len = text ? fread(text, 1, CONFIG_MAX_BYTES + 1, f) : 0;
	bool failed = text && ferror(f);
	fclose(f);
	if (!text) {
		cli_usage_error("out of memory");
		return NULL;
	}
	if (failed || len > CONFIG_MAX_BYTES) {
		free(text);
		cli_usage_error(failed ? "--config: cannot read %s" : "--config: %s is over 1 MiB",
				path);
		return NULL;
	}
	text[len] = '\0';
	if (memchr(text, '\0', len)) {
		free(text);
		cli_usage_error("--config: %s is not a text file", path);
		return NULL;
	}
	return text;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static const struct option *find_option(const struct option *longopts, const char *name)
{
	for (const struct option *o = longopts; o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

/* Appends "--name[=value]" to words at *used; returns the word. */
static char *add_word(char *words, size_t *used, const char *name, const char *value)
{
	char *word = words + *used;
	int n = value ? sprintf(word, "--%s=%s", name, value) : sprintf(word, "--%s", name);
	*used += (size_t)n + 1;
	return word;
}

/* Turns the file's lines into words; returns how many, or -1 after printing. */
static int parse_lines(struct config_args *a, char *text, const struct option *longopts,
		       const char *command, bool skip_others, char **out_words, int *out_lines)
{
	size_t used = 0;
	int count = 0, number = 0;
	char *save = NULL;
	for (char *line = text; line; line = save) {
		char *nl = strchr(line, '\n');
		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		number++;
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if (strncmp(s, "--", 2) == 0)
			s += 2;
		size_t name_len = strcspn(s, "= \t");
		char *value = s[name_len] ? trim(s + name_len + 1) : NULL;
		s[name_len] = '\0';
		if (value && value[0] == '"' && strlen(value) >= 2 &&
		    value[strlen(value) - 1] == '"') {
			value[strlen(value) - 1] = '\0';
			value++;
		}
		const struct option *o = find_option(longopts, s);
		const char *fail = NULL;
		if (!o && skip_others && strcmp(s, "help") != 0 && strcmp(s, "config") != 0)
			continue;
		if (strcmp(s, "help") == 0 || strcmp(s, "config") == 0)
			fail = "may not be in a config file";
		else if (!o)
			fail = "is not an option of this command";
		else if (o->has_arg == no_argument && value && *value)
			fail = "takes no value; write the name alone";
		else if (o->has_arg == required_argument && (!value || !*value))
			fail = "needs a value: write 'name value' or 'name=value'";
		if (fail)
			return cli_usage_error("%s:%d: '%s' %s (see dnsprobe %s --help)", a->path,
					       number, s, fail, command),
			       -1;
		out_words[count] =
		    add_word(a->words, &used, s, o->has_arg == no_argument ? NULL : value);
		out_lines[count++] = number;
	}
	return count;
}

int config_args_build(struct config_args *out, int argc, char **argv, const struct option *longopts,
		      const char *command, bool skip_others)
{
	memset(out, 0, sizeof(*out));
	out->argc = argc;
	out->argv = argv;
	int at = -1;
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		bool joined = strncmp(argv[i], "--config=", 9) == 0;
		if (!joined && strcmp(argv[i], "--config") != 0)
			continue;
		if (at >= 0)
			return cli_usage_error("--config given twice; give one file");
		if (!joined && i + 1 >= argc)
			return cli_usage_error("--config: give the file, e.g. --config "
					       "/etc/dnsprobe/dnsprobe.conf");
		at = i;
		out->path = joined ? argv[i] + 9 : argv[i + 1];
	}
	if (at < 0)
		return 0;
	int skip = strchr(argv[at], '=') ? 1 : 2;
	char *text = read_file(out->path);
	if (!text)
		return EXIT_USAGE;
	size_t len = strlen(text);
	/* At most one word per line; each word is at most its line plus "--" and a NUL. */
	size_t lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	out->words = malloc(len + 3 * lines + 1);
	out->lines = malloc(sizeof(int) * lines);
	out->argv = malloc(sizeof(char *) * (lines + (size_t)argc + 1));
	out->owns_argv = true;
	if (!out->words || !out->lines || !out->argv) {
		free(text);
		config_args_free(out);
		return cli_usage_error("out of memory");
	}
	int count =
	    parse_lines(out, text, longopts, command, skip_others, out->argv + 1, out->lines);
	free(text);
	if (count < 0) {
		config_args_free(out);
		return EXIT_USAGE;
	}
	out->argv[0] = argv[0];
	out->first = 1;
	out->count = count;
	int n = 1 + count;
	for (int i = 1; i < argc; i++)
		if (i < at || i >= at + skip)
			out->argv[n++] = argv[i];
	out->argv[n] = NULL;
	out->argc = n;
	return 0;
}

void config_args_locate(struct config_args *a, int optind)
{
	int word = optind - 1;
	if (a->path && word >= a->first && word < a->first + a->count) {
		snprintf(a->where, sizeof(a->where), "%s:%d", a->path, a->lines[word - a->first]);
		cli_set_context(a->where);
	} else {
		cli_set_context(NULL);
	}
}

void config_args_free(struct config_args *a)
{
	cli_set_context(NULL);
	if (a->owns_argv)
		free(a->argv);
	free(a->words);
	free(a->lines);
	memset(a, 0, sizeof(*a));
}
