/* Reading rule files into a rule set. A line is a `DOMAIN CATEGORY` rule, a hosts-file line
 * (`0.0.0.0 domain...`), a plain domain, or an AdGuard/uBlock `||domain^` rule; `#` and `!` start
 * comments, `[...]` list headers and blank lines are skipped. Hosts lines, plain domains and
 * `||domain^` take the category the file was given (`--classify CATEGORY=FILE`). */
#ifndef DNSPROBE_RULE_FILES_H
#define DNSPROBE_RULE_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "rule_set.h"

struct rule_source {
	const char *path;
	const char *category; /* the file's category; NULL: every line names its own */
};

struct rule_load_report {
	size_t rules;
	size_t duplicates; /* a rule given again with another category: the later one is kept */
	char first_duplicate[512]; /* "file:line" of the first, "" when none */
};

/* Builds a set from the files in order. Returns NULL with one line for the user in err
 * ("FILE:LINE: what is wrong; how to write it"). */
struct rule_set *rule_files_load(const struct rule_source *sources, unsigned count,
				 struct rule_load_report *report, char *err, size_t err_size);

/* True when text is a category name: 1 to RULE_CATEGORY_MAX letters, digits, '_', '-', '.'. */
int rule_category_valid(const char *text);

#endif
