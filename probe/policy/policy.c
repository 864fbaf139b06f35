/* The shared rules, their reload and reclamation, and each worker's decision per message. */
#include "policy.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ascii_lower.h"
#include "rate_limit.h"

#define HEADER_LEN 12
/* 127 labels, the root, and the few backward pointers there is room for. */
#define MAX_NAME_HOPS 192
#define NO_DROP_SLOT  -1
#define MEGABYTE      (1024.0 * 1024.0)

/* A rule set with what the drop list makes of its categories. Never changed once published. */
struct rules {
	struct rule_set *set;
	int8_t drop_slot[RULE_CATEGORIES_MAX]; /* index into --drop-category, or NO_DROP_SLOT */
	uint64_t generation;
	struct rule_load_report report;
	struct rules *next_retired;
};

struct policy {
	struct policy_config config;
	_Atomic(struct rules *) current; /* NULL without --classify */
	struct rules *retired;		 /* replaced, maybe still in use by a worker */
	uint64_t generation;
	struct policy_worker *workers[POLICY_MAX_WORKERS];
	unsigned worker_count;
};

struct policy_worker {
	struct policy *policy;
	struct rules *rules;
	atomic_uint_fast64_t seen; /* generation of rules, for policy_collect */
	struct rate_limit *limit;  /* NULL without a rate limit */
	struct policy_counters *counters;
};

static void rules_free(struct rules *r)
{
	if (!r)
		return;
	rule_set_free(r->set);
	free(r);
}

static struct rules *rules_load(struct policy *p, char *err, size_t err_size)
{
	struct rules *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, err_size, "--classify: out of memory");
		return NULL;
	}
	r->set =
	    rule_files_load(p->config.sources, p->config.source_count, &r->report, err, err_size);
	if (!r->set) {
		free(r);
		return NULL;
	}
	memset(r->drop_slot, NO_DROP_SLOT, sizeof(r->drop_slot));
	for (unsigned c = 0; c < rule_set_categories(r->set); c++)
		for (unsigned d = 0; d < p->config.drop_count; d++)
			if (strcmp(rule_set_category_name(r->set, c), p->config.drop[d]) == 0)
				r->drop_slot[c] = (int8_t)d;
	r->generation = ++p->generation;
	return r;
}

struct policy *policy_open(const struct policy_config *config, char *err, size_t err_size)
{
	struct policy *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	p->config = *config;
	if (!p->config.workers)
		p->config.workers = 1;
	struct rules *r = NULL;
	if (config->source_count && !(r = rules_load(p, err, err_size))) {
		free(p);
		return NULL;
	}
	atomic_init(&p->current, r);
	return p;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	rules_free(atomic_load(&p->current));
	while (p->retired) {
		struct rules *next = p->retired->next_retired;
		rules_free(p->retired);
		p->retired = next;
	}
	free(p);
}

static void describe(const struct policy *p, const struct rules *r, char *out, size_t out_size)
{
	unsigned files = p->config.source_count;
	int n = snprintf(out, out_size, "%zu rules in %u categories from %u file%s (%.1f MB)",
			 r->report.rules, rule_set_categories(r->set), files, files == 1 ? "" : "s",
			 (double)rule_set_memory(r->set) / MEGABYTE);
	if (r->report.duplicates && n > 0 && (size_t)n < out_size)
		snprintf(out + n, out_size - (size_t)n,
			 "; %zu rules given again with another category (the later one kept), "
			 "the first at %s",
			 r->report.duplicates, r->report.first_duplicate);
}

void policy_describe(const struct policy *p, char *out, size_t out_size)
{
	const struct rules *r = atomic_load(&p->current);
	if (r)
		describe(p, r, out, out_size);
	else
		snprintf(out, out_size, "no rule files");
}

int policy_reload(struct policy *p, char *out, size_t out_size)
{
	if (!p->config.source_count) {
		snprintf(out, out_size, "no rule files (--classify) to reload");
		return 0;
	}
	struct rules *r = rules_load(p, out, out_size);
	if (!r)
		return -1;
	struct rules *old = atomic_exchange_explicit(&p->current, r, memory_order_acq_rel);
	old->next_retired = p->retired;
	p->retired = old;
	describe(p, r, out, out_size);
	return 0;
}

bool policy_reloadable(const struct policy *p)
{
	return p->config.source_count > 0;
}

void policy_collect(struct policy *p)
{
	uint64_t oldest_seen = UINT64_MAX;
	for (unsigned i = 0; i < p->worker_count; i++) {
		uint64_t seen = atomic_load_explicit(&p->workers[i]->seen, memory_order_acquire);
		if (seen < oldest_seen)
			oldest_seen = seen;
	}
	for (struct rules **at = &p->retired; *at;) {
		struct rules *r = *at;
		if (r->generation < oldest_seen) {
			*at = r->next_retired;
			rules_free(r);
		} else {
			at = &r->next_retired;
		}
	}
}

