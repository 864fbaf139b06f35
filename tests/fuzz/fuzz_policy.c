/* Fuzz target: one DNS message (the UDP payload) through dns_parse() and the policy stage
 * (policy_decide: the question name read from the wire bytes, the rule look-up, a drop category,
 * both rate limits), the way the worker does it, with a few rules written at start. Whatever the
 * bytes, the look-up must stay in bounds, and a match must be a rule whose domain is the
 * question name or a parent of it, with its own category. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns_parse.h"
#include "fuzz_check.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char rules_text[] = "example.com ads\n"
				 "www.example.com web\n"
				 "a.b.c.d.e.f.g tracking\n"
				 "xn--bcher-kva.example shop\n"
				 "com top\n"
				 "_tcp.example.org srv\n";

static struct dns_parser *parser;
static struct dns_message *message;
static struct counters counters;
static struct policy *policy;
static struct policy_worker *worker;
static int64_t now_ns;

static void set_up(void)
{
	char path[] = "/tmp/fuzz_policy-rules-XXXXXX";
	int fd = mkstemp(path);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, rules_text, sizeof(rules_text) - 1) == sizeof(rules_text) - 1);
	close(fd);
	struct policy_config config = {
	    .sources = {{.path = path}},
	    .source_count = 1,
	    .drop = {"tracking"},
	    .drop_count = 1,
	    .rate_limit = 1000,
	    .rate_limit_per_client = 10,
	    .workers = 1,
	};
	char err[512];
	policy = policy_open(&config, err, sizeof(err));
	unlink(path);
	FUZZ_CHECK(policy);
	worker = policy_worker_new(policy, &counters);
	parser = dns_parser_new();
	message = malloc(sizeof(*message));
	FUZZ_CHECK(worker && parser && message);
}

/* The rule (wire form) as text is the question name, or its end after a dot, in any case. */
static void check_match(const struct dns_message *m, const struct policy_result *r)
{
	char rule[RULE_NAME_WIRE_MAX];
	size_t n = 0;
	for (size_t i = 0; i < r->rule_len; i += (size_t)r->rule[i] + 1) {
		FUZZ_CHECK(i + 1 + r->rule[i] <= r->rule_len && r->rule[i] > 0);
		if (n)
			rule[n++] = '.';
		memcpy(rule + n, r->rule + i + 1, r->rule[i]);
		n += r->rule[i];
	}
	rule[n] = '\0';
	FUZZ_CHECK(strstr(rules_text, rule) != NULL);
	FUZZ_CHECK(m->has_question && m->qname_len >= n);
	const char *end = m->qname + m->qname_len - n;
	FUZZ_CHECK(end == m->qname || end[-1] == '.');
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(tolower((unsigned char)end[i]) == rule[i]);
	char line[RULE_NAME_WIRE_MAX + RULE_CATEGORY_MAX + 3];
	snprintf(line, sizeof(line), "\n%s %s\n", rule, r->category);
	FUZZ_CHECK(strstr(rules_text, line + 1) == rules_text || strstr(rules_text, line));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!parser)
		set_up();
	uint8_t *msg = fuzz_exact_copy(data, size);
	if (dns_parse(parser, msg, size, false, message)) {
		struct flow_key key = {{4, 17}};
		if (size > DNS_HEADER_LEN)
			key.bytes[17] = msg[size - 1]; /* a few clients */
		struct dns_match_result match = {.matched = size % 3 == 0, .query_mark = size % 2};
		struct policy_result r;
		now_ns += 1000000;
		enum policy_verdict v = policy_decide(worker, msg, size, message, &key,
						      size % 5 == 0, &match, now_ns, &r);
		FUZZ_CHECK(v == POLICY_KEEP || v == POLICY_DROP || v == POLICY_LIMITED);
		if (r.category)
			check_match(message, &r);
		FUZZ_CHECK(v != POLICY_DROP || (r.category && strcmp(r.category, "tracking") == 0));
	}
	free(msg);
	return 0;
}
