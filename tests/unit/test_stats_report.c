/* Unit tests of the stats report: the Prometheus text is checked line by line against the text
 * exposition format 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats): metric and
 * label names, label value escapes, one TYPE and HELP per family before its samples, families
 * not interleaved, no duplicate series, counters named *_total and never going down; values
 * against the totals given by hand, per worker and from a Kafka client; the file is replaced
 * atomically. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "stats_report.h"

#define MAX_SERIES   512
#define MAX_FAMILIES 64
#define KEY_SIZE     256

struct series {
	char key[KEY_SIZE]; /* name{labels} as written */
	char family[96];
	double value;
};

struct family {
	char name[96];
	char type[16];
	bool help;
	bool has_samples;
};

struct exposition {
	struct series series[MAX_SERIES];
	int series_count;
	struct family families[MAX_FAMILIES];
	int family_count;
};

static bool is_name_start(char c, bool metric)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':');
}

static bool is_name_char(char c, bool metric)
{
	return is_name_start(c, metric) || (c >= '0' && c <= '9');
}

/* Reads a metric or label name at *p; returns its length (0 when there is none). */
static size_t read_name(const char **p, bool metric, char *out, size_t size)
{
	const char *s = *p;
	if (!is_name_start(*s, metric))
		return 0;
	size_t n = 0;
	while (is_name_char(s[n], metric))
		n++;
	assert_true(n < size);
	memcpy(out, s, n);
	out[n] = '\0';
	*p = s + n;
	return n;
}

static struct family *find_family(struct exposition *e, const char *name)
{
	for (int i = 0; i < e->family_count; i++)
		if (strcmp(e->families[i].name, name) == 0)
			return &e->families[i];
	return NULL;
}

static struct family *add_family(struct exposition *e, const char *name)
{
	struct family *f = find_family(e, name);
	if (f)
		return f;
	assert_true(e->family_count < MAX_FAMILIES);
	f = &e->families[e->family_count++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	return f;
}

/* "# HELP name text" or "# TYPE name type". */
static void parse_comment(struct exposition *e, const char *line, const char *last_family)
{
	char name[96];
	bool help = strncmp(line, "# HELP ", 7) == 0;
	bool type = strncmp(line, "# TYPE ", 7) == 0;
	assert_true(help || type);
	const char *p = line + 7;
	assert_true(read_name(&p, true, name, sizeof(name)) > 0);
	assert_int_equal(*p, ' ');
	p++;
	struct family *f = add_family(e, name);
	/* A family's comments come before its samples, and its lines are not interleaved. */
	assert_false(f->has_samples);
	assert_true(last_family[0] == '\0' || strcmp(last_family, name) == 0 ||
		    find_family(e, last_family)->has_samples);
	if (help) {
		assert_false(f->help);
		assert_true(strlen(p) > 0);
		for (const char *c = p; *c; c++)
			if (*c == '\\')
				assert_true(c[1] == '\\' || c[1] == 'n');
		f->help = true;
	} else {
		assert_string_equal(f->type, "");
		assert_true(strcmp(p, "counter") == 0 || strcmp(p, "gauge") == 0 ||
			    strcmp(p, "histogram") == 0);
		snprintf(f->type, sizeof(f->type), "%s", p);
	}
}

/* A label set: {name="value",...} with only \\, \" and \n escapes in values. */
static const char *parse_labels(const char *p)
{
	assert_int_equal(*p, '{');
	p++;
	while (*p != '}') {
		char name[64];
		assert_true(read_name(&p, false, name, sizeof(name)) > 0);
		assert_int_equal(*p++, '=');
		assert_int_equal(*p++, '"');
		while (*p != '"') {
			assert_true(*p != '\0' && *p != '\n');
			if (*p == '\\') {
				p++;
				assert_true(*p == '\\' || *p == '"' || *p == 'n');
			}
			p++;
		}
		p++;
		if (*p == ',')
			p++;
		else
			assert_int_equal(*p, '}');
	}
	return p + 1;
}

static void parse_sample(struct exposition *e, const char *line, char *last_family)
{
	char name[96];
	const char *p = line;
	assert_true(read_name(&p, true, name, sizeof(name)) > 0);
	struct family *f = find_family(e, name);
	if (!f) {
		/* A histogram's samples: NAME_bucket, NAME_sum, NAME_count. */
		char *suffix = strrchr(name, '_');
		assert_non_null(suffix);
		assert_true(strcmp(suffix, "_bucket") == 0 || strcmp(suffix, "_sum") == 0 ||
			    strcmp(suffix, "_count") == 0);
		*suffix = '\0';
		f = find_family(e, name);
		assert_non_null(f);
		assert_string_equal(f->type, "histogram");
		*suffix = '_';
	}
	assert_non_null(f); /* TYPE came first */
	assert_string_not_equal(f->type, "");
	assert_true(f->help);
	assert_true(strcmp(last_family, f->name) == 0 || !f->has_samples);
	if (*p == '{')
		p = parse_labels(p);
	assert_int_equal(*p, ' ');
	size_t key_len = (size_t)(p - line);
	p++;
	char *end;
	double value = strtod(p, &end);
	assert_true(end != p);
	assert_int_equal(*end, '\0'); /* no timestamp: the textfile collector refuses them */
	if (strcmp(f->type, "counter") == 0) {
		size_t n = strlen(name);
		assert_true(n > 6 && strcmp(name + n - 6, "_total") == 0);
		assert_true(value >= 0);
	}
	assert_true(e->series_count < MAX_SERIES);
	struct series *s = &e->series[e->series_count++];
	assert_true(key_len < sizeof(s->key));
	memcpy(s->key, line, key_len);
	s->key[key_len] = '\0';
	for (int i = 0; i < e->series_count - 1; i++)
		assert_string_not_equal(e->series[i].key, s->key);
	snprintf(s->family, sizeof(s->family), "%s", name);
	s->value = value;
	f->has_samples = true;
	snprintf(last_family, 96, "%s", f->name);
}

static void parse_exposition(const char *text, struct exposition *e)
{
	memset(e, 0, sizeof(*e));
	size_t len = strlen(text);
	assert_true(len > 0 && text[len - 1] == '\n');
	char *copy = strdup(text);
	char last_family[96] = "";
	for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
		if (line[0] == '#')
			parse_comment(e, line, last_family);
		else
			parse_sample(e, line, last_family);
	}
	free(copy);
	for (int i = 0; i < e->family_count; i++)
		assert_true(e->families[i].has_samples);
}