struct policy_worker *policy_worker_new(struct policy *p, struct counters *counters)
{
	if (p->worker_count == POLICY_MAX_WORKERS)
		return NULL;
	struct policy_worker *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->policy = p;
	w->counters = &counters->policy;
	w->rules = atomic_load_explicit(&p->current, memory_order_acquire);
	atomic_init(&w->seen, w->rules ? w->rules->generation : 0);
	const struct policy_config *c = &p->config;
	if (c->rate_limit || c->rate_limit_per_client) {
		uint64_t share = c->rate_limit / c->workers;
		if (c->rate_limit && share == 0)
			share = 1;
		w->limit =
		    rate_limit_new(share, c->rate_limit_per_client, RATE_LIMIT_DEFAULT_CLIENTS);
		if (!w->limit) {
			free(w);
			return NULL;
		}
	}
	p->workers[p->worker_count++] = w;
	return w;
}

void policy_worker_free(struct policy_worker *w)
{
	if (!w)
		return;
	rate_limit_free(w->limit);
	free(w);
}

/* The first question's name in lower-case wire form without the root label. Pointers are followed
 * only backwards, a bounded number of times. False when it cannot be read. */
static bool question_name(const uint8_t *dns, size_t len, uint8_t out[RULE_NAME_WIRE_MAX],
			  size_t *out_len)
{
	size_t at = HEADER_LEN, n = 0, limit = HEADER_LEN;
	for (unsigned hops = 0; hops < MAX_NAME_HOPS; hops++) {
		if (at >= len)
			return false;
		uint8_t label = dns[at];
		if (label == 0) {
			*out_len = n;
			return n > 0;
		}
		if ((label & 0xC0) == 0xC0) {
			if (at + 1 >= len)
				return false;
			size_t target = ((size_t)(label & 0x3F) << 8) | dns[at + 1];
			if (target >= limit)
				return false;
			limit = target;
			at = target;
			continue;
		}
		if ((label & 0xC0) != 0 || at + 1 + label > len ||
		    n + 1 + label >= RULE_NAME_WIRE_MAX)
			return false;
		/* The length byte (at most 63) is below 'A' and stays as it is. */
		ascii_lower(out + n, dns + at, 1 + (size_t)label);
		n += 1 + (size_t)label;
		at += 1 + (size_t)label;
	}
	return false;
}

/* The client of an exchange: the sender of a query, the receiver of a response. */
static const uint8_t *client_address(const struct flow_key *key, bool sender_is_a, bool is_response)
{
	bool client_is_a = sender_is_a != is_response;
	return key->bytes + (client_is_a ? FLOW_KEY_ADDRESS_A : FLOW_KEY_ADDRESS_B);
}

static enum policy_verdict limit(struct policy_worker *w, const struct dns_message *message,
				 const struct flow_key *key, bool sender_is_a,
				 const struct dns_match_result *match, int64_t now_ns)
{
	const uint8_t *client = client_address(key, sender_is_a, message->is_response);
	if (message->is_response && match && match->matched) {
		if (match->query_mark)
			return POLICY_LIMITED;
		rate_limit_charge(w->limit, client, now_ns);
		return POLICY_KEEP;
	}
	return rate_limit_take(w->limit, client, now_ns) ? POLICY_KEEP : POLICY_LIMITED;
}

enum policy_verdict policy_decide(struct policy_worker *w, const uint8_t *dns, size_t dns_len,
				  const struct dns_message *message, const struct flow_key *key,
				  bool sender_is_a, const struct dns_match_result *match,
				  int64_t now_ns, struct policy_result *out)
{
	memset(out, 0, sizeof(*out));
	const struct rules *r = w->rules;
	uint8_t name[RULE_NAME_WIRE_MAX];
	size_t name_len;
	struct rule_match found;
	if (r && message->has_question && question_name(dns, dns_len, name, &name_len) &&
	    rule_set_lookup(r->set, name, name_len, &found)) {
		w->counters->classified++;
		out->category = found.category_name;
		out->rule = found.rule;
		out->rule_len = found.rule_len;
		int slot = r->drop_slot[found.category];
		if (slot != NO_DROP_SLOT) {
			w->counters->dropped++;
			w->counters->dropped_by_category[slot]++;
			return POLICY_DROP;
		}
	}
	if (w->limit && limit(w, message, key, sender_is_a, match, now_ns) == POLICY_LIMITED) {
		w->counters->rate_limited++;
		return POLICY_LIMITED;
	}
	return POLICY_KEEP;
}

void policy_worker_refresh(struct policy_worker *w)
{
	struct rules *r = atomic_load_explicit(&w->policy->current, memory_order_acquire);
	if (r == w->rules)
		return;
	w->rules = r;
	atomic_store_explicit(&w->seen, r->generation, memory_order_release);
}

void policy_worker_restart_clock(struct policy_worker *w)
{
	if (w->limit)
		rate_limit_restart(w->limit);
}
