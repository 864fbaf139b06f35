/* The policy stage, between matching and encode: classify each message's question name against
 * the rule files (--classify), drop the categories not wanted (--drop-category), limit the rate
 * (--rate-limit, --rate-limit-per-client). One struct policy is shared: the rules in force, built
 * aside and swapped in on reload (SIGHUP). Each worker has a struct policy_worker: its rules (it
 * takes new ones between bursts, without a lock), its buckets and its counters. */
#ifndef DNSPROBE_POLICY_H
#define DNSPROBE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "dns_match.h"
#include "dns_message.h"
#include "flow_key.h"
#include "rule_files.h"

#define POLICY_MAX_SOURCES 64
#define POLICY_MAX_WORKERS 256

struct policy_config {
	struct rule_source sources[POLICY_MAX_SOURCES]; /* --classify, in order */
	unsigned source_count;
	const char *drop[POLICY_DROP_SLOTS]; /* --drop-category */
	unsigned drop_count;
	uint64_t rate_limit;		/* records per second per probe; 0: none */
	uint64_t rate_limit_per_client; /* records per second per client address; 0: none */
	unsigned workers;		/* the probe's rate is shared evenly among them */
};

struct policy;

/* Loads the rule files. NULL with one line for the user in err. */
struct policy *policy_open(const struct policy_config *config, char *err, size_t err_size);
void policy_free(struct policy *p);

/* One line about the rules in force, e.g. "12 rules in 3 categories from 2 files (1.2 MB)". */
void policy_describe(const struct policy *p, char *out, size_t out_size);

/* Builds the rule files again, aside, and makes them the rules in force; the workers take them
 * after their current burst. Returns 0 (out says what was loaded), or -1 with one line in out:
 * the old rules stay. Without --classify there is nothing to do (0). Main thread only. */
int policy_reload(struct policy *p, char *out, size_t out_size);

/* True when there are rule files to read again. */
bool policy_reloadable(const struct policy *p);

/* Frees the rule sets no worker uses any more. Main thread only. */
void policy_collect(struct policy *p);

enum policy_verdict {
	POLICY_KEEP,
	POLICY_DROP,   /* of a category given to --drop-category */
	POLICY_LIMITED /* over the rate limit */
};

/* What classification found; category is NULL when no rule matched. */
struct policy_result {
	const char *category;
	const uint8_t *rule; /* wire form, no root label; valid until the worker's burst ends */
	size_t rule_len;
};

struct policy_worker;

/* Counts into counters->policy. NULL when out of memory or every worker slot is taken. */
struct policy_worker *policy_worker_new(struct policy *p, struct counters *counters);
void policy_worker_free(struct policy_worker *w);

/* One parsed message (dns: its wire bytes) at capture time now_ns: its category, and whether it
 * is kept. A response matched to its query (match->matched) shares the query's fate under the
 * rate limit, as match->query_mark says (the worker marks each query with its verdict). */
enum policy_verdict policy_decide(struct policy_worker *w, const uint8_t *dns, size_t dns_len,
				  const struct dns_message *message, const struct flow_key *key,
				  bool sender_is_a, const struct dns_match_result *match,
				  int64_t now_ns, struct policy_result *out);

/* Between bursts (before one and after one): takes the rules in force when they changed. */
void policy_worker_refresh(struct policy_worker *w);

/* Capture time starts again (a new --loop pass): the buckets are full again. */
void policy_worker_restart_clock(struct policy_worker *w);

#endif