static const struct series *find_series(const struct exposition *e, const char *key)
{
	for (int i = 0; i < e->series_count; i++)
		if (strcmp(e->series[i].key, key) == 0)
			return &e->series[i];
	return NULL;
}

static double value_of(const struct exposition *e, const char *key)
{
	const struct series *s = find_series(e, key);
	if (!s)
		fail_msg("no series %s", key);
	return s->value;
}

static void render(const struct runner_totals *t, const char *source, char **text)
{
	size_t size;
	FILE *out = open_memstream(text, &size);
	assert_non_null(out);
	assert_int_equal(stats_report_write_prometheus(out, t, source, 1700000000.5), 0);
	fclose(out);
}

static struct runner_totals sample_totals(void)
{
	struct runner_totals t;
	memset(&t, 0, sizeof(t));
	t.counters.packets = 1000;
	t.counters.records = 900;
	t.counters.not_dns = 50;
	t.counters.malformed = 30;
	t.counters.malformed_by_reason[MALFORMED_UDP_BAD_LENGTH] = 20;
	t.counters.malformed_by_reason[MALFORMED_DNS_TOO_SHORT] = 10;
	t.counters.tcp = 15;
	t.counters.ip_fragments = 5;
	t.counters.records_to_sink = 880;
	t.counters.records_dropped = 20;
	t.sink.delivered = 870;
	t.sink.in_flight = 10;
	t.drops.source = DROPS_KERNEL;
	t.drops.received = 1004;
	t.drops.kernel_dropped = 3;
	t.drops.interface_dropped = 1;
	return t;
}

