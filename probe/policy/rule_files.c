/* Rule file formats: one line at a time into wire-form names. */
#include "rule_files.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 64
#define SHOWN_TEXT 60

int rule_category_valid(const char *text)
{
	size_t n = 0;
	for (; text[n]; n++) {
		char c = text[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return n > 0 && n <= RULE_CATEGORY_MAX;
}

static bool label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* A domain as rules write it ("*." in front and a final dot allowed) into lower-case wire form
 * without the root label. False when it is not one. */
static bool domain_to_wire(const char *text, uint8_t wire[RULE_NAME_WIRE_MAX], size_t *len)
{
	if (strncmp(text, "*.", 2) == 0)
		text += 2;
	size_t n = strlen(text);
	if (n > 0 && text[n - 1] == '.')
		n--;
	if (n == 0)
		return false;
	size_t out = 0, label_at = 0;
	wire[out++] = 0;
	for (size_t i = 0; i < n; i++) {
		char c = text[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == '.') {
			if (wire[label_at] == 0)
				return false;
			label_at = out;
			wire[out++] = 0;
		} else if (!label_char(c) || wire[label_at] == 63 ||
			   out + 1 >= RULE_NAME_WIRE_MAX) {
			return false;
		} else {
			wire[out++] = (uint8_t)c;
			wire[label_at]++;
		}
	}
	if (wire[label_at] == 0)
		return false;
	*len = out;
	return true;
}

static bool is_address(const char *text)
{
	uint8_t buf[16];
	return inet_pton(AF_INET, text, buf) == 1 || inet_pton(AF_INET6, text, buf) == 1;
}

struct loader {
	struct rule_set *set;
	struct rule_load_report *report;
	const struct rule_source *source;
	int file_category; /* -1: none */
	size_t line_no;
	char *err;
	size_t err_size;
};

static bool fail(struct loader *l, const char *what, const char *text, const char *hint)
{
	snprintf(l->err, l->err_size, "--classify: %s:%zu: '%.*s'%s %s; %s", l->source->path,
		 l->line_no, SHOWN_TEXT, text, strlen(text) > SHOWN_TEXT ? "..." : "", what, hint);
	return false;
}

static bool add_rule(struct loader *l, const char *domain, int category, const char *line)
{
	uint8_t wire[RULE_NAME_WIRE_MAX];
	size_t len;
	if (!domain_to_wire(domain, wire, &len))
		return fail(
		    l, "is not a domain name", domain[0] ? domain : line,
		    "labels of letters, digits, '-' and '_', at most 63 each and 253 in all");
	if (category < 0)
		return fail(l, "has no category", line,
			    "give the file one with --classify CATEGORY=FILE, or write DOMAIN "
			    "CATEGORY");
	int added = rule_set_add(l->set, wire, len, (unsigned)category);
	if (added == 0) {
		snprintf(l->err, l->err_size, "--classify: out of memory at %s:%zu",
			 l->source->path, l->line_no);
		return false;
	}
	if (added == 2) {
		if (l->report->duplicates++ == 0)
			snprintf(l->report->first_duplicate, sizeof(l->report->first_duplicate),
				 "%s:%zu", l->source->path, l->line_no);
	}
	return true;
}

static bool category_of(struct loader *l, const char *name, const char *line, int *out)
{
	if (!rule_category_valid(name))
		return fail(l, "has a bad category", line,
			    "a category is 1 to 63 letters, digits, '_', '-' or '.'");
	*out = rule_set_category(l->set, name);
	if (*out < 0) {
		snprintf(l->err, l->err_size,
			 "--classify: %s:%zu: more than %d categories; merge some", l->source->path,
			 l->line_no, RULE_CATEGORIES_MAX);
		return false;
	}
	return true;
}

/* "||domain^" (AdGuard, uBlock Origin): the domain and everything below it. */
static bool adblock_line(struct loader *l, char *line)
{
	size_t n = strlen(line);
	if (n < 4 || line[n - 1] != '^')
		return fail(l, "is an adblock rule this probe does not read", line,
			    "only ||domain^ rules are read");
	char domain[RULE_NAME_WIRE_MAX + 8];
	if (n - 3 >= sizeof(domain))
		return fail(l, "is not a domain name", line, "a domain is at most 253 bytes");
	memcpy(domain, line + 2, n - 3);
	domain[n - 3] = '\0';
	return add_rule(l, domain, l->file_category, line);
}

static bool read_line(struct loader *l, char *line)
{
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	char *start = line + strspn(line, " \t\r\n");
	size_t n = strlen(start);
	while (n > 0 && strchr(" \t\r\n", start[n - 1]))
		start[--n] = '\0';
	if (n == 0 || start[0] == '!' || start[0] == '[')
		return true;
	if (strncmp(start, "||", 2) == 0)
		return adblock_line(l, start);
	char shown[SHOWN_TEXT + 1];
	snprintf(shown, sizeof(shown), "%s", start);
	char *tokens[MAX_TOKENS];
	int count = 0;
	for (char *save = NULL, *t = strtok_r(start, " \t", &save); t;
	     t = strtok_r(NULL, " \t", &save)) {
		if (count == MAX_TOKENS)
			return fail(l, "has too many fields", shown,
				    "write one rule a line, or a hosts line of fewer names");
		tokens[count++] = t;
	}
	if (count == 0)
		return true;
	if (is_address(tokens[0])) {
		if (count == 1)
			return fail(l, "is a hosts line without a name", shown,
				    "write ADDRESS NAME...");
		for (int i = 1; i < count; i++)
			if (!add_rule(l, tokens[i], l->file_category, shown))
				return false;
		return true;
	}
	if (count == 1)
		return add_rule(l, tokens[0], l->file_category, shown);
	if (count == 2) {
		int category;
		return category_of(l, tokens[1], shown, &category) &&
		       add_rule(l, tokens[0], category, shown);
	}
	return fail(
	    l, "is not a rule", shown,
	    "write DOMAIN CATEGORY, a hosts line (ADDRESS NAME...), a domain, or ||domain^");
}

static bool load_file(struct loader *l)
{
	FILE *in = fopen(l->source->path, "r");
	if (!in) {
		snprintf(l->err, l->err_size, "--classify: cannot read %s: %s; check the path",
			 l->source->path, strerror(errno));
		return false;
	}
	l->file_category = -1;
	if (l->source->category) {
		l->line_no = 0;
		if (!category_of(l, l->source->category, l->source->category, &l->file_category)) {
			fclose(in);
			return false;
		}
	}
	char *line = NULL;
	size_t cap = 0;
	bool ok = true;
	l->line_no = 0;
	while (ok && getline(&line, &cap, in) >= 0) {
		l->line_no++;
		ok = read_line(l, line);
	}
	if (ok && ferror(in)) {
		snprintf(l->err, l->err_size, "--classify: cannot read %s: %s", l->source->path,
			 strerror(errno));
		ok = false;
	}
	free(line);
	fclose(in);
	return ok;
}

struct rule_set *rule_files_load(const struct rule_source *sources, unsigned count,
				 struct rule_load_report *report, char *err, size_t err_size)
{
	memset(report, 0, sizeof(*report));
	struct rule_set *set = rule_set_new();
	if (!set) {
		snprintf(err, err_size, "--classify: out of memory");
		return NULL;
	}
	struct loader l = {.set = set, .report = report, .err = err, .err_size = err_size};
	for (unsigned i = 0; i < count; i++) {
		l.source = &sources[i];
		if (!load_file(&l)) {
			rule_set_free(set);
			return NULL;
		}
	}
	if (!rule_set_seal(set)) {
		snprintf(err, err_size, "--classify: out of memory");
		rule_set_free(set);
		return NULL;
	}
	report->rules = rule_set_rules(set);
	return set;
}
