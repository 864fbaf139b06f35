/* Reading the policy options and loading the rule files they name. */
#include "policy_options.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "counters.h"
#include "rate_limit.h"
#include "rule_files.h"

#define STRINGIFY(x) #x
#define TEXT(x)	     STRINGIFY(x)

const char policy_options_help[] =
    "Policy (classify, drop, rate limit; see docs/operations.md):\n"
    "      --classify FILE      rules of DOMAIN CATEGORY lines; a rule matches the domain\n"
    "                           and every name below it, the longest rule wins (repeatable)\n"
    "      --classify CATEGORY=FILE  a hosts file, a list of domains or ||domain^ rules,\n"
    "                           all of CATEGORY; SIGHUP reads every rule file again\n"
    "      --drop-category NAME records of category NAME are not published, counted as\n"
    "                           policy_dropped (repeatable, up to " TEXT(
	POLICY_DROP_SLOTS) ")\n"
			   "      --rate-limit N       publish at most N records per second of "
			   "capture time\n"
			   "                           (a burst of N/10 passes at once), the rest "
			   "rate_limited\n"
			   "      --rate-limit-per-client M  at most M records per second per "
			   "client address\n"
			   "                           (" TEXT(
			       RATE_LIMIT_DEFAULT_CLIENTS) " clients tracked per worker)\n";

/* "CATEGORY=FILE" when what comes before '=' is a category name; otherwise a path. */
static void split_source(const char *arg, struct rule_source *out)
{
	static char categories[POLICY_MAX_SOURCES][RULE_CATEGORY_MAX + 1];
	static unsigned used;
	const char *eq = strchr(arg, '=');
	out->path = arg;
	out->category = NULL;
	if (!eq || eq == arg || (size_t)(eq - arg) > RULE_CATEGORY_MAX ||
	    used == POLICY_MAX_SOURCES)
		return;
	char *name = categories[used];
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	if (!rule_category_valid(name))
		return;
	used++;
	out->category = name;
	out->path = eq + 1;
}

int policy_options_handle(struct policy_config *config, int c, const char *arg)
{
	uint64_t v;
	switch (c) {
	case POLICY_OPT_CLASSIFY:
		if (config->source_count == POLICY_MAX_SOURCES)
			return cli_usage_error("--classify: at most %d rule files; join some",
					       POLICY_MAX_SOURCES);
		if (arg[0] == '=')
			return cli_usage_error("--classify: '%s' has an empty category; write "
					       "--classify CATEGORY=FILE, e.g. ads=hosts.txt",
					       arg);
		split_source(arg, &config->sources[config->source_count]);
		if (config->sources[config->source_count].path[0] == '\0')
			return cli_usage_error("--classify: give a rule file, e.g. --classify "
					       "rules.txt or --classify ads=hosts.txt");
		config->source_count++;
		return 1;
	case POLICY_OPT_DROP_CATEGORY:
		if (!rule_category_valid(arg))
			return cli_usage_error(
			    "--drop-category: '%s' is not a category; a category "
			    "is 1 to 63 letters, digits, '_', '-' or '.'",
			    arg);
		for (unsigned i = 0; i < config->drop_count; i++)
			if (strcmp(config->drop[i], arg) == 0)
				return 1;
		if (config->drop_count == POLICY_DROP_SLOTS)
			return cli_usage_error("--drop-category: at most %d categories",
					       POLICY_DROP_SLOTS);
		config->drop[config->drop_count++] = arg;
		return 1;
	case POLICY_OPT_RATE_LIMIT:
		if (!cli_parse_uint(arg, 1, RATE_LIMIT_MAX, &v))
			return cli_usage_error("--rate-limit: '%s' is not a rate; give 1 to %d "
					       "records per second, e.g. --rate-limit 50000",
					       arg, RATE_LIMIT_MAX);
		config->rate_limit = v;
		return 1;
	case POLICY_OPT_RATE_LIMIT_PER_CLIENT:
		if (!cli_parse_uint(arg, 1, RATE_LIMIT_MAX, &v))
			return cli_usage_error(
			    "--rate-limit-per-client: '%s' is not a rate; give 1 "
			    "to %d records per second, e.g. "
			    "--rate-limit-per-client 100",
			    arg, RATE_LIMIT_MAX);
		config->rate_limit_per_client = v;
		return 1;
	default:
		return 0;
	}
}

int policy_options_finish(struct policy_config *config, unsigned workers,
			  struct worker_config *worker)
{
	if (!config->source_count && !config->drop_count && !config->rate_limit &&
	    !config->rate_limit_per_client)
		return 0;
	if (config->drop_count && !config->source_count)
		return cli_usage_error("--drop-category needs rules to classify with: add "
				       "--classify FILE");
	config->workers = workers;
	char err[1024];
	struct policy *p = policy_open(config, err, sizeof(err));
	if (!p)
		return cli_usage_error("%s", err);
	if (config->source_count) {
		char line[1024];
		policy_describe(p, line, sizeof(line));
		fprintf(stderr, "dnsprobe: classify: %s\n", line);
	}
	counters_set_policy(config->drop, config->drop_count);
	worker->policy = p;
	return 0;
}