static void test_exposition_follows_the_format(void **state)
{
	(void)state;
	struct runner_totals t = sample_totals();
	char *text;
	render(&t, "eth0", &text);
	struct exposition e;
	parse_exposition(text, &e);
	assert_true(value_of(&e, "dnsprobe_packets_total{source=\"eth0\"}") == 1000);
	assert_true(value_of(&e, "dnsprobe_records_total{source=\"eth0\"}") == 900);
	assert_true(
	    value_of(&e, "dnsprobe_malformed_total{source=\"eth0\",reason=\"udp_bad_length\"}") ==
	    20);
	assert_true(
	    value_of(&e, "dnsprobe_malformed_total{source=\"eth0\",reason=\"dns_too_short\"}") ==
	    10);
	assert_true(value_of(&e, "dnsprobe_kernel_dropped_total{source=\"eth0\"}") == 3);
	assert_true(value_of(&e, "dnsprobe_interface_dropped_total{source=\"eth0\"}") == 1);
	assert_true(value_of(&e, "dnsprobe_capture_received_total{source=\"eth0\"}") == 1004);
	assert_true(value_of(&e, "dnsprobe_records_delivered_total{source=\"eth0\"}") == 870);
	assert_true(value_of(&e, "dnsprobe_records_dropped_total{source=\"eth0\"}") == 20);
	assert_true(value_of(&e, "dnsprobe_records_in_flight{source=\"eth0\"}") == 10);
	assert_true(value_of(&e, "dnsprobe_start_time_seconds{source=\"eth0\"}") == 1700000000.5);
	assert_string_equal(find_family(&e, "dnsprobe_records_in_flight")->type, "gauge");
	assert_string_equal(find_family(&e, "dnsprobe_packets_total")->type, "counter");
	/* The reasons add up to the malformed packets. */
	double reasons = 0;
	for (int i = 0; i < e.series_count; i++)
		if (strcmp(e.series[i].family, "dnsprobe_malformed_total") == 0)
			reasons += e.series[i].value;
	assert_true(reasons == 30);
	free(text);
}

static void test_workers_and_kafka_figures(void **state)
{
	(void)state;
	struct runner_totals t = sample_totals();
	t.lane_count = 2;
	t.lanes[0].packets = 600;
	t.lanes[1].packets = 400;
	t.lanes[1].sink.in_flight = 7;
	struct sink_client_stats *c = &t.lanes[1].client;
	c->valid = true;
	c->queue_messages = 12;
	c->queue_max_messages = 100000;
	c->sent_messages = 880;
	c->broker_count = 2;
	snprintf(c->brokers[0].name, sizeof(c->brokers[0].name), "k1:9092/1");
	c->brokers[0].up = true;
	c->brokers[0].rtt_p99_s = 0.25;
	snprintf(c->brokers[1].name, sizeof(c->brokers[1].name), "k\"2:9092/2");
	c->brokers[1].tx_errors = 3;
	char *text;
	render(&t, "eth0", &text);
	struct exposition e;
	parse_exposition(text, &e);
	assert_true(value_of(&e, "dnsprobe_worker_packets_total{source=\"eth0\",worker=\"0\"}") ==
		    600);
	assert_true(value_of(&e, "dnsprobe_worker_packets_total{source=\"eth0\",worker=\"1\"}") ==
		    400);
	assert_true(
	    value_of(&e, "dnsprobe_worker_records_in_flight{source=\"eth0\",worker=\"1\"}") == 7);
	assert_string_equal(find_family(&e, "dnsprobe_worker_records_in_flight")->type, "gauge");
	/* Only the worker whose sink has a client reports its figures. */
	assert_true(value_of(&e, "dnsprobe_kafka_queue_messages{source=\"eth0\",worker=\"1\"}") ==
		    12);
	assert_null(strstr(text, "dnsprobe_kafka_queue_messages{source=\"eth0\",worker=\"0\"}"));
	assert_true(
	    value_of(&e, "dnsprobe_kafka_sent_messages_total{source=\"eth0\",worker=\"1\"}") ==
	    880);
	assert_true(value_of(&e,
			     "dnsprobe_kafka_broker_up{source=\"eth0\",worker=\"1\",broker=\"k1:"
			     "9092/1\"}") == 1);
	assert_true(value_of(&e, "dnsprobe_kafka_broker_rtt_p99_seconds{source=\"eth0\",worker="
				 "\"1\",broker=\"k1:9092/1\"}") == 0.25);
	assert_true(value_of(&e, "dnsprobe_kafka_broker_tx_errors_total{source=\"eth0\",worker="
				 "\"1\",broker=\"k\\\"2:9092/2\"}") == 3);
	free(text);
}

static void test_no_kafka_families_without_a_client(void **state)
{
	(void)state;
	struct runner_totals t = sample_totals();
	t.lane_count = 1;
	char *text;
	render(&t, NULL, &text);
	struct exposition e;
	parse_exposition(text, &e);
	assert_true(value_of(&e, "dnsprobe_worker_packets_total{worker=\"0\"}") == 0);
	assert_null(strstr(text, "dnsprobe_kafka_"));
	free(text);
}

static void test_without_source_label(void **state)
{
	(void)state;
	struct runner_totals t = sample_totals();
	char *text;
	render(&t, NULL, &text);
	struct exposition e;
	parse_exposition(text, &e);
	assert_true(value_of(&e, "dnsprobe_packets_total") == 1000);
	assert_true(value_of(&e, "dnsprobe_malformed_total{reason=\"udp_bad_length\"}") == 20);
	free(text);
}

static void test_label_values_are_escaped(void **state)
{
	(void)state;
	struct runner_totals t = sample_totals();
	char *text;
	render(&t, "a\"b\\c\nd", &text);
	struct exposition e;
	parse_exposition(text, &e);
	assert_true(value_of(&e, "dnsprobe_packets_total{source=\"a\\\"b\\\\c\\nd\"}") == 1000);
	free(text);
}

static void test_counters_never_go_down(void **state)
{
	(void)state;
	struct runner_totals before = sample_totals();
	struct runner_totals after = before;
	after.counters.packets += 500;
	after.counters.records += 450;
	after.counters.malformed_by_reason[MALFORMED_IP_TRUNCATED] += 3;
	after.sink.delivered += 460;
	after.sink.in_flight = 0; /* a gauge may go down */
	after.drops.kernel_dropped += 1;
	char *first, *second;
	render(&before, "eth0", &first);
	render(&after, "eth0", &second);
	struct exposition a, b;
	parse_exposition(first, &a);
	parse_exposition(second, &b);
	assert_int_equal(a.series_count, b.series_count);
	for (int i = 0; i < a.series_count; i++) {
		const struct series *later = find_series(&b, a.series[i].key);
		assert_non_null(later); /* the same series every time, zeros included */
		if (strcmp(find_family(&a, a.series[i].family)->type, "counter") == 0)
			assert_true(later->value >= a.series[i].value);
	}
	free(first);
	free(second);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_file_is_replaced_atomically(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_stats_report.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128], tmp[160];
	snprintf(path, sizeof(path), "%s/dnsprobe.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	struct stats_report_options o = {.file = path, .source = "test"};
	struct stats_report *r;
	char err[256];
	assert_int_equal(stats_report_open(&r, &o, err, sizeof(err)), 0);
	assert_non_null(r);
	struct exposition e;
	parse_exposition(read_file(path), &e); /* written at open, with zeros */
	assert_true(value_of(&e, "dnsprobe_packets_total{source=\"test\"}") == 0);

	struct runner_totals t = sample_totals();
	int64_t later = stats_report_now_ns() + (int64_t)(STATS_FILE_DEFAULT_INTERVAL_S * 1e9) + 1;
	assert_true(stats_report_due(r, later));
	stats_report_tick(r, later, &t);
	assert_false(stats_report_due(r, later));
	parse_exposition(read_file(path), &e);
	assert_true(value_of(&e, "dnsprobe_packets_total{source=\"test\"}") == 1000);
	assert_int_not_equal(access(tmp, F_OK), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0444, 0444); /* node_exporter runs as another user */

	t.counters.packets = 2000;
	assert_int_equal(stats_report_close(r, &t, err, sizeof(err)), 0);
	parse_exposition(read_file(path), &e);
	assert_true(value_of(&e, "dnsprobe_packets_total{source=\"test\"}") == 2000);
	unlink(path);
	rmdir(dir);
}

static void test_bad_path_fails_at_open(void **state)
{
	(void)state;
	struct stats_report_options o = {.file = "/nonexistent-dir/dnsprobe.prom"};
	struct stats_report *r;
	char err[256] = "";
	assert_int_equal(stats_report_open(&r, &o, err, sizeof(err)), -1);
	assert_null(r);
	assert_non_null(strstr(err, "/nonexistent-dir/dnsprobe.prom"));
}

static void test_nothing_asked_nothing_done(void **state)
{
	(void)state;
	struct stats_report_options o = {0};
	struct stats_report *r = (struct stats_report *)&o;
	char err[64];
	assert_int_equal(stats_report_open(&r, &o, err, sizeof(err)), 0);
	assert_null(r);
	struct runner_totals t = sample_totals();
	assert_false(stats_report_due(r, INT64_MAX));
	stats_report_tick(r, INT64_MAX, &t);
	assert_int_equal(stats_report_close(r, &t, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exposition_follows_the_format),
	    cmocka_unit_test(test_without_source_label),
	    cmocka_unit_test(test_workers_and_kafka_figures),
	    cmocka_unit_test(test_no_kafka_families_without_a_client),
	    cmocka_unit_test(test_label_values_are_escaped),
	    cmocka_unit_test(test_counters_never_go_down),
	    cmocka_unit_test(test_file_is_replaced_atomically),
	    cmocka_unit_test(test_bad_path_fails_at_open),
	    cmocka_unit_test(test_nothing_asked_nothing_done),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
